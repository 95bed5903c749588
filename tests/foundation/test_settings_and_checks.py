"""The DJANGO_AUDIO setting, its lazy reader, and the system checks."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings

from django_audio.checks import check_settings
from django_audio.conf import DEFAULTS, MiB, audio_settings
from django_audio.providers import BaseProvider, providers

TEST_BACKEND = "django_audio.providers.test.TestProvider"


class OptionsProvider(BaseProvider):
    """A provider with two options, for the unknown-option check."""

    name = "options"

    def __init__(self, alias: str = "default", *, colour: str = "red", size: int = 1) -> None:
        super().__init__(alias)
        self.colour, self.size = colour, size


def ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [m.id for m in messages if m.id]


def audio(**conf: object) -> override_settings:
    base: dict[str, object] = {"PROVIDERS": {"default": {"BACKEND": TEST_BACKEND}}}
    base.update(conf)
    return override_settings(DJANGO_AUDIO=base)


def test_defaults_match_openai_limits() -> None:
    assert DEFAULTS["MAX_UPLOAD_SIZE"] == 25 * MiB
    assert DEFAULTS["MAX_SPEECH_INPUT"] == 4096
    assert audio_settings.STORAGE == "default"


def test_settings_reload_on_setting_changed() -> None:
    with audio(MAX_UPLOAD_SIZE=1234):
        assert audio_settings.MAX_UPLOAD_SIZE == 1234
    assert audio_settings.MAX_UPLOAD_SIZE == 25 * MiB


def test_valid_configuration_has_no_messages() -> None:
    with audio():
        assert check_settings() == []


def test_unknown_key_is_E001_with_hint() -> None:
    with audio(MAX_UPLOAD_SIZ=1):
        msgs = check_settings()
    assert ids(msgs) == ["django_audio.E001"]
    assert "MAX_UPLOAD_SIZ" in msgs[0].msg
    assert "MAX_UPLOAD_SIZE" in (msgs[0].hint or "")


def test_not_a_dict_is_E001() -> None:
    with override_settings(DJANGO_AUDIO=["nope"]):
        assert ids(check_settings()) == ["django_audio.E001"]


def test_missing_default_alias_is_E002() -> None:
    with override_settings(DJANGO_AUDIO={"PROVIDERS": {"other": {"BACKEND": TEST_BACKEND}}}):
        assert ids(check_settings()) == ["django_audio.E002"]


def test_missing_backend_is_E003() -> None:
    with override_settings(DJANGO_AUDIO={"PROVIDERS": {"default": {"OPTIONS": {}}}}):
        assert ids(check_settings()) == ["django_audio.E003"]


def test_unimportable_backend_is_E004() -> None:
    with override_settings(DJANGO_AUDIO={"PROVIDERS": {"default": {"BACKEND": "no.such.Backend"}}}):
        msgs = check_settings()
    assert ids(msgs) == ["django_audio.E004"]
    assert "no.such.Backend" in msgs[0].msg


def test_backend_that_is_not_a_provider_is_E004() -> None:
    with override_settings(
        DJANGO_AUDIO={"PROVIDERS": {"default": {"BACKEND": "django.core.files.File"}}}
    ):
        assert ids(check_settings()) == ["django_audio.E004"]


def test_unknown_option_is_E005_naming_accepted_options() -> None:
    backend = f"{__name__}.OptionsProvider"
    conf = {"default": {"BACKEND": backend, "OPTIONS": {"colour": "blue", "flavour": "x"}}}
    with override_settings(DJANGO_AUDIO={"PROVIDERS": conf}):
        msgs = check_settings()
    assert ids(msgs) == ["django_audio.E005"]
    assert "'flavour'" in msgs[0].msg
    assert "colour, size" in (msgs[0].hint or "")


def test_unknown_key_beside_options_is_E005() -> None:
    conf = {"default": {"BACKEND": TEST_BACKEND, "CONFIG": {}}}
    with override_settings(DJANGO_AUDIO={"PROVIDERS": conf}):
        assert ids(check_settings()) == ["django_audio.E005"]


def test_unknown_storage_alias_is_E006() -> None:
    with audio(STORAGE="s3"):
        msgs = check_settings()
    assert ids(msgs) == ["django_audio.E006"]
    assert "'default'" in (msgs[0].hint or "")


@pytest.mark.parametrize(
    ("key", "value"),
    [("MAX_UPLOAD_SIZE", 0), ("MAX_SPEECH_INPUT", "4096"), ("SPEECH_CACHE", "yes"),
     ("RETENTION_DAYS", -1)],
)  # fmt: skip
def test_bad_values_are_E008(key: str, value: object) -> None:
    with audio(**{key: value}):
        assert ids(check_settings()) == ["django_audio.E008"]


def test_checks_run_through_manage_py_check() -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with audio(STORAGE="nowhere"), pytest.raises(SystemCheckError, match="E006"):
        call_command("check")


def test_handler_builds_lazily_caches_and_resets() -> None:
    backend = f"{__name__}.OptionsProvider"
    with override_settings(
        DJANGO_AUDIO={"PROVIDERS": {"default": {"BACKEND": backend, "OPTIONS": {"size": 3}}}}
    ):
        first = providers["default"]
        assert isinstance(first, OptionsProvider)
        assert first.size == 3
        assert first.alias == "default"
        assert providers["default"] is first
        with override_settings(
            DJANGO_AUDIO={"PROVIDERS": {"default": {"BACKEND": backend, "OPTIONS": {"size": 4}}}}
        ):
            second = providers["default"]
            assert second is not first
            assert second.size == 4


def test_handler_override_swaps_a_provider_in() -> None:
    mine = OptionsProvider("default", colour="green")
    with providers.override("default", mine):
        assert providers["default"] is mine
    assert providers["default"] is not mine


def test_handler_unknown_alias_is_a_configuration_error() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="'nope'"):
        providers["nope"]


def test_missing_capability_raises_unsupported_feature() -> None:
    from django_audio.contract import AudioFile, TranscriptionRequest
    from django_audio.exceptions import UnsupportedFeature

    provider = OptionsProvider()
    request = TranscriptionRequest(file=AudioFile(b"RIFF"), model="whisper-1")
    with pytest.raises(UnsupportedFeature, match="does not support transcriptions"):
        provider.transcribe(request)
    assert isinstance(UnsupportedFeature("x"), NotImplementedError)
