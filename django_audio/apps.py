from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DjangoAudioConfig(AppConfig):
    """App config: registers system checks and settings-reload hooks."""

    name = "django_audio"
    label = "django_audio"
    verbose_name = _("Audio")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, conf

        checks.register()
        conf.connect_signals()

        from .streaming.consumers.progress import connect_signals as connect_progress

        connect_progress()  # websocket followers of a transcript hear its status changes
