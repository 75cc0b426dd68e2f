"""One receipt printed on the file printer by a fresh kiosk process, which then says which
heavy modules it loaded: the renderer of the preview, python-escpos and what it imports,
pyusb and pyserial. Each belongs in a child (``receipt-preview``, ``receipt-layout``) or
with its transport, never in the kiosk's own process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRACKING_ID = "MT01WG2ACGFQ1A"
TITLE = "Antrean puskesmas lama"
#: Modules a kiosk process must not load to print a receipt on the file printer.
HEAVY = ("devices.escpos_sim", "escpos", "PIL", "yaml", "barcode", "usb", "serial")

_SCRIPT = f"""
import datetime as dt, json, sys
from pathlib import Path
from devices.printer.file import FilePrinter
from kiosk.core.receipt import ReceiptContent, print_receipt
content = ReceiptContent(tracking_id={TRACKING_ID!r}, created_at=dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.timezone.utc),
    institution="Pemerintah Kabupaten Barito Utara", kiosk_location="MPP Muara Teweh", kind_label="Pengaduan",
    category_label="Kesehatan", title={TITLE!r}, confidential=False, language=sys.argv[2])
outcome = print_receipt(FilePrinter(Path(sys.argv[1])), content)
print(json.dumps({{"ok": outcome.ok, "path": str(outcome.path), "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def json_from_a_fresh_process(script: str, *args: str, environ: dict[str, str] | None = None,
                              timeout: float = 120) -> dict:
    """Run ``script`` in a new Python process (``environ``, this one's by default, with the
    project on its path) and return the JSON object it printed last; the process must succeed."""
    env = {**(os.environ if environ is None else environ), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_in_a_fresh_process(receipts: Path, language: str = "id") -> dict:
    """``ok``, ``path`` (the receipt's bytes) and ``loaded`` (of :data:`HEAVY`)."""
    return json_from_a_fresh_process(_SCRIPT, str(receipts), language)
