"""The recorded complaint's size and the CPU it costs: three minutes of Indonesian speech
(espeak-ng) through the kiosk's recorder (a file source read as fast as it goes), at several
Opus bitrates, against the raw PCM and lossless FLAC of the same samples in the same run.

    .venv/bin/python -m benchmarks.microphone    # prints the docs/PERFORMANCE.md section
"""
from __future__ import annotations

import datetime as dt
import io
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import machine

SECONDS = 180
BITRATES = (16, 20, 24)
#: A poor hall network: what a 2G/EDGE uplink carries in practice.
POOR_UPLINK_KBPS = 64
TEXT = ("Jalan di depan kantor kecamatan rusak parah sejak bulan lalu. Banyak motor jatuh ketika hujan. "
        "Saya mohon agar segera diperbaiki oleh dinas pekerjaan umum. ")


def _speech(folder: Path) -> Path:
    import soundfile

    from devices.microphone import SAMPLE_RATE

    raw = folder / "espeak.wav"
    subprocess.run(["espeak-ng", "-v", "id", "-w", str(raw), TEXT * 22], check=True, timeout=120)
    data, rate = soundfile.read(raw, dtype="float32")
    at = np.arange(0, len(data) / rate, 1 / SAMPLE_RATE)
    path = folder / "speech.wav"
    soundfile.write(path, np.interp(at, np.arange(len(data)) / rate, data), SAMPLE_RATE, subtype="PCM_16")
    return path


def _record_cpu(recorder) -> float:
    """Record to the limit; the process's CPU seconds meanwhile (the recorder's thread reads
    and encodes, the caller only waits)."""
    started = time.process_time()
    recorder.start()
    assert recorder.wait(300), "the recorder did not finish"
    return time.process_time() - started


def measure() -> dict:
    import soundfile

    from devices.microphone import Recorder, decode_ogg_opus

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = _speech(Path(folder))
        for kbps in BITRATES:
            recorder = Recorder(str(path), limit_s=SECONDS, bitrate_kbps=kbps, speed=0)
            cpu = _record_cpu(recorder)
            rec = recorder.recording
            started = time.process_time()
            decoded, rate = decode_ogg_opus(rec.ogg_opus)
            decode_cpu = time.process_time() - started
            rows.append({"what": f"Ogg Opus {kbps} kbit/s", "bytes": len(rec.ogg_opus),
                         "cpu_per_min": cpu / (SECONDS / 60), "decode_per_min": decode_cpu / (SECONDS / 60),
                         "decoded_s": len(decoded) / rate})
        pcm = np.frombuffer(rec.pcm, "<i2")
        for what, subtype, fmt in (("WAV PCM 16-bit (baseline)", "PCM_16", "WAV"), ("FLAC lossless (baseline)", "PCM_16", "FLAC")):
            out, started = io.BytesIO(), time.process_time()
            soundfile.write(out, pcm, rate, subtype=subtype, format=fmt)
            rows.append({"what": what, "bytes": len(out.getvalue()), "cpu_per_min": (time.process_time() - started) / (SECONDS / 60),
                         "decode_per_min": None, "decoded_s": len(pcm) / rate})
    return {"rows": rows, "machine": machine(), "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def lines(result: dict) -> list[str]:
    out = [
        "<!-- microphone:start -->",
        "",
        f"The recorded complaint (`benchmarks/microphone.py`): {SECONDS} s of Indonesian speech (espeak-ng) recorded by",
        "`devices.microphone.Recorder` from a file source read as fast as it goes, encoded to Ogg Opus",
        "(16 kHz mono, libsndfile from the soundfile wheel) on the recorder's thread while it records,",
        "against the raw PCM and FLAC of the same samples. The CPU is the process's while it records",
        "(reading, level and encoding, all on the recorder's thread). Upload time on a",
        f"{POOR_UPLINK_KBPS} kbit/s uplink (a poor hall network). Measured",
        f"{result['when']} on {result['machine']}:",
        "",
        "| recording | bytes for 3 min | kB per minute | encode CPU s per minute of speech | decode CPU s per minute | decoded s | upload at 64 kbit/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        per_min = row["bytes"] / (SECONDS / 60) / 1000
        decode = "-" if row["decode_per_min"] is None else f"{row['decode_per_min']:.3f}"
        upload = row["bytes"] * 8 / (POOR_UPLINK_KBPS * 1000)
        out.append(f"| {row['what']} | {row['bytes']:,} | {per_min:.0f} | {row['cpu_per_min']:.2f} | {decode} | "
                   f"{row['decoded_s']:.2f} | {upload:.0f} s |")
    out += [
        "",
        "The kiosk records at 20 kbit/s (`microphone_bitrate_kbps`): encoding runs while the citizen",
        "speaks, a few percent of one core, so stopping costs nothing; 3 minutes are the size of",
        "a phone photo.",
        "",
        "<!-- microphone:end -->",
    ]
    return out


if __name__ == "__main__":
    print("\n".join(lines(measure())))
