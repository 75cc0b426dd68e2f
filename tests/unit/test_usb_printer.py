"""The USB printer through pyusb, against a printer behind pyusb's backend interface
(tests/support/usb_printer.py): the kernel's driver detached, the printer's own endpoints,
its status read, every failure a typed status, and the device released after each
conversation; python-escpos never loads for it."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.escpos_sim import parse_escpos
from devices.printer.usb import DEVICE_HINT, UDEV_HINT, UsbPrinter
from kiosk.core.receipt import ReceiptContent, print_receipt
from tests.support.printer_sims import DLE_EOT
from tests.support.usb_printer import UsbPrinterBackend

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _printer(backend: UsbPrinterBackend) -> UsbPrinter:
    return UsbPrinter(0x0416, 0x5011, timeout=0.2, backend=backend)


def test_a_receipt_reaches_the_printer_s_own_endpoint_after_its_status():
    """GIVEN a POS-58 whose interface the kernel's usblp driver holds, with endpoints 0x03/0x81
    WHEN a receipt is printed
    THEN the driver is detached, the status is asked (DLE EOT 2 and 4), the receipt follows
    and the printer is asked once more (DLE EOT 1); the receipt reads back whole, and the
    device is released (no handle left open)."""
    backend = UsbPrinterBackend()
    content = ReceiptContent(tracking_id="MT01WG2ACGFQ1A", created_at=dt.datetime(2026, 12, 4, 3, tzinfo=dt.timezone.utc),
                             institution="Pemerintah Kabupaten Barito Utara", kiosk_location="MPP Muara Teweh",
                             kind_label="Pengaduan", category_label="Kesehatan", title="Antrean puskesmas lama",
                             confidential=False, language="id")
    outcome = print_receipt(_printer(backend), content)
    assert outcome.ok, outcome.error
    sent = bytes(backend.received)
    assert sent[:6] == DLE_EOT + b"\x02" + DLE_EOT + b"\x04" and sent[-3:] == DLE_EOT + b"\x01"
    assert outcome.bytes_sent == len(sent) - 9
    text = parse_escpos(sent[6:-3]).text
    assert "MT01-WG2AC-GFQ1A" in text and "Antrean puskesmas lama" in text
    assert not backend.usblp_bound and backend.open_handles == 0 and not backend.claimed
    assert backend.set_configuration_calls == 0  # configured already: never reset by setting it again


@pytest.mark.parametrize("state, expected, paper", [("online", "ok", "ok"), ("paper_out", "out_of_paper", "out"),
                                                    ("cover_open", "cover_open", None)])
def test_the_status_is_what_the_printer_answers(state, expected, paper):
    backend = UsbPrinterBackend(state=state)
    status = _printer(backend).status()
    assert status.state == expected and status.can_read_status
    if paper:
        assert status.paper == paper
    assert backend.open_handles == 0


def test_a_printer_that_stops_answering_is_a_timeout():
    status = _printer(UsbPrinterBackend(hang=True)).status()
    assert status.state == "timeout" and "stopped answering" in str(status.error)


def test_a_printer_refused_to_the_kiosk_s_user_names_the_udev_rule():
    status = _printer(UsbPrinterBackend(denied=True)).status()
    assert status.state == "unavailable" and UDEV_HINT in str(status.error)


def test_a_printer_unplugged_since_it_was_found_is_unavailable_and_released():
    backend = UsbPrinterBackend()
    printer = _printer(backend)
    assert printer.status().state == "ok"
    backend.unplugged = True
    status = printer.status()
    assert status.state == "unavailable" and "No such device" in str(status.error)
    assert backend.open_handles == 0


def test_a_printer_not_yet_configured_is_configured_once():
    backend = UsbPrinterBackend(configured=False)
    assert _printer(backend).status().state == "ok"
    assert backend.set_configuration_calls == 1
    assert _printer(backend).status().state == "ok"
    assert backend.set_configuration_calls == 1


def test_a_write_only_printer_is_pointed_at_the_device_kind():
    """A printer with no IN endpoint cannot answer status: the kiosk says which kind to use."""
    status = _printer(UsbPrinterBackend(in_ep=None)).status()
    assert status.state == "unavailable" and DEVICE_HINT in str(status.error)


def test_a_printer_with_other_ids_is_not_found():
    status = UsbPrinter(0x04B8, 0x0202, timeout=0.2, backend=UsbPrinterBackend()).status()
    assert status.state == "unavailable" and "04b8:0202 not found" in str(status.error)


def test_asking_a_usb_printer_loads_no_python_escpos():
    """GIVEN a kiosk process with a USB printer WHEN it asks the printer's status THEN
    python-escpos and what it imports never loaded (they did, through its Usb class)."""
    script = ("import json, sys\nfrom devices.printer.usb import UsbPrinter\n"
              "from tests.support.usb_printer import UsbPrinterBackend\n"
              "state = UsbPrinter(0x0416, 0x5011, backend=UsbPrinterBackend()).status().state\n"
              "print(json.dumps([state, [m for m in ('escpos', 'PIL', 'yaml', 'barcode') if m in sys.modules]]))\n")
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == ["ok", []]
