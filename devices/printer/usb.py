"""A USB printer found by vendor and product id, through python-escpos and pyusb, with
DLE EOT status."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from devices.printer.dle_eot import DleEotPrinter, Link
from devices.printer.errors import PrinterUnavailable

log = logging.getLogger(__name__)

UDEV_HINT = "Linux refuses the USB device to this user: install deploy/99-escpos-printer.rules (docs/PRINTERS.md)"


class _UsbLink(Link):
    def __init__(self, printer):
        self.printer = printer

    def send(self, data: bytes) -> None:
        self.printer._raw(data)

    def recv_byte(self) -> int:
        answer = self.printer._read()
        if not answer:
            raise TimeoutError
        return answer[0]

    def close(self) -> None:
        self.printer.close()


class UsbPrinter(DleEotPrinter):
    """A USB printer; python-escpos detaches the kernel's usblp driver if it holds it."""

    def __init__(self, vendor_id: int, product_id: int, *, timeout: float = 5.0):
        self.vendor_id, self.product_id, self.timeout = vendor_id, product_id, timeout
        self.name = f"USB printer {vendor_id:04x}:{product_id:04x}"

    @classmethod
    def from_config(cls, values: Mapping[str, Any], *, receipts_dir: Path) -> "UsbPrinter":
        return cls(int(values["printer_usb_vendor"], 16), int(values["printer_usb_product"], 16),
                   timeout=values["printer_timeout_s"])

    @property
    def target(self) -> str:
        return f"{self.vendor_id:04x}:{self.product_id:04x}"

    def _open(self) -> Link:
        try:
            import usb.core  # pyusb (absolute import: not this module)
            from escpos.exceptions import DeviceNotFoundError
            from escpos.printer import Usb
        except ImportError as exc:
            raise PrinterUnavailable(f"USB support missing: {exc}") from None
        printer = Usb(self.vendor_id, self.product_id, timeout=int(self.timeout * 1000))
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            hint = UDEV_HINT if "Access denied" in str(exc) or "Errno 13" in str(exc) else "check the cable and the ids"
            raise PrinterUnavailable(f"{self.name} not found ({hint})") from None
        except usb.core.NoBackendError:
            raise PrinterUnavailable("libusb is not installed (Debian package libusb-1.0-0)") from None
        return _UsbLink(printer)
