"""The network printer against our TCP printer simulator: states, hangs and drops."""
from __future__ import annotations

import datetime as dt

import pytest

from devices.escpos_sim import parse_escpos
from devices.printer.errors import PrinterCoverOpen, PrinterOutOfPaper, PrinterTimeout, PrinterUnavailable
from devices.printer.network import NetworkPrinter
from tests.support.printer_sims import TcpPrinterSimulator
from kiosk.core.receipt import ReceiptContent, print_receipt
from kiosk.kernel.tracking_id import new_tracking_id


def content() -> ReceiptContent:
    return ReceiptContent(
        tracking_id=new_tracking_id("MT01"), created_at=dt.datetime(2026, 11, 23, 3, 42, tzinfo=dt.timezone.utc),
        institution="Pemerintah Kabupaten Barito Utara", kiosk_location="MPP Muara Teweh", kind_label="Pengaduan",
        category_label="Kesehatan", title="Antrean lama", confidential=False, language="id",
    )


@pytest.fixture
def sim():
    simulator = TcpPrinterSimulator()
    yield simulator
    simulator.close()


def print_to(sim, **kwargs):
    printer = NetworkPrinter("127.0.0.1", sim.port, timeout=kwargs.pop("timeout", 2.0), **kwargs)
    return print_receipt(printer, receipt := content()), receipt


def test_online_printer_receives_the_whole_receipt(sim):
    outcome, receipt = print_to(sim)
    assert outcome.ok
    [job] = sim.wait_for_jobs(1)
    parsed = parse_escpos(job)
    assert parsed.qr_payloads == [receipt.tracking_id] and parsed.cuts == 1
    assert parsed.commands.count("dle_eot") == 3  # status before (offline cause, paper) and after


@pytest.mark.parametrize("state,error", [("paper_out", PrinterOutOfPaper), ("cover_open", PrinterCoverOpen)])
def test_printer_problems_stop_the_receipt_before_any_paper_moves(sim, state, error):
    sim.state = state
    outcome, _ = print_to(sim)
    assert not outcome.ok and isinstance(outcome.error, error)
    [job] = sim.wait_for_jobs(1)
    assert parse_escpos(job).cuts == 0 and b"\x1b@" not in job  # nothing printed


def test_hung_printer_times_out_on_the_printer_thread(sim):
    sim.hang = True
    outcome, _ = print_to(sim, timeout=0.5)
    assert not outcome.ok and isinstance(outcome.error, PrinterTimeout)


def test_connection_dropped_mid_receipt(sim):
    sim.drop_after = 100
    outcome, _ = print_to(sim)
    assert not outcome.ok and isinstance(outcome.error, (PrinterUnavailable, PrinterTimeout))


def test_unplugged_printer():
    outcome = print_receipt(NetworkPrinter("127.0.0.1", 9, timeout=1), content())
    assert not outcome.ok and isinstance(outcome.error, PrinterUnavailable)


def test_kiosk_reprint_prints_a_marked_copy_to_the_configured_printer(sim, tmp_path):
    """``kiosk reprint <ID>`` sends a copy marked SALINAN to the network printer."""
    import subprocess
    import sys

    from kiosk.core import reference
    from kiosk.core.domain import Draft, ReportKind
    from kiosk.core.reports import ReportService
    from kiosk.core.store.db import open_store
    from tests.support.servers import ROOT

    data = tmp_path / "data"
    store = open_store(data / "kiosk.sqlite3", key_file=data / "secret.key")
    reference.load_seed_if_empty(store)
    saved = ReportService(store, kiosk_code="MT01", clock=lambda: dt.datetime.now(dt.timezone.utc)).submit(Draft(
        kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title="Antrean lama", description="Antrean sangat panjang sekali.",
        incident_date=dt.date(2026, 11, 20), kecamatan_code="LAHEI"))
    store.close()
    config = tmp_path / "kiosk.toml"
    config.write_text(f'data_dir = "{data}"\nprinter = "network"\nprinter_host = "127.0.0.1"\nprinter_port = {sim.port}\n')
    run = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "reprint", saved.tracking_id.lower()],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    [job] = sim.wait_for_jobs(1)
    parsed = parse_escpos(job)
    assert "SALINAN" in parsed.text and parsed.qr_payloads == [saved.tracking_id]
    sim.state = "paper_out"
    again = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "reprint", saved.tracking_id],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "PrinterOutOfPaper" in again.stderr


@pytest.mark.parametrize("state,error", [("online", None), ("paper_out", PrinterOutOfPaper), ("cover_open", PrinterCoverOpen)])
def test_serial_printer_through_a_pseudo_terminal(state, error):
    from devices.printer.serial import SerialPrinter
    from tests.support.printer_sims import SerialPrinterSimulator

    sim = SerialPrinterSimulator(state=state)
    try:
        outcome = print_receipt(SerialPrinter(sim.device, 9600, timeout=1.0), receipt := content())
        if error is None:
            assert outcome.ok, outcome.error
            assert parse_escpos(bytes(sim.received)).qr_payloads == [receipt.tracking_id]
        else:
            assert isinstance(outcome.error, error)
            assert b"\x1b@" not in sim.received
    finally:
        sim.close()


def test_hung_serial_printer_times_out():
    from devices.printer.serial import SerialPrinter
    from tests.support.printer_sims import SerialPrinterSimulator

    sim = SerialPrinterSimulator(hang=True)
    try:
        outcome = print_receipt(SerialPrinter(sim.device, 9600, timeout=0.5), content())
        assert isinstance(outcome.error, PrinterTimeout)
    finally:
        sim.close()


def test_missing_serial_device():
    from devices.printer.serial import SerialPrinter

    outcome = print_receipt(SerialPrinter("/dev/ttyUSB99"), content())
    assert isinstance(outcome.error, PrinterUnavailable)


def test_usb_printer_that_is_not_plugged_in():
    from devices.printer.usb import UsbPrinter

    outcome = print_receipt(UsbPrinter(0x0416, 0x5011, timeout=1), content())
    assert not outcome.ok and isinstance(outcome.error, PrinterUnavailable)
    assert "0416:5011" in str(outcome.error)


def test_device_file_printer_with_a_reader_and_without(tmp_path):
    """A FIFO stands in for /dev/usb/lp0: bytes flow while something reads, and a device
    nobody reads (a stuck printer) times out instead of blocking."""
    import os

    from devices.printer.device import DevicePrinter

    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    assert not print_receipt(DevicePrinter(str(fifo), timeout=0.5), content()).ok  # no reader
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the "printer" end, open before printing
    try:
        outcome = print_receipt(DevicePrinter(str(fifo), timeout=2), receipt := content())
        got = os.read(reader, 1 << 20)  # the whole receipt sits in the pipe's buffer
    finally:
        os.close(reader)
    assert outcome.ok, outcome.error
    assert parse_escpos(bytes(got)).qr_payloads == [receipt.tracking_id]
