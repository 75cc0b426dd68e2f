"""One table of printer kinds feeds config, construction and docs; every transport answers
``status()`` in the same typed way, those that cannot hear the printer included."""
from __future__ import annotations

import os
from pathlib import Path
from typing import get_args

import pytest

from devices.printer.base import PrinterStatus, ReceiptPrinter
from devices.printer.device import DevicePrinter
from devices.printer.dle_eot import DleEotPrinter, Link
from devices.printer.errors import PrinterCoverOpen, PrinterOutOfPaper, PrinterUnavailable
from devices.printer.file import FilePrinter
from devices.printer.network import NetworkPrinter
from devices.printer.registry import build_printer, transport_class
from devices.printer.serial import SerialPrinter
from devices.printer.usb import UsbPrinter
from kiosk.kernel.printer_kinds import PRINTER_KIND_NAMES, PRINTER_KINDS, PrinterKindName
from kiosk.runtime.config import ConfigError, load_config
from kiosk.runtime.env import make_printer
from tests.support.printer_sims import SerialPrinterSimulator, TcpPrinterSimulator

#: A value for each key a kind may require (none of them is opened by building).
SETTINGS = {"printer_host": "192.0.2.10", "printer_device": "/dev/ttyUSB99", "printer_usb_vendor": "0416",
            "printer_usb_product": "5011"}


def write_config(tmp_path: Path, **values) -> Path:
    path = tmp_path / "kiosk.toml"
    lines = [f'data_dir = "{tmp_path / "data"}"'] + [f'{key} = "{value}"' for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def assert_typed(status: PrinterStatus) -> None:
    """A status a caller can read without knowing the transport."""
    assert isinstance(status, PrinterStatus)
    assert status.state in ("ok", "cover_open", "out_of_paper", "unavailable", "timeout", "fault")
    assert status.paper in ("ok", "low", "out", "unknown")
    assert (status.error is None) == status.ok


# -- the table, the registry and the configuration ---------------------------------------------
@pytest.mark.parametrize("kind", PRINTER_KINDS, ids=lambda kind: kind.name)
def test_every_kind_builds_from_its_config(tmp_path, kind):
    """GIVEN ``printer = <kind>`` and the keys that kind requires
    WHEN the kiosk builds its printer
    THEN it is that kind's transport, it reads status as the table says, and building
    opened nothing (the device named here does not exist)."""
    config = load_config(write_config(tmp_path, printer=kind.name, **{k: SETTINGS[k] for k in kind.required_keys}),
                         environ={})
    printer = make_printer(config)
    try:
        assert type(printer) is transport_class(kind)
        assert isinstance(printer, ReceiptPrinter)
        assert printer.reads_status is kind.reads_status
        assert printer.target
    finally:
        printer.close()
    assert not config.receipts_path.exists(), "nothing is created before the first receipt"


def test_the_registry_builds_from_plain_values(tmp_path):
    values = {"printer": "network", "printer_host": "192.0.2.10", "printer_port": 9101, "printer_timeout_s": 2.5}
    printer = build_printer(values, receipts_dir=tmp_path)
    assert isinstance(printer, NetworkPrinter) and printer.target == "192.0.2.10:9101" and printer.timeout == 2.5


def test_config_refuses_an_unknown_kind_with_the_list_from_the_table(tmp_path):
    with pytest.raises(ConfigError) as refused:
        load_config(write_config(tmp_path, printer="telepathy"), environ={})
    assert refused.value.key == "printer"
    assert refused.value.problem == "must be one of " + ", ".join(kind.name for kind in PRINTER_KINDS)
    with pytest.raises(KeyError):
        transport_class("telepathy")


@pytest.mark.parametrize("kind, key", [(kind, key) for kind in PRINTER_KINDS for key in kind.required_keys],
                         ids=lambda value: getattr(value, "name", value))
def test_config_requires_each_key_the_table_lists(tmp_path, kind, key):
    others = {k: SETTINGS[k] for k in kind.required_keys if k != key}
    with pytest.raises(ConfigError, match=f"{key}: required when printer = {kind.name}"):
        load_config(write_config(tmp_path, printer=kind.name, **others), environ={})


def test_the_wire_contract_and_the_docs_name_the_same_kinds():
    from kiosk.runtime.config import VARS

    assert get_args(PrinterKindName) == PRINTER_KIND_NAMES
    help_text = next(var.help for var in VARS if var.key == "printer")
    assert all(f"'{name}'" in help_text for name in PRINTER_KIND_NAMES)
    printers_md = (Path(__file__).resolve().parents[2] / "docs" / "PRINTERS.md").read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in printers_md for name in PRINTER_KIND_NAMES)


# -- status(): typed for every transport -------------------------------------------------------
def test_file_printer_status(tmp_path):
    status = FilePrinter(tmp_path / "not-yet" / "receipts").status()
    assert_typed(status)
    assert (status.state, status.paper, status.can_read_status) == ("ok", "ok", False)
    assert not (tmp_path / "not-yet").exists(), "asking creates nothing"

    blocker = tmp_path / "a-file"  # a file where the receipts' folder should be
    blocker.write_text("x")
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o500)
    for printer in (FilePrinter(blocker / "receipts"), FilePrinter(read_only / "receipts")):
        status = printer.status()
        assert_typed(status)
        if printer.directory.parent == read_only and os.geteuid() == 0:
            continue  # root may write anywhere
        assert status.state == "unavailable" and isinstance(status.error, PrinterUnavailable)
        assert "writable" in status.error.technician_hint and not status.can_read_status


def test_device_file_printer_cannot_read_status_and_says_so(tmp_path):
    device = tmp_path / "lp0"
    device.write_bytes(b"")
    status = DevicePrinter(str(device)).status()
    assert_typed(status)
    assert (status.state, status.paper, status.can_read_status) == ("ok", "unknown", False)

    missing = DevicePrinter(str(tmp_path / "lp9")).status()
    assert_typed(missing)
    assert (missing.state, missing.paper) == ("unavailable", "unknown")
    assert "lp9" in str(missing.error)


@pytest.mark.parametrize("state, expected", [
    ("online", ("ok", "ok")), ("paper_out", ("out_of_paper", "out")), ("cover_open", ("cover_open", "unknown")),
])
def test_network_printer_status(state, expected):
    sim = TcpPrinterSimulator(state=state)
    try:
        status = NetworkPrinter("127.0.0.1", sim.port, timeout=2).status()
        [job] = sim.wait_for_jobs(1)
    finally:
        sim.close()
    assert_typed(status)
    assert (status.state, status.paper, status.can_read_status) == (*expected, True)
    assert b"\x1b@" not in job, "asking prints nothing"


def test_network_printer_that_hangs_or_is_not_there():
    sim = TcpPrinterSimulator(hang=True)
    try:
        hung = NetworkPrinter("127.0.0.1", sim.port, timeout=0.5).status()
    finally:
        sim.close()
    absent = NetworkPrinter("127.0.0.1", 9, timeout=1).status()
    for status in (hung, absent):
        assert_typed(status)
    assert (hung.state, hung.paper) == ("timeout", "unknown")
    assert (absent.state, absent.paper) == ("unavailable", "unknown") and absent.can_read_status


@pytest.mark.parametrize("state, expected", [("online", "ok"), ("cover_open", "cover_open")])
def test_serial_printer_status(state, expected):
    sim = SerialPrinterSimulator(state=state)
    try:
        status = SerialPrinter(sim.device, 9600, timeout=1).status()
    finally:
        sim.close()
    assert_typed(status)
    assert status.state == expected and status.can_read_status
    missing = SerialPrinter("/dev/ttyUSB99", timeout=0.5).status()
    assert_typed(missing)
    assert missing.state == "unavailable"


def test_usb_printer_that_is_not_plugged_in():
    status = UsbPrinter(0x0416, 0x5011, timeout=1).status()
    assert_typed(status)
    assert status.state == "unavailable" and status.can_read_status and "0416:5011" in str(status.error)


class _ScriptedLink(Link):
    """A printer's side of DLE EOT: one answer byte per question number."""

    def __init__(self, answers: dict[int, int]):
        self.answers, self.sent = answers, bytearray()

    def send(self, data: bytes) -> None:
        self.sent += data

    def recv_byte(self) -> int:
        return self.answers[self.sent[-1]]

    def close(self) -> None:
        pass


class _ScriptedPrinter(DleEotPrinter):
    def __init__(self, answers: dict[int, int]):
        self.link = _ScriptedLink(answers)

    def _open(self) -> Link:
        return self.link


@pytest.mark.parametrize("answers, expected", [
    ({2: 0x12, 4: 0x12}, ("ok", "ok")),
    ({2: 0x12, 4: 0x12 | 0x0C}, ("ok", "low")),  # the near-end sensor
    ({2: 0x12, 4: 0x12 | 0x60}, ("out_of_paper", "out")),
    ({2: 0x12 | 0x20}, ("out_of_paper", "out")),  # stopped for paper end: DLE EOT 4 not needed
    ({2: 0x12 | 0x04 | 0x20}, ("cover_open", "unknown")),  # the cover is the first thing to fix
])
def test_the_dle_eot_conversation(answers, expected):
    printer = _ScriptedPrinter(answers)
    status = printer.status()
    assert (status.state, status.paper) == expected
    assert bytes(printer.link.sent) == b"".join(b"\x10\x04" + bytes([n]) for n in answers)
    if status.state != "ok":
        assert isinstance(status.error, {"cover_open": PrinterCoverOpen, "out_of_paper": PrinterOutOfPaper}[status.state])
