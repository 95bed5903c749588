"""Deterministic, contract-shaped reply bodies shared by the test provider and the fake upstream.

Each function returns plain ``dict``/``str`` values in OpenAI's wire shape (see
``shared/reference``). Timestamps are spread evenly over the audio's duration, so the same
input always gives the same output. No Django here: the fake upstream imports this module.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .audio import encode_speech, speech_seconds

__all__ = [
    "DEFAULT_CHAT_REPLY",
    "DEFAULT_TRANSCRIPT",
    "DEFAULT_TRANSLATION",
    "chat_chunks",
    "chat_completion",
    "error_body",
    "make_id",
    "speech_usage",
    "subtitles",
    "transcription_body",
    "transcription_events",
    "translation_body",
    "word_timings",
]

DEFAULT_TRANSCRIPT = "The quick brown fox jumps over the lazy dog."
DEFAULT_TRANSLATION = "This is a test translation."
DEFAULT_CHAT_REPLY = "Hello! This is a test reply."
#: Words per segment in verbose and diarized results.
WORDS_PER_SEGMENT = 5
#: Chat audio reply lives this long (seconds), like OpenAI's stored audio.
CHAT_AUDIO_TTL = 3600

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    408: ("timeout_error", None),
    409: ("conflict_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


def make_id(prefix: str, *parts: object) -> str:
    """A stable OpenAI-looking id (``voice_…``, ``cons_…``) derived from ``parts``."""
    digest = hashlib.sha256("|".join(str(p) for p in (prefix, *parts)).encode()).hexdigest()
    return f"{prefix}_{digest[:24]}"


def error_body(
    status: int, message: str | None = None, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error body ``{"error": {message, type, param, code}}`` for ``status``."""
    default_type, default_code = _ERROR_TYPES.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    return {
        "error": {
            "message": message or f"The fake upstream answered {status}.",
            "type": default_type,
            "param": param,
            "code": code if code is not None else default_code,
        }
    }


def word_timings(text: str, duration: float) -> list[tuple[str, float, float]]:
    """The words of ``text`` with even start/end times over ``duration`` seconds."""
    words = text.split()
    if not words:
        return []
    step = duration / len(words)
    return [(w, round(i * step, 3), round((i + 1) * step, 3)) for i, w in enumerate(words)]


def _segments(text: str, duration: float) -> list[tuple[str, float, float]]:
    timed = word_timings(text, duration)
    out = []
    for i in range(0, len(timed), WORDS_PER_SEGMENT):
        group = timed[i : i + WORDS_PER_SEGMENT]
        out.append((" ".join(w for w, _, _ in group), group[0][1], group[-1][2]))
    return out


def _logprobs(text: str) -> list[dict[str, Any]]:
    out = []
    for i, word in enumerate(text.split()):
        token = word if i == 0 else " " + word
        out.append(
            {"token": token, "logprob": round(-0.01 * (i + 1), 4), "bytes": list(token.encode())}
        )
    return out


def _token_usage(duration: float, text: str, prompt: str | None) -> dict[str, Any]:
    audio_tokens = max(1, math.ceil(duration * 10))
    text_tokens = len((prompt or "").split())
    output_tokens = len(text.split())
    return {
        "type": "tokens",
        "input_tokens": audio_tokens + text_tokens,
        "input_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
        "output_tokens": output_tokens,
        "total_tokens": audio_tokens + text_tokens + output_tokens,
    }


def _duration_usage(duration: float) -> dict[str, Any]:
    return {"type": "duration", "seconds": math.ceil(duration)}


def _verbose_segment(i: int, text: str, start: float, end: float) -> dict[str, Any]:
    return {
        "id": i,
        "seek": 0,
        "start": start,
        "end": end,
        "text": " " + text,
        "tokens": [50364 + j for j in range(len(text.split()))],
        "temperature": 0.0,
        "avg_logprob": -0.25,
        "compression_ratio": 1.2,
        "no_speech_prob": 0.01,
    }


def _speaker_names(known: Sequence[str]) -> list[str]:
    return list(known) if known else ["A", "B"]


def transcription_body(
    text: str,
    duration: float,
    *,
    response_format: str = "json",
    model: str = "gpt-4o-transcribe",
    language: str | None = None,
    prompt: str | None = None,
    include: Sequence[str] = (),
    timestamp_granularities: Sequence[str] = (),
    known_speaker_names: Sequence[str] = (),
) -> dict[str, Any] | str:
    """The body of a transcription in ``response_format`` (``str`` for text/srt/vtt)."""
    if response_format in ("text", "srt", "vtt"):
        return subtitles(text, duration, response_format)
    if response_format == "verbose_json":
        grains = set(timestamp_granularities) or {"segment"}
        body: dict[str, Any] = {
            "task": "transcribe",
            "language": language or "english",
            "duration": duration,
            "text": text,
        }
        if "word" in grains:
            body["words"] = [
                {"word": w, "start": s, "end": e} for w, s, e in word_timings(text, duration)
            ]
        if "segment" in grains:
            body["segments"] = [
                _verbose_segment(i, t, s, e)
                for i, (t, s, e) in enumerate(_segments(text, duration))
            ]
        body["usage"] = _duration_usage(duration)
        return body
    if response_format == "diarized_json":
        speakers = _speaker_names(known_speaker_names)
        return {
            "task": "transcribe",
            "duration": duration,
            "text": text,
            "segments": [
                {
                    "type": "transcript.text.segment",
                    "id": f"seg_{i:03d}",
                    "start": s,
                    "end": e,
                    "text": t,
                    "speaker": speakers[i % len(speakers)],
                }
                for i, (t, s, e) in enumerate(_segments(text, duration))
            ],
            "usage": _token_usage(duration, text, prompt),
        }
    body = {"text": text}
    if "logprobs" in include:
        body["logprobs"] = _logprobs(text)
    if model.startswith("whisper"):
        body["usage"] = _duration_usage(duration)
    else:
        body["usage"] = _token_usage(duration, text, prompt)
    return body


def translation_body(
    text: str, duration: float, response_format: str = "json"
) -> dict[str, Any] | str:
    """The body of a translation in ``response_format`` (``str`` for text/srt/vtt)."""
    if response_format in ("text", "srt", "vtt"):
        return subtitles(text, duration, response_format)
    if response_format == "verbose_json":
        return {
            "task": "translate",
            "language": "english",
            "duration": duration,
            "text": text,
            "segments": [
                _verbose_segment(i, t, s, e)
                for i, (t, s, e) in enumerate(_segments(text, duration))
            ],
        }
    return {"text": text}


def _timestamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def subtitles(text: str, duration: float, response_format: str) -> str:
    """``text`` as plain text, SubRip (``srt``) or WebVTT (``vtt``), one cue per segment."""
    if response_format == "text":
        return text + "\n"
    cues = _segments(text, duration)
    if response_format == "srt":
        return "".join(
            f"{i}\n{_timestamp(s, ',')} --> {_timestamp(e, ',')}\n{t}\n\n"
            for i, (t, s, e) in enumerate(cues, start=1)
        )
    if response_format == "vtt":
        return "WEBVTT\n\n" + "".join(
            f"{_timestamp(s, '.')} --> {_timestamp(e, '.')}\n{t}\n\n" for t, s, e in cues
        )
    raise ValueError(f"not a text format: {response_format!r}")


def transcription_events(
    text: str,
    duration: float,
    *,
    include: Sequence[str] = (),
    diarize: bool = False,
    known_speaker_names: Sequence[str] = (),
    prompt: str | None = None,
) -> list[dict[str, Any]]:
    """A streamed transcription: a delta per word (or segments when diarizing), then done."""
    events: list[dict[str, Any]] = []
    with_logprobs = "logprobs" in include
    if diarize:
        speakers = _speaker_names(known_speaker_names)
        for i, (t, s, e) in enumerate(_segments(text, duration)):
            seg_id = f"seg_{i:03d}"
            events.append({"type": "transcript.text.delta", "delta": t + " ", "segment_id": seg_id})
            events.append(
                {
                    "type": "transcript.text.segment",
                    "id": seg_id,
                    "start": s,
                    "end": e,
                    "text": t,
                    "speaker": speakers[i % len(speakers)],
                }
            )
    else:
        lps = _logprobs(text)
        for i, word in enumerate(text.split()):
            event: dict[str, Any] = {
                "type": "transcript.text.delta",
                "delta": word if i == 0 else " " + word,
            }
            if with_logprobs:
                event["logprobs"] = [lps[i]]
            events.append(event)
    done: dict[str, Any] = {"type": "transcript.text.done", "text": text}
    if with_logprobs:
        done["logprobs"] = _logprobs(text)
    done["usage"] = _token_usage(duration, text, prompt)
    events.append(done)
    return events


def speech_usage(text: str) -> dict[str, int]:
    """``usage`` of a ``speech.audio.done`` event (tokens)."""
    input_tokens = max(1, len(text.split()))
    output_tokens = max(1, math.ceil(len(text) * 2.5))
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> tuple[str | None, bool]:
    """Text of the last user message, and whether it carried audio."""
    for msg in reversed(messages):
        if not isinstance(msg, Mapping) or msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            return content, False
        texts, audio = [], False
        for part in content or []:
            if isinstance(part, Mapping):
                if part.get("type") == "text":
                    texts.append(str(part.get("text", "")))
                elif part.get("type") == "input_audio":
                    audio = True
        return (" ".join(texts) or None), audio
    return None, False


def chat_reply_text(body: Mapping[str, Any], default: str = DEFAULT_CHAT_REPLY) -> str:
    """The assistant's reply: ``default``, then what the user said/sent, for traceability."""
    text, audio = _last_user_text(body.get("messages") or [])
    if audio:
        return f"{default} I heard your audio."
    if text:
        return f"{default} You said: {text}"
    return default


def _wants_audio(body: Mapping[str, Any]) -> bool:
    return "audio" in (body.get("modalities") or []) and isinstance(body.get("audio"), Mapping)


def _chat_usage(body: Mapping[str, Any], reply: str, audio_out: bool) -> dict[str, Any]:
    prompt_audio = 0
    for msg in body.get("messages") or []:
        content = msg.get("content") if isinstance(msg, Mapping) else None
        for part in content if isinstance(content, list) else []:
            if isinstance(part, Mapping) and part.get("type") == "input_audio":
                prompt_audio += 50
    prompt_tokens = 10 + prompt_audio
    text_tokens = len(reply.split())
    audio_tokens = math.ceil(len(reply) * 2.5) if audio_out else 0
    completion = text_tokens + audio_tokens
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": prompt_audio},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": audio_tokens,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(
    body: Mapping[str, Any], *, created: int, seq: int = 0, reply: str = DEFAULT_CHAT_REPLY
) -> dict[str, Any]:
    """A ``chat.completion``; with ``modalities`` including audio, ``message.audio`` is set."""
    text = chat_reply_text(body, reply)
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None, "audio": None}
    audio_out = _wants_audio(body)
    if audio_out:
        fmt = str(body["audio"].get("format", "wav"))
        data = encode_speech(speech_seconds(text), fmt)
        message["content"] = None
        message["audio"] = {
            "id": make_id("audio", seq),
            "expires_at": created + CHAT_AUDIO_TTL,
            "data": base64.b64encode(data).decode("ascii"),
            "transcript": text,
        }
    return {
        "id": make_id("chatcmpl", seq),
        "object": "chat.completion",
        "created": created,
        "model": str(body.get("model", "")),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": _chat_usage(body, text, audio_out),
        "service_tier": "default",
        "system_fingerprint": None,
    }


def chat_chunks(
    body: Mapping[str, Any],
    *,
    created: int,
    seq: int = 0,
    reply: str = DEFAULT_CHAT_REPLY,
    chunk_size: int = 4096,
) -> list[dict[str, Any]]:
    """A streamed chat completion as ``chat.completion.chunk`` dicts (no ``[DONE]``).

    With audio: a role chunk, transcript pieces in ``delta.audio.transcript`` (the first
    carrying the audio ``id``), base64 ``delta.audio.data`` pieces, a last audio chunk with
    only ``expires_at``, then the ``finish_reason`` chunk (and a usage chunk when
    ``stream_options.include_usage`` is set).
    """
    text = chat_reply_text(body, reply)
    cid = make_id("chatcmpl", seq)
    model = str(body.get("model", ""))

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    audio_out = _wants_audio(body)
    out = [chunk({"role": "assistant", "content": None if audio_out else ""})]
    words = text.split()
    if audio_out:
        audio_id = make_id("audio", seq)
        for i, word in enumerate(words):
            piece: dict[str, Any] = {"transcript": word if i == 0 else " " + word}
            if i == 0:
                piece["id"] = audio_id
            out.append(chunk({"audio": piece}))
        fmt = str(body["audio"].get("format", "pcm16"))
        data = encode_speech(speech_seconds(text), fmt)
        for start in range(0, len(data), chunk_size):
            b64 = base64.b64encode(data[start : start + chunk_size]).decode("ascii")
            out.append(chunk({"audio": {"id": audio_id, "data": b64}}))
        out.append(chunk({"audio": {"id": audio_id, "expires_at": created + CHAT_AUDIO_TTL}}))
    else:
        for i, word in enumerate(words):
            out.append(chunk({"content": word if i == 0 else " " + word}))
    out.append(chunk({}, finish="stop"))
    options = body.get("stream_options")
    if isinstance(options, Mapping) and options.get("include_usage"):
        usage_chunk = chunk({})
        usage_chunk["choices"] = []
        usage_chunk["usage"] = _chat_usage(body, text, audio_out)
        out.append(usage_chunk)
    return out
