"""A network ESC/POS printer (raw TCP, usually port 9100), with status read back.

Before each receipt the printer is asked, with DLE EOT, whether it is offline, its cover
open or its paper out; every socket operation has a timeout, so a hung printer becomes a
:class:`PrinterTimeout` on the printer thread, never a frozen screen.
"""
from __future__ import annotations

import logging
import socket
from pathlib import Path

from devices.printer.base import ReceiptPrinter
from devices.printer.errors import PrinterCoverOpen, PrinterError, PrinterOutOfPaper, PrinterTimeout, PrinterUnavailable
from kiosk.receipt import ReceiptContent

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
#: DLE EOT 2 (offline cause): bit 2 cover open, bit 5 stopped for paper end.
OFFLINE_COVER_OPEN, OFFLINE_PAPER_END = 0x04, 0x20
#: DLE EOT 4 (roll paper sensor): bits 5 and 6 set when the paper has run out.
ROLL_PAPER_END = 0x60


class NetworkPrinter(ReceiptPrinter):
    def __init__(self, host: str, port: int = 9100, *, timeout: float = 5.0, **kwargs):
        super().__init__(**kwargs)
        self.host, self.port, self.timeout = host, port, timeout

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        except socket.timeout:
            raise PrinterTimeout(f"printer {self.host}:{self.port} did not accept a connection in {self.timeout:g} s") from None
        except OSError as exc:
            raise PrinterUnavailable(f"printer {self.host}:{self.port} unreachable: {exc.strerror or exc}") from None

    @staticmethod
    def _ask(conn: socket.socket, n: int) -> int:
        conn.sendall(DLE_EOT + bytes([n]))
        answer = conn.recv(1)
        if not answer:
            raise PrinterUnavailable("printer closed the connection while asked for its status")
        return answer[0]

    def status(self, conn: socket.socket | None = None) -> None:
        """Raise the printer's problem, if it has one (cover open, paper out)."""
        own = conn is None
        conn = conn or self._connect()
        try:
            offline = self._ask(conn, 2)
            if offline & OFFLINE_COVER_OPEN:
                raise PrinterCoverOpen()
            if offline & OFFLINE_PAPER_END or self._ask(conn, 4) & ROLL_PAPER_END:
                raise PrinterOutOfPaper()
        except socket.timeout:
            raise PrinterTimeout("printer did not answer its status request") from None
        except OSError as exc:
            raise PrinterUnavailable(f"printer connection failed: {exc.strerror or exc}") from None
        finally:
            if own:
                conn.close()

    def _send(self, data: bytes, *, content: ReceiptContent) -> Path | None:
        conn = self._connect()
        try:
            self.status(conn)
            conn.sendall(data)
            conn.sendall(DLE_EOT + b"\x01")  # and ask again: the answer means it took all of it
            if not conn.recv(1):
                raise PrinterUnavailable("printer closed the connection during the receipt")
        except socket.timeout:
            raise PrinterTimeout(f"printer {self.host}:{self.port} stopped answering mid-receipt") from None
        except PrinterError:
            raise
        except OSError as exc:
            raise PrinterUnavailable(f"printer connection failed: {exc.strerror or exc}") from None
        finally:
            conn.close()
        return None
