"""A TCP receipt printer of our own on 127.0.0.1, for tests and demos.

It records every byte it receives, answers DLE EOT status requests according to its
``state`` (``online``, ``paper_out``, ``cover_open``), and can misbehave like a cheap
printer: ``hang`` (stops reading and answering) or ``drop_after`` N bytes (closes the
connection mid-receipt). Parse what it received with :func:`devices.escpos_sim.parse_escpos`.
"""
from __future__ import annotations

import logging
import socket
import threading

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
_FIXED = 0x12  # bits 1 and 4 are always set in DLE EOT answers


def dle_eot_answer(state: str, n: int) -> int:
    """What a printer in ``state`` (``online``, ``paper_out``, ``cover_open``) answers to DLE EOT n."""
    if n == 2:
        return _FIXED | (0x04 if state == "cover_open" else 0) | (0x20 if state == "paper_out" else 0)
    if n == 4:
        return _FIXED | (0x60 if state == "paper_out" else 0)
    return _FIXED | (0x08 if state != "online" else 0)  # n == 1: offline bit


class TcpPrinterSimulator:
    def __init__(self, *, state: str = "online", hang: bool = False, drop_after: int | None = None):
        self.state, self.hang, self.drop_after = state, hang, drop_after
        self.received = bytearray()
        self.jobs: list[bytes] = []  # bytes per connection, once it has closed
        self._jobs_changed = threading.Condition()
        self._closed = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def status_byte(self, n: int) -> int:
        return dle_eot_answer(self.state, n)

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        job = bytearray()
        conn.settimeout(0.2)
        try:
            while not self._closed.is_set():
                if self.hang:
                    self._closed.wait(0.2)  # a hung printer: reads nothing, answers nothing
                    continue
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                job += chunk
                self.received += chunk
                if self.drop_after is not None and len(job) >= self.drop_after:
                    break
                # A status request is the last thing a client sends before it waits.
                if len(job) >= 3 and job[-3:-1] == DLE_EOT:
                    conn.sendall(bytes([self.status_byte(job[-1])]))
        except OSError:
            pass
        finally:
            conn.close()
            with self._jobs_changed:
                self.jobs.append(bytes(job))
                self._jobs_changed.notify_all()

    def wait_for_jobs(self, count: int, timeout: float = 10.0) -> list[bytes]:
        """The first ``count`` jobs, once their connections have closed."""
        with self._jobs_changed:
            if not self._jobs_changed.wait_for(lambda: len(self.jobs) >= count, timeout):
                raise TimeoutError(f"{len(self.jobs)} of {count} print jobs arrived")
            return self.jobs[:count]

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        self._thread.join(5)


class SerialPrinterSimulator:
    """The same printer behind a pseudo-terminal: ``device`` is the path a serial printer
    connection opens (like /dev/ttyUSB0); state and recording as for the TCP one."""

    def __init__(self, *, state: str = "online", hang: bool = False):
        import os
        import tty

        self.state, self.hang = state, hang
        self.received = bytearray()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    status_byte = TcpPrinterSimulator.status_byte

    def _serve(self) -> None:
        import os
        import select

        pending = bytearray()
        while not self._closed.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.1)
            if not ready or self.hang:
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                return
            self.received += chunk
            pending += chunk
            if len(pending) >= 3 and pending[-3:-1] == DLE_EOT:
                os.write(self._master, bytes([self.status_byte(pending[-1])]))
                pending.clear()

    def close(self) -> None:
        import os

        self._closed.set()
        self._thread.join(5)
        os.close(self._master)
        os.close(self._slave)
