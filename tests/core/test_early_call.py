"""The async services start the provider call while the row is stored, unless vetoable."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db.models.signals import post_save

from django_audio import services
from django_audio.exceptions import RequestCancelled
from django_audio.models import JobStatus, SpeechAsset, Transcript
from django_audio.providers.test import TestProvider
from django_audio.services.early import EarlyCall
from django_audio.signals import pre_synthesize, pre_transcribe
from django_audio.testing.audio import make_wav

pytestmark = pytest.mark.django_db(transaction=True)


class Closable:
    def __init__(self) -> None:
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_transcription_stores_a_running_row_and_completes(
    provider: TestProvider, media: Path, user: Any
) -> None:
    inserted: list[str] = []

    def on_insert(sender: Any, instance: Transcript, created: bool, **kw: Any) -> None:
        if created:
            inserted.append(instance.status)

    post_save.connect(on_insert, sender=Transcript)
    try:
        out = await services.atranscribe(user, make_wav(1.0), model="whisper-1")
    finally:
        post_save.disconnect(on_insert, sender=Transcript)
    assert inserted == [JobStatus.RUNNING]  # started early: never stored pending
    row = await Transcript.objects.aget(pk=out.transcript.pk)
    assert row.status == JobStatus.COMPLETED
    assert row.started_at is not None
    assert row.text == provider.transcript_text
    assert len(provider.calls_for("transcribe")) == 1


async def test_a_pre_transcribe_receiver_still_vetoes_before_the_provider_is_called(
    provider: TestProvider, media: Path, user: Any
) -> None:
    def refuse(sender: Any, instance: Transcript, **kw: Any) -> None:
        assert instance.status == JobStatus.PENDING
        raise RequestCancelled("No.", code="quota")

    pre_transcribe.connect(refuse)
    try:
        with pytest.raises(RequestCancelled):
            await services.atranscribe(user, make_wav(1.0), model="whisper-1")
    finally:
        pre_transcribe.disconnect(refuse)
    assert provider.calls == []
    assert not await Transcript.objects.aexists()


async def test_speech_with_a_receiver_is_called_after_the_row_is_stored(
    provider: TestProvider, media: Path, user: Any
) -> None:
    seen: list[int] = []

    def watch(sender: Any, instance: SpeechAsset, **kw: Any) -> None:
        seen.append(len(provider.calls))

    pre_synthesize.connect(watch)
    try:
        out = await services.asynthesize(user, input="Hello.", voice="alloy", model="tts-1")
    finally:
        pre_synthesize.disconnect(watch)
    assert seen == [0]  # the provider had not been called when the receiver ran
    assert out.asset.status == JobStatus.COMPLETED


async def test_start_runs_on_the_loop_and_result_returns_it() -> None:
    calls: list[str] = []

    async def call(request: str) -> str:
        calls.append(request)
        return request.upper()

    early: EarlyCall[str] = EarlyCall(call)
    started = await sync_to_async(early.start, thread_sensitive=False)(
        "hi", unless=pre_transcribe, sender=Transcript
    )
    assert started
    assert early.started
    assert await early.result("hi") == "HI"
    assert calls == ["hi"]


async def test_without_a_start_result_makes_the_call_now() -> None:
    async def call(request: str) -> str:
        return request * 2

    early: EarlyCall[str] = EarlyCall(call)
    assert not early.started
    assert await early.result("ab") == "abab"


async def test_discard_closes_what_a_finished_call_opened() -> None:
    opened = Closable()

    async def call(request: Any) -> Closable:
        return opened

    early: EarlyCall[Closable] = EarlyCall(call)
    await sync_to_async(early.start, thread_sensitive=False)(
        None, unless=pre_transcribe, sender=Transcript
    )
    await asyncio.sleep(0.05)  # the call has finished
    await early.discard()
    assert opened.closed


async def test_discard_cancels_a_call_in_flight() -> None:
    cancelled = asyncio.Event()

    async def call(request: Any) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    early: EarlyCall[None] = EarlyCall(call)
    await sync_to_async(early.start, thread_sensitive=False)(
        None, unless=pre_transcribe, sender=Transcript
    )
    await asyncio.sleep(0.01)
    await early.discard()
    await asyncio.wait_for(cancelled.wait(), 2)
