"""The ASGI app the test servers run: static files, Django, and django-audio's websockets."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.serve.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from django_audio.streaming.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {"http": ASGIStaticFilesHandler(django_asgi_app), "websocket": websocket_application()}
)

if os.environ.get("DJANGO_AUDIO_SERVE_GC") != "default":  # as the example project does
    from django_audio.streaming.tuning import tune_gc

    tune_gc()

if os.environ.get("DJANGO_AUDIO_SERVE_DEBUG"):  # kill -USR1 <pid>: every task's stack to the log
    import asyncio
    import signal
    import sys

    def _dump(*_: object) -> None:
        for task in asyncio.all_tasks(asyncio.get_event_loop()):
            task.print_stack(limit=6, file=sys.stderr)

    signal.signal(signal.SIGUSR1, _dump)
