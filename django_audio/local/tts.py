"""espeak-ng speech, driven in-process through ctypes with a synthesis callback.

espeak-ng (1.52, library and data from ``espeakng-loader``) keeps global state — one voice,
one rate, one callback per process — so every synthesis holds :data:`Espeak.lock`. Synthesis
is several hundred times faster than real time, so the lock is held briefly: a producer
thread synthesizes into a queue and the caller encodes and yields pieces as they arrive,
without a slow reader ever holding the engine.
"""

from __future__ import annotations

import ctypes
import queue
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import espeakng_loader
import numpy as np

from ..exceptions import InvalidRequest
from .errors import EngineError
from .transcoding import PcmAudio

__all__ = [
    "ESPEAK_RATE",
    "VOICES",
    "Espeak",
    "EspeakVoice",
    "check_input",
    "speakable",
    "synthesize",
]

#: espeak-ng's output sample rate (mono, 16-bit).
ESPEAK_RATE = 22_050

# espeak_AUDIO_OUTPUT, espeak_Initialize options, espeak_PARAMETER, espeak_Synth flags.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_BUFFER_MS = 100  # the callback gets 100 ms of audio at a time

#: espeak's own limits on words per minute; slower speeds add pauses between words.
DEFAULT_WPM, MIN_WPM, MAX_WPM = 175, 80, 1000
_GAP_UNIT_MS = 30


@dataclass(frozen=True)
class EspeakVoice:
    """An espeak voice and variant (``en-us+f3``), with an optional base pitch (0-99)."""

    name: str
    variant: str = ""
    pitch: int | None = None

    @property
    def spec(self) -> str:
        """The name ``espeak_SetVoiceByName`` takes."""
        return f"{self.name}+{self.variant}" if self.variant else self.name


#: OpenAI's built-in voices -> distinct espeak voices. Documented in docs/providers/local.md.
VOICES: dict[str, EspeakVoice] = {
    "alloy": EspeakVoice("en-us"),
    "ash": EspeakVoice("en-us", "m3"),
    "ballad": EspeakVoice("en-gb-scotland", "m4"),
    "coral": EspeakVoice("en-us", "f2"),
    "echo": EspeakVoice("en-us", "m2"),
    "fable": EspeakVoice("en-gb-x-rp", "m1"),
    "nova": EspeakVoice("en-us", "f3"),
    "onyx": EspeakVoice("en-us", "m7", pitch=30),
    "sage": EspeakVoice("en", "f4"),
    "shimmer": EspeakVoice("en-us", "f5"),
    "verse": EspeakVoice("en-us-nyc", "m6", pitch=70),
    "marin": EspeakVoice("en-gb-scotland", "f1"),
    "cedar": EspeakVoice("en", "m8"),
}


class _Event(ctypes.Structure):
    """``espeak_EVENT`` (only read to walk the list; audio comes as samples)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class Espeak:
    """The process-wide espeak-ng library. Use :meth:`get`; synthesize under :attr:`lock`."""

    _instance: ClassVar[Espeak | None] = None
    _init_lock: ClassVar[threading.Lock] = threading.Lock()
    #: Held for the whole of one synthesis: espeak's voice, rate and callback are global.
    lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self.library_path = espeakng_loader.get_library_path()
        self.data_path = espeakng_loader.get_data_path()
        try:
            lib: Any = ctypes.CDLL(self.library_path)
        except OSError as exc:
            raise EngineError(f"Cannot load espeak-ng from {self.library_path}: {exc}") from exc
        lib.espeak_Initialize.argtypes = [
            ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
        ]  # fmt: skip
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_Callback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Info.restype = ctypes.c_char_p
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, self.data_path.encode(), _INITIALIZE_DONT_EXIT
        )
        if rate != ESPEAK_RATE:
            raise EngineError(f"espeak-ng failed to initialise (returned {rate}).")
        self.sample_rate = rate
        self.version = (lib.espeak_Info(None) or b"").decode("ascii", "replace")
        self._lib = lib
        self._sink: Callable[[bytes], bool] | None = None
        # Keep a reference: ctypes frees the trampoline when the Python object dies.
        self._callback = _Callback(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> Espeak:
        """The shared instance, initialised on first use."""
        if cls._instance is None:
            with cls._init_lock:
                if cls._instance is None:
                    cls._instance = cls()
        return cls._instance

    def _on_audio(self, wav: Any, count: int, events: Any) -> int:
        # Called by espeak on the synthesizing thread; returning 1 aborts the synthesis.
        sink = self._sink
        if sink is None:
            return 1
        if count > 0 and wav:
            return 0 if sink(ctypes.string_at(wav, count * 2)) else 1
        return 0

    def has_voice(self, voice: EspeakVoice) -> bool:
        """Whether espeak-ng can load ``voice`` (its language and variant files exist)."""
        with self.lock:
            return bool(self._lib.espeak_SetVoiceByName(voice.spec.encode()) == 0)

    def synthesize(
        self, text: str, voice: EspeakVoice, speed: float, sink: Callable[[bytes], bool]
    ) -> None:
        """Speak ``text`` into ``sink`` (16-bit PCM pieces); ``sink`` returns False to stop."""
        wpm = round(DEFAULT_WPM * speed)
        # Below espeak's slowest rate, stretch with pauses between words instead; one unit of
        # espeakWORDGAP measures about 30 ms at 80 wpm.
        gap = max(0, round((60_000 / max(wpm, 1) - 60_000 / MIN_WPM) / _GAP_UNIT_MS))
        data = text.encode("utf-8") + b"\0"
        with self.lock:
            lib = self._lib
            if lib.espeak_SetVoiceByName(voice.spec.encode()) != 0:
                raise EngineError(f"espeak-ng has no voice {voice.spec!r}.")
            lib.espeak_SetParameter(_RATE, min(max(wpm, MIN_WPM), MAX_WPM), 0)
            lib.espeak_SetParameter(_WORDGAP, gap, 0)
            # Parameters outlive a voice change, so the default pitch is set explicitly.
            lib.espeak_SetParameter(_PITCH, 50 if voice.pitch is None else voice.pitch, 0)
            self._sink = sink
            try:
                err = lib.espeak_Synth(
                    data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
                )
                lib.espeak_Synchronize()
            finally:
                self._sink = None
            if err != 0:
                raise EngineError(f"espeak-ng could not synthesize (error {err}).")


def speakable(text: str) -> bool:
    """Whether ``text`` has anything to say: a letter, digit or symbol, not just punctuation."""
    return any(unicodedata.category(ch)[0] in "LNS" for ch in text)


def check_input(text: str) -> None:
    """Refuse text with nothing speakable (``param="input"``) before synthesis starts."""
    if not speakable(text):
        raise InvalidRequest(
            "'input' has no speakable content (only spaces, punctuation or control characters).",
            param="input",
            code="no_speakable_content",
        )


_DONE = object()


def synthesize(text: str, voice: EspeakVoice, speed: float = 1.0) -> Iterator[PcmAudio]:
    """Yield 22,050 Hz mono int16 PCM pieces as espeak produces them.

    A producer thread runs the synthesis (under the engine lock) into an unbounded queue:
    a clip of the longest input is a few MB, and a slow consumer must never hold the lock.
    Closing the iterator early aborts the synthesis at its next 100 ms piece.
    """
    engine = Espeak.get()
    pieces: queue.SimpleQueue[object] = queue.SimpleQueue()
    stop = threading.Event()

    def sink(pcm: bytes) -> bool:
        pieces.put(pcm)
        return not stop.is_set()

    def produce() -> None:
        try:
            engine.synthesize(text, voice, speed, sink)
        except BaseException as exc:  # handed to the consumer, re-raised there
            pieces.put(exc)
        finally:
            pieces.put(_DONE)

    worker = threading.Thread(target=produce, name="django-audio-espeak", daemon=True)
    worker.start()
    try:
        while True:
            item = pieces.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield np.frombuffer(item, dtype=np.int16)
    finally:
        stop.set()
