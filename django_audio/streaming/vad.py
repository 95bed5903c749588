"""Cut a live stream of 16-bit PCM into utterances by energy and silence.

A deliberately small voice activity detector: each frame's RMS level is compared with an
absolute floor (``THRESHOLD``) and with an adaptive noise floor times ``NOISE_RATIO``, so a
noisy microphone does not count as endless speech. An utterance starts at the first voiced
frame (with ``PADDING_MS`` of audio before it), ends after ``SILENCE_MS`` of silence (keeping
``PADDING_MS`` of it), is dropped when it holds less than ``MIN_SPEECH_MS`` of voiced audio,
and is cut at ``MAX_UTTERANCE_SECONDS`` however long the speaker goes on.

Configured by ``DJANGO_AUDIO["VAD"]`` (missing keys take the defaults of
:data:`django_audio.conf.DEFAULTS`). Pure Python; numpy is used for the level when present.
"""

from __future__ import annotations

import array
import importlib
import math
import operator
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..conf import DEFAULTS, audio_settings
from ..exceptions import ConfigurationError

_np: Any
try:  # numpy is optional (the ``local`` extra); it only makes the level faster.
    _np = importlib.import_module("numpy")
except ImportError:  # pragma: no cover - depends on the environment
    _np = None

__all__ = ["Utterance", "UtteranceCutter", "VadConfig", "rms"]

_BIG_ENDIAN = sys.byteorder == "big"


def rms(pcm: bytes) -> float:
    """Root-mean-square level of little-endian 16-bit PCM, from 0.0 (silence) to 1.0."""
    n = len(pcm) // 2
    if n == 0:
        return 0.0
    if _np is not None:
        samples = _np.frombuffer(pcm[: n * 2], dtype="<i2").astype(_np.float64)
        return float(math.sqrt(float(_np.dot(samples, samples)) / n)) / 32768.0
    data = array.array("h", pcm[: n * 2])
    if _BIG_ENDIAN:  # pragma: no cover - wire format is little-endian
        data.byteswap()
    return math.sqrt(sum(map(operator.mul, data, data)) / n) / 32768.0


@dataclass(frozen=True)
class VadConfig:
    """Detector parameters (milliseconds, seconds, and levels as fractions of full scale)."""

    frame_ms: int = 30
    threshold: float = 0.01
    noise_ratio: float = 3.0
    silence_ms: int = 500
    min_speech_ms: int = 120
    padding_ms: int = 200
    max_utterance_seconds: float = 15.0

    _KEYS = {
        "FRAME_MS": "frame_ms",
        "THRESHOLD": "threshold",
        "NOISE_RATIO": "noise_ratio",
        "SILENCE_MS": "silence_ms",
        "MIN_SPEECH_MS": "min_speech_ms",
        "PADDING_MS": "padding_ms",
        "MAX_UTTERANCE_SECONDS": "max_utterance_seconds",
    }

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> VadConfig:
        """Build from a ``VAD`` dict merged over the defaults; bad keys or values raise."""
        merged: dict[str, Any] = {**DEFAULTS["VAD"], **(values or {})}
        unknown = sorted(set(merged) - set(cls._KEYS))
        if unknown:
            raise ConfigurationError(
                f"Unknown key(s) in DJANGO_AUDIO['VAD']: {', '.join(unknown)}; "
                f"known: {', '.join(cls._KEYS)}."
            )
        kwargs: dict[str, Any] = {}
        for key, attr in cls._KEYS.items():
            value = merged[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigurationError(
                    f"DJANGO_AUDIO['VAD'][{key!r}] must be a non-negative number; got {value!r}."
                )
            kwargs[attr] = value
        if kwargs["frame_ms"] <= 0 or kwargs["max_utterance_seconds"] <= 0:
            raise ConfigurationError(
                "DJANGO_AUDIO['VAD'] FRAME_MS and MAX_UTTERANCE_SECONDS must be positive."
            )
        return cls(**kwargs)

    @classmethod
    def from_settings(cls) -> VadConfig:
        """The configuration of ``DJANGO_AUDIO["VAD"]``."""
        return cls.from_mapping(audio_settings.VAD)


@dataclass
class Utterance:
    """One stretch of speech: its PCM and where it lies, in seconds from the stream start."""

    index: int
    start: float
    end: float
    pcm: bytes
    #: Cut by ``MAX_UTTERANCE_SECONDS`` rather than by a pause.
    forced: bool = False

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


class UtteranceCutter:
    """Feed PCM as it arrives; get back the utterances it completes.

    Works on whole frames; a trailing partial frame waits for the next :meth:`feed`.
    """

    def __init__(self, sample_rate: int, config: VadConfig | None = None) -> None:
        self.sample_rate = sample_rate
        self.config = config or VadConfig.from_settings()
        c = self.config
        self.frame_bytes = max(2, int(sample_rate * c.frame_ms / 1000) * 2)
        frame_s = self.frame_bytes / 2 / sample_rate
        self._frame_s = frame_s
        self._pad_frames = math.ceil(c.padding_ms / 1000 / frame_s)
        self._silence_frames = max(1, math.ceil(c.silence_ms / 1000 / frame_s))
        self._min_voiced = math.ceil(c.min_speech_ms / 1000 / frame_s)
        self._max_frames = max(1, int(c.max_utterance_seconds / frame_s))
        self._pending = b""
        self._frames_seen = 0  # frames consumed since the stream start
        self._preroll: deque[bytes] = deque(maxlen=max(1, self._pad_frames))
        self._current: list[bytes] | None = None
        self._start_frame = 0
        self._voiced = 0
        self._silent_run = 0
        self._noise = 0.0
        self._count = 0

    @property
    def seconds(self) -> float:
        """Seconds of audio fed so far (whole frames)."""
        return self._frames_seen * self._frame_s

    @property
    def in_speech(self) -> bool:
        """Whether an utterance is open."""
        return self._current is not None

    def _is_voiced(self, level: float) -> bool:
        c = self.config
        voiced = level >= c.threshold and level >= self._noise * c.noise_ratio
        # The noise floor falls at once and rises slowly, so speech barely lifts it but a
        # constantly noisy microphone is learnt within seconds.
        if level < self._noise:
            self._noise = level
        else:
            self._noise += (level - self._noise) * 0.005
        return voiced

    def feed(self, pcm: bytes) -> list[Utterance]:
        """Add PCM; return the utterances it completed (oldest first)."""
        data = self._pending + pcm if self._pending else pcm
        out: list[Utterance] = []
        fb = self.frame_bytes
        end = len(data) - len(data) % fb
        for offset in range(0, end, fb):
            utterance = self._frame(data[offset : offset + fb])
            if utterance is not None:
                out.append(utterance)
        self._pending = data[end:]
        return out

    def _frame(self, frame: bytes) -> Utterance | None:
        voiced = self._is_voiced(rms(frame))
        index = self._frames_seen
        self._frames_seen += 1
        if self._current is None:
            if not voiced:
                self._preroll.append(frame)
                return None
            pre = list(self._preroll) if self._pad_frames else []
            self._preroll.clear()
            self._current = [*pre, frame]
            self._start_frame = index - len(pre)
            self._voiced, self._silent_run = 1, 0
            return None
        self._current.append(frame)
        if voiced:
            self._voiced += 1
            self._silent_run = 0
        else:
            self._silent_run += 1
        if self._silent_run >= self._silence_frames:
            keep = len(self._current) - self._silent_run + min(self._pad_frames, self._silent_run)
            return self._close(keep, forced=False)
        if len(self._current) >= self._max_frames:
            return self._close(len(self._current), forced=True)
        return None

    def _close(self, keep: int, *, forced: bool) -> Utterance | None:
        frames = self._current or []
        dropped = frames[keep:]
        start = self._start_frame
        voiced = self._voiced
        self._current = None
        self._voiced = self._silent_run = 0
        if forced:
            # Speech goes on: the next frames open a new utterance at once.
            self._preroll.clear()
        else:
            self._preroll.clear()
            self._preroll.extend(dropped[-self._pad_frames :] if self._pad_frames else [])
        if voiced < max(1, self._min_voiced):
            return None
        self._count += 1
        return Utterance(
            index=self._count - 1,
            start=round(start * self._frame_s, 3),
            end=round((start + keep) * self._frame_s, 3),
            pcm=b"".join(frames[:keep]),
            forced=forced,
        )

    def flush(self) -> list[Utterance]:
        """End of stream: close the open utterance (if it holds enough speech)."""
        out: list[Utterance] = []
        if self._pending:
            # Pad the last partial frame with silence so no received audio is skipped.
            out += self.feed(b"\x00" * (self.frame_bytes - len(self._pending)))
        if self._current is not None:
            trailing = max(0, self._silent_run - self._pad_frames)
            last = self._close(len(self._current) - trailing, forced=False)
            if last is not None:
                out.append(last)
        return out
