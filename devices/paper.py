"""Thermal paper geometry, written once: the receipt layout (kiosk/core/receipt.py) wraps
its lines to it and the ESC/POS simulator (devices/escpos_sim.py) draws the paper with it.

It sits beside ``devices/printer`` rather than inside it: the file printer draws its
previews through the simulator, so a simulator importing ``devices.printer`` would close
an import cycle between the two.
"""
from __future__ import annotations

#: Printable dots per line of a 203 dpi head: 48 mm of 58 mm paper, 72 mm of 80 mm paper.
DOTS_PER_LINE: dict[int, int] = {80: 576, 58: 384}
#: Characters per line in font A (12 dots each).
CHARS_PER_LINE: dict[int, int] = {width: dots // 12 for width, dots in DOTS_PER_LINE.items()}


def check_paper_width(paper_width_mm: int) -> None:
    """Raise ``ValueError`` for a paper width we have no geometry for."""
    if paper_width_mm not in DOTS_PER_LINE:
        raise ValueError(f"paper_width_mm must be one of {sorted(DOTS_PER_LINE)}, not {paper_width_mm!r}")
