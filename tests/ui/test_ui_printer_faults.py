"""The citizen survives every ordinary printer fault: the report is saved, the Tracking
ID is on screen with "write this number down", and the kiosk carries on."""
from __future__ import annotations

import pytest

from devices.printer.network import NetworkPrinter
from tests.support.printer_sims import TcpPrinterSimulator
from tests.support.kiosk_ui import show_receipt_for_saved_report, assert_print_failed_shows_the_number

pytestmark = pytest.mark.ui

FAULTS = {
    "paper_out": dict(state="paper_out"),
    "cover_open": dict(state="cover_open"),
    "hang": dict(hang=True),
    "drop": dict(drop_after=64),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_printer_fault_during_filing(kiosk, env, fault):
    sim = TcpPrinterSimulator(**FAULTS[fault])
    env.printer = NetworkPrinter("127.0.0.1", sim.port, timeout=0.5)
    try:
        saved = show_receipt_for_saved_report(kiosk, env)
        assert_print_failed_shows_the_number(kiosk, env, saved)
        kiosk.screenshot(f"08-receipt-printer-{fault}")
        kiosk.tap(kiosk.screen.ids.done)
        assert kiosk.current == "welcome"
    finally:
        sim.close()
