"""The kinds of receipt printer connection, as data: the one list that config validation,
the kiosk's environment, ``kiosk doctor``, docs/CONFIG.md and docs/PRINTERS.md, and the
wire contract of the heartbeat (so the central's fleet view) read.
``devices.printer.registry`` maps each kind to its transport.

Like Kivy's table of camera providers, this names modules by string, so the kernel never
imports a device.
"""
from __future__ import annotations

import dataclasses
from typing import Literal


@dataclasses.dataclass(frozen=True)
class PrinterKind:
    """One way of reaching a printer."""

    name: str
    #: ``module:Class`` of the transport in ``devices.printer``.
    transport: str
    #: Config keys that must be set when ``printer`` names this kind.
    required_keys: tuple[str, ...]
    #: Whether the printer answers status questions (DLE EOT: cover, paper, near-end).
    reads_status: bool
    #: What it is and which settings it reads; the docs and the config's help say this.
    summary: str


PRINTER_KINDS: tuple[PrinterKind, ...] = (
    PrinterKind("file", "devices.printer.file:FilePrinter", (), False,
                "writes receipts into <data_dir>/receipts (the offline default)"),
    PrinterKind("network", "devices.printer.network:NetworkPrinter", ("printer_host",), True,
                "raw TCP (printer_host, printer_port)"),
    PrinterKind("serial", "devices.printer.serial:SerialPrinter", ("printer_device",), True,
                "a serial port (printer_device, printer_baudrate)"),
    PrinterKind("usb", "devices.printer.usb:UsbPrinter", ("printer_usb_vendor", "printer_usb_product"), True,
                "USB by vendor and product id (printer_usb_vendor, printer_usb_product)"),
    PrinterKind("device", "devices.printer.device:DevicePrinter", ("printer_device",), False,
                "a device file that only takes bytes, e.g. /dev/usb/lp0 (printer_device; write only)"),
)
PRINTER_KIND_NAMES: tuple[str, ...] = tuple(kind.name for kind in PRINTER_KINDS)
#: The same names as a type, for the wire contract (pydantic checks it). Made from the
#: table, so a new kind is one edit.
PrinterKindName = Literal[PRINTER_KIND_NAMES]  # type: ignore[valid-type]


def printer_kind(name: str) -> PrinterKind:
    """The kind called ``name``; KeyError for an unknown one."""
    for kind in PRINTER_KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)
