"""The sync worker: delivers outbox entries to the central service, exactly once in effect.

One loop on its own thread, never blocking the UI: claim a batch of due entries, send it
through the client, settle each answer through the :class:`~sync_queue.outbox.Outbox`
(which owns the state machine), then wait until the next entry is due or a new report
wakes it. A POST is retried only because the central deduplicates on the Tracking ID.

How an answer settles: ``created``/``duplicate`` -> sent (the reporter's name and phone
forgotten in the same transaction); ``conflict``, ``invalid`` or a 4xx a retry cannot fix
-> failed with the reason, for the technician; network, 5xx, 429/503 (with Retry-After)
and 401 -> pending again, later.

Between deliveries it runs its periodic tasks (:mod:`sync_queue.periodic`: reference
refresh, status pull, heartbeat), which live with their own code and are handed in.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import threading
from typing import Callable, Iterable, Protocol

from sqlalchemy.engine import Connection, Engine

from kiosk.kernel.wire import ReportIn
from sync_queue.client import CentralClient, CentralUnavailable, RateLimited, Rejected, Unauthorized
from sync_queue.outbox import Outbox
from sync_queue.periodic import PeriodicTask, Schedule

log = logging.getLogger(__name__)

BATCH_SIZE = 100
IDLE_POLL_S = 30.0
HEARTBEAT_EVERY_S = 300.0
#: The heartbeat task's name: ``send_heartbeat()`` and ``heartbeat_if_due()`` run it.
HEARTBEAT_TASK = "heartbeat"


class HasEngine(Protocol):
    """The kiosk's store, as far as the worker needs it."""

    engine: Engine


class ReportSource(Protocol):
    """The kiosk's reports, as far as the worker needs them (``kiosk.core.reports.ReportService``)."""

    def payload(self, tracking_id: str) -> ReportIn | None:
        """The report as the central takes it (None: no such report on this kiosk)."""

    def on_delivered(self, connection: Connection, tracking_ids: list[str]) -> None:
        """The central has these: forget what must not stay (inside the outbox's transaction)."""


@dataclasses.dataclass
class PassResult:
    """What one pass did (for ``kiosk sync --once`` and the status indicator)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    online: bool | None = None  # None: nothing was due, so nothing was tried
    error: str | None = None


class SyncWorker:
    """Delivers the outbox on its own thread, and runs ``tasks`` (periodic tasks) when
    nothing is due. ``store`` gives the engine the outbox lives in; ``reports`` gives
    each report's payload and forgets personal data once it is delivered."""

    def __init__(self, store: HasEngine, reports: ReportSource, client: CentralClient, *,
                 now: Callable[[], dt.datetime], rng: Callable[[], float] = random.random,
                 batch_size: int = BATCH_SIZE, tasks: Iterable[PeriodicTask] = ()):
        self.reports, self.client, self.now, self.batch_size = reports, client, now, batch_size
        self.outbox = Outbox(store.engine, now=now, rng=rng, on_delivered=reports.on_delivered)
        self.tasks = Schedule(now, tasks, on_success=self._task_worked)
        self.online: bool | None = None
        self.last_error: str | None = None
        #: When the central last answered a delivery or housekeeping call (this process only).
        self.last_success_at: dt.datetime | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add_task(self, task: PeriodicTask) -> None:
        """Run ``task`` between deliveries (tasks that need this worker, such as the heartbeat, come after it)."""
        self.tasks.add(task)

    # -- delivery ------------------------------------------------------------------------
    def recover(self) -> int:
        """Entries a crash left ``sending`` go back to ``pending``."""
        return self.outbox.recover()

    def claim(self) -> list[str]:
        """Mark up to ``batch_size`` due entries ``sending``; their Tracking IDs."""
        return self.outbox.claim(self.batch_size)

    def next_due(self) -> dt.datetime | None:
        return self.outbox.next_due()

    def run_once(self) -> PassResult:
        """Claim, send and settle one batch."""
        result = PassResult()
        ids = self.claim()
        if not ids:
            return result
        payloads = {tid: self.reports.payload(tid) for tid in ids}
        missing = {tid: "the report itself is missing on this kiosk" for tid, body in payloads.items() if body is None}
        if missing:  # cannot happen while the foreign key holds; never send a null report
            result.failed += self.outbox.mark_failed(missing)
            ids = [tid for tid in ids if tid not in missing]
            if not ids:
                return result
        try:
            answers = self.client.send_reports([payloads[tid] for tid in ids])
        except RateLimited as exc:
            self.outbox.retry_later(ids, str(exc), exc.retry_after)
            return self._offline(result, str(exc), len(ids))
        except (CentralUnavailable, Unauthorized) as exc:
            self.outbox.retry_later(ids, str(exc))
            return self._offline(result, str(exc), len(ids))
        except Rejected as exc:
            result.failed += self.outbox.mark_failed({tid: str(exc) for tid in ids})
            result.online, result.error = True, str(exc)
            return result
        sent, failed = [], {}
        for tid, answer in zip(ids, answers):
            if answer.tracking_id != tid:
                failed[tid] = "central answered for another tracking id"
            elif answer.outcome in ("created", "duplicate"):
                sent.append(tid)
            elif answer.outcome == "conflict":
                failed[tid] = "conflict: the central holds a different report under this tracking id"
            else:
                failed[tid] = "invalid: " + "; ".join(f"{e.field}: {e.problem}" for e in answer.errors)
        result.sent = self.outbox.mark_sent(sent)
        result.failed += self.outbox.mark_failed(failed)
        self.online, self.last_error, self.last_success_at = True, None, self.now()
        result.online = True
        log.info("sync pass: %d sent, %d failed", result.sent, result.failed)
        return result

    def _offline(self, result: PassResult, error: str, count: int) -> PassResult:
        self.online, self.last_error = False, error
        log.warning("sync pass failed: %s", error)
        result.online, result.error, result.retried = False, error, count
        return result

    # -- periodic tasks ----------------------------------------------------------------------
    def _task_worked(self, task: PeriodicTask) -> None:
        if task.online_only:  # housekeeping calls to the central: it answered
            self.last_success_at = self.now()

    def send_heartbeat(self) -> bool:
        """Run the heartbeat task now; False (logged, no personal data in it) when it could
        not be gathered or the central did not take it, or no heartbeat is scheduled."""
        return self.tasks.run_now(HEARTBEAT_TASK)

    def heartbeat_if_due(self) -> bool | None:
        """Send the heartbeat when its interval has passed since the last try (successful
        or not); None when it was not due."""
        return self.tasks.run_if_due(HEARTBEAT_TASK)

    # -- the thread --------------------------------------------------------------------
    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="sync", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A new report was saved: try now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                result = self.run_once()
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any bug
                log.error("sync pass crashed: %s", type(exc).__name__)
                result = PassResult(error=type(exc).__name__)
            if result.sent or result.failed:
                continue  # more may be due right away
            # Housekeeping only when the central is not known to be offline; the
            # heartbeat offline too (the central may be reachable again). Each run guarded.
            self.tasks.run_due(online=self.online is not False)
            self._wake.wait(self._idle_wait())
            self._wake.clear()

    def _idle_wait(self) -> float:
        """Seconds until the next entry is due, between 0.5 and ``IDLE_POLL_S``."""
        try:
            due = self.next_due()
        except Exception as exc:  # noqa: BLE001 - e.g. the database busy: poll again later
            log.error("next due time unknown: %s", type(exc).__name__)
            return IDLE_POLL_S
        return IDLE_POLL_S if due is None else max(0.5, min(IDLE_POLL_S, (due - self.now()).total_seconds()))
