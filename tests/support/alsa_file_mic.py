"""A real ALSA capture device without a sound card: ALSA's own ``file`` plugin feeds the
samples of a file to whoever captures from it (here the real ``arecord``), at the speed it is
read, then silence. Defined in the ``.asoundrc`` of a HOME made for the test."""
from __future__ import annotations

from pathlib import Path

import numpy as np

DEVICE = "kioskmic"


def alsa_home(folder: Path, samples: np.ndarray) -> Path:
    """A HOME whose .asoundrc defines the capture device ``kioskmic`` reading ``samples``
    (16-bit mono; the caller asks arecord for 16 kHz)."""
    home = folder / "home"
    home.mkdir(parents=True)
    raw = folder / "mic.raw"
    samples.astype("<i2").tofile(raw)
    (home / ".asoundrc").write_text(
        f'pcm.{DEVICE} {{\n type file\n slave.pcm "null"\n file "/dev/null"\n infile "{raw}"\n format "raw"\n}}\n',
        encoding="utf-8")
    return home
