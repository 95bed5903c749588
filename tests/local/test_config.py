"""Options, the model map, the integrity check, readiness, and the missing-extra message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import Error
from django.test import override_settings

from django_audio.contract import SpeechRequest
from django_audio.exceptions import ConfigurationError, InvalidRequest
from django_audio.local import engine_status
from django_audio.local import stt as stt_module
from django_audio.local.errors import ModelIntegrityError
from django_audio.local.stt import BUNDLED_SHA256, ModelOptions, SpeechToText
from django_audio.providers import providers
from django_audio.providers.local import LocalProvider

pytestmark = pytest.mark.local_engine


def test_engine_status_is_ready() -> None:
    status = engine_status()
    assert status["ready"] is True
    assert status["errors"] == []
    assert status["stt"]["integrity"] == "ok"
    assert status["stt"]["model"] == "tiny.en"
    assert status["stt"]["sha256"] == BUNDLED_SHA256
    assert status["tts"]["version"].startswith("1.52")
    assert status["tts"]["sample_rate"] == 22_050
    assert len(status["tts"]["voices"]) == 13
    assert all(status["transcoding"]["encoders"].values())


def tampered_copy(tmp_path: Path) -> Path:
    """The bundled model with its config.json altered (the big files are symlinked)."""
    real = stt_module.bundled_model_path()
    for name in BUNDLED_SHA256:
        (tmp_path / name).symlink_to(real / name)
    (tmp_path / "config.json").unlink()
    (tmp_path / "config.json").write_bytes((real / "config.json").read_bytes() + b" ")
    return tmp_path


def test_integrity_mismatch_refuses_to_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tampered_copy(tmp_path)
    monkeypatch.setattr(stt_module, "bundled_model_path", lambda: path)
    with pytest.raises(ModelIntegrityError) as err:
        SpeechToText("bundled", ModelOptions())
    assert "config.json" in err.value.message
    assert "integrity" in err.value.message
    assert "model.bin" not in err.value.message  # only the altered file is named
    assert err.value.status == 500
    status = engine_status()
    assert status["ready"] is False
    assert status["stt"]["integrity"] == "failed"
    errors = LocalProvider.check_options("local", {})
    assert [e.id for e in errors] == ["django_audio.E102"]


def test_missing_model_file_is_named(tmp_path: Path) -> None:
    path = tampered_copy(tmp_path)
    (path / "vocabulary.txt").unlink()
    with pytest.raises(ModelIntegrityError) as err:
        stt_module.verify_bundled_model(path)
    assert "vocabulary.txt is missing" in err.value.message


def test_model_map_override() -> None:
    provider = LocalProvider("custom", model_map={"house-voice": "espeak", "tts-1": None})
    request = SpeechRequest(
        model="house-voice", input="Hello.", voice="alloy", response_format="pcm"
    )
    assert b"".join(provider.speech(request))
    with pytest.raises(InvalidRequest) as err:
        provider.speech(SpeechRequest(model="tts-1", input="Hello.", voice="alloy"))
    assert "house-voice" in err.value.message
    assert "'tts-1'" in err.value.message
    assert provider.model_map["whisper-1"].kind == "stt"


def test_invalid_model_map_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        LocalProvider("bad", model_map={"whisper-1": "parakeet"})


def test_check_options() -> None:
    assert LocalProvider.check_options("local", {"model_map": {"x": "whisper:small"}}) == []
    errors = LocalProvider.check_options(
        "local",
        {"model_map": {"x": "nope"}, "compute_type": "int4", "cpu_threads": -1, "vad_filter": 1},
    )
    assert all(isinstance(e, Error) and e.id == "django_audio.E101" for e in errors)
    assert len(errors) == 4
    assert any("model_map" in e.msg for e in errors)


def test_configured_through_settings() -> None:
    config = {
        "PROVIDERS": {
            "default": {
                "BACKEND": "django_audio.providers.local.LocalProvider",
                "OPTIONS": {"beam_size": 1, "model_map": {"my-stt": "whisper"}},
            }
        }
    }
    with override_settings(DJANGO_AUDIO=config):
        provider = providers["default"]
        assert isinstance(provider, LocalProvider)
        assert provider.beam_size == 1
        assert "my-stt" in provider.model_map


def test_missing_extra_names_the_pip_line() -> None:
    code = (
        "import sys; sys.modules['faster_whisper'] = None\n"
        "try:\n    import django_audio.providers.local\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert 'pip install "django-audio[local]"' in out.stdout, out.stdout + out.stderr
