"""The fake OpenAI audio upstream as a pure ASGI app (no Django, no framework).

:class:`FakeOpenAIApp` answers every operation of the OpenAI audio contract under ``/v1``
(and Azure-style ``/openai/deployments/{deployment}/…`` paths) with deterministic,
contract-shaped data from :mod:`django_audio.testing.payloads`, records every request
(:mod:`django_audio.testing.records`), and injects faults on request. Serve it with
:class:`~django_audio.testing.fake_upstream.FakeUpstream` or mount it in any ASGI server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from . import payloads
from .audio import audio_duration, encode_speech, speech_seconds
from .records import (
    RecordedRequest,
    UploadedFile,
    form_list,
    form_str,
    parse_multipart,
    split_path,
)

__all__ = ["FakeOpenAIApp", "RecordedRequest", "UploadedFile"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Content type of raw speech per ``response_format`` (pcm is 24 kHz 16-bit LE mono).
SPEECH_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
TEXT_CONTENT_TYPES = {
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}
SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"
TRANSCRIPTION_FORMATS = ("json", "text", "srt", "verbose_json", "vtt", "diarized_json")
TRANSLATION_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
SPEECH_FIELDS = frozenset(
    {"model", "input", "voice", "instructions", "response_format", "speed", "stream_format"}
)


@dataclass
class _Fault:
    kind: str  # fail | delay | cut | malformed
    times: int
    path: str | None
    options: dict[str, Any]

    def matches(self, path: str) -> bool:
        return self.times > 0 and (self.path is None or self.path in path)


class _HTTPError(Exception):
    def __init__(
        self, status: int, message: str, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


@dataclass
class _Reply:
    """What a route answers; faults are applied when it is sent."""

    status: int = 200
    json: Any = None
    text: str | None = None
    content_type: str = "application/json"
    chunks: Sequence[bytes] | None = None  # a stream: SSE events or raw audio chunks
    sse: bool = False
    headers: list[tuple[str, str]] = field(default_factory=list)


def _sse(data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


# --------------------------------------------------------------------------- the app


class FakeOpenAIApp:
    """ASGI app answering the OpenAI audio contract with deterministic data and faults.

    Options: ``api_key`` (``None`` accepts any key), ``pacing`` (seconds between SSE events
    and audio chunks), ``chunk_size`` (bytes of audio per chunk/delta),
    ``speech_ignores_sse`` (answer ``stream_format=sse`` with raw audio like some
    compatible servers), and the texts it "recognises" or replies with.
    """

    def __init__(
        self,
        api_key: str | None = "sk-test",
        *,
        pacing: float = 0.0,
        chunk_size: int = 4096,
        speech_ignores_sse: bool = False,
        transcript_text: str = payloads.DEFAULT_TRANSCRIPT,
        translation_text: str = payloads.DEFAULT_TRANSLATION,
        chat_reply: str = payloads.DEFAULT_CHAT_REPLY,
    ) -> None:
        self.api_key = api_key
        self._defaults: dict[str, Any] = {
            "pacing": pacing,
            "chunk_size": chunk_size,
            "speech_ignores_sse": speech_ignores_sse,
            "transcript_text": transcript_text,
            "translation_text": translation_text,
            "chat_reply": chat_reply,
        }
        self._lock = threading.Lock()
        self.pacing = pacing
        self.chunk_size = chunk_size
        self.speech_ignores_sse = speech_ignores_sse
        self.transcript_text = transcript_text
        self.translation_text = translation_text
        self.chat_reply = chat_reply
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self.voices: dict[str, dict[str, Any]] = {}
        self.consents: dict[str, dict[str, Any]] = {}
        self._seq = 0

    # ------------------------------------------------------------- test API

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest | None:
        """The most recent request, if any."""
        with self._lock:
            return self._requests[-1] if self._requests else None

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Recorded requests whose path contains ``path``."""
        return [r for r in self.requests if path in r.path]

    def reset(self) -> None:
        """Forget requests, faults, voices and consents; restore the constructor options."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self.voices.clear()
            self.consents.clear()
            self._seq = 0
            for name, value in self._defaults.items():
                setattr(self, name, value)

    def fail(
        self,
        status: int = 429,
        times: int = 1,
        path: str | None = None,
        retry_after: float | None = None,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        """Answer ``status`` with an OpenAI error body to the next ``times`` matching requests."""
        self._add(
            "fail",
            times,
            path,
            status=status,
            retry_after=retry_after,
            message=message,
            code=code,
        )

    def delay_first_byte(self, seconds: float, times: int = 1, path: str | None = None) -> None:
        """Sleep ``seconds`` before sending the response headers of matching requests."""
        self._add("delay", times, path, seconds=seconds)

    def cut_stream(self, after_events: int = 2, times: int = 1, path: str | None = None) -> None:
        """Close the connection after ``after_events`` SSE events / audio chunks (no final one)."""
        self._add("cut", times, path, after_events=after_events)

    def malformed(
        self, times: int = 1, path: str | None = None, kind: str = "json", after_events: int = 0
    ) -> None:
        """``kind="json"``: a 200 whose body is not JSON; ``kind="event"``: an SSE event
        whose data is not JSON (sent after ``after_events`` good events)."""
        if kind not in ("json", "event"):
            raise ValueError("kind must be 'json' or 'event'")
        self._add("malformed", times, path, kind=kind, after_events=after_events)

    def _add(self, fault_kind: str, times: int, path: str | None, **options: Any) -> None:
        with self._lock:
            self._faults.append(_Fault(fault_kind, times, path, options))

    def _take(self, fault_kind: str, path: str, **match: Any) -> _Fault | None:
        """Consume one use of the first fault of ``fault_kind`` matching ``path`` and options."""
        with self._lock:
            for fault in self._faults:
                if fault.kind != fault_kind or not fault.matches(path):
                    continue
                if any(fault.options.get(k) != v for k, v in match.items()):
                    continue
                fault.times -= 1
                return fault
        return None

    def _next(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    # ------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets are not part of this contract
            return
        body = await _read_body(receive)
        request_id = f"req_{uuid.uuid4().hex}"
        record = self._record(scope, body, request_id)
        disconnected = asyncio.Event()
        watcher = asyncio.ensure_future(_watch_disconnect(receive, disconnected))
        try:
            await self._handle(record, body, send, disconnected)
        finally:
            watcher.cancel()

    def _record(self, scope: Scope, body: bytes, request_id: str) -> RecordedRequest:
        headers = httpx.Headers(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        )
        query = dict(
            parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        )
        deployment, _ = split_path(scope["path"])
        record = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=query,
            headers=headers,
            body_size=len(body),
            request_id=request_id,
            deployment=deployment,
        )
        ctype = headers.get("content-type", "")
        try:
            if ctype.startswith("multipart/form-data"):
                record.form, record.files = parse_multipart(body, ctype)
            elif body and "json" in ctype:
                record.json = json.loads(body)
        except ValueError:
            pass  # recorded as received; the route answers 400
        with self._lock:
            self._requests.append(record)
        return record

    async def _handle(
        self, req: RecordedRequest, body: bytes, send: Send, disconnected: asyncio.Event
    ) -> None:
        delay = self._take("delay", req.path)
        if delay is not None:
            await asyncio.sleep(float(delay.options["seconds"]))
        fault = self._take("fail", req.path)
        if fault is not None:
            opts = fault.options
            status = int(opts["status"])
            headers = []
            if opts.get("retry_after") is not None:
                headers.append(("retry-after", _number(opts["retry_after"])))
            reply = _Reply(
                status=status,
                json=payloads.error_body(status, opts.get("message"), opts.get("code")),
                headers=headers,
            )
            await self._send(req, reply, send, disconnected)
            return
        try:
            self._authorize(req)
            reply = self._route(req, body)
        except _HTTPError as exc:
            reply = _Reply(
                status=exc.status,
                json=payloads.error_body(exc.status, exc.message, exc.code, exc.param),
            )
        except Exception as exc:  # a bug in the fake: still answer in OpenAI's error shape
            reply = _Reply(
                status=500, json=payloads.error_body(500, f"Fake upstream error: {exc!r}")
            )
        await self._send(req, reply, send, disconnected)

    def _authorize(self, req: RecordedRequest) -> None:
        if self.api_key is None:
            return
        auth = req.headers.get("authorization", "")
        given = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if given is None:
            given = req.headers.get("api-key")
        if given != self.api_key:
            # Never echo the key back: the message only says what was wrong.
            raise _HTTPError(
                401,
                "Incorrect API key provided." if given else "You didn't provide an API key.",
                code="invalid_api_key",
            )

    async def _send(
        self, req: RecordedRequest, reply: _Reply, send: Send, disconnected: asyncio.Event
    ) -> None:
        req.status = reply.status
        headers = [("x-request-id", req.request_id), *reply.headers]
        if reply.chunks is None:
            if reply.text is not None:
                payload = reply.text.encode()
            elif reply.status == 200 and self._take("malformed", req.path, kind="json"):
                payload = b'{"text": "this body is not valid JSON'
            else:
                payload = json.dumps(reply.json).encode()
            headers += [("content-type", reply.content_type), ("content-length", str(len(payload)))]
            await _start(send, reply.status, headers)
            await send({"type": "http.response.body", "body": payload, "more_body": False})
            return
        chunks = list(reply.chunks)
        if reply.sse:
            bad = self._take("malformed", req.path, kind="event")
            if bad is not None:
                at = min(int(bad.options.get("after_events", 0)), len(chunks))
                chunks.insert(at, b"data: {this is not json\n\n")
        cut = self._take("cut", req.path)
        cut_at = (
            None if cut is None else max(0, min(int(cut.options["after_events"]), len(chunks) - 1))
        )
        headers += [
            ("content-type", reply.content_type),
            ("cache-control", "no-cache"),
            ("x-accel-buffering", "no"),
        ]
        await _start(send, reply.status, headers)
        for i, chunk in enumerate(chunks):
            if cut_at is not None and i >= cut_at:
                return  # abrupt: the server closes the connection without the final chunk
            if disconnected.is_set():
                return
            if i and self.pacing > 0:
                await asyncio.sleep(self.pacing)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    # ------------------------------------------------------------- routes

    def _route(self, req: RecordedRequest, body: bytes) -> _Reply:
        deployment, op = split_path(req.path)
        if deployment is not None and not req.api_version:
            raise _HTTPError(400, "Missing required query parameter 'api-version'.", "api-version")
        method = req.method
        parts = op.split("/")
        if op == "audio/transcriptions" and method == "POST":
            return self._transcription(req, body)
        if op == "audio/translations" and method == "POST":
            return self._translation(req, body)
        if op == "audio/speech" and method == "POST":
            return self._speech(req, body)
        if op == "chat/completions" and method == "POST":
            return self._chat(req, body)
        if op == "models" and method == "GET":
            return _Reply(
                json={"object": "list", "data": [{"id": "gpt-4o-transcribe", "object": "model"}]}
            )
        if op == "audio/voices":
            if method == "POST":
                return self._create_voice(req, body)
            if method == "GET":
                return _Reply(json=self._page(self.voices, req))
        if parts[:2] == ["audio", "voices"] and len(parts) == 3:
            if method == "DELETE":
                return self._delete(self.voices, parts[2], "audio.voice.deleted", "voice")
            if method == "GET":
                return _Reply(json=self._get(self.voices, parts[2], "voice"))
        if op == "audio/voice_consents":
            if method == "POST":
                return self._create_consent(req, body)
            if method == "GET":
                return _Reply(json=self._page(self.consents, req))
        if parts[:2] == ["audio", "voice_consents"] and len(parts) == 3:
            cid = parts[2]
            if method == "GET":
                return _Reply(json=self._get(self.consents, cid, "consent"))
            if method == "POST":
                return self._update_consent(req, cid)
            if method == "DELETE":
                return self._delete(self.consents, cid, "audio.voice_consent", "consent")
        known = {"audio/transcriptions", "audio/translations", "audio/speech", "chat/completions"}
        if op in known or parts[:2] in (["audio", "voices"], ["audio", "voice_consents"]):
            raise _HTTPError(405, f"Method {method} is not allowed on {req.path}.")
        raise _HTTPError(404, f"Unknown path {req.path}.", code="unknown_url")

    def _multipart(self, req: RecordedRequest) -> None:
        if not req.headers.get("content-type", "").startswith("multipart/form-data"):
            raise _HTTPError(400, "This endpoint expects a multipart/form-data body.")

    def _json(self, req: RecordedRequest, body: bytes) -> dict[str, Any]:
        if not isinstance(req.json, dict):
            try:
                data = json.loads(body) if body else None
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise _HTTPError(400, "The body must be a JSON object.")
            req.json = data
        return req.json

    def _model(self, req: RecordedRequest, value: object) -> str:
        if isinstance(value, str) and value:
            return value
        if req.deployment:  # Azure routes by deployment; the body may omit the model
            return req.deployment
        raise _HTTPError(400, "Missing required parameter: 'model'.", "model")

    def _audio(self, req: RecordedRequest, name: str) -> UploadedFile:
        upload = req.files.get(name)
        if upload is None:
            raise _HTTPError(400, f"Missing required parameter: '{name}'.", name)
        if upload.size == 0:
            raise _HTTPError(400, f"The '{name}' is empty.", name, "empty_file")
        return upload

    def _transcription(self, req: RecordedRequest, body: bytes) -> _Reply:
        self._multipart(req)
        form = req.form
        upload = self._audio(req, "file")
        model = self._model(req, form.get("model"))
        fmt = form_str(form, "response_format") or "json"
        _one_of(fmt, TRANSCRIPTION_FORMATS, "response_format")
        _temperature(form)
        include = form_list(form, "include")
        for item in include:
            _one_of(item, ("logprobs",), "include[]")
        grains = form_list(form, "timestamp_granularities")
        for grain in grains:
            _one_of(grain, ("word", "segment"), "timestamp_granularities[]")
        if grains and fmt != "verbose_json":
            raise _HTTPError(
                400,
                "timestamp_granularities requires response_format 'verbose_json'.",
                "timestamp_granularities[]",
            )
        names = form_list(form, "known_speaker_names")
        refs = form_list(form, "known_speaker_references")
        for pname, items in (
            ("known_speaker_names[]", names),
            ("known_speaker_references[]", refs),
        ):
            if len(items) > 4:
                raise _HTTPError(400, f"'{pname}' accepts at most 4 items.", pname)
        if any(not r.startswith("data:") for r in refs):
            raise _HTTPError(
                400, "known_speaker_references must be data URLs.", "known_speaker_references[]"
            )
        _chunking(form)
        duration = audio_duration(upload.data)
        language = form_str(form, "language")
        prompt = form_str(form, "prompt")
        if (form_str(form, "stream") or "").lower() in ("true", "1"):
            events = payloads.transcription_events(
                self.transcript_text,
                duration,
                include=include,
                diarize="diarize" in model or bool(names) or fmt == "diarized_json",
                known_speaker_names=names,
                prompt=prompt,
            )
            return _Reply(chunks=[_sse(e) for e in events], sse=True, content_type=SSE_CONTENT_TYPE)
        result = payloads.transcription_body(
            self.transcript_text,
            duration,
            response_format=fmt,
            model=model,
            language=language,
            prompt=prompt,
            include=include,
            timestamp_granularities=grains,
            known_speaker_names=names,
        )
        if isinstance(result, str):
            return _Reply(text=result, content_type=TEXT_CONTENT_TYPES[fmt])
        return _Reply(json=result)

    def _translation(self, req: RecordedRequest, body: bytes) -> _Reply:
        self._multipart(req)
        upload = self._audio(req, "file")
        self._model(req, req.form.get("model"))
        fmt = form_str(req.form, "response_format") or "json"
        _one_of(fmt, TRANSLATION_FORMATS, "response_format")
        _temperature(req.form)
        result = payloads.translation_body(self.translation_text, audio_duration(upload.data), fmt)
        if isinstance(result, str):
            return _Reply(text=result, content_type=TEXT_CONTENT_TYPES[fmt])
        return _Reply(json=result)

    def _speech(self, req: RecordedRequest, body: bytes) -> _Reply:
        data = self._json(req, body)
        unknown = sorted(set(data) - SPEECH_FIELDS)
        if unknown:
            raise _HTTPError(
                400, f"Unrecognized request argument supplied: {unknown[0]}", unknown[0]
            )
        self._model(req, data.get("model"))
        text = data.get("input")
        if not isinstance(text, str) or not text:
            raise _HTTPError(400, "Missing required parameter: 'input'.", "input")
        if len(text) > 4096:
            raise _HTTPError(
                400, "'input' is longer than 4096 characters.", "input", "string_above_max_length"
            )
        voice = data.get("voice")
        if not (isinstance(voice, str) and voice) and not (
            isinstance(voice, dict) and isinstance(voice.get("id"), str) and set(voice) == {"id"}
        ):
            raise _HTTPError(400, "Missing or invalid parameter: 'voice'.", "voice")
        fmt = data.get("response_format", "mp3")
        _one_of(fmt, tuple(SPEECH_CONTENT_TYPES), "response_format")
        stream_format = data.get("stream_format", "audio")
        _one_of(stream_format, ("audio", "sse"), "stream_format")
        speed = data.get("speed", 1.0)
        if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0.25 <= speed <= 4:
            raise _HTTPError(400, "'speed' must be a number from 0.25 to 4.", "speed")
        audio = encode_speech(speech_seconds(text, float(speed)), fmt)
        size = max(1, int(self.chunk_size))
        pieces = [audio[i : i + size] for i in range(0, len(audio), size)]
        if stream_format == "sse" and not self.speech_ignores_sse:
            events = [
                _sse({"type": "speech.audio.delta", "audio": base64.b64encode(p).decode("ascii")})
                for p in pieces
            ]
            events.append(_sse({"type": "speech.audio.done", "usage": payloads.speech_usage(text)}))
            return _Reply(chunks=events, sse=True, content_type=SSE_CONTENT_TYPE)
        return _Reply(chunks=pieces, content_type=SPEECH_CONTENT_TYPES[fmt])

    def _chat(self, req: RecordedRequest, body: bytes) -> _Reply:
        data = self._json(req, body)
        data = {**data, "model": self._model(req, data.get("model"))}
        if not isinstance(data.get("messages"), list) or not data["messages"]:
            raise _HTTPError(400, "'messages' must be a non-empty array.", "messages")
        modalities = data.get("modalities") or []
        audio = data.get("audio")
        if "audio" in modalities:
            if not isinstance(audio, dict):
                raise _HTTPError(
                    400, "'audio' is required when modalities include 'audio'.", "audio"
                )
            _one_of(
                audio.get("format"), ("wav", "aac", "mp3", "flac", "opus", "pcm16"), "audio.format"
            )
            if not audio.get("voice"):
                raise _HTTPError(400, "Missing required parameter: 'audio.voice'.", "audio.voice")
        created, seq = int(time.time()), self._next()
        if data.get("stream"):
            chunks = payloads.chat_chunks(
                data, created=created, seq=seq, reply=self.chat_reply, chunk_size=self.chunk_size
            )
            events = [_sse(c) for c in chunks] + [_sse("[DONE]")]
            return _Reply(chunks=events, sse=True, content_type=SSE_CONTENT_TYPE)
        return _Reply(
            json=payloads.chat_completion(data, created=created, seq=seq, reply=self.chat_reply)
        )

    def _create_voice(self, req: RecordedRequest, body: bytes) -> _Reply:
        if req.headers.get("content-type", "").startswith("multipart/form-data"):
            form: dict[str, Any] = dict(req.form)
        else:
            form = self._json(req, body)
        kind = form_str(form, "type") or "audio_sample"
        _one_of(kind, ("audio_sample", "prompt"), "type")
        name = form_str(form, "name")
        if not name:
            raise _HTTPError(400, "Missing required parameter: 'name'.", "name")
        voice: dict[str, Any] = {"object": "audio.voice", "id": "", "name": name}
        if kind == "prompt":
            prompt = form_str(form, "prompt")
            if not prompt:
                raise _HTTPError(400, "Missing required parameter: 'prompt'.", "prompt")
            voice["prompt"] = prompt
        else:
            self._audio(req, "audio_sample")
            if not form_str(form, "consent"):
                raise _HTTPError(400, "Missing required parameter: 'consent'.", "consent")
        seq = self._next()
        voice.update(
            id=payloads.make_id("voice", seq, name), created_at=int(time.time()), type=kind
        )
        with self._lock:
            self.voices[voice["id"]] = voice
        return _Reply(json=voice)

    def _create_consent(self, req: RecordedRequest, body: bytes) -> _Reply:
        self._multipart(req)
        name = form_str(req.form, "name")
        if not name:
            raise _HTTPError(400, "Missing required parameter: 'name'.", "name")
        language = form_str(req.form, "language")
        if not language:
            raise _HTTPError(400, "Missing required parameter: 'language'.", "language")
        self._audio(req, "recording")
        seq = self._next()
        consent: dict[str, Any] = {
            "object": "audio.voice_consent",
            "id": payloads.make_id("cons", seq, name),
            "name": name,
            "language": language,
            "created_at": int(time.time()),
        }
        with self._lock:
            self.consents[consent["id"]] = consent
        return _Reply(json=consent)

    def _update_consent(self, req: RecordedRequest, cid: str) -> _Reply:
        consent = self._get(self.consents, cid, "consent")
        data = req.json if isinstance(req.json, dict) else {}
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise _HTTPError(400, "Missing required parameter: 'name'.", "name")
        with self._lock:
            consent["name"] = name
        return _Reply(json=dict(consent))

    def _get(self, store: dict[str, dict[str, Any]], oid: str, what: str) -> dict[str, Any]:
        with self._lock:
            obj = store.get(oid)
        if obj is None:
            raise _HTTPError(404, f"No such {what}: '{oid}'.", code="not_found")
        return obj

    def _delete(self, store: dict[str, dict[str, Any]], oid: str, obj: str, what: str) -> _Reply:
        with self._lock:
            found = store.pop(oid, None)
        if found is None:
            raise _HTTPError(404, f"No such {what}: '{oid}'.", code="not_found")
        return _Reply(json={"id": oid, "object": obj, "deleted": True})

    def _page(self, store: dict[str, dict[str, Any]], req: RecordedRequest) -> dict[str, Any]:
        raw_limit = req.query.get("limit", "20")
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            raise _HTTPError(400, "'limit' must be an integer from 1 to 100.", "limit")
        with self._lock:
            items = list(store.values())  # insertion order: oldest first
        after = req.query.get("after")
        if after:
            ids = [i["id"] for i in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = [dict(i) for i in items[:limit]]
        return {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        }


# --------------------------------------------------------------------------- validation helpers


def _one_of(value: Any, choices: Sequence[str], param: str) -> None:
    if value not in choices:
        raise _HTTPError(
            400,
            f"Invalid value for '{param}': {value!r}. Supported values are: "
            + ", ".join(f"'{c}'" for c in choices)
            + ".",
            param,
            "invalid_value",
        )


def _temperature(form: dict[str, Any]) -> None:
    raw = form_str(form, "temperature")
    if raw is None:
        return
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise _HTTPError(400, "'temperature' must be a number between 0 and 1.", "temperature")


def _chunking(form: dict[str, Any]) -> None:
    """``chunking_strategy``: ``auto``, a JSON ``server_vad`` object, or bracketed fields."""
    raw = form_str(form, "chunking_strategy")
    bracketed = {
        k[len("chunking_strategy[") : -1]: v
        for k, v in form.items()
        if k.startswith("chunking_strategy[")
    }
    if raw is None and not bracketed:
        return
    if raw == "auto":
        return
    try:
        value = json.loads(raw) if raw is not None else bracketed
    except ValueError:
        value = None
    allowed = {"type", "prefix_padding_ms", "silence_duration_ms", "threshold"}
    if not (
        isinstance(value, dict) and value.get("type") == "server_vad" and set(value) <= allowed
    ):
        raise _HTTPError(
            400, "'chunking_strategy' must be 'auto' or a server_vad object.", "chunking_strategy"
        )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --------------------------------------------------------------------------- ASGI plumbing


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _watch_disconnect(receive: Receive, event: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            event.set()
            return


async def _start(send: Send, status: int, headers: list[tuple[str, str]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
