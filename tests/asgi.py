"""ASGI app of the test settings: HTTP (body limit on /v1) and django-audio's websockets."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from django_audio.api.asgi import BodyLimitMiddleware  # noqa: E402
from django_audio.streaming.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {"http": BodyLimitMiddleware(django_asgi_app), "websocket": websocket_application()}
)
