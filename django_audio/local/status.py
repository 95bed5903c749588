"""Readiness of the local engine, for deployments, health checks and ``make demo``."""

from __future__ import annotations

from typing import Any

import av

from ..exceptions import AudioError
from . import stt as stt_module
from .transcoding import SPEECH_CODECS
from .tts import VOICES, Espeak

__all__ = ["engine_status"]


def engine_status(stt_model: str = "bundled", *, load: bool = False) -> dict[str, Any]:
    """Check every part of the engine offline; ``status["ready"]`` is True when all pass.

    Verifies the bundled model's SHA-256 (when ``stt_model`` is the bundled one), starts
    espeak-ng, and checks PyAV has each speech encoder. With ``load=True`` the speech-to-text
    model is also loaded (about 2 s; it then stays loaded for the process). Never downloads.
    """
    errors: list[str] = []
    stt: dict[str, Any] = {"model": stt_model}
    bundled = stt_model in ("bundled", stt_module.BUNDLED_MODEL)
    if bundled:
        path = stt_module.bundled_model_path()
        stt.update(model=stt_module.BUNDLED_MODEL, path=str(path), bundled=True)
        try:
            stt["sha256"] = stt_module.verify_bundled_model(path)
            stt["integrity"] = "ok"
        except AudioError as exc:
            stt["integrity"] = "failed"
            errors.append(exc.message)
    else:
        stt.update(bundled=False, integrity="not pinned")
    if load and not errors:
        try:
            model = stt_module.load_model(stt_model)
            stt.update(loaded=True, languages=len(model.languages), multilingual=model.multilingual)
        except AudioError as exc:
            stt["loaded"] = False
            errors.append(exc.message)

    tts: dict[str, Any] = {"engine": "espeak-ng"}
    try:
        espeak = Espeak.get()
        tts.update(
            version=espeak.version,
            sample_rate=espeak.sample_rate,
            library=espeak.library_path,
            data=espeak.data_path,
        )
        missing = [name for name, voice in VOICES.items() if not espeak.has_voice(voice)]
        tts["voices"] = {name: voice.spec for name, voice in VOICES.items()}
        errors += [f"espeak-ng cannot load the voice for {name!r}." for name in missing]
    except AudioError as exc:
        errors.append(exc.message)

    encoders = {fmt: codec in av.codecs_available for fmt, (_, codec, _) in SPEECH_CODECS.items()}
    errors += [f"PyAV has no {fmt} encoder." for fmt, ok in encoders.items() if not ok]
    transcoding = {"pyav": av.__version__, "ffmpeg": av.ffmpeg_version_info, "encoders": encoders}
    return {
        "ready": not errors,
        "errors": errors,
        "stt": stt,
        "tts": tts,
        "transcoding": transcoding,
    }
