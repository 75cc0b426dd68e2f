"""The DLE EOT conversation that printers we can hear (network, serial, USB) share.

Before each receipt the printer is asked whether its cover is open or its paper out
(DLE EOT 2, then 4); after the data, one more question (DLE EOT 1) whose answer means the
printer took all of it. :meth:`DleEotPrinter.status` asks the same questions and reads the
paper near-end sensor from the same answer. Every operation has a timeout, so a hung
printer becomes a :class:`PrinterTimeout` on the printer thread, never a frozen screen.
A transport only opens a :class:`Link`.
"""
from __future__ import annotations

import abc
import logging
import socket
from pathlib import Path
from typing import Callable, TypeVar

from devices.printer.base import PrinterStatus, ReceiptPrinter
from devices.printer.errors import PrinterCoverOpen, PrinterError, PrinterOutOfPaper, PrinterTimeout, PrinterUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

DLE_EOT = b"\x10\x04"
#: DLE EOT 2 (offline cause): bit 2 cover open, bit 5 stopped for paper end.
OFFLINE_COVER_OPEN, OFFLINE_PAPER_END = 0x04, 0x20
#: DLE EOT 4 (roll paper sensor): bits 5 and 6 set when the paper has run out, bits 2
#: and 3 when it is nearly out (the near-end sensor).
ROLL_PAPER_END, ROLL_PAPER_NEAR_END = 0x60, 0x0C


class Link(abc.ABC):
    """A two-way byte connection to a printer; timeouts raise TimeoutError."""

    @abc.abstractmethod
    def send(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def recv_byte(self) -> int: ...

    @abc.abstractmethod
    def close(self) -> None: ...


class DleEotPrinter(ReceiptPrinter):
    """Shared behaviour of printers that answer DLE EOT; a transport implements :meth:`_open`."""

    reads_status = True

    @abc.abstractmethod
    def _open(self) -> Link:
        """A fresh connection; raise a :class:`PrinterError` when there is none."""

    def _ask(self, link: Link, n: int) -> int:
        link.send(DLE_EOT + bytes([n]))
        return link.recv_byte()

    def _conversation(self, link: Link) -> PrinterStatus:
        """DLE EOT 2, then (unless that already says paper end) DLE EOT 4."""
        offline = self._ask(link, 2)
        if offline & OFFLINE_COVER_OPEN:
            return PrinterStatus.failed(PrinterCoverOpen(), can_read_status=True)
        if offline & OFFLINE_PAPER_END:
            return PrinterStatus.failed(PrinterOutOfPaper(), can_read_status=True)
        roll = self._ask(link, 4)
        if roll & ROLL_PAPER_END:
            return PrinterStatus.failed(PrinterOutOfPaper(), can_read_status=True)
        return PrinterStatus("ok", "low" if roll & ROLL_PAPER_NEAR_END else "ok", can_read_status=True)

    def _guarded(self, work: Callable[[Link], T]) -> T:
        link = self._open()
        try:
            return work(link)
        except (TimeoutError, socket.timeout):
            raise PrinterTimeout(f"{self.name} stopped answering") from None
        except PrinterError:
            raise
        except OSError as exc:
            raise PrinterUnavailable(f"{self.name}: {exc.strerror or exc}") from None
        finally:
            link.close()

    def status(self) -> PrinterStatus:
        """Cover, paper end and paper near-end, as the printer answers them now."""
        try:
            return self._guarded(self._conversation)
        except PrinterError as exc:
            return PrinterStatus.failed(exc, can_read_status=True)

    def _send(self, data: bytes, *, job: str) -> Path | None:
        def deliver(link: Link) -> None:
            status = self._conversation(link)
            if status.error is not None:  # stop before any paper moves
                raise status.error
            link.send(data)
            self._ask(link, 1)  # an answer after the data: the printer took all of it
        self._guarded(deliver)
        return None
