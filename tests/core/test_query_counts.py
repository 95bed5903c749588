"""SQL statements per service call, in autocommit mode (as in production), with bounds.

Set ``DJANGO_AUDIO_PRINT_QUERIES=1`` and run with ``-s`` to print the table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_audio import services
from django_audio.exceptions import UpstreamServerError
from django_audio.models import Transcript
from django_audio.providers.test import TestProvider
from django_audio.testing.audio import make_wav

pytestmark = pytest.mark.django_db(transaction=True)

COUNTS: dict[str, tuple[int, int]] = {}
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.fixture(scope="module", autouse=True)
def _print_table() -> Iterator[None]:
    yield
    if os.environ.get("DJANGO_AUDIO_PRINT_QUERIES"):
        print(f"\nSQL statements per service call ({connection.vendor}; + transaction control):")
        for name, (n, control) in COUNTS.items():
            print(f"  {name:<40} {n:>2}  (+{control})")


def _count(name: str, bound: int, call: Callable[[], Any]) -> Any:
    with CaptureQueriesContext(connection) as ctx:
        try:
            result = call()
        except Exception as exc:
            result = exc
    sql = [q["sql"] for q in ctx.captured_queries]
    statements = [q for q in sql if not q.upper().startswith(_CONTROL)]
    COUNTS[name] = (len(statements), len(sql) - len(statements))
    assert len(statements) <= bound, statements
    return result


def test_queries_per_service_call(
    provider: TestProvider, media: Path, user: Any, staff: Any
) -> None:
    wav = make_wav(1.0)
    out = _count("transcribe", 4, lambda: services.transcribe(user, wav, model="whisper-1"))
    _count("translate", 4, lambda: services.translate(user, wav, model="whisper-1"))
    provider.fail_next(500)
    failed = _count(
        "transcribe (upstream fails)", 3, lambda: services.transcribe(user, wav, model="m")
    )
    assert isinstance(failed, UpstreamServerError)
    row = Transcript.objects.create(owner=user, audio=out.transcript.audio.name, model="whisper-1")
    _count("run_transcription (background task)", 4, lambda: services.run_transcription(row.pk))
    kw = {"input": "Count my queries.", "voice": "alloy", "model": "tts-1"}
    _count("synthesize (cache miss)", 5, lambda: services.synthesize(user, **kw))
    _count("synthesize (cache hit)", 2, lambda: services.synthesize(user, **kw))
    consent = _count(
        "submit_consent",
        2,
        lambda: services.submit_consent(user, name="Ann", recording=wav, language="en"),
    )
    _count("approve_consent", 3, lambda: services.approve_consent(consent, actor=staff))
    voice = _count(
        "create_voice",
        2,
        lambda: services.create_voice(user, name="v", sample=wav, consent=consent),
    )
    _count(
        "resolve_voice (custom)", 1, lambda: services.resolve_voice(user, {"id": voice.public_id})
    )
    body = {
        "model": "gpt-4o-audio-preview",
        "modalities": ["text", "audio"],
        "audio": {"voice": "alloy", "format": "wav"},
        "messages": [{"role": "user", "content": "hi"}],
    }
    _count("chat_with_audio", 4, lambda: services.chat_with_audio(user, body))
    _count("disable_voice", 2, lambda: services.disable_voice(voice, actor=user))
    _count("revoke_consent (1 voice)", 7, lambda: services.revoke_consent(consent, actor=user))
    _count(
        "save_live_caption",
        2,
        lambda: services.save_live_caption(user, b"\0\0" * 16000, segments=[], text="x"),
    )
    _count("usage_totals", 1, lambda: services.usage_totals(user))
