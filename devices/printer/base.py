"""The printer surface the kiosk uses: build receipt bytes once, send them one way.

Subclasses implement only :meth:`ReceiptPrinter._send`; building the bytes (through
python-escpos's ``Dummy`` and :func:`kiosk.receipt.write_receipt`) is shared.
"""
from __future__ import annotations

import abc
import dataclasses
import logging
from pathlib import Path
from typing import Callable

from devices.printer.errors import PrinterError
from kiosk.receipt import ReceiptContent, write_receipt

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class PrintOutcome:
    """What happened to one receipt; printing never raises into the UI."""

    ok: bool
    path: Path | None = None
    error: PrinterError | None = None
    bytes_sent: int = 0


class ReceiptPrinter(abc.ABC):
    def __init__(self, *, qr_mode: str = "native", paper_width_mm: int = 80, encoding: str = "cp437"):
        self.qr_mode, self.paper_width_mm, self.encoding = qr_mode, paper_width_mm, encoding

    def receipt_bytes(self, content: ReceiptContent, *, gettext: Callable[[str], str]) -> bytes:
        from escpos.printer import Dummy  # imported on the printer thread: it costs ~150 ms

        dummy = Dummy()
        write_receipt(dummy, content, gettext=gettext, qr_mode=self.qr_mode,
                      paper_width_mm=self.paper_width_mm, encoding=self.encoding)
        return dummy.output

    def print_receipt(self, content: ReceiptContent, *, gettext: Callable[[str], str]) -> PrintOutcome:
        data = self.receipt_bytes(content, gettext=gettext)
        try:
            path = self._send(data, name=content.tracking_id + ("-copy" if content.copy else ""))
        except PrinterError as exc:
            log.warning("receipt not printed: %s (%s)", type(exc).__name__, exc.technician_hint)
            return PrintOutcome(ok=False, error=exc)
        return PrintOutcome(ok=True, path=path, bytes_sent=len(data))

    @abc.abstractmethod
    def _send(self, data: bytes, *, name: str) -> Path | None:
        """Deliver the bytes; raise a :class:`PrinterError` when that fails."""

    @staticmethod
    def warm_up() -> None:
        """Import python-escpos ahead of the first receipt (run on the printer thread)."""
        import escpos.printer  # noqa: F401

    def close(self) -> None:
        """Release the connection (nothing to release for most printers)."""
