"""How fast the embedded local engine is, against the raw libraries in the same run.

    .venv/bin/python benchmarks/local_engine.py [--seconds 60] [--repeat 2] [--json out.json]

Measures (targets from issue 6, on 2 CPU cores):

1. STT real-time factor on ~60 s of synthesized speech (target >= 15x faster than real time)
   through ``LocalProvider.transcribe`` and, as the baseline, a raw
   ``WhisperModel.transcribe(path)`` call with the same model and settings. Also the WER.
2. TTS speed (target >= 100x real time): ``LocalProvider.speech`` to pcm and to mp3, against
   a raw ctypes ``espeak_Synth`` call collecting PCM.
3. Time to the first streamed caption after the end of an utterance: a finished ~5 s
   utterance is handed to ``stream_transcription``; the clock runs to the first text delta
   (baseline: raw faster-whisper, time to its first segment).
4. Peak RSS: of this process, and the growth while decoding 10- and 30-minute MP3s in fresh
   child processes, streamed by ``AudioDecoder`` + ``iter_blocks`` (our path: flat in the
   length) versus ``faster_whisper.decode_audio`` (the whole file in memory: linear).

Timings are the best of ``--repeat`` runs; the machine's load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARAGRAPH = (
    "Good morning everyone. Today we will talk about the weather in the north of the "
    "country. It will be cold and windy in the morning, with some rain in the afternoon. "
    "In the south, the sun will shine for most of the day, and temperatures will reach "
    "twenty degrees. Tomorrow will be warmer, with light winds and clear skies in the "
    "evening. Farmers should expect a dry week, and sailors a calm sea along the coast. "
)
UTTERANCE = "Please turn on the lights in the kitchen and close the window."


def configure() -> None:
    """Django with the test suite's settings (the local provider only reads its limits)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB.

    Read from ``VmHWM``: ``ru_maxrss`` of an exec'd child starts at its parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time used by this process (all threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best_cpu(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall time and best CPU time of ``repeat`` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), cpu_seconds()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(cpu_seconds() - c)
    return min(walls), min(cpus), result


# --------------------------------------------------------------------------- child: memory


def child_decode(mode: str, path: str) -> None:
    """Decode ``path`` one way and print the peak RSS growth (runs in its own process)."""
    import numpy as np

    configure()
    from faster_whisper import decode_audio

    from django_audio.contract import AudioFile
    from django_audio.local import stt
    from django_audio.local.transcoding import AudioDecoder, iter_blocks

    before = rss_mib()  # after every import, so only decoding is counted
    if mode == "streamed":
        samples = 0
        for block in iter_blocks(
            AudioDecoder(AudioFile.from_path(path)), stt.BLOCK_SAMPLES, stt.CUT_SEARCH_SAMPLES
        ):
            samples += block.size
    else:
        audio = decode_audio(path, sampling_rate=16_000)
        samples = int(np.asarray(audio).size)
    print(json.dumps({"seconds": samples / 16_000, "peak_growth_mib": rss_mib() - before}))


def measure_decode_memory(paths: list[Path]) -> dict[str, Any]:
    """Peak RSS growth decoding each file, streamed and whole, each in a fresh process."""
    out: dict[str, Any] = {}
    for path in paths:
        for mode in ("streamed", "whole"):
            proc = subprocess.run(
                [sys.executable, __file__, "--child-decode", mode, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            minutes = round(got["seconds"] / 60)
            out[f"{mode}_{minutes}min_peak_growth_mib"] = round(got["peak_growth_mib"])
    return out


# --------------------------------------------------------------------------- main


def raw_espeak(text: str) -> bytes:
    """Baseline TTS: espeak_Synth through ctypes, collecting PCM, nothing else."""
    from django_audio.local.tts import Espeak

    engine = Espeak.get()
    parts: list[bytes] = []

    def sink(pcm: bytes) -> bool:
        parts.append(pcm)
        return True

    lib = engine._lib
    data = text.encode() + b"\0"
    with engine.lock:
        lib.espeak_SetVoiceByName(b"en-us")
        lib.espeak_SetParameter(1, 175, 0)
        lib.espeak_SetParameter(7, 0, 0)
        engine._sink = sink
        lib.espeak_Synth(data, len(data), 0, 1, 0, 1, None, None)
        lib.espeak_Synchronize()
        engine._sink = None
    return b"".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="speech length for STT")
    parser.add_argument("--repeat", type=int, default=2, help="runs per timing (best kept)")
    parser.add_argument("--beam-size", type=int, default=1, help="Whisper beam (1: greedy)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child-decode", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_decode:
        child_decode(*args.child_decode)
        return

    configure()
    import numpy as np
    from faster_whisper import WhisperModel

    from django_audio.contract import AudioFile, SpeechRequest, TranscriptionRequest
    from django_audio.contract import TranscriptTextDelta as Delta
    from django_audio.local import stt as stt_module
    from django_audio.local.transcoding import PCM_RATE, probe_duration
    from django_audio.providers.local import LocalProvider
    from tests.local.test_transcoding import remux
    from tests.local.wer import word_error_rate

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    provider = LocalProvider("bench", beam_size=args.beam_size)
    provider.warm_up()
    load_seconds = time.perf_counter() - t0
    threads = stt_module.load_model("bundled").cpu_threads
    results: dict[str, Any] = {
        "model_load_s": round(load_seconds, 2),
        "beam_size": args.beam_size,
        "cpu_threads": threads,
    }

    def speak(text: str, fmt: str) -> bytes:
        req = SpeechRequest(model="tts-1", input=text, voice="alloy", response_format=fmt)
        with provider.speech(req) as stream:
            return b"".join(stream)

    # Build ~N seconds of speech: repeat the paragraph until long enough (each <= 4096 chars).
    reps = 1
    while True:
        text = PARAGRAPH * reps
        pcm = speak(text, "pcm")
        seconds = len(pcm) / 2 / PCM_RATE
        if seconds >= args.seconds or len(PARAGRAPH * (reps + 1)) > 4096:
            break
        reps += 1
    wav = speak(text, "wav")
    tmp = Path(tempfile.mkdtemp(prefix="bench-local-"))
    wav_path = tmp / "speech.wav"
    wav_path.write_bytes(wav)

    # ---- TTS
    tts_pcm, tts_pcm_cpu, _ = best_cpu(lambda: speak(text, "pcm"), args.repeat)
    tts_mp3, tts_mp3_cpu, _ = best_cpu(lambda: speak(text, "mp3"), args.repeat)
    tts_raw, tts_raw_cpu, raw_pcm = best_cpu(lambda: raw_espeak(text), args.repeat)
    raw_seconds = len(raw_pcm) / 2 / 22_050
    results["tts"] = {
        "audio_s": round(seconds, 2),
        "ours_pcm_x_realtime": round(seconds / tts_pcm, 1),
        "ours_mp3_x_realtime": round(seconds / tts_mp3, 1),
        "raw_espeak_x_realtime": round(raw_seconds / tts_raw, 1),
        "overhead_pcm_ratio": round(tts_pcm / tts_raw, 2),
        "overhead_mp3_ratio": round(tts_mp3 / tts_raw, 2),
        "ours_pcm_x_realtime_per_cpu_s": round(seconds / tts_pcm_cpu, 1),
        "ours_mp3_x_realtime_per_cpu_s": round(seconds / tts_mp3_cpu, 1),
        "raw_espeak_x_realtime_per_cpu_s": round(raw_seconds / tts_raw_cpu, 1),
    }

    # ---- STT
    request = lambda: TranscriptionRequest(  # noqa: E731
        file=AudioFile.from_path(wav_path), model="whisper-1"
    )
    stt_ours, stt_ours_cpu, result = best_cpu(lambda: provider.transcribe(request()), args.repeat)
    # The baseline uses the very model object the provider loaded (same threads, same
    # settings), so the ratio is our wrapper's cost alone.
    model: WhisperModel = stt_module.load_model("bundled").model
    whisper_kwargs: dict[str, Any] = {"language": "en", "vad_filter": True}
    whisper_kwargs["beam_size"] = args.beam_size

    def raw_transcribe() -> str:
        segments, _ = model.transcribe(str(wav_path), **whisper_kwargs)
        return "".join(s.text for s in segments)

    stt_raw, stt_raw_cpu, raw_text = best_cpu(raw_transcribe, args.repeat)
    results["stt"] = {
        "audio_s": round(seconds, 2),
        "ours_x_realtime": round(seconds / stt_ours, 1),
        "raw_faster_whisper_x_realtime": round(seconds / stt_raw, 1),
        "overhead_ratio": round(stt_ours / stt_raw, 2),
        "ours_cpu_s": round(stt_ours_cpu, 2),
        "raw_cpu_s": round(stt_raw_cpu, 2),
        # Audio seconds per CPU second: less sensitive than wall time to other jobs on the
        # machine (on an idle machine the wall-clock factor is about this times the cores
        # CTranslate2 keeps busy).
        "ours_audio_s_per_cpu_s": round(seconds / stt_ours_cpu, 1),
        "raw_audio_s_per_cpu_s": round(seconds / stt_raw_cpu, 1),
        "wer_ours": round(word_error_rate(text, result.text), 3),
        "wer_raw": round(word_error_rate(text, raw_text), 3),
    }

    # ---- first caption after the end of an utterance
    utt_wav = speak(UTTERANCE, "wav")
    utt_seconds = probe_duration(AudioFile(utt_wav))

    def first_caption() -> float:
        t = time.perf_counter()
        req = TranscriptionRequest(file=AudioFile(utt_wav, "u.wav"), model="whisper-1")
        with provider.stream_transcription(req) as stream:
            for event in stream:
                if isinstance(event, Delta):
                    return time.perf_counter() - t
        return float("nan")

    def raw_first_segment() -> float:
        from django_audio.local.transcoding import AudioDecoder

        audio = np.concatenate(list(AudioDecoder(AudioFile(utt_wav))))
        t = time.perf_counter()
        segments, _ = model.transcribe(audio, **whisper_kwargs)
        next(iter(segments))
        return time.perf_counter() - t

    caption = min(first_caption() for _ in range(max(args.repeat, 3)))
    raw_caption = min(raw_first_segment() for _ in range(max(args.repeat, 3)))
    results["first_caption"] = {
        "utterance_s": round(utt_seconds, 2),
        "ours_ms": round(caption * 1000),
        "raw_faster_whisper_ms": round(raw_caption * 1000),
        "overhead_ratio": round(caption / raw_caption, 2),
    }

    # ---- memory: decode 10- and 30-minute MP3s (the speech, repeated)
    from tests.local.test_transcoding import concat_wav

    long_files = []
    for minutes in (10, 30):
        long_wav = tmp / f"long{minutes}.wav"
        long_wav.write_bytes(concat_wav(*([wav] * max(1, round(minutes * 60 / seconds)))))
        mp3 = tmp / f"long{minutes}.mp3"
        mp3.write_bytes(remux(long_wav.read_bytes(), "mp3", "libmp3lame"))
        long_wav.unlink()
        long_files.append(mp3)
    results["memory"] = {
        "process_peak_rss_mib": round(rss_mib()),
        **measure_decode_memory(long_files),
    }
    results["machine"] = {
        "cpus": os.cpu_count(),
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()

    rows = [
        ("STT real-time factor (ours)", f"{results['stt']['ours_x_realtime']}x", ">= 15x"),
        ("STT real-time factor (raw faster-whisper)",
         f"{results['stt']['raw_faster_whisper_x_realtime']}x", ""),
        ("STT overhead (ours / raw time)", f"{results['stt']['overhead_ratio']}", ""),
        ("STT CPU seconds, ours / raw",
         f"{results['stt']['ours_cpu_s']} / {results['stt']['raw_cpu_s']}", ""),
        ("STT WER on synthesized speech", f"{results['stt']['wer_ours']:.1%}", ""),
        ("TTS speed to pcm (ours)", f"{results['tts']['ours_pcm_x_realtime']}x", ">= 100x"),
        ("TTS speed to mp3 (ours)", f"{results['tts']['ours_mp3_x_realtime']}x", ">= 100x"),
        ("TTS speed (raw espeak)", f"{results['tts']['raw_espeak_x_realtime']}x", ""),
        ("TTS audio s per CPU s: pcm / mp3 / raw",
         f"{results['tts']['ours_pcm_x_realtime_per_cpu_s']} / "
         f"{results['tts']['ours_mp3_x_realtime_per_cpu_s']} / "
         f"{results['tts']['raw_espeak_x_realtime_per_cpu_s']}", ""),
        ("First caption after utterance end (ours)",
         f"{results['first_caption']['ours_ms']} ms", ""),
        ("First segment (raw faster-whisper)",
         f"{results['first_caption']['raw_faster_whisper_ms']} ms", ""),
        ("Peak RSS of this process", f"{results['memory']['process_peak_rss_mib']} MiB", ""),
        *[
            (f"Decode {key.split('_')[1]} MP3, {key.split('_')[0]}: RSS growth", f"{v} MiB", "")
            for key, v in results["memory"].items()
            if key.endswith("growth_mib")
        ],
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"\nLocal engine, {seconds:.1f} s of speech, {os.cpu_count()} CPUs, "
          f"load average {results['machine']['load_avg_before'][0]}\n")  # fmt: skip
    print(f"{'measure':<{width}}  {'value':>12}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>12}  {target}")
    print()
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
