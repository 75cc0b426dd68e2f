"""A receipt laid out in a child process of its own (``kiosk.core.receipt``'s
``receipt-layout``): the kiosk's process never loads python-escpos and what it imports, a
child started ahead on the review lays the receipt out at once, one that died gets a second
chance, and a layout that fails is an outcome naming its reason without the receipt's text."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devices.escpos_sim import parse_escpos
from devices.printer.file import FilePrinter
from kiosk.core.receipt import READY, LayoutChild, ReceiptContent, ReceiptLayout, print_receipt
from tests.support.fresh_print import TITLE, print_in_a_fresh_process

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _content(**changes) -> ReceiptContent:
    values = dict(tracking_id="MT01WG2ACGFQ1A", created_at=dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.timezone.utc),
                  institution="Pemerintah Kabupaten Barito Utara", kiosk_location="MPP Muara Teweh",
                  kind_label="Pengaduan", category_label="Kesehatan", title=TITLE, confidential=False, language="id")
    return ReceiptContent(**{**values, **changes})


def _text(path: Path) -> str:
    return parse_escpos(path.read_bytes()).text


@pytest.mark.parametrize("language, says", [("id", "Simpan struk ini"), ("en", "Keep this receipt")])
def test_a_kiosk_process_prints_a_receipt_without_loading_python_escpos(tmp_path, language, says):
    """GIVEN a kiosk process on the file printer
    WHEN it prints a receipt in the citizen's language
    THEN the receipt reads back whole, in that language, and python-escpos, Pillow,
    python-barcode, PyYAML, pyusb, pyserial and the preview's renderer never loaded into
    that process."""
    printed = print_in_a_fresh_process(tmp_path / "receipts", language)
    assert printed["ok"] and printed["loaded"] == []
    text = _text(Path(printed["path"]))
    assert "MT01-WG2AC-GFQ1A" in text and TITLE in text and says in text


def test_a_child_started_ahead_lays_the_receipt_out_and_ends(tmp_path):
    """GIVEN a layout child started ahead (as the review screen starts it) and ready
    WHEN the receipt is printed with it
    THEN the receipt is the one asked for, and the child has ended: one child, one receipt."""
    child = LayoutChild()
    assert child.wait_ready()
    outcome = print_receipt(FilePrinter(tmp_path), _content(), child=child)
    assert outcome.ok, outcome.error
    assert "MT01-WG2AC-GFQ1A" in _text(outcome.path)
    assert child.returncode == 0


def test_a_child_no_receipt_needed_ends_when_discarded():
    """GIVEN a layout child started for a review the citizen never sent
    WHEN it is discarded (the citizen went away) THEN it ends on its own, cleanly."""
    child = LayoutChild()
    assert child.wait_ready()
    child.discard()
    assert child.returncode == 0


def test_a_child_started_ahead_that_died_gets_a_second_chance(tmp_path, caplog):
    """GIVEN a layout child started ahead that has since been killed (out of memory, say)
    WHEN the receipt is printed with it
    THEN a new child lays it out: the receipt prints, and the log says what happened."""
    child = LayoutChild()
    assert child.wait_ready()
    os.kill(child.pid, signal.SIGKILL)
    with caplog.at_level(logging.WARNING, logger="kiosk.core.receipt"):
        outcome = print_receipt(FilePrinter(tmp_path), _content(), child=child)
    assert outcome.ok, outcome.error
    assert "MT01-WG2AC-GFQ1A" in _text(outcome.path)
    assert "receipt layout started ahead failed" in caplog.text


def test_layout_children_leave_nothing_in_tmp(tmp_path, monkeypatch):
    """GIVEN a kiosk that prints for weeks, one layout child per receipt
    WHEN two receipts are laid out and a child started ahead is discarded unused
    THEN its temporary directory holds nothing: python-escpos's import makes a directory
    there whatever it is told, and each child left one behind until ``importing_escpos``."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    for _ in range(2):
        outcome = print_receipt(FilePrinter(tmp_path / "receipts"), _content())
        assert outcome.ok, outcome.error
    child = LayoutChild()
    assert child.wait_ready()
    child.discard()
    assert child.returncode == 0
    assert list(tmp.iterdir()) == []


def test_a_layout_that_fails_is_an_outcome_naming_its_reason_not_the_receipt(tmp_path, caplog):
    """GIVEN a layout the child cannot do (a printer profile python-escpos does not know)
    WHEN a receipt is printed
    THEN nothing is printed, the outcome says the layout failed and why (the exception's
    type), and no log line holds the receipt's text."""
    with caplog.at_level(logging.DEBUG):
        outcome = print_receipt(FilePrinter(tmp_path), _content(), layout=ReceiptLayout(profile="no-such-printer"))
    assert not outcome.ok
    assert str(outcome.error) == "the receipt's layout process failed: KeyError"
    assert outcome.error.state == "fault" and "print-test" in outcome.error.technician_hint
    assert TITLE not in caplog.text and "Puskesmas" not in caplog.text
    assert list(tmp_path.iterdir()) == []


def test_the_bundle_s_word_reaches_the_layout_through_main_py(tmp_path):
    """GIVEN a receipt's layout request
    WHEN the program is started as a bundle starts its child (``main.py receipt-layout``)
    THEN it says it is ready, then writes the receipt's bytes; an empty request is nothing
    to do."""
    request = json.dumps({"layout": {"qr_mode": "image", "paper_width_mm": 58, "encoding": "cp858",
                                     "profile": "default"}, "content": _content(language="en").to_wire()})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "receipt-layout"], input=request.encode(),
                          env=env, cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout[:1] == READY
    parsed = parse_escpos(done.stdout[1:], encoding="cp858")
    assert "Keep this receipt" in parsed.text and parsed.images
    idle = subprocess.run([sys.executable, str(ROOT / "main.py"), "receipt-layout"], input=b"", env=env,
                          cwd=tmp_path, capture_output=True, timeout=60)
    assert (idle.returncode, idle.stdout) == (0, READY)
