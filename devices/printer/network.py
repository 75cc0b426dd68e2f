"""A network printer: raw TCP, usually port 9100 ("JetDirect"), with DLE EOT status."""
from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any, Mapping

from devices.printer.dle_eot import DleEotPrinter, Link
from devices.printer.errors import PrinterTimeout, PrinterUnavailable

log = logging.getLogger(__name__)


class _SocketLink(Link):
    def __init__(self, conn: socket.socket):
        self.conn = conn

    def send(self, data: bytes) -> None:
        self.conn.sendall(data)

    def recv_byte(self) -> int:
        answer = self.conn.recv(1)
        if not answer:
            raise PrinterUnavailable("printer closed the connection")
        return answer[0]

    def close(self) -> None:
        self.conn.close()


class NetworkPrinter(DleEotPrinter):
    """A printer on the network; one connection per job or status question."""

    def __init__(self, host: str, port: int = 9100, *, timeout: float = 5.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.name = f"printer {host}:{port}"

    @classmethod
    def from_config(cls, values: Mapping[str, Any], *, receipts_dir: Path) -> "NetworkPrinter":
        return cls(values["printer_host"], values["printer_port"], timeout=values["printer_timeout_s"])

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def _open(self) -> Link:
        try:
            return _SocketLink(socket.create_connection((self.host, self.port), timeout=self.timeout))
        except socket.timeout:
            raise PrinterTimeout(f"{self.name} did not accept a connection in {self.timeout:g} s") from None
        except OSError as exc:
            raise PrinterUnavailable(f"{self.name} unreachable: {exc.strerror or exc}") from None
