"""Tap to first audio sample: the time from ``Player.speak()`` to the first sample reaching
the sink (espeak-ng synthesising), against ``Player.play_pcm()`` of a ready WAV file
through the same player, in the same run, alternating. Both sinks: the file sink, and
aplay (alsa-utils) on an ALSA device (``BENCH_ALSA_DEVICE``, default ``null``: ALSA's
null plugin, on a machine with no sound card).

    .venv/bin/python -m benchmarks.speech    # rewrites its section of docs/PERFORMANCE.md
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

START, END = "<!-- speech:start -->", "<!-- speech:end -->"
#: Short prompts as the screens speak them (Indonesian), and one English.
PROMPTS = (("Buat Laporan", "id"), ("Ceritakan apa yang terjadi", "id"), ("Check status", "en"))


def _timed(sink_class):
    """The sink, noting when the first sample of each utterance reaches it."""

    class Timed(sink_class):
        def begin(self, label, volume):
            self.first = None
            self.arrived = threading.Event()
            super().begin(label, volume)

        def write(self, pcm):
            if self.first is None:
                self.first = time.monotonic()
                self.arrived.set()
            return super().write(pcm)

    return Timed


def measure(runs: int = 20, alsa_device: str | None = None) -> dict[str, dict[str, list[float]]]:
    """{sink: {"speak": [ms...], "wav": [ms...]}}: time from the call to the first sample."""
    from devices.audio import AplaySink, FileSink, Player
    from devices.voice import Synthesizer, read_wav_pcm

    alsa_device = alsa_device or os.environ.get("BENCH_ALSA_DEVICE", "null")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "ready.wav"
        _write_wav(wav, Synthesizer().to_pcm("Buat Laporan", "id"))
        for name, sink in (("file sink", _timed(FileSink)(Path(folder) / "out.wav", realtime=False)),
                           (f"aplay -D {alsa_device}", _timed(AplaySink)(alsa_device))):
            player = Player(sink, Synthesizer())
            player.start()
            times = {"speak": [], "wav": []}
            try:
                player.speak("Siap", "id")  # the library and its voice loaded once, as at the kiosk's start
                player.wait_idle(10)
                for i in range(runs):
                    for kind in ("speak", "wav"):
                        sink.first = None
                        text, lang = PROMPTS[i % len(PROMPTS)]
                        started = time.monotonic()
                        if kind == "speak":
                            player.speak(text, lang)
                        else:
                            player.play_pcm(read_wav_pcm(wav), "ready wav")
                        player.wait_idle(10)
                        if sink.first is not None:
                            times[kind].append((sink.first - started) * 1000)
            finally:
                player.close()
            if not player.state.ok:
                raise RuntimeError(f"{name}: {player.state.detail}")
            results[name] = times
        import numpy as np

        pcm = np.abs(np.frombuffer(Synthesizer().to_pcm(*PROMPTS[0]), "<i2").astype(np.int32))
        results["leading_ms"] = float(np.argmax(pcm >= 64) / 22.05)
    return results


def _write_wav(path: Path, pcm: bytes) -> None:
    import wave

    from devices.voice import SAMPLE_RATE

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def lines(results: dict[str, dict[str, list[float]]], machine: str | None = None) -> list[str]:
    """The section of docs/PERFORMANCE.md."""
    out = [START, "", "Tap to first audio sample (goal: under 300 ms): from `Player.speak()` to the first sample of",
           "espeak-ng's speech reaching the sink, against `Player.play_pcm()` of a ready WAV file (read and",
           "converted at the call) through the same player, alternating in one run (`benchmarks/speech.py`"
           + (f"; {machine}" if machine else "") + "):", "",
           "| sink | what | runs | median ms | p95 ms |", "|---|---|---|---|---|"]
    for sink, times in results.items():
        if not isinstance(times, dict):
            continue
        for kind, label in (("speak", "speak a short prompt (espeak-ng)"), ("wav", "play a ready WAV")):
            values = times[kind]
            out.append(f"| {sink} | {label} | {len(values)} | {statistics.median(values):.1f} | {_p95(values):.1f} |")
    out += ["", "espeak-ng runs in the process (libespeak-ng from the espeakng-loader wheel) and its first chunk",
            "is ready in well under a millisecond; with aplay the time is mostly starting the aplay process,",
            "for both rows. The sample counted is the first one handed to the sink (aplay's stdin); the",
            "device's own buffer (aplay `--buffer-time`, 200 ms at most) comes after it. espeak-ng begins",
            f"each utterance with {results.get('leading_ms', 0):.0f} ms of silence; the player drops it (keeping 20 ms),",
            "so the first sample counted is the start of the first word.", "", END]
    return out


def main() -> int:
    from benchmarks.common import machine, write_section

    results = measure()
    section = lines(results, f"measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}, "
                             f"load average {os.getloadavg()[2]:.1f} over the last 15 minutes")
    write_section(section, START, END)
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
