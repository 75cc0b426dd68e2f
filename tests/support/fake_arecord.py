"""A stand-in for ``arecord`` with the failures of hardware we do not have.

It takes arecord's own arguments and answers as arecord 1.2 does on a real card: the same
open errors on stderr with exit code 1 (busy, permission), or raw PCM on stdout and then
the read error of a USB microphone pulled out mid-recording, or nothing at all (a device
that hangs), or the rate warning of a hw: device that records only at 48 kHz. :func:`fake_arecord` writes an executable that runs it in a given mode.
"""
from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
RATE = 16_000
# arecord's own words (alsa-utils aplay.c: error() prefixes program, function and line).
OPEN_ERRORS = {
    "busy": "arecord: main:831: audio open error: Device or resource busy",
    "permission": "arecord: main:831: audio open error: Permission denied",
}
READ_ERROR = "arecord: pcm_read:2221: read error: No such device"


def fake_arecord(tmp_path: Path, mode: str, seconds: float = 0.0) -> str:
    """An executable ``arecord`` in ``tmp_path`` that behaves as ``mode`` says."""
    path = tmp_path / f"arecord-{mode}"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__)}" {mode} {seconds} "$@"\n', encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def main(mode: str, seconds: str) -> int:
    if mode in OPEN_ERRORS:
        print(OPEN_ERRORS[mode], file=sys.stderr)
        return 1
    if mode == "rate48k":  # a hw: device that cannot record at 16 kHz: arecord warns and goes on
        print("Recording raw data 'stdin' : Signed 16 bit Little Endian, Rate 16000 Hz, Mono", file=sys.stderr)
        print("arecord: set_params:1397: Warning: rate is not accurate (requested = 16000Hz, got = 48000Hz)",
              file=sys.stderr)
        print("         please, try the plug plugin (-Dplughw:1,0)", file=sys.stderr)
        sys.stderr.flush()
        while True:
            os.write(1, bytes(9600))
    if mode == "hang":  # opened, and never a byte: a driver stuck in the kernel
        while True:
            time.sleep(3600)
    if mode == "vanish":  # a tone as long as asked, then the USB microphone is pulled out
        t = np.arange(int(float(seconds) * RATE)) / RATE
        os.write(1, (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes())
        print(READ_ERROR, file=sys.stderr)
        return 1
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
