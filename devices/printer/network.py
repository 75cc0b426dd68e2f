"""ESC/POS printers we can talk to both ways: network (raw TCP, usually port 9100) and
serial. Before each receipt the printer is asked, with DLE EOT, whether its cover is open
or its paper out; every operation has a timeout, so a hung printer becomes a
:class:`PrinterTimeout` on the printer thread, never a frozen screen.
"""
from __future__ import annotations

import abc
import logging
import socket
from pathlib import Path

from devices.printer.base import ReceiptPrinter
from devices.printer.errors import PrinterCoverOpen, PrinterError, PrinterOutOfPaper, PrinterTimeout, PrinterUnavailable
from kiosk.core.receipt import ReceiptContent

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
#: DLE EOT 2 (offline cause): bit 2 cover open, bit 5 stopped for paper end.
OFFLINE_COVER_OPEN, OFFLINE_PAPER_END = 0x04, 0x20
#: DLE EOT 4 (roll paper sensor): bits 5 and 6 set when the paper has run out, bits 2
#: and 3 when it is nearly out (the near-end sensor).
ROLL_PAPER_END, ROLL_PAPER_NEAR_END = 0x60, 0x0C


class _Link(abc.ABC):
    """A two-way byte connection to a printer; timeouts raise TimeoutError."""

    @abc.abstractmethod
    def send(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def recv_byte(self) -> int: ...

    @abc.abstractmethod
    def close(self) -> None: ...


class StatusPrinter(ReceiptPrinter):
    """Shared behaviour of printers that answer DLE EOT."""

    name = "printer"

    @abc.abstractmethod
    def _open(self) -> _Link: ...

    def _ask(self, link: _Link, n: int) -> int:
        link.send(DLE_EOT + bytes([n]))
        return link.recv_byte()

    def _check(self, link: _Link) -> None:
        offline = self._ask(link, 2)
        if offline & OFFLINE_COVER_OPEN:
            raise PrinterCoverOpen()
        if offline & OFFLINE_PAPER_END or self._ask(link, 4) & ROLL_PAPER_END:
            raise PrinterOutOfPaper()

    def _guarded(self, work) -> None:
        link = self._open()
        try:
            work(link)
        except (TimeoutError, socket.timeout):
            raise PrinterTimeout(f"{self.name} stopped answering") from None
        except PrinterError:
            raise
        except OSError as exc:
            raise PrinterUnavailable(f"{self.name}: {exc.strerror or exc}") from None
        finally:
            link.close()

    def status(self) -> None:
        """Raise the printer's problem, if it has one (cover open, paper out, gone)."""
        self._guarded(self._check)

    def paper_low(self) -> bool:
        """Like :meth:`status`, then whether the paper is nearly out (the near-end sensor)."""
        near_end: list[bool] = []

        def ask(link: _Link) -> None:
            self._check(link)
            near_end.append(bool(self._ask(link, 4) & ROLL_PAPER_NEAR_END))

        self._guarded(ask)
        return near_end[0]

    def _send(self, data: bytes, *, content: ReceiptContent) -> Path | None:
        def job(link: _Link) -> None:
            self._check(link)
            link.send(data)
            self._ask(link, 1)  # an answer after the data: the printer took all of it
        self._guarded(job)
        return None


class _SocketLink(_Link):
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


class NetworkPrinter(StatusPrinter):
    def __init__(self, host: str, port: int = 9100, *, timeout: float = 5.0, **kwargs):
        super().__init__(**kwargs)
        self.host, self.port, self.timeout = host, port, timeout
        self.name = f"printer {host}:{port}"

    def _open(self) -> _Link:
        try:
            return _SocketLink(socket.create_connection((self.host, self.port), timeout=self.timeout))
        except socket.timeout:
            raise PrinterTimeout(f"{self.name} did not accept a connection in {self.timeout:g} s") from None
        except OSError as exc:
            raise PrinterUnavailable(f"{self.name} unreachable: {exc.strerror or exc}") from None


class _SerialLink(_Link):
    def __init__(self, port):
        self.port = port

    def send(self, data: bytes) -> None:
        import serial

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


class SerialPrinter(StatusPrinter):
    """A serial printer (``/dev/ttyS0``, ``/dev/ttyUSB0``) at a fixed baud rate, 8N1."""

    def __init__(self, device: str, baudrate: int = 9600, *, timeout: float = 5.0, **kwargs):
        super().__init__(**kwargs)
        self.device, self.baudrate, self.timeout = device, baudrate, timeout
        self.name = f"serial printer {device}"

    def _open(self) -> _Link:
        import serial

        try:
            return _SerialLink(serial.Serial(self.device, self.baudrate, timeout=self.timeout,
                                             write_timeout=self.timeout))
        except serial.SerialException as exc:
            raise PrinterUnavailable(f"{self.name} cannot be opened: {exc}") from None


UDEV_HINT = "Linux refuses the USB device to this user: install deploy/99-escpos-printer.rules (docs/PRINTERS.md)"


class _UsbLink(_Link):
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


class UsbPrinter(StatusPrinter):
    """A USB printer found by vendor and product id, through python-escpos and pyusb."""

    def __init__(self, vendor_id: int, product_id: int, *, timeout: float = 5.0, **kwargs):
        super().__init__(**kwargs)
        self.vendor_id, self.product_id, self.timeout = vendor_id, product_id, timeout
        self.name = f"USB printer {vendor_id:04x}:{product_id:04x}"

    def _open(self) -> _Link:
        try:
            import usb.core
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


class DevicePrinter(ReceiptPrinter):
    """A printer behind a device file that only takes bytes (e.g. /dev/usb/lp0): no status
    can be read back, but every write has a timeout."""

    def __init__(self, path: str, *, timeout: float = 5.0, **kwargs):
        super().__init__(**kwargs)
        self.path, self.timeout = path, timeout

    def status(self) -> None:
        import os

        if not os.access(self.path, os.W_OK):
            raise PrinterUnavailable(f"{self.path} is missing or not writable by this user")

    def _send(self, data: bytes, *, content: ReceiptContent) -> Path | None:
        import os
        import select

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
