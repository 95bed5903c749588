"""PyAV transcoding: any accepted upload to 16 kHz mono float32, speech PCM to the six formats.

Both directions stream: the decoder yields one resampled frame at a time and the encoder
turns each PCM piece into whatever encoded bytes the muxer has ready, so neither ever holds a
whole file (a long upload costs one transcription block of memory, not its full length).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterable, Iterator
from typing import IO, Any

import av
import numpy as np
import numpy.typing as npt

from ..contract import AudioFile
from ..exceptions import InvalidRequest

__all__ = [
    "PCM_RATE",
    "STT_RATE",
    "AudioDecoder",
    "SpeechEncoder",
    "encode_chunks",
    "iter_blocks",
    "probe_duration",
]

#: Sample rate Whisper listens at.
STT_RATE = 16_000
#: Sample rate of every speech output; OpenAI's ``pcm`` is 24 kHz 16-bit mono.
PCM_RATE = 24_000

#: Input formats the contract accepts (PyAV reads more; these are the ones promised).
INPUT_FORMATS = ("flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm")

#: Speech format -> (muxer, encoder, bit rate or None).
SPEECH_CODECS: dict[str, tuple[str, str, int | None]] = {
    "mp3": ("mp3", "libmp3lame", 64_000),
    "opus": ("ogg", "libopus", 32_000),
    "aac": ("adts", "aac", 64_000),
    "flac": ("flac", "flac", None),
    "wav": ("wav", "pcm_s16le", None),
    "pcm": ("s16le", "pcm_s16le", None),
}
#: Formats written at the input's own rate instead of 24 kHz: for MP3, resampling espeak's
#: 22,050 Hz took a quarter of the encoding time and adds nothing a listener can hear.
_NATIVE_RATE_FORMATS = frozenset({"mp3"})
#: Encoder settings chosen for speed: the defaults (LAME's and Opus's slowest search, AAC's
#: two-loop coder) cost 2-4x the CPU for no audible gain on espeak's synthetic voice.
_ENCODER_OPTIONS: dict[str, dict[str, str]] = {
    "libmp3lame": {"compression_level": "9"},
    "libopus": {"compression_level": "5"},
    "aac": {"aac_coder": "fast"},
}

# A handful of bad packets in a long file is normal damage; this many means garbage.
_MAX_BAD_PACKETS = 100

FloatAudio = npt.NDArray[np.float32]
PcmAudio = npt.NDArray[np.int16]


def _corrupt(name: str, detail: str = "") -> InvalidRequest:
    return InvalidRequest(
        f"Could not decode the audio file {name!r}: it is corrupt, truncated or not in a "
        f"supported format ({', '.join(INPUT_FORMATS)}){detail}.",
        param="file",
        code="invalid_audio",
    )


class AudioDecoder:
    """Decodes an :class:`AudioFile` to mono float32 at ``rate``, one frame at a time.

    The container is opened in ``__init__`` so a file that is not audio at all fails at the
    call, before any stream is handed out. Iterate once; ``samples`` counts what came out.
    """

    def __init__(
        self, file: AudioFile, rate: int = STT_RATE, max_seconds: float | None = None
    ) -> None:
        self.name = file.filename or "audio"
        self.rate = rate
        self.samples = 0
        self._max_samples = None if max_seconds is None else int(max_seconds * rate)
        self._max_seconds = max_seconds
        self._stack = contextlib.ExitStack()
        fh: IO[bytes] = self._stack.enter_context(file.open())
        try:
            self._container: Any = av.open(fh, mode="r", metadata_errors="ignore")
        except (av.FFmpegError, ValueError, UnicodeDecodeError):
            self._stack.close()
            raise _corrupt(self.name) from None
        self._stack.callback(self._container.close)
        if not self._container.streams.audio:
            self.close()
            raise _corrupt(self.name, "; it has no audio track")
        self._stream: Any = self._container.streams.audio[0]

    @property
    def duration(self) -> float:
        """Seconds decoded so far (the whole file's once iteration has finished)."""
        return self.samples / self.rate

    def close(self) -> None:
        """Release the container and the file."""
        self._stack.close()

    def __iter__(self) -> Iterator[FloatAudio]:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
        bad = 0
        try:
            for packet in self._container.demux(self._stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    # Skip a damaged packet as ffmpeg does; give up on a file made of them.
                    bad += 1
                    if bad > _MAX_BAD_PACKETS:
                        raise _corrupt(self.name) from None
                    continue
                for frame in frames:
                    yield from self._take(resampler.resample(frame))
            yield from self._take(resampler.resample(None))
        except InvalidRequest:  # a ValueError too: keep its own message
            raise
        except (av.FFmpegError, ValueError):
            raise _corrupt(self.name) from None
        finally:
            self.close()
        if self.samples == 0:
            raise _corrupt(self.name, "; no audio could be decoded from it")

    def _take(self, frames: Iterable[Any]) -> Iterator[FloatAudio]:
        for frame in frames:
            data: FloatAudio = np.array(frame.to_ndarray(), dtype=np.float32).reshape(-1)
            if data.size:
                self.samples += data.size
                if self._max_samples is not None and self.samples > self._max_samples:
                    # A few MB of FLAC silence can hold days of audio: refuse, don't grind.
                    raise InvalidRequest(
                        f"The audio file {self.name!r} is longer than the "
                        f"{self._max_seconds:g} seconds this server accepts.",
                        param="file",
                        code="audio_too_long",
                    )
                yield data


def iter_blocks(
    chunks: Iterable[FloatAudio], block: int, search: int, frame: int = STT_RATE // 20
) -> Generator[FloatAudio, None, None]:
    """Regroup ``chunks`` into blocks of at most ``block`` samples, cut at quiet points.

    Each cut is placed at the quietest ``frame`` in the last ``search`` samples of a block, so
    a long recording is transcribed piece by piece with words rarely split at a boundary.
    """
    pending: list[FloatAudio] = []
    size = 0
    for chunk in chunks:
        pending.append(chunk)
        size += chunk.size
        while size >= block:
            buf = np.concatenate(pending)
            cut = _quiet_cut(buf, max(block - search, frame), block, frame)
            yield buf[:cut]
            rest = buf[cut:]
            pending, size = [rest], rest.size
    if size:
        yield np.concatenate(pending)


def _quiet_cut(buf: FloatAudio, lo: int, hi: int, frame: int) -> int:
    window = buf[lo:hi]
    n = window.size // frame
    if n == 0:
        return hi
    energy = np.square(window[: n * frame].reshape(n, frame)).mean(axis=1)
    return lo + int(np.argmin(energy)) * frame + frame // 2


def probe_duration(file: AudioFile, *, raw_pcm_rate: int | None = None) -> float:
    """Exact duration in seconds, by decoding (streamed; headers of streamed files lie).

    Raw PCM has no header: pass ``raw_pcm_rate`` to measure 16-bit mono PCM by its size.
    """
    if raw_pcm_rate is not None:
        size = file.size
        if size is None:
            size = len(file.read())
        return size / 2 / raw_pcm_rate
    decoder = AudioDecoder(file)
    for _ in decoder:
        pass
    return decoder.duration


class _Sink:
    """A write-only, non-seekable file for PyAV; muxers then stream instead of seeking back."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


class SpeechEncoder:
    """Encodes 16-bit mono PCM at ``in_rate`` to a speech ``response_format`` at 24 kHz.

    MP3 keeps ``in_rate`` (22,050 Hz from espeak); every other format is 24 kHz like OpenAI's.

    :meth:`encode` returns whatever bytes the muxer has ready (possibly none); :meth:`finish`
    flushes the rest. Streamed WAV carries 0xFFFFFFFF sizes and streamed FLAC no sample count,
    as their headers are written before the length is known.
    """

    def __init__(self, response_format: str, in_rate: int, out_rate: int = PCM_RATE) -> None:
        muxer, codec, bit_rate = SPEECH_CODECS[response_format]
        if response_format in _NATIVE_RATE_FORMATS:
            out_rate = in_rate
        self.in_rate = in_rate
        self._sink = _Sink()
        options = {"flush_packets": "1"}
        if muxer == "ogg":
            options["page_duration"] = "100000"  # 100 ms pages instead of 1 s: earlier bytes
        self._container: Any = av.open(
            self._sink, mode="w", format=muxer, buffer_size=4096, container_options=options
        )
        stream: Any = self._container.add_stream(
            codec, rate=out_rate, layout="mono", options=_ENCODER_OPTIONS.get(codec, {})
        )
        if bit_rate:
            stream.bit_rate = bit_rate
        self._stream = stream
        self._closed = False

    def encode(self, pcm: PcmAudio) -> bytes:
        """Feed one PCM piece; returns the encoded bytes ready so far."""
        if pcm.size:
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(pcm, dtype=np.int16).reshape(1, -1),
                format="s16",
                layout="mono",
            )
            frame.sample_rate = self.in_rate
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        return self._sink.drain()

    def finish(self) -> bytes:
        """Flush the encoder and close the container; returns the last bytes."""
        if not self._closed:
            self._closed = True
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        return self._sink.drain()

    def close(self) -> None:
        """Abandon the encoder (when a stream is cancelled)."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(av.FFmpegError, ValueError):
                self._container.close()


def encode_chunks(
    pcm_chunks: Iterable[PcmAudio],
    response_format: str,
    in_rate: int,
    min_chunk: int = 4096,
    batch_seconds: float = 0.5,
) -> Generator[bytes, None, None]:
    """Encode PCM pieces as they come, yielding chunks of at least ``min_chunk`` bytes.

    The first piece is encoded at once so playback can start; later ones are batched to
    ``batch_seconds`` of audio, as each encoder call has a fixed cost.
    """
    encoder = SpeechEncoder(response_format, in_rate)
    buffered = bytearray()
    pending: list[PcmAudio] = []
    pending_samples = 0
    batch = int(in_rate * batch_seconds)
    sent_any = False
    try:
        for pcm in pcm_chunks:
            pending.append(pcm)
            pending_samples += pcm.size
            if sent_any and pending_samples < batch:
                continue
            buffered += encoder.encode(np.concatenate(pending))
            pending, pending_samples = [], 0
            if buffered and (not sent_any or len(buffered) >= min_chunk):
                yield bytes(buffered)
                buffered.clear()
                sent_any = True
        if pending:
            buffered += encoder.encode(np.concatenate(pending))
        buffered += encoder.finish()
        if buffered:
            yield bytes(buffered)
    finally:
        encoder.close()
        # Stop the producer (e.g. synthesis) at once rather than when it is collected.
        close = getattr(pcm_chunks, "close", None)
        if close is not None:
            close()
