"""Transcription and translation services: stored rows, refusals, failures, signals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from django_audio import services
from django_audio.contract import AudioFile
from django_audio.exceptions import InvalidRequest, RequestCancelled, UpstreamServerError
from django_audio.models import JobStatus, Transcript, UsageRecord
from django_audio.providers.test import TestProvider
from django_audio.signals import post_transcribe, pre_transcribe
from django_audio.testing.audio import make_wav

from .conftest import stored_files

pytestmark = pytest.mark.django_db


def test_transcribe_stores_row_audio_and_usage(
    provider: TestProvider, media: Path, user: Any, wav: bytes
) -> None:
    out = services.transcribe(
        user,
        SimpleUploadedFile("talk.mp3", wav, content_type="audio/mpeg"),
        model="whisper-1",
        language="en",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    row = Transcript.objects.get(pk=out.transcript.pk)
    assert row.status == JobStatus.COMPLETED
    assert row.owner == user
    assert row.kind == Transcript.Kind.TRANSCRIPTION
    assert row.text == out.result.text == provider.transcript_text
    assert row.words[0]["word"] == "The"
    assert row.segments[0]["start"] == 0.0
    assert row.params["timestamp_granularities"] == ["word", "segment"]
    assert row.language == "en"
    # The name and type come from the content, not from the client.
    assert row.original_name == "talk.mp3"
    assert row.audio_format == "wav"
    assert row.content_type == "audio/wav"
    assert row.audio.name.endswith(".wav")
    assert "talk" not in row.audio.name
    assert row.size == len(wav)
    assert row.duration == pytest.approx(1.0)
    assert len(row.sha256) == 64
    assert row.audio.read() == wav
    assert [p.name for p in stored_files(media)] == [Path(row.audio.name).name]
    usage = UsageRecord.objects.get(transcript=row)
    assert usage.owner == user
    assert usage.seconds == pytest.approx(1.0)
    assert usage.operation == "transcription"
    assert row.started_at is not None
    assert row.completed_at is not None


def test_transcribe_from_path_and_temporary_upload(
    provider: TestProvider, media: Path, user: Any, wav: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "in.wav"
    path.write_bytes(wav)
    services.transcribe(user, path, model="whisper-1")
    tmp = TemporaryUploadedFile("x.wav", "audio/wav", len(wav), None)
    tmp.write(wav)
    tmp.seek(0)
    out = services.transcribe(user, tmp, model="whisper-1")
    assert out.transcript.status == JobStatus.COMPLETED
    # The temporary upload is still there (it was copied, not moved, into storage).
    assert Path(tmp.temporary_file_path()).exists()
    assert len(stored_files(media)) == 2
    assert path.read_bytes() == wav


def test_json_keeps_logprobs_and_token_usage(
    provider: TestProvider, media: Path, user: Any, wav: bytes
) -> None:
    out = services.transcribe(user, wav, model="gpt-4o-transcribe", include=["logprobs"])
    row = out.transcript
    assert row.logprobs
    assert row.logprobs[0]["token"]
    usage = UsageRecord.objects.get(transcript=row)
    assert usage.total_tokens > 0


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitle_formats_are_parsed_into_segments(
    provider: TestProvider, media: Path, user: Any, fmt: str
) -> None:
    out = services.transcribe(user, make_wav(3.0), model="whisper-1", response_format=fmt)
    row = out.transcript
    assert str(out.result).strip()  # the raw subtitles are what the caller gets back
    assert len(row.segments) >= 2
    assert row.segments[0]["start"] == 0.0
    assert row.segments[-1]["end"] == pytest.approx(3.0, abs=0.01)
    assert row.text == provider.transcript_text


def test_diarized_segments_with_speakers(
    provider: TestProvider, media: Path, user: Any, wav: bytes
) -> None:
    out = services.transcribe(
        user,
        wav,
        model="gpt-4o-transcribe-diarize",
        response_format="diarized_json",
        chunking_strategy="auto",
    )
    row = out.transcript
    assert row.diarized_segments
    assert row.speakers
    assert all("speaker" in s for s in row.diarized_segments)


def test_translate(provider: TestProvider, media: Path, user: Any, wav: bytes) -> None:
    out = services.translate(user, wav, model="whisper-1", response_format="verbose_json")
    row = out.transcript
    assert row.kind == Transcript.Kind.TRANSLATION
    assert row.text == provider.translation_text
    assert row.segments
    assert UsageRecord.objects.get(transcript=row).operation == "translation"
    assert provider.calls_for("translate")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDF-1.4 not audio at all" * 10, "invalid_audio"),
        (b"", "empty_file"),
    ],
)
def test_bad_uploads_store_nothing(
    provider: TestProvider, media: Path, user: Any, data: bytes, code: str
) -> None:
    upload = SimpleUploadedFile("speech.wav", data, content_type="audio/wav")
    with pytest.raises(InvalidRequest) as err:
        services.transcribe(user, upload, model="whisper-1")
    assert err.value.param == "file"
    assert err.value.code == code
    assert not Transcript.objects.exists()
    assert stored_files(media) == []
    assert provider.calls == []


def test_oversized_upload_refused(
    provider: TestProvider, media: Path, user: Any, settings: Any
) -> None:
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "MAX_UPLOAD_SIZE": 10_000}
    with pytest.raises(InvalidRequest) as err:
        services.transcribe(user, make_wav(1.0), model="whisper-1")
    assert err.value.code == "file_too_large"
    assert not Transcript.objects.exists()
    assert stored_files(media) == []


def test_invalid_parameters_store_nothing(
    provider: TestProvider, media: Path, user: Any, wav: bytes
) -> None:
    with pytest.raises(InvalidRequest) as err:
        services.transcribe(user, wav, model="whisper-1", response_format="docx")
    assert err.value.param == "response_format"
    with pytest.raises(InvalidRequest) as err:
        services.transcribe(user, wav, model="whisper-1", colour="blue")
    assert err.value.param == "colour"
    assert not Transcript.objects.exists()
    assert stored_files(media) == []


def test_upstream_failure_keeps_audio_and_marks_failed(
    provider: TestProvider, media: Path, user: Any, wav: bytes
) -> None:
    provider.fail_next(503, message="upstream is down")
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kw: Any) -> None:
        seen.append(kw)

    post_transcribe.connect(receiver)
    try:
        with pytest.raises(UpstreamServerError):
            services.transcribe(user, wav, model="whisper-1")
    finally:
        post_transcribe.disconnect(receiver)
    row = Transcript.objects.get()
    assert row.status == JobStatus.FAILED
    assert "upstream is down" in row.error
    assert row.error_code
    assert row.audio.read() == wav
    assert len(stored_files(media)) == 1
    assert not UsageRecord.objects.exists()
    assert seen[0]["outcome"] == "failed"
    assert isinstance(seen[0]["error"], UpstreamServerError)


def test_pre_signal_cancels_and_nothing_is_stored(
    provider: TestProvider, media: Path, user: Any, wav: bytes
) -> None:
    outcomes: list[str] = []

    def refuse(sender: Any, instance: Transcript, request: Any, **kw: Any) -> None:
        assert instance.pk is not None  # the row exists (pending) when pre_ fires
        assert instance.status == JobStatus.PENDING
        raise RequestCancelled("Quota exceeded.", code="quota")

    def after(sender: Any, outcome: str, **kw: Any) -> None:
        outcomes.append(outcome)

    pre_transcribe.connect(refuse)
    post_transcribe.connect(after)
    try:
        with pytest.raises(RequestCancelled, match="Quota"):
            services.transcribe(user, wav, model="whisper-1")
    finally:
        pre_transcribe.disconnect(refuse)
        post_transcribe.disconnect(after)
    assert not Transcript.objects.exists()
    assert stored_files(media) == []
    assert provider.calls == []
    assert outcomes == ["cancelled"]


def test_post_signal_receives_result_and_failing_receiver_is_harmless(
    provider: TestProvider, media: Path, user: Any, wav: bytes
) -> None:
    got: list[Any] = []

    def good(sender: Any, instance: Transcript, outcome: str, result: Any, **kw: Any) -> None:
        got.append((instance.status, outcome, result.text))

    def bad(sender: Any, **kw: Any) -> None:
        raise RuntimeError("receiver bug")

    post_transcribe.connect(good)
    post_transcribe.connect(bad)
    try:
        out = services.transcribe(user, wav, model="whisper-1")
    finally:
        post_transcribe.disconnect(good)
        post_transcribe.disconnect(bad)
    assert out.transcript.status == JobStatus.COMPLETED
    assert got == [("completed", "completed", provider.transcript_text)]


def test_background_transcription_runs_through_tasks(
    provider: TestProvider,
    media: Path,
    user: Any,
    wav: bytes,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        out = services.transcribe(user, wav, model="whisper-1", background=True)
        assert out.result is None
        assert Transcript.objects.get().status == JobStatus.PENDING
        assert provider.calls == []
    row = Transcript.objects.get()
    assert row.status == JobStatus.COMPLETED
    assert row.text == provider.transcript_text
    assert row.task_id
    assert services.run_transcription(row.pk).status == JobStatus.COMPLETED  # idempotent
    # A background json transcription streams (its deltas reach websocket followers).
    assert len(provider.calls_for("stream_transcription")) == 1
    assert provider.calls_for("transcribe") == []


def test_background_failure_is_stored_on_the_row(
    provider: TestProvider,
    media: Path,
    user: Any,
    wav: bytes,
    django_capture_on_commit_callbacks: Any,
) -> None:
    provider.fail_next(500)
    with django_capture_on_commit_callbacks(execute=True):
        services.translate(user, wav, model="whisper-1", background=True)
    row = Transcript.objects.get()
    assert row.status == JobStatus.FAILED
    assert row.audio.read() == wav


def test_anonymous_owner_is_none(provider: TestProvider, media: Path, wav: bytes) -> None:
    from django.contrib.auth.models import AnonymousUser

    out = services.transcribe(AnonymousUser(), AudioFile(wav), model="whisper-1")
    assert out.transcript.owner is None


def test_query_count(
    provider: TestProvider,
    media: Path,
    user: Any,
    wav: bytes,
    django_assert_max_num_queries: Any,
) -> None:
    with django_assert_max_num_queries(8):
        services.transcribe(user, wav, model="whisper-1")
