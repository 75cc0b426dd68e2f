"""A serial printer (``/dev/ttyS0``, ``/dev/ttyUSB0``) through pyserial, with DLE EOT status."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from devices.printer.dle_eot import DleEotPrinter, Link
from devices.printer.errors import PrinterUnavailable

log = logging.getLogger(__name__)


class _SerialLink(Link):
    def __init__(self, port):
        self.port = port

    def send(self, data: bytes) -> None:
        import serial  # pyserial (absolute import: not this module)

        try:
            self.port.write(data)
            self.port.flush()
        except serial.SerialTimeoutException:
            raise TimeoutError from None

    def recv_byte(self) -> int:
        answer = self.port.read(1)
        if not answer:
            raise TimeoutError
        return answer[0]

    def close(self) -> None:
        self.port.close()


class SerialPrinter(DleEotPrinter):
    """A serial printer at a fixed baud rate, 8N1."""

    def __init__(self, device: str, baudrate: int = 9600, *, timeout: float = 5.0):
        self.device, self.baudrate, self.timeout = device, baudrate, timeout
        self.name = f"serial printer {device}"

    @classmethod
    def from_config(cls, values: Mapping[str, Any], *, receipts_dir: Path) -> "SerialPrinter":
        return cls(values["printer_device"], values["printer_baudrate"], timeout=values["printer_timeout_s"])

    @property
    def target(self) -> str:
        return f"{self.device} at {self.baudrate} baud"

    def _open(self) -> Link:
        import serial  # pyserial: only when a serial printer is configured

        try:
            return _SerialLink(serial.Serial(self.device, self.baudrate, timeout=self.timeout,
                                             write_timeout=self.timeout))
        except serial.SerialException as exc:
            raise PrinterUnavailable(f"{self.name} cannot be opened: {exc}") from None
