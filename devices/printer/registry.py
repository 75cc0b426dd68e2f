"""From a kind of printer (kiosk/kernel/printer_kinds.py) to its transport, and from the
kiosk's config values to a printer.

Like Kivy's camera providers, the kinds table names each transport by ``module:Class``;
the module is imported only when that kind is used, so a kiosk with a network printer
never loads pyserial or pyusb.
"""
from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any, Mapping

from devices.printer.base import ReceiptPrinter
from kiosk.kernel.printer_kinds import PrinterKind, printer_kind

log = logging.getLogger(__name__)


def transport_class(kind: PrinterKind | str) -> type[ReceiptPrinter]:
    """The transport class of ``kind`` (a kind or its name); KeyError for an unknown name."""
    if isinstance(kind, str):
        kind = printer_kind(kind)
    module_name, _, class_name = kind.transport.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, ReceiptPrinter)):
        raise TypeError(f"{kind.transport} (printer kind {kind.name!r}) is not a ReceiptPrinter")
    return cls


def build_printer(values: Mapping[str, Any], *, receipts_dir: Path) -> ReceiptPrinter:
    """The printer that ``values["printer"]`` names, built from the other ``printer_*``
    values (``Config.values``, already checked by the configuration); ``receipts_dir`` is
    where the file printer writes."""
    return transport_class(values["printer"]).from_config(values, receipts_dir=receipts_dir)
