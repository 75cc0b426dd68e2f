"""The file printer's preview, drawn in a child process (``devices.escpos_sim``'s
``receipt-preview``): the picture is there, the renderer never loads into the kiosk's own
process, and a preview that cannot be drawn costs the receipt nothing."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import zxingcpp
from PIL import Image

from devices.printer.file import FilePrinter
from tests.support.fresh_print import print_in_a_fresh_process

ROOT = Path(__file__).resolve().parents[2]


def test_the_preview_is_drawn_but_the_renderer_stays_out_of_the_kiosk(tmp_path):
    """GIVEN a kiosk process on the file printer
    WHEN it prints a receipt
    THEN the preview next to the bytes shows the receipt's QR code, and the renderer (with
    the fonts and pictures it keeps) was never loaded into that process, nor Pillow's
    drawing (python-escpos, which imports it, lays receipts out in a child too)."""
    printed = print_in_a_fresh_process(tmp_path / "receipts")
    assert printed["ok"] and printed["loaded"] == []
    png = Path(printed["path"]).with_suffix(".png")
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(png))] == ["MT01WG2ACGFQ1A"]
    assert sorted(p.name for p in (tmp_path / "receipts").iterdir()) == sorted(
        [Path(printed["path"]).name, png.name])  # no temporary file left beside them


def test_a_preview_that_cannot_be_drawn_leaves_the_receipt_printed(tmp_path, caplog):
    """GIVEN a file printer whose preview's child fails (a code page it cannot decode)
    WHEN a receipt is printed
    THEN the print succeeds with its bytes, the log says the preview was not written and
    why (the reason's name, no receipt text), and no picture or temporary file is left."""
    printer = FilePrinter(tmp_path, encoding="no-such-code-page")
    with caplog.at_level(logging.WARNING, logger="devices.printer.file"):
        outcome = printer.print_job(lambda: b"\x1b@Antrean puskesmas lama\n", job="MT01WG2ACGFQ1A")
    assert outcome.ok and outcome.path.read_bytes() == b"\x1b@Antrean puskesmas lama\n"
    assert "receipt preview not written: PreviewNotDrawn: receipt-preview: LookupError" in caplog.text
    assert "Antrean" not in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == [outcome.path.name]


def test_the_bundle_s_word_reaches_the_preview_through_main_py(tmp_path):
    """GIVEN a receipt's bytes
    WHEN the program is started as a bundle starts its child (``main.py receipt-preview``;
    a runtime's main.py hands every word to ``kiosk.launcher.main``)
    THEN the picture is drawn; a word with the wrong arguments says how to call it."""
    printer = FilePrinter(tmp_path / "printed")
    outcome = printer.print_job(lambda: b"\x1b@Loket dua\n", job="MT01WG2ACGFQ1A")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "drawn.png"
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "receipt-preview", str(outcome.path), str(out),
                           "cp437", "58"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert Image.open(out).size[0] == 384  # 58 mm paper: 384 dots
    wrong = subprocess.run([sys.executable, str(ROOT / "main.py"), "receipt-preview", str(outcome.path)], env=env,
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "usage:" in wrong.stderr
