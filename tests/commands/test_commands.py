"""audio_transcribe, audio_speak and audio_purge through call_command with the test provider."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import srt
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from django_audio import services
from django_audio.models import SpeechAsset, Transcript
from django_audio.providers import providers
from django_audio.providers.test import TestProvider
from django_audio.testing.audio import make_wav

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider() -> Iterator[TestProvider]:
    p = TestProvider(transcript_text="one two three four five six seven eight")
    with providers.override("default", p):
        yield p


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def recordings(tmp_path: Path) -> list[Path]:
    paths = []
    for i, seconds in enumerate((1.0, 2.0)):
        path = tmp_path / f"rec{i}.wav"
        path.write_bytes(make_wav(seconds))
        paths.append(path)
    return paths


def run(*args: str, **kwargs: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def exit_code(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(*args, stdout=io.StringIO(), stderr=err)
    return exc.value.returncode, f"{exc.value} {err.getvalue()}"


# --------------------------------------------------------------------------- audio_transcribe


def test_transcribe_prints_srt_and_stores_the_transcript(
    provider: TestProvider, media: Path, recordings: list[Path], django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("carol")
    out, err = run(
        "audio_transcribe",
        str(recordings[1]),
        "--format",
        "srt",
        "--user",
        "carol",
        "--language",
        "en",
    )
    transcript = Transcript.objects.get()
    assert transcript.owner == user
    assert transcript.status == "completed"
    assert transcript.language == "en"
    assert transcript.original_name == "rec1.wav"
    subs = list(srt.parse(out))
    assert " ".join(s.content for s in subs) == "one two three four five six seven eight"
    assert subs[-1].end <= timedelta(seconds=2.001)
    assert f"[1/1] rec1.wav: {transcript.public_id}" in err
    assert provider.calls[0].args["request"].response_format == "verbose_json"


def test_transcribe_many_files_into_a_folder(
    provider: TestProvider, media: Path, recordings: list[Path], tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out, err = run(
        "audio_transcribe", *map(str, recordings), "--format", "json", "--output-dir", str(out_dir)
    )
    assert out == ""
    docs = [json.loads((out_dir / f"rec{i}.json").read_text()) for i in range(2)]
    assert [d["duration"] for d in docs] == [pytest.approx(1.0), pytest.approx(2.0)]
    assert all(d["words"] for d in docs)
    assert "[1/2]" in err
    assert "[2/2]" in err


def test_translate_as_text(provider: TestProvider, media: Path, recordings: list[Path]) -> None:
    out, _ = run("audio_transcribe", str(recordings[0]), "--translate")
    assert out == "This is a test translation.\n"
    assert Transcript.objects.get().kind == "translation"


def test_a_non_audio_file_fails_that_item_only(
    provider: TestProvider, media: Path, recordings: list[Path], tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.wav"
    bogus.write_text("just some text, not audio")
    code, message = exit_code("audio_transcribe", str(bogus), str(recordings[0]))
    assert code == 1
    assert "1 of 2 file(s) failed" in message
    assert "not a supported audio file" in message
    assert Transcript.objects.count() == 1  # the good file was still transcribed


def test_a_provider_failure_exits_1_and_keeps_the_upload(
    provider: TestProvider, media: Path, recordings: list[Path]
) -> None:
    provider.fail_next(503, operation="transcribe")
    code, _ = exit_code("audio_transcribe", str(recordings[0]))
    assert code == 1
    assert Transcript.objects.get().status == "failed"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["/no/such/file.wav"], "No such file"),
        (["{rec}", "--user", "nobody"], "No user"),
        (["{rec}", "--provider", "elsewhere"], "No provider alias"),
        (["{rec}", "--output-dir", "/no/such/dir"], "not a directory"),
    ],
)
def test_transcribe_usage_errors_exit_2_and_do_nothing(
    provider: TestProvider, media: Path, recordings: list[Path], args: list[str], expected: str
) -> None:
    code, message = exit_code("audio_transcribe", *(a.format(rec=recordings[0]) for a in args))
    assert code == 2
    assert expected in message
    assert Transcript.objects.count() == 0
    assert provider.calls == []


# --------------------------------------------------------------------------- audio_speak


def test_speak_writes_the_clip_and_stores_it(
    provider: TestProvider, media: Path, tmp_path: Path
) -> None:
    target = tmp_path / "hello.wav"
    out, err = run(
        "audio_speak",
        "Hello from the command line",
        "-o",
        str(target),
        "--voice",
        "nova",
        "--speed",
        "1.5",
    )
    asset = SpeechAsset.objects.get()
    assert out.strip() == asset.public_id
    assert (asset.response_format, asset.voice_name, asset.speed) == ("wav", "nova", 1.5)
    data = target.read_bytes()
    assert data[:4] == b"RIFF"
    with asset.audio.open("rb") as fh:
        assert fh.read() == data
    assert f"Wrote {len(data)} bytes of wav" in err
    # The same request again reuses the stored clip.
    _, err = run(
        "audio_speak",
        "Hello from the command line",
        "-o",
        str(target),
        "--voice",
        "nova",
        "--speed",
        "1.5",
    )
    assert "reused a stored clip" in err
    assert SpeechAsset.objects.count() == 1


def test_speak_reads_stdin_and_honours_format(
    provider: TestProvider, media: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from stdin"))
    target = tmp_path / "clip.bin"
    run("audio_speak", "-", "-o", str(target), "--format", "pcm")
    asset = SpeechAsset.objects.get()
    assert (asset.input, asset.response_format) == ("from stdin", "pcm")
    assert target.stat().st_size == asset.size


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["hi", "--voice", "voice_unknown"], "voice_unknown"),
        (["x" * 5000], "limit"),
        (["hi", "--speed", "9"], "speed"),
        (["hi", "--user", "nobody"], "No user"),
    ],
)
def test_speak_refused_input_exits_2(
    provider: TestProvider, media: Path, tmp_path: Path, args: list[str], expected: str
) -> None:
    code, message = exit_code("audio_speak", *args, "-o", str(tmp_path / "x.mp3"))
    assert code == 2
    assert expected in message
    assert SpeechAsset.objects.count() == 0
    assert not (tmp_path / "x.mp3").exists()


def test_speak_provider_failure_exits_1(
    provider: TestProvider, media: Path, tmp_path: Path
) -> None:
    provider.fail_next(500, operation="speech")
    code, _ = exit_code("audio_speak", "hi", "-o", str(tmp_path / "x.mp3"))
    assert code == 1
    assert SpeechAsset.objects.get().status == "failed"


# --------------------------------------------------------------------------- audio_purge


def _age(model: Any, days: int) -> None:
    model.objects.update(created_at=timezone.now() - timedelta(days=days))


def test_purge_keeps_text_by_default(
    provider: TestProvider, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    old = services.transcribe(None, make_wav(), model="whisper-1").transcript
    _age(Transcript, 40)
    recent = services.transcribe(None, make_wav(), model="whisper-1").transcript
    name = old.audio.name
    out, _ = run("audio_purge", "--older-than", "30", "--dry-run")
    assert "Would remove" in out
    assert "1 transcript(s)" in out
    assert (media / name).exists()
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run("audio_purge", "--older-than", "30")
    assert "Removed audio (text kept)" in out
    old.refresh_from_db()
    assert old.text
    assert not old.audio
    assert old.audio_purged_at is not None
    assert not (media / name).exists()
    recent.refresh_from_db()
    assert recent.audio


def test_purge_delete_text_and_retention_setting(
    provider: TestProvider, media: Path, settings: Any
) -> None:
    services.transcribe(None, make_wav(), model="whisper-1")
    _age(Transcript, 10)
    settings.DJANGO_AUDIO = {**settings.DJANGO_AUDIO, "RETENTION_DAYS": 7}
    out, _ = run("audio_purge", "--delete-text")
    assert "Removed rows with their audio older than 7 day(s): 1 transcript(s)" in out
    assert Transcript.objects.count() == 0


def test_purge_without_a_period_is_a_usage_error(provider: TestProvider) -> None:
    code, message = exit_code("audio_purge")
    assert code == 2
    assert "RETENTION_DAYS" in message
    assert exit_code("audio_purge", "--older-than", "-1")[0] == 2


# --------------------------------------------------------------------------- progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal_and_lines_elsewhere() -> None:
    from django.core.management.base import OutputWrapper

    from django_audio.management.progress import BAR_WIDTH, Progress

    tty = _Terminal()
    bar = Progress(OutputWrapper(tty), 4)
    bar.advance(label="a")
    bar.advance(3, label="b")
    bar.close()
    assert tty.getvalue().startswith("\r[" + "#" * (BAR_WIDTH // 4) + ".")
    assert "\r[" + "#" * BAR_WIDTH + "] 4/4 b" in tty.getvalue()
    assert tty.getvalue().endswith("\n")
    log = io.StringIO()
    lines = Progress(OutputWrapper(log), 1000, unit=" B", every_step=False)
    lines.advance(400)
    lines.advance(600, label="done")
    assert log.getvalue() == "[1000/1000 B] done\n"
