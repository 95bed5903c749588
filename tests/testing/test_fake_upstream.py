"""The fake OpenAI upstream, over real HTTP: every route, auth, faults, pagination, Azure."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Iterator

import httpx
import pytest
from httpx_sse import connect_sse

from django_audio.testing import FakeOpenAIApp, FakeUpstream, make_silence_wav, make_wav

from ..conftest import FAKE_API_KEY

TEXT = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def http(fake_upstream_server: FakeUpstream) -> Iterator[httpx.Client]:
    """One keep-alive httpx client on the fake's ``/v1`` with the right key."""
    with httpx.Client(
        base_url=fake_upstream_server.url,
        headers={"Authorization": f"Bearer {FAKE_API_KEY}"},
        timeout=10,
    ) as c:
        yield c


@pytest.fixture
def client(fake_upstream: FakeUpstream, http: httpx.Client) -> httpx.Client:
    """The shared client, on a fake upstream reset for this test."""
    return http


def transcribe(client: httpx.Client, seconds: float = 2.0, **data: object) -> httpx.Response:
    files = {"file": ("clip.wav", make_wav(seconds), "audio/wav")}
    return client.post("/audio/transcriptions", files=files, data={"model": "whisper-1", **data})


def sse_events(client: httpx.Client, method: str, url: str, **kwargs: object) -> list[str]:
    with connect_sse(client, method, url, **kwargs) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [event.data for event in source.iter_sse()]


def wav_frames(data: bytes) -> tuple[int, int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnframes()


# --------------------------------------------------------------------------- auth & records


def test_missing_key_is_401_with_openai_error_body(fake_upstream: FakeUpstream) -> None:
    r = httpx.get(f"{fake_upstream.url}/audio/voice_consents")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_api_key"
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}
    assert r.headers["x-request-id"].startswith("req_")


def test_wrong_key_is_401_and_never_echoed(fake_upstream: FakeUpstream) -> None:
    r = httpx.get(
        f"{fake_upstream.url}/audio/voice_consents",
        headers={"Authorization": "Bearer sk-wrong-secret"},
    )
    assert r.status_code == 401
    assert "sk-wrong-secret" not in r.text


def test_bearer_and_azure_api_key_headers_are_both_accepted(fake_upstream: FakeUpstream) -> None:
    url = f"{fake_upstream.url}/audio/voice_consents"
    assert httpx.get(url, headers={"Authorization": f"Bearer {FAKE_API_KEY}"}).status_code == 200
    assert httpx.get(url, headers={"api-key": FAKE_API_KEY}).status_code == 200
    first, second = fake_upstream.requests
    assert first.auth_header == "authorization"
    assert first.headers["Authorization"] == f"Bearer {FAKE_API_KEY}"
    assert second.auth_header == "api-key"
    assert second.headers["api-key"] == FAKE_API_KEY


def test_no_expected_key_accepts_any_request() -> None:
    with FakeUpstream(api_key=None) as up:
        assert httpx.get(f"{up.url}/audio/voice_consents").status_code == 200


def test_every_response_has_a_distinct_request_id(client: httpx.Client) -> None:
    ok = client.get("/audio/voice_consents")
    missing = client.get("/audio/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    ids = {ok.headers["x-request-id"], missing.headers["x-request-id"]}
    assert len(ids) == 2


def test_wrong_method_is_405(client: httpx.Client) -> None:
    r = client.get("/audio/speech")
    assert r.status_code == 405
    assert "error" in r.json()


def test_requests_are_recorded_and_reset(fake_upstream: FakeUpstream, client: httpx.Client) -> None:
    r = transcribe(client, language="en", prompt="hi", temperature="0.2")
    rec = fake_upstream.last_request
    assert rec is not None
    assert (rec.method, rec.path, rec.status) == ("POST", "/v1/audio/transcriptions", 200)
    assert rec.request_id == r.headers["x-request-id"]
    assert rec.form == {
        "model": "whisper-1",
        "language": "en",
        "prompt": "hi",
        "temperature": "0.2",
    }
    upload = rec.files["file"]
    assert (upload.filename, upload.content_type, upload.size) == (
        "clip.wav",
        "audio/wav",
        len(make_wav(2.0)),
    )
    assert upload.data == make_wav(2.0)
    assert fake_upstream.requests_to("/audio/transcriptions") == [rec]
    fake_upstream.reset()
    assert fake_upstream.requests == []


# --------------------------------------------------------------------------- transcriptions


def test_transcription_json_with_logprobs_and_token_usage(client: httpx.Client) -> None:
    r = transcribe(client, model="gpt-4o-transcribe", **{"include[]": ["logprobs"]})
    body = r.json()
    assert r.status_code == 200
    assert body["text"] == TEXT
    assert "".join(lp["token"] for lp in body["logprobs"]) == TEXT
    assert body["usage"]["type"] == "tokens"
    assert body["usage"]["total_tokens"] == (
        body["usage"]["input_tokens"] + body["usage"]["output_tokens"]
    )


def test_texts_are_configurable_and_reset(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.transcript_text = "hola mundo"
    fake_upstream.translation_text = "hello world"
    assert transcribe(client).json()["text"] == "hola mundo"
    translated = client.post(
        "/audio/translations", data={"model": "whisper-1"}, files={"file": ("a.wav", make_wav(1.0))}
    )
    assert translated.json() == {"text": "hello world"}
    fake_upstream.reset()
    assert transcribe(client).json()["text"] == TEXT


def test_whisper_json_has_duration_usage(client: httpx.Client) -> None:
    body = transcribe(client, seconds=2.4).json()
    assert body == {"text": TEXT, "usage": {"type": "duration", "seconds": 3}}


def test_verbose_json_timestamps_follow_the_audio_duration(client: httpx.Client) -> None:
    r = transcribe(
        client,
        seconds=3.0,
        response_format="verbose_json",
        **{"timestamp_granularities[]": ["word", "segment"]},
    )
    body = r.json()
    assert (body["duration"], body["language"], body["text"]) == (3.0, "english", TEXT)
    words = body["words"]
    assert [w["word"] for w in words] == TEXT.split()
    assert words[0]["start"] == 0.0
    assert words[-1]["end"] == 3.0
    assert all(a["end"] == b["start"] for a, b in zip(words, words[1:], strict=False))
    segs = body["segments"]
    assert segs[0]["start"] == 0.0
    assert segs[-1]["end"] == 3.0
    assert set(segs[0]) >= {
        "id",
        "seek",
        "start",
        "end",
        "text",
        "tokens",
        "temperature",
        "avg_logprob",
        "compression_ratio",
        "no_speech_prob",
    }
    # A longer file stretches the same words over more time.
    longer = transcribe(client, seconds=6.0, response_format="verbose_json").json()
    assert longer["segments"][-1]["end"] == 6.0
    assert "words" not in longer  # segment granularity only by default


def test_diarized_json_uses_known_speaker_names(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    ref = "data:audio/wav;base64," + base64.b64encode(make_wav(0.1)).decode()
    r = transcribe(
        client,
        model="gpt-4o-transcribe-diarize",
        response_format="diarized_json",
        chunking_strategy=json.dumps({"type": "server_vad", "threshold": 0.5}),
        **{
            "known_speaker_names[]": ["agent", "customer"],
            "known_speaker_references[]": [ref, ref],
        },
    )
    body = r.json()
    assert r.status_code == 200, body
    assert body["task"] == "transcribe"
    assert [s["speaker"] for s in body["segments"]] == ["agent", "customer"]
    assert all(s["type"] == "transcript.text.segment" for s in body["segments"])
    form = fake_upstream.last_request.form  # type: ignore[union-attr]
    assert form["known_speaker_names[]"] == ["agent", "customer"]
    assert form["known_speaker_references[]"] == [ref, ref]


@pytest.mark.parametrize(
    ("fmt", "ctype", "expected"),
    [
        ("text", "text/plain", TEXT + "\n"),
        (
            "srt",
            "application/x-subrip",
            "1\n00:00:00,000 --> 00:00:01,111\nThe quick brown fox jumps\n\n"
            "2\n00:00:01,111 --> 00:00:02,000\nover the lazy dog.\n\n",
        ),
        (
            "vtt",
            "text/vtt",
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.111\nThe quick brown fox jumps\n\n"
            "00:00:01.111 --> 00:00:02.000\nover the lazy dog.\n\n",
        ),
    ],
)
def test_plain_text_formats(client: httpx.Client, fmt: str, ctype: str, expected: str) -> None:
    r = transcribe(client, response_format=fmt)
    assert r.headers["content-type"].startswith(ctype)
    assert r.text == expected


def test_chunking_strategy_auto_and_bracketed_object(client: httpx.Client) -> None:
    assert transcribe(client, chunking_strategy="auto").status_code == 200
    bracketed = {"chunking_strategy[type]": "server_vad", "chunking_strategy[threshold]": "0.4"}
    assert transcribe(client, **bracketed).status_code == 200


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"response_format": "xml"}, "response_format"),
        ({"timestamp_granularities[]": ["word"]}, "timestamp_granularities[]"),
        ({"known_speaker_names[]": list("abcde")}, "known_speaker_names[]"),
        ({"chunking_strategy": '{"type": "nope"}'}, "chunking_strategy"),
        ({"include[]": ["everything"]}, "include[]"),
        ({"temperature": "7"}, "temperature"),
        ({"model": ""}, "model"),
    ],
)
def test_transcription_validation(
    client: httpx.Client, data: dict[str, object], param: str
) -> None:
    r = transcribe(client, **data)
    assert r.status_code == 400
    assert r.json()["error"]["param"] == param


def test_transcription_needs_a_non_empty_file(client: httpx.Client) -> None:
    r = client.post("/audio/transcriptions", data={"model": "whisper-1"}, files={"x": ("a", b"1")})
    assert r.json()["error"]["param"] == "file"
    empty = client.post(
        "/audio/transcriptions", data={"model": "whisper-1"}, files={"file": ("a.wav", b"")}
    )
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "empty_file")
    not_multipart = client.post("/audio/transcriptions", json={"model": "whisper-1"})
    assert not_multipart.status_code == 400


def test_streaming_transcription_deltas_then_done(client: httpx.Client) -> None:
    data = {"model": "gpt-4o-mini-transcribe", "stream": "true", "include[]": ["logprobs"]}
    events = [
        json.loads(d)
        for d in sse_events(
            client,
            "POST",
            "/audio/transcriptions",
            data=data,
            files={"file": ("a.wav", make_wav(1.0), "audio/wav")},
        )
    ]
    assert [e["type"] for e in events] == ["transcript.text.delta"] * 9 + ["transcript.text.done"]
    assert "".join(e["delta"] for e in events[:-1]) == TEXT
    assert all(len(e["logprobs"]) == 1 for e in events[:-1])
    assert events[-1]["text"] == TEXT
    assert events[-1]["usage"]["type"] == "tokens"


def test_streaming_diarized_transcription_has_segment_events(client: httpx.Client) -> None:
    events = [
        json.loads(d)
        for d in sse_events(
            client,
            "POST",
            "/audio/transcriptions",
            data={"model": "gpt-4o-transcribe-diarize", "stream": "true"},
            files={"file": ("a.wav", make_wav(1.0), "audio/wav")},
        )
    ]
    segments = [e for e in events if e["type"] == "transcript.text.segment"]
    assert [s["speaker"] for s in segments] == ["A", "B"]
    assert {"id", "start", "end", "text", "speaker"} <= set(segments[0])
    assert events[-1]["type"] == "transcript.text.done"


# --------------------------------------------------------------------------- translations


def test_translations_json_verbose_and_text(client: httpx.Client) -> None:
    def post(fmt: str) -> httpx.Response:
        return client.post(
            "/audio/translations",
            data={"model": "whisper-1", "response_format": fmt},
            files={"file": ("a.wav", make_silence_wav(2.0), "audio/wav")},
        )

    assert post("json").json() == {"text": "This is a test translation."}
    verbose = post("verbose_json").json()
    assert (verbose["task"], verbose["language"], verbose["duration"]) == (
        "translate",
        "english",
        2.0,
    )
    assert verbose["segments"][-1]["end"] == 2.0
    assert post("text").text == "This is a test translation.\n"
    assert post("diarized_json").status_code == 400


# --------------------------------------------------------------------------- speech


def speech(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(
        "/audio/speech",
        json={"model": "gpt-4o-mini-tts", "input": "Hello there!", "voice": "alloy", **body},
    )


def test_speech_wav_is_a_real_tone_whose_length_follows_the_input(client: httpx.Client) -> None:
    short = speech(client, response_format="wav", input="Hi.")
    long = speech(client, response_format="wav", input="Hi. " * 50)
    assert short.headers["content-type"] == "audio/wav"
    rate, frames_short = wav_frames(short.content)
    _, frames_long = wav_frames(long.content)
    assert rate == 24000
    assert frames_long > frames_short * 10
    # Speaking faster makes the audio shorter.
    _, frames_fast = wav_frames(
        speech(client, response_format="wav", input="Hi. " * 50, speed=2).content
    )
    assert frames_fast < frames_long


def test_speech_pcm_is_raw_16bit_24khz(client: httpx.Client) -> None:
    pcm = speech(client, response_format="pcm").content
    wav = speech(client, response_format="wav").content
    assert len(pcm) % 2 == 0
    assert pcm == wav[44:]


@pytest.mark.parametrize(
    ("fmt", "ctype", "magic"),
    [
        ("mp3", "audio/mpeg", b"ID3"),
        ("opus", "audio/ogg", b"OggS"),
        ("aac", "audio/aac", b"\xff\xf1"),
        ("flac", "audio/flac", b"fLaC"),
    ],
)
def test_speech_compressed_formats(
    client: httpx.Client, fmt: str, ctype: str, magic: bytes
) -> None:
    r = speech(client, response_format=fmt)
    assert r.headers["content-type"] == ctype
    assert r.content.startswith(magic)
    av = pytest.importorskip("av")
    with av.open(io.BytesIO(r.content)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
    assert samples > 0


def test_speech_defaults_to_mp3_and_streams_in_chunks(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.chunk_size = 1000
    with client.stream(
        "POST", "/audio/speech", json={"model": "tts-1", "input": "x" * 100, "voice": "ash"}
    ) as r:
        assert r.headers["content-type"] == "audio/mpeg"
        assert "content-length" not in r.headers  # chunked transfer
        data = r.read()
    assert len(data) > 1000
    assert fake_upstream.last_request.json["voice"] == "ash"  # type: ignore[union-attr]


def test_speech_sse_deltas_carry_the_same_audio(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.chunk_size = 2048
    raw = speech(client, response_format="wav").content
    events = [
        json.loads(d)
        for d in sse_events(
            client,
            "POST",
            "/audio/speech",
            json={
                "model": "gpt-4o-mini-tts",
                "input": "Hello there!",
                "voice": {"id": "voice_123"},
                "response_format": "wav",
                "stream_format": "sse",
            },
        )
    ]
    deltas, done = events[:-1], events[-1]
    assert {e["type"] for e in deltas} == {"speech.audio.delta"}
    assert len(deltas) == -(-len(raw) // 2048)
    assert b"".join(base64.b64decode(e["audio"]) for e in deltas) == raw
    assert done["type"] == "speech.audio.done"
    assert set(done["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}


def test_speech_ignores_sse_sends_raw_audio(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.speech_ignores_sse = True
    r = speech(client, response_format="wav", stream_format="sse")
    assert r.headers["content-type"] == "audio/wav"
    assert r.content.startswith(b"RIFF")
    fake_upstream.reset()
    assert fake_upstream.speech_ignores_sse is False


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"unknown": 1}, "unknown"),
        ({"speed": 5}, "speed"),
        ({"input": "x" * 4097}, "input"),
        ({"voice": {"name": "x"}}, "voice"),
        ({"response_format": "ogg"}, "response_format"),
        ({"stream_format": "chunks"}, "stream_format"),
    ],
)
def test_speech_validation(client: httpx.Client, body: dict[str, object], param: str) -> None:
    r = speech(client, **body)
    assert r.status_code == 400
    assert r.json()["error"]["param"] == param


# --------------------------------------------------------------------------- voices & consents


def create_consent(client: httpx.Client, name: str) -> dict[str, object]:
    r = client.post(
        "/audio/voice_consents",
        data={"name": name, "language": "en-US"},
        files={"recording": ("consent.wav", make_wav(0.5), "audio/wav")},
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_voice_lifecycle_and_double_delete(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    consent = create_consent(client, "Alice")
    r = client.post(
        "/audio/voices",
        data={"name": "Alice voice", "consent": consent["id"]},
        files={"audio_sample": ("sample.wav", make_wav(1.0), "audio/x-wav")},
    )
    voice = r.json()
    assert voice["object"] == "audio.voice"
    assert voice["id"].startswith("voice_")
    assert (voice["name"], voice["type"]) == ("Alice voice", "audio_sample")
    assert isinstance(voice["created_at"], int)
    assert fake_upstream.last_request.files["audio_sample"].content_type == "audio/x-wav"  # type: ignore[union-attr]
    listed = client.get("/audio/voices").json()
    assert [v["id"] for v in listed["data"]] == [voice["id"]]
    assert client.get(f"/audio/voices/{voice['id']}").json() == voice
    deleted = client.delete(f"/audio/voices/{voice['id']}").json()
    assert deleted == {"id": voice["id"], "object": "audio.voice.deleted", "deleted": True}
    for _ in range(2):
        again = client.delete(f"/audio/voices/{voice['id']}")
        assert again.status_code == 404
        assert again.json()["error"]["code"] == "not_found"
    # Deleting the voice leaves its consent in place.
    assert client.get(f"/audio/voice_consents/{consent['id']}").status_code == 200


def test_voice_needs_sample_and_consent(client: httpx.Client) -> None:
    no_consent = client.post(
        "/audio/voices",
        data={"name": "v"},
        files={"audio_sample": ("s.wav", make_wav(0.2), "audio/wav")},
    )
    assert no_consent.json()["error"]["param"] == "consent"
    no_sample = client.post(
        "/audio/voices", data={"name": "v", "consent": "cons_1"}, files={"x": ("a", b"1")}
    )
    assert no_sample.json()["error"]["param"] == "audio_sample"


def test_prompt_voice(client: httpx.Client) -> None:
    voice = client.post(
        "/audio/voices", json={"type": "prompt", "name": "Narrator", "prompt": "warm and slow"}
    ).json()
    assert (voice["type"], voice["prompt"]) == ("prompt", "warm and slow")


def test_consent_crud_and_cursor_pagination(client: httpx.Client) -> None:
    made = [create_consent(client, f"person {i}") for i in range(5)]
    assert all(str(c["id"]).startswith("cons_") for c in made)
    assert made[0]["object"] == "audio.voice_consent"
    assert made[0]["language"] == "en-US"
    page1 = client.get("/audio/voice_consents", params={"limit": 2}).json()
    assert page1["object"] == "list"
    assert [c["id"] for c in page1["data"]] == [made[0]["id"], made[1]["id"]]
    assert (page1["first_id"], page1["last_id"], page1["has_more"]) == (
        made[0]["id"],
        made[1]["id"],
        True,
    )
    page2 = client.get(
        "/audio/voice_consents", params={"limit": 2, "after": page1["last_id"]}
    ).json()
    assert [c["id"] for c in page2["data"]] == [made[2]["id"], made[3]["id"]]
    page3 = client.get(
        "/audio/voice_consents", params={"limit": 2, "after": page2["last_id"]}
    ).json()
    assert ([c["id"] for c in page3["data"]], page3["has_more"]) == ([made[4]["id"]], False)
    default = client.get("/audio/voice_consents").json()
    assert len(default["data"]) == 5
    assert default["has_more"] is False
    assert client.get("/audio/voice_consents", params={"limit": 0}).status_code == 400

    cid = made[1]["id"]
    assert client.get(f"/audio/voice_consents/{cid}").json() == made[1]
    renamed = client.post(f"/audio/voice_consents/{cid}", json={"name": "Renamed"}).json()
    assert renamed == {**made[1], "name": "Renamed"}
    assert client.post(f"/audio/voice_consents/{cid}", json={}).status_code == 400
    deleted = client.delete(f"/audio/voice_consents/{cid}").json()
    assert deleted == {"id": cid, "object": "audio.voice_consent", "deleted": True}
    assert client.get(f"/audio/voice_consents/{cid}").status_code == 404
    assert client.delete(f"/audio/voice_consents/{cid}").status_code == 404


def test_empty_consent_list(client: httpx.Client) -> None:
    assert client.get("/audio/voice_consents").json() == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


def test_consent_requires_language_and_recording(client: httpx.Client) -> None:
    r = client.post(
        "/audio/voice_consents", data={"name": "x"}, files={"recording": ("c.wav", make_wav(0.1))}
    )
    assert r.json()["error"]["param"] == "language"
    r = client.post(
        "/audio/voice_consents", data={"name": "x", "language": "en"}, files={"y": ("c", b"1")}
    )
    assert r.json()["error"]["param"] == "recording"


# --------------------------------------------------------------------------- chat


CHAT_AUDIO = {
    "model": "gpt-4o-audio-preview",
    "modalities": ["text", "audio"],
    "audio": {"voice": "alloy", "format": "wav"},
    "messages": [{"role": "user", "content": "Say hi"}],
}


def test_chat_completion_with_audio(client: httpx.Client) -> None:
    body = client.post("/chat/completions", json=CHAT_AUDIO).json()
    assert body["object"] == "chat.completion"
    audio = body["choices"][0]["message"]["audio"]
    assert set(audio) == {"id", "expires_at", "data", "transcript"}
    assert audio["id"].startswith("audio_")
    assert audio["transcript"].endswith("You said: Say hi")
    rate, frames = wav_frames(base64.b64decode(audio["data"]))
    assert rate == 24000
    assert frames > 0
    assert body["usage"]["completion_tokens_details"]["audio_tokens"] > 0


def test_chat_completion_text_only_and_input_audio(client: httpx.Client) -> None:
    clip = base64.b64encode(make_wav(0.2)).decode()
    body = client.post(
        "/chat/completions",
        json={
            "model": "gpt-4o-audio-preview",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_audio", "input_audio": {"data": clip, "format": "wav"}}
                    ],
                }
            ],
        },
    ).json()
    message = body["choices"][0]["message"]
    assert message["audio"] is None
    assert message["content"].endswith("I heard your audio.")
    assert body["usage"]["prompt_tokens_details"]["audio_tokens"] > 0


def test_chat_completion_audio_requires_audio_param(client: httpx.Client) -> None:
    r = client.post("/chat/completions", json={**CHAT_AUDIO, "audio": None})
    assert (r.status_code, r.json()["error"]["param"]) == (400, "audio")


def test_streamed_chat_completion_audio_deltas(client: httpx.Client) -> None:
    body = {**CHAT_AUDIO, "audio": {"voice": "alloy", "format": "pcm16"}, "stream": True}
    body["stream_options"] = {"include_usage": True}
    datas = sse_events(client, "POST", "/chat/completions", json=body)
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    audio = [
        c["choices"][0]["delta"]["audio"]
        for c in chunks
        if c["choices"] and "audio" in c["choices"][0]["delta"]
    ]
    transcript = "".join(a.get("transcript", "") for a in audio)
    assert transcript.endswith("You said: Say hi")
    pcm = b"".join(base64.b64decode(a["data"]) for a in audio if "data" in a)
    assert len(pcm) > 0
    assert len(pcm) % 2 == 0
    assert "expires_at" in audio[-1]
    assert "data" not in audio[-1]
    assert len({a["id"] for a in audio if "id" in a}) == 1
    assert chunks[-1]["usage"]["total_tokens"] > 0


# --------------------------------------------------------------------------- faults


def test_fail_answers_status_with_retry_after_then_recovers(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.fail(status=429, times=2, retry_after=2)
    for _ in range(2):
        r = client.get("/audio/voice_consents")
        assert r.status_code == 429
        assert r.headers["retry-after"] == "2"
        assert r.json()["error"]["code"] == "rate_limit_exceeded"
    assert client.get("/audio/voice_consents").status_code == 200
    assert [r.status for r in fake_upstream.requests] == [429, 429, 200]


def test_fail_with_path_filter_message_and_code(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.fail(status=503, path="/audio/speech", message="overloaded", code="busy")
    assert client.get("/audio/voice_consents").status_code == 200
    r = speech(client)
    assert r.status_code == 503
    assert r.json()["error"] == {
        "message": "overloaded",
        "type": "server_error",
        "param": None,
        "code": "busy",
    }
    assert "retry-after" not in r.headers
    assert speech(client).status_code == 200


def test_delay_first_byte_trips_a_read_timeout(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.delay_first_byte(2.0, path="/voice_consents")
    with pytest.raises(httpx.ReadTimeout):
        client.get("/audio/voice_consents", timeout=httpx.Timeout(5, read=0.2))
    assert client.get("/audio/voice_consents").status_code == 200


def read_sse_types(client: httpx.Client, seen: list[str]) -> None:
    """Read a streamed transcription, noting each event type until the stream ends."""
    with connect_sse(
        client,
        "POST",
        "/audio/transcriptions",
        data={"model": "gpt-4o-transcribe", "stream": "true"},
        files={"file": ("a.wav", make_wav(1.0), "audio/wav")},
    ) as source:
        seen.extend(json.loads(event.data)["type"] for event in source.iter_sse())


def read_raw_speech(client: httpx.Client, received: bytearray) -> None:
    """Read raw pcm speech into ``received`` chunk by chunk until the stream ends."""
    body = {"model": "tts-1", "input": "x" * 80, "voice": "ash", "response_format": "pcm"}
    with client.stream("POST", "/audio/speech", json=body) as r:
        for chunk in r.iter_raw():
            received += chunk


def test_cut_stream_closes_sse_without_final_event(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.cut_stream(after_events=3)
    seen: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        read_sse_types(client, seen)
    assert seen == ["transcript.text.delta"] * 3
    # Only once: the next stream is whole.
    seen.clear()
    read_sse_types(client, seen)
    assert seen[-1] == "transcript.text.done"


def test_cut_stream_on_raw_audio(fake_upstream: FakeUpstream, client: httpx.Client) -> None:
    fake_upstream.chunk_size = 1000
    fake_upstream.cut_stream(after_events=2, path="/audio/speech")
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError):
        read_raw_speech(client, received)
    assert len(received) == 2000


def test_cut_stream_never_sends_the_final_event_even_if_n_is_large(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.cut_stream(after_events=1000)
    with pytest.raises(httpx.RemoteProtocolError):
        sse_events(client, "POST", "/chat/completions", json={**CHAT_AUDIO, "stream": True})


def test_malformed_json_body(fake_upstream: FakeUpstream, client: httpx.Client) -> None:
    fake_upstream.malformed(kind="json", path="/audio/transcriptions")
    r = transcribe(client)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert transcribe(client).json()["text"] == TEXT


def test_malformed_sse_event(fake_upstream: FakeUpstream, client: httpx.Client) -> None:
    fake_upstream.malformed(kind="event", after_events=1)
    datas = sse_events(
        client,
        "POST",
        "/audio/speech",
        json={"model": "tts-1", "input": "Hi", "voice": "ash", "stream_format": "sse"},
    )
    assert json.loads(datas[0])["type"] == "speech.audio.delta"
    with pytest.raises(json.JSONDecodeError):
        json.loads(datas[1])
    assert json.loads(datas[-1])["type"] == "speech.audio.done"


def test_malformed_event_is_not_spent_on_json_requests(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.malformed(kind="event")
    assert client.get("/audio/voice_consents").json()["object"] == "list"
    datas = sse_events(client, "POST", "/chat/completions", json={**CHAT_AUDIO, "stream": True})
    with pytest.raises(json.JSONDecodeError):
        json.loads(datas[0])


def test_reset_clears_faults_and_options(fake_upstream: FakeUpstream, client: httpx.Client) -> None:
    fake_upstream.fail(status=500, times=5)
    fake_upstream.pacing = 0.5
    fake_upstream.chunk_size = 10
    fake_upstream.reset()  # the failure above was never spent
    create_consent(client, "gone")
    fake_upstream.pacing = 0.5
    fake_upstream.reset()
    assert (fake_upstream.pacing, fake_upstream.chunk_size) == (0.0, 4096)
    assert fake_upstream.consents == {}
    assert client.get("/audio/voice_consents").json()["data"] == []


def test_pacing_still_delivers_every_event(
    fake_upstream: FakeUpstream, client: httpx.Client
) -> None:
    fake_upstream.pacing = 0.01
    datas = sse_events(client, "POST", "/chat/completions", json={**CHAT_AUDIO, "stream": True})
    assert datas[-1] == "[DONE]"


# --------------------------------------------------------------------------- Azure


def test_azure_deployment_paths(fake_upstream: FakeUpstream) -> None:
    base = f"{fake_upstream.root_url}/openai/deployments/my-whisper"
    headers = {"api-key": FAKE_API_KEY}
    r = httpx.post(
        f"{base}/audio/transcriptions",
        params={"api-version": "2025-03-01-preview"},
        headers=headers,
        files={"file": ("a.wav", make_wav(1.0), "audio/wav")},
    )
    assert r.status_code == 200
    assert r.json()["text"] == TEXT
    rec = fake_upstream.last_request
    assert rec is not None
    assert (rec.deployment, rec.api_version, rec.auth_header) == (
        "my-whisper",
        "2025-03-01-preview",
        "api-key",
    )
    assert rec.operation == "audio/transcriptions"
    chat = httpx.post(
        f"{fake_upstream.root_url}/openai/deployments/gpt4o/chat/completions",
        params={"api-version": "2025-03-01-preview"},
        headers=headers,
        json={k: v for k, v in CHAT_AUDIO.items() if k != "model"},
    )
    assert chat.json()["model"] == "gpt4o"
    speech = httpx.post(
        f"{fake_upstream.root_url}/openai/deployments/tts/audio/speech",
        params={"api-version": "2025-03-01-preview"},
        headers=headers,
        json={"input": "hi", "voice": "alloy", "response_format": "wav"},
    )
    assert speech.content.startswith(b"RIFF")


def test_azure_requires_api_version(fake_upstream: FakeUpstream) -> None:
    r = httpx.post(
        f"{fake_upstream.root_url}/openai/deployments/x/audio/speech",
        headers={"api-key": FAKE_API_KEY},
        json={"input": "hi", "voice": "alloy"},
    )
    assert (r.status_code, r.json()["error"]["param"]) == (400, "api-version")


# --------------------------------------------------------------------------- the bare app


async def test_app_can_be_mounted_in_any_asgi_server() -> None:
    app = FakeOpenAIApp(api_key="k")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake/v1") as c:
        r = await c.post(
            "/audio/transcriptions",
            headers={"Authorization": "Bearer k"},
            files={"file": ("a.wav", make_wav(1.0), "audio/wav")},
            data={"model": "whisper-1", "response_format": "text"},
        )
    assert r.text == TEXT + "\n"
    assert app.requests[0].form["response_format"] == "text"
