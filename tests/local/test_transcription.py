"""Round trip with no mocks: espeak speaks, Whisper listens, and the words come back.

WER bound: espeak-ng's voice is robotic and tiny.en is the smallest Whisper, so we allow
up to 20 % word errors on the reference sentence (measured: 0-4 % for the voices tried;
the bound leaves room for int8 numeric differences between CPUs). Documented in
docs/providers/local.md.
"""

from __future__ import annotations

import re

import pytest

from django_audio.contract import (
    AudioFile,
    DurationUsage,
    PlainText,
    TokenUsage,
    Transcription,
    TranscriptionRequest,
    TranscriptionVerbose,
    TranscriptTextDelta,
    TranscriptTextDone,
)
from django_audio.local import stt as stt_module
from django_audio.local.transcoding import probe_duration
from django_audio.providers.local import LocalProvider

from .conftest import SENTENCE, speak
from .wer import word_error_rate

pytestmark = pytest.mark.local_engine

WER_BOUND = 0.20


def request(file: AudioFile, **kwargs: object) -> TranscriptionRequest:
    return TranscriptionRequest(file=file, model=str(kwargs.pop("model", "whisper-1")), **kwargs)  # type: ignore[arg-type]


def test_round_trip_word_error_rate(local: LocalProvider, sentence_file: AudioFile) -> None:
    result = local.transcribe(request(sentence_file))
    assert isinstance(result, Transcription)
    assert word_error_rate(SENTENCE, result.text) <= WER_BOUND, result.text
    assert isinstance(result.usage, DurationUsage)
    assert result.usage.seconds == pytest.approx(probe_duration(sentence_file), abs=0.05)
    assert result.to_dict()["usage"]["type"] == "duration"


def test_round_trip_other_voice_and_model_name(local: LocalProvider) -> None:
    wav = speak(local, SENTENCE, voice="nova", model="gpt-4o-mini-tts")
    result = local.transcribe(request(AudioFile(wav, "nova.wav"), model="gpt-4o-mini-transcribe"))
    assert isinstance(result, Transcription)
    assert word_error_rate(SENTENCE, result.text) <= WER_BOUND, result.text


def test_verbose_json_word_timestamps(local: LocalProvider, sentence_file: AudioFile) -> None:
    duration = probe_duration(sentence_file)
    result = local.transcribe(
        request(
            sentence_file,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
    )
    assert isinstance(result, TranscriptionVerbose)
    assert result.language == "english"
    assert result.duration == pytest.approx(duration, abs=0.05)
    assert result.words
    assert result.segments
    starts = [w.start for w in result.words]
    assert starts == sorted(starts), "word starts must be monotonic"
    for w in result.words:
        assert 0.0 <= w.start <= w.end <= duration + 1e-6
        assert w.word == w.word.strip()
        assert w.word
    assert word_error_rate(SENTENCE, " ".join(w.word for w in result.words)) <= WER_BOUND
    for seg in result.segments:
        assert 0.0 <= seg.start <= seg.end <= duration + 1e-6
    assert [s.id for s in result.segments] == list(range(len(result.segments)))
    body = result.to_dict()
    assert set(body) >= {"text", "language", "duration", "words", "segments", "usage"}
    assert set(body["segments"][0]) == {
        "id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
        "compression_ratio", "no_speech_prob",
    }  # fmt: skip
    assert all(type(w["start"]) is float for w in body["words"])


def test_verbose_json_defaults_to_segments_only(
    local: LocalProvider, sentence_file: AudioFile
) -> None:
    result = local.transcribe(request(sentence_file, response_format="verbose_json"))
    assert isinstance(result, TranscriptionVerbose)
    assert result.words is None
    assert result.segments


def test_streamed_deltas_join_to_final_text(local: LocalProvider, sentence_file: AudioFile) -> None:
    whole = local.transcribe(request(sentence_file))
    with local.stream_transcription(request(sentence_file)) as stream:
        events = list(stream)
    deltas = [e for e in events if isinstance(e, TranscriptTextDelta)]
    done = events[-1]
    assert deltas
    assert isinstance(done, TranscriptTextDone)
    assert all(isinstance(e, TranscriptTextDelta) for e in events[:-1])
    assert "".join(d.delta for d in deltas) == done.text
    assert isinstance(whole, Transcription)
    assert done.text == whole.text
    assert isinstance(done.usage, TokenUsage)
    assert done.usage.input_tokens > 0
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens


def test_logprobs_are_per_word(local: LocalProvider, sentence_file: AudioFile) -> None:
    result = local.transcribe(request(sentence_file, include=["logprobs"]))
    assert isinstance(result, Transcription)
    assert result.logprobs
    assert " ".join(lp.token for lp in result.logprobs) == result.text
    assert all(lp.logprob <= 0.0 for lp in result.logprobs)


def test_text_srt_and_vtt(local: LocalProvider, sentence_file: AudioFile) -> None:
    text = local.transcribe(request(sentence_file, response_format="text"))
    assert isinstance(text, PlainText)
    assert text.response_format == "text"
    assert text.endswith("\n")
    assert word_error_rate(SENTENCE, text) <= WER_BOUND

    srt = local.transcribe(request(sentence_file, response_format="srt"))
    assert isinstance(srt, PlainText)
    assert srt.content_type.startswith("application/x-subrip")
    cues = srt.strip().split("\n\n")
    for n, cue in enumerate(cues, start=1):
        number, times, *lines = cue.split("\n")
        assert number == str(n)
        assert lines
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", times)

    vtt = local.transcribe(request(sentence_file, response_format="vtt"))
    assert isinstance(vtt, PlainText)
    assert vtt.startswith("WEBVTT\n\n")
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$", vtt, re.M)
    spoken = " ".join(line for line in vtt.splitlines()[2:] if line and "-->" not in line)
    assert word_error_rate(SENTENCE, spoken) <= WER_BOUND


def test_webm_and_m4a_uploads(local: LocalProvider, sentence_wav: bytes) -> None:
    """Containers the speech side never writes still decode (here: WebM/Opus, M4A/AAC)."""
    from .test_transcoding import remux

    for container, codec in (("webm", "libopus"), ("ipod", "aac")):
        data = remux(sentence_wav, container, codec)
        name = "clip.webm" if container == "webm" else "clip.m4a"
        result = local.transcribe(request(AudioFile(data, name)))
        assert isinstance(result, Transcription)
        assert word_error_rate(SENTENCE, result.text) <= WER_BOUND, (name, result.text)


def test_long_recording_is_transcribed_block_by_block(
    local: LocalProvider, sentence_wav: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 6 s blocks the ~9 s sentence spoken twice spans four blocks; times stay global."""
    from .test_transcoding import concat_wav

    twice = concat_wav(sentence_wav, sentence_wav)
    monkeypatch.setattr(stt_module, "BLOCK_SAMPLES", 6 * 16_000)
    monkeypatch.setattr(stt_module, "CUT_SEARCH_SAMPLES", 2 * 16_000)
    file = AudioFile(twice, "twice.wav")
    duration = probe_duration(file)
    result = local.transcribe(
        request(file, response_format="verbose_json", timestamp_granularities=["word"])
    )
    assert isinstance(result, TranscriptionVerbose)
    assert result.words
    assert result.duration == pytest.approx(duration, abs=0.05)
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert result.words[-1].end > duration / 2 + 2, "later blocks are offset in time"
    assert all(w.end <= duration + 1e-6 for w in result.words)
    assert word_error_rate(f"{SENTENCE} {SENTENCE}", result.text) <= 0.3, result.text


def test_language_hint(local: LocalProvider, sentence_file: AudioFile) -> None:
    result = local.transcribe(request(sentence_file, language="en-US"))
    assert isinstance(result, Transcription)
    assert word_error_rate(SENTENCE, result.text) <= WER_BOUND


async def test_async_transcription(local: LocalProvider, sentence_wav: bytes) -> None:
    result = await local.atranscribe(request(AudioFile(sentence_wav, "a.wav")))
    assert isinstance(result, Transcription)
    assert word_error_rate(SENTENCE, result.text) <= WER_BOUND
    stream = await local.astream_transcription(request(AudioFile(sentence_wav, "a.wav")))
    events = [e async for e in stream]
    await stream.aclose()
    assert isinstance(events[-1], TranscriptTextDone)
    assert events[-1].text == result.text


def test_threads_share_the_engine_safely(local: LocalProvider, sentence_wav: bytes) -> None:
    """Transcriptions and syntheses running at once in threads give the sequential results."""
    from concurrent.futures import ThreadPoolExecutor

    expected = local.transcribe(request(AudioFile(sentence_wav, "a.wav")))
    assert isinstance(expected, Transcription)
    expected_len = len(speak(local, SENTENCE, "pcm"))

    def transcribe() -> str:
        result = local.transcribe(request(AudioFile(sentence_wav, "a.wav")))
        assert isinstance(result, Transcription)
        return result.text

    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = [pool.submit(transcribe) for _ in range(2)]
        clips = [pool.submit(speak, local, SENTENCE, "pcm") for _ in range(3)]
        assert [t.result() for t in texts] == [expected.text] * 2
        for clip in clips:
            # espeak varies by a few samples between calls, never more.
            assert len(clip.result()) == pytest.approx(expected_len, abs=2 * 24_000 * 0.03)
