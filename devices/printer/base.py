"""What every printer transport answers, whatever the cable: python-escpos's shape.

A transport moves bytes and reports its state; it knows nothing of receipts (the layout
is :mod:`kiosk.core.receipt`). Each one implements :meth:`ReceiptPrinter._send` and
:meth:`ReceiptPrinter.status`; the base adds :meth:`ReceiptPrinter.send` and
:meth:`ReceiptPrinter.print_job`, which turns every failure into a :class:`PrintOutcome`
so printing never raises into the UI. Callers never check which transport they hold.
"""
from __future__ import annotations

import abc
import dataclasses
import logging
import traceback
from pathlib import Path
from typing import Any, Callable, ClassVar, Literal, Mapping

from devices.printer.errors import PrinterError

log = logging.getLogger(__name__)

#: The printer's own state; ``out_of_paper`` stops a receipt like the others do.
PrinterCondition = Literal["ok", "cover_open", "out_of_paper", "unavailable", "timeout", "fault"]
#: The paper roll: ``unknown`` when the transport cannot ask, or the question failed.
PaperLevel = Literal["ok", "low", "out", "unknown"]


@dataclasses.dataclass(frozen=True)
class PrinterStatus:
    """What a printer says about itself, typed for every transport: the doctor and the
    heartbeat read it without knowing which kind of printer answered."""

    state: PrinterCondition
    paper: PaperLevel
    #: False for a transport that cannot hear the printer (a write-only device file, the
    #: file printer): its ``ok`` only means the bytes have somewhere to go.
    can_read_status: bool
    #: The problem when ``state`` is not ``ok``: its message and hint are the technician's.
    error: PrinterError | None = None

    @property
    def ok(self) -> bool:
        """Whether a receipt would be sent now."""
        return self.state == "ok"

    @classmethod
    def failed(cls, error: PrinterError, *, can_read_status: bool) -> "PrinterStatus":
        """The status that ``error`` stands for; the paper is known only when it ran out."""
        paper: PaperLevel = "out" if error.state == "out_of_paper" else "unknown"
        return cls(state=error.state, paper=paper, can_read_status=can_read_status, error=error)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class PrintOutcome:
    """What happened to one receipt."""

    ok: bool
    path: Path | None = None
    error: PrinterError | None = None
    bytes_sent: int = 0


class ReceiptPrinter(abc.ABC):
    """One way of reaching a receipt printer. Subclasses implement :meth:`_send` and
    :meth:`status`; those in the kinds table also :meth:`from_config` and :attr:`target`."""

    #: Whether :meth:`status` hears the printer itself (mirrors the kinds table's
    #: ``reads_status``; a unit test keeps the two equal).
    reads_status: ClassVar[bool] = False
    #: How the technician's messages name this printer.
    name: str = "printer"

    @classmethod
    def from_config(cls, values: Mapping[str, Any], *, receipts_dir: Path) -> "ReceiptPrinter":
        """This transport built from the kiosk's config values (``Config.values``); every
        kind in :data:`kiosk.kernel.printer_kinds.PRINTER_KINDS` implements it."""
        raise NotImplementedError(f"{cls.__name__} is not a printer kind of the configuration")

    @property
    def target(self) -> str:
        """Where the bytes go (address, device, USB ids, folder), for ``kiosk doctor``."""
        return self.name

    @abc.abstractmethod
    def _send(self, data: bytes, *, job: str) -> Path | None:
        """Deliver the bytes; raise a :class:`PrinterError` on failure."""

    @abc.abstractmethod
    def status(self) -> PrinterStatus:
        """Ask the printer how it is (cover, paper, reachable); never raises a PrinterError."""

    def send(self, data: bytes, *, job: str) -> Path | None:
        """Hand ``data`` (ESC/POS bytes) to the printer; ``job`` names it where that
        matters (the file printer's file name). Raises a :class:`PrinterError`; returns
        the file written, if any."""
        return self._send(data, job=job)

    def print_job(self, render: Callable[[], bytes], *, job: str) -> PrintOutcome:
        """Render the bytes, then send them; every failure comes back in the outcome.

        ``render`` runs here, on the caller's (printer) thread, so that a layout bug is an
        outcome too rather than an exception on the citizen's screen.
        """
        try:
            data = render()
            path = self.send(data, job=job)
        except PrinterError as exc:
            log.warning("receipt not printed: %s: %s", type(exc).__name__, exc)
            return PrintOutcome(ok=False, error=exc)
        except Exception as exc:  # a bug must not reach the citizen's screen
            # Type and frames only: an exception's message may quote the receipt's text.
            log.error("receipt not printed: unexpected %s\n%s", type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
            return PrintOutcome(ok=False, error=PrinterError(f"unexpected {type(exc).__name__} while printing"))
        return PrintOutcome(ok=True, path=path, bytes_sent=len(data))

    def tidy(self) -> int:
        """Housekeeping between receipts, run on the printer thread now and then (the file
        printer deletes receipts past their retention); how many things it removed."""
        return 0

    def close(self) -> None:
        """Release the connection (nothing to release for transports that open one per job)."""
