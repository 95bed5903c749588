"""``manage.py demo_setup``: migrate, create the demo user (and API key), print how to log in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from django_audio.providers import providers

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"  # a local, offline demo account


class Command(BaseCommand):
    help = "Prepare the example project: migrate, create the demo user and API key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default="8000")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("check", fail_level="ERROR")
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USER, defaults={"is_staff": True, "is_superuser": True}
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = True
            user.save()
        key = self._api_key(user)
        backend = settings.DJANGO_AUDIO["PROVIDERS"]["default"]["BACKEND"]
        provider = providers["default"]
        self.stdout.write(f"Provider: {provider.name} ({backend})")
        self.stdout.write(f"URL:      http://127.0.0.1:{options['port']}/")
        self.stdout.write(f"Login:    {DEMO_USER} / {DEMO_PASSWORD}")
        if key:
            self.stdout.write(f"API key:  {key}")

    def _api_key(self, user: Any) -> str | None:
        try:
            from django_audio.models import ApiKey
        except ImportError:
            return None
        # A raw key is shown only once, so each run replaces the previous demo key.
        for old in ApiKey.objects.filter(user=user, name="demo", revoked_at__isnull=True):
            old.revoke()
        _, raw = ApiKey.objects.create_key(user, name="demo")
        return str(raw)
