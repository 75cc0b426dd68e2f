"""The printer surface the kiosk uses: build receipt bytes once, send them one way.

Subclasses implement only :meth:`ReceiptPrinter._send`; building the bytes (through
python-escpos's ``Dummy`` and :func:`kiosk.core.receipt.write_receipt`) and turning every
failure into a :class:`PrintOutcome` are shared. Printing never raises into the UI.
"""
from __future__ import annotations

import abc
import dataclasses
import logging
import traceback
from pathlib import Path
from typing import Callable

from devices.printer.errors import PrinterError
from kiosk.core.receipt import ReceiptContent, check_print_settings, write_receipt

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class PrintOutcome:
    """What happened to one receipt."""

    ok: bool
    path: Path | None = None
    error: PrinterError | None = None
    bytes_sent: int = 0


class ReceiptPrinter(abc.ABC):
    """A receipt printer: lays the receipt out once, then hands the bytes to :meth:`_send`."""

    def __init__(self, *, qr_mode: str = "native", paper_width_mm: int = 80, encoding: str = "cp437",
                 profile: str = "default"):
        self.profile = profile  # python-escpos printer profile (capabilities.json)
        check_print_settings(qr_mode, paper_width_mm, encoding)
        self.qr_mode, self.paper_width_mm, self.encoding = qr_mode, paper_width_mm, encoding

    def receipt_bytes(self, content: ReceiptContent, *, gettext: Callable[[str], str]) -> bytes:
        """The ESC/POS bytes of one receipt, recorded by python-escpos's ``Dummy`` printer."""
        from escpos.printer import Dummy  # imported on the printer thread: it costs ~150 ms

        dummy = Dummy(profile=self.profile)
        write_receipt(dummy, content, gettext=gettext, qr_mode=self.qr_mode,
                      paper_width_mm=self.paper_width_mm, encoding=self.encoding)
        return dummy.output

    def print_receipt(self, content: ReceiptContent, *, gettext: Callable[[str], str]) -> PrintOutcome:
        """Lay out and send one receipt; every failure comes back in the outcome."""
        try:
            data = self.receipt_bytes(content, gettext=gettext)
            path = self._send(data, content=content)
        except PrinterError as exc:
            log.warning("receipt not printed: %s: %s", type(exc).__name__, exc)
            return PrintOutcome(ok=False, error=exc)
        except Exception as exc:  # a bug must not reach the citizen's screen
            # Type and frames only: an exception's message may quote the receipt's text.
            log.error("receipt not printed: unexpected %s\n%s", type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
            return PrintOutcome(ok=False, error=PrinterError(f"unexpected {type(exc).__name__} while printing"))
        return PrintOutcome(ok=True, path=path, bytes_sent=len(data))

    @abc.abstractmethod
    def _send(self, data: bytes, *, content: ReceiptContent) -> Path | None:
        """Deliver the bytes (``content`` only names the job); raise a :class:`PrinterError` on failure."""

    def close(self) -> None:
        """Release the connection (nothing to release for most printers)."""
