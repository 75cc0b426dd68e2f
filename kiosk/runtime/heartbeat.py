"""The kiosk's heartbeat: how this kiosk is doing as a machine, for the central's fleet
view (``python -m central kiosks``). The sync worker sends it every
``heartbeat_interval_s``.

It holds numbers, timestamps, fixed state words and the software version: never a
Tracking ID, a report's text or anyone's name (the central refuses any other field).
Every check is cheap and never gets in a citizen's way: the printer is asked on the
printer's own thread (so the question never interleaves with a receipt), and the camera
is never opened: only whether its device is there and may be opened.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
from concurrent.futures import Future, TimeoutError as FutureTimeout
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from devices.printer.base import ReceiptPrinter
from kiosk.runtime.config import Config
from kiosk.core.help_call import HelpCall, Seen
from kiosk.core.store.db import Store
from kiosk.kernel.wire import HeartbeatIn
from sync_queue.client import CentralClient, CentralError
from sync_queue.outbox import Outbox
from sync_queue.periodic import TaskSkipped
from sync_queue.worker import HEARTBEAT_EVERY_S, HEARTBEAT_TASK

log = logging.getLogger(__name__)

CAMERA_CONNECT_TIMEOUT_S = 2.0
PRINTER_WAIT_MAX_S = 10.0


def kiosk_version() -> str:
    """This kiosk's software version from the installed package's metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lapor-kiosk")
    except PackageNotFoundError:  # e.g. a bundle built without the package's metadata
        return "unknown"


def queue_state(store: Store, now: dt.datetime) -> dict:
    """Queue depth (failed included, as ``kiosk queue`` counts), failed, the oldest
    waiting report's age, and when the central last confirmed a report."""
    figures = Outbox(store.engine).figures()
    return {
        "queue_depth": figures.depth,
        "failed": figures.failed,
        "oldest_waiting_age_s": _age(now, figures.oldest_waiting_at),
        "last_sent_at": figures.last_sent_at,
    }


def printer_state(printer: ReceiptPrinter) -> tuple[str, str]:
    """(printer, paper) as the heartbeat words them, from ``printer.status()``: for a
    printer that can answer (network, serial, USB), the same DLE EOT questions as before
    every receipt plus the paper near-end sensor. Must run on the printer's thread.
    An empty roll is the paper's state: the printer itself is ``ok`` and the fleet view
    flags NO-PAPER, not a printer fault."""
    status = printer.status()
    return ("ok" if status.state == "out_of_paper" else status.state), status.paper


def camera_state(source: str) -> str:
    """``not_configured``, ``ok`` or ``unavailable``, without opening the camera (a
    citizen may be scanning with it): the device or file is there and readable, or a
    stream's host accepts a connection. ``kiosk doctor`` and ``kiosk scan`` read frames."""
    source = (source or "").strip()
    if not source:
        return "not_configured"
    if "://" in source:
        url = urlsplit(source)
        port = url.port or {"rtsp": 554, "http": 80, "https": 443}.get(url.scheme)
        if not url.hostname or port is None:
            return "unavailable"
        try:
            socket.create_connection((url.hostname, port), timeout=CAMERA_CONNECT_TIMEOUT_S).close()
        except OSError:
            return "unavailable"
        return "ok"
    path = Path(f"/dev/video{source}") if source.isdigit() else Path(source)
    return "ok" if path.exists() and os.access(path, os.R_OK) else "unavailable"


def disk_state(path: Path) -> tuple[int, int]:
    """(free, total) bytes of the file system holding the data directory; (0, 0) when
    it cannot be read (which the fleet view flags as low disk)."""
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        log.warning("free disk unknown: %s", exc.strerror)
        return 0, 0
    return usage.free, usage.total


def _age(now: dt.datetime, then: dt.datetime | None) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds()), 1)


class Heartbeat:
    """Gathers one heartbeat. ``on_printer_thread`` runs a function on the printer's
    worker thread and returns its future (``KioskEnv.on_printer_thread``); without it the
    printer is asked on the calling thread. ``clock_step`` gives the wall clock's last step
    and its age (``ClockWatch.last_step`` of the sync worker's schedule), or None."""

    def __init__(self, *, config: Config, store: Store, printer: ReceiptPrinter, now: Callable[[], dt.datetime],
                 on_printer_thread: Callable[[Callable[[], tuple[str, str]]], Future] | None = None,
                 clock_step: Callable[[], tuple[float, float] | None] | None = None):
        self.config, self.store, self.printer, self.now = config, store, printer, now
        self.on_printer_thread = on_printer_thread
        self.clock_step = clock_step

    def _printer(self) -> tuple[str, str]:
        check = lambda: printer_state(self.printer)  # noqa: E731
        if self.on_printer_thread is None:
            return check()
        # A receipt being printed goes first; if the printer thread stays busy longer,
        # this heartbeat says "unknown" and the question still runs (harmlessly) later.
        # Capped under SyncWorker.stop()'s 15 s, so closing the kiosk never waits on it.
        wait = min(PRINTER_WAIT_MAX_S, self.config.printer_timeout_s * 2 + 1)
        try:
            return self.on_printer_thread(check).result(timeout=wait)
        except FutureTimeout:
            return "unknown", "unknown"

    def gather(self, last_sync_at: dt.datetime | None = None) -> HeartbeatIn:
        """The heartbeat body (``POST /api/v1/heartbeat``). ``last_sync_at``: when the
        sync worker last reached the central; the outbox's newest confirmed report
        stands in after a restart. Checked here against the contract (ValidationError),
        so a heartbeat the central would refuse is never sent."""
        printer, paper = self._printer()
        camera = camera_state(self.config.camera_source)
        free, total = disk_state(self.config.data_path)
        now = self.now()
        queue = queue_state(self.store, now)
        last_sent = queue.pop("last_sent_at")
        synced = max((t for t in (last_sync_at, last_sent) if t is not None), default=None)
        step = None if self.clock_step is None else self.clock_step()
        return HeartbeatIn(
            sent_at=now,
            version=kiosk_version(),
            **queue,
            last_sync_age_s=_age(now, synced),
            printer_kind=self.config.printer,
            printer=printer,
            paper=paper,
            camera=camera,
            disk_free_bytes=free,
            disk_total_bytes=total,
            clock_step_s=None if step is None else step[0],
            clock_step_age_s=None if step is None else step[1],
        )


class HeartbeatTask:
    """The heartbeat as a periodic task of the sync worker (``SyncWorker.add_task``):
    every ``interval_s``, offline too (the central may be reachable again). A heartbeat
    the central did not take is logged and tried again at the next interval.
    ``last_sync_at`` tells when the worker last reached the central. ``help_call``: the
    kiosk's help call, whose age each heartbeat carries and which hears whether it arrived."""

    name = HEARTBEAT_TASK
    online_only = False

    def __init__(self, gather: Callable[[dt.datetime | None], HeartbeatIn], client: CentralClient, *,
                 last_sync_at: Callable[[], dt.datetime | None], interval_s: float = HEARTBEAT_EVERY_S,
                 help_call: HelpCall | None = None):
        self.gather, self.client, self.last_sync_at, self.interval_s = gather, client, last_sync_at, interval_s
        self.help_call = help_call

    def run(self) -> None:
        seen = None if self.help_call is None else self.help_call.seen()
        try:
            body = self.gather(self.last_sync_at())
            if seen is not None and seen.age_s is not None:
                body = HeartbeatIn.model_validate({**body.model_dump(), "help_called_age_s": seen.age_s})
            self.client.heartbeat(body)
        except CentralError as exc:
            self._not_delivered(seen)
            log.warning("heartbeat not sent (next try in %g s): %s", self.interval_s, type(exc).__name__)
            raise TaskSkipped from None
        except BaseException:
            self._not_delivered(seen)
            raise
        if seen is not None:
            self.help_call.delivered(seen)

    def _not_delivered(self, seen: Seen | None) -> None:
        if seen is not None:
            self.help_call.not_delivered(seen)
