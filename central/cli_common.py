"""What the central's commands share: argument types, and running a worker until SIGTERM
(``forward``, ``sms send``)."""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import threading
from typing import Callable


def positive(value: str) -> float:
    """An argument that must be a number above 0 (seconds, minutes, hours)."""
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value}")
    return number


def instant(value: str) -> dt.datetime:
    """An ISO 8601 time (UTC when it has no offset)."""
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 time like 2026-11-23T10:30:00+07:00, got {value!r}") \
            from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def loop(run_once: Callable[[], int], stop: threading.Event, poll_interval_s: float, *,
         log: logging.Logger, what: str) -> None:
    """A worker's life until ``stop`` is set (SIGTERM): a pass (``run_once``: how many items
    it handled), and, when nothing was due, a wait. A pass that raises (the database away
    for a moment) is logged by its type, never its message, and the loop goes on."""
    while not stop.is_set():
        try:
            handled = run_once()
        except Exception as exc:  # noqa: BLE001 - the loop outlives any one pass
            log.error("%s pass failed: %s", what, type(exc).__name__)
            handled = 0
        if not handled:
            stop.wait(poll_interval_s)


def run_worker(worker, *, once: bool, poll_interval_s: float, handled: str) -> int:
    """``--once``: what is due now (``worker.drain()``), then a line saying how many
    ``handled``; else ``worker.run`` until SIGTERM or SIGINT, which end it after the item
    in hand."""
    if once:
        print(f"{worker.drain()} {handled}")
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker.run(stop, poll_interval_s)
    return 0
