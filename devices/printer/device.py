"""A printer behind a device file that only takes bytes (e.g. ``/dev/usb/lp0``, the
kernel's usblp driver): no status can be read back, but every write has a timeout."""
from __future__ import annotations

import logging
import os
import select
from pathlib import Path
from typing import Any, Mapping

from devices.printer.base import PrinterStatus, ReceiptPrinter
from devices.printer.errors import PrinterTimeout, PrinterUnavailable

log = logging.getLogger(__name__)


class DevicePrinter(ReceiptPrinter):
    """Writes to the device file without blocking; a device nobody drains times out."""

    reads_status = False

    def __init__(self, path: str, *, timeout: float = 5.0):
        self.path, self.timeout = path, timeout
        self.name = f"printer {path}"

    @classmethod
    def from_config(cls, values: Mapping[str, Any], *, receipts_dir: Path) -> "DevicePrinter":
        return cls(values["printer_device"], timeout=values["printer_timeout_s"])

    @property
    def target(self) -> str:
        return self.path

    def status(self) -> PrinterStatus:
        """Whether the device is there and writable: nothing about cover or paper."""
        if not os.access(self.path, os.W_OK):
            return PrinterStatus.failed(PrinterUnavailable(f"{self.path} is missing or not writable by this user"),
                                        can_read_status=False)
        return PrinterStatus("ok", "unknown", can_read_status=False)

    def _send(self, data: bytes, *, job: str) -> Path | None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise PrinterUnavailable(f"{self.path}: {exc.strerror}") from None
        try:
            view = memoryview(data)
            while view:
                _, ready, _ = select.select([], [fd], [], self.timeout)
                if not ready:
                    raise PrinterTimeout(f"{self.path} took no data for {self.timeout:g} s")
                view = view[os.write(fd, view[:4096]):]
        except OSError as exc:
            raise PrinterUnavailable(f"{self.path}: {exc.strerror}") from None
        finally:
            os.close(fd)
        return None
