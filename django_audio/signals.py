"""Extension points around every service call.

``pre_*`` signals are sent after the request was validated and its row created as
``pending``, before the provider is called. A receiver **cancels** the operation by raising
:class:`~django_audio.exceptions.RequestCancelled` (its message reaches the client as a 400);
the row and any stored file are then discarded. Any other exception also aborts, unchanged.

``post_*`` signals always fire once the ``pre_*`` stage was passed, whatever the outcome,
with ``outcome`` (``"completed"``, ``"failed"``, ``"incomplete"``, ``"cancelled"`` or
``"cached"``) and ``error`` (the exception, or ``None``). They are sent with
``send_robust``: a failing receiver is logged and never changes the result.

Arguments (all keyword):

================================  ===========================================================
signal                            arguments
================================  ===========================================================
``pre_transcribe``                ``instance`` (:class:`Transcript`), ``request``
``post_transcribe``               ``instance``, ``outcome``, ``error``, ``result``
``pre_synthesize``                ``instance`` (:class:`SpeechAsset`), ``request``
``post_synthesize``               ``instance``, ``outcome``, ``error``
``pre_chat``                      ``instance`` (:class:`SpeechAsset` or ``None``), ``body``
``post_chat``                     ``instance``, ``outcome``, ``error``, ``result``
``pre_consent_change``            ``consent``, ``action``, ``actor``, ``to_status``
``post_consent_change``           ``consent``, ``action``, ``actor``, ``from_status``,
                                  ``to_status``, ``outcome``, ``error``
``pre_voice_change``              ``voice``, ``action``, ``actor``
``post_voice_change``             ``voice``, ``action``, ``actor``, ``outcome``, ``error``
``transcript_event``              ``instance`` (:class:`Transcript`), ``event`` (the wire dict
                                  of a ``transcript.text.*`` event)
================================  ===========================================================

``transcript_event`` is sent for every event of a background transcription that streams (a
provider with streaming transcription and ``response_format`` json or text), as it arrives;
the websocket job-progress consumer relays it to the transcript's followers.

``sender`` is the model class. Transcriptions, translations and live captions share
``pre_transcribe``/``post_transcribe`` (``instance.kind`` tells them apart); live captions
are already transcribed when saved, so they only send ``post_transcribe``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

__all__ = [
    "post_chat",
    "post_consent_change",
    "post_synthesize",
    "post_transcribe",
    "post_voice_change",
    "pre_chat",
    "pre_consent_change",
    "pre_synthesize",
    "pre_transcribe",
    "pre_voice_change",
    "transcript_event",
]

logger = logging.getLogger("django_audio.signals")

pre_transcribe = Signal()
post_transcribe = Signal()
pre_synthesize = Signal()
post_synthesize = Signal()
pre_chat = Signal()
post_chat = Signal()
pre_consent_change = Signal()
post_consent_change = Signal()
pre_voice_change = Signal()
post_voice_change = Signal()
transcript_event = Signal()


def send_post(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send a ``post_*`` signal robustly, logging receivers that fail."""
    for receiver, response in signal.send_robust(sender, **kwargs):
        if isinstance(response, Exception):
            logger.error(
                "Receiver %r of a django-audio post signal failed",
                receiver,
                exc_info=(type(response), response, response.__traceback__),
            )


async def asend_post(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Async :func:`send_post`."""
    for receiver, response in await signal.asend_robust(sender, **kwargs):
        if isinstance(response, Exception):
            logger.error(
                "Receiver %r of a django-audio post signal failed",
                receiver,
                exc_info=(type(response), response, response.__traceback__),
            )
