"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from django_audio.api.asgi import BodyLimitMiddleware, OpenAIFastPath  # noqa: E402
from django_audio.streaming.routing import websocket_application  # noqa: E402

# Websockets: origin check (ALLOWED_HOSTS), session and token auth, django-audio's consumers.
# HTTP: oversized /v1 uploads are refused before Django reads their bodies; Bearer calls to
# the /v1 views skip the project middleware (OpenAIFastPath, see docs/openai-api.md).
application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(OpenAIFastPath(django_asgi_app)),
        "websocket": websocket_application(),
    }
)

# Fewer garbage collector pauses while captions stream (docs/websockets.md).
from django_audio.streaming.tuning import tune_gc  # noqa: E402

tune_gc()
