"""The sync worker: delivers outbox entries to the central service, exactly once in effect.

State machine of an entry: ``pending`` -> ``sending`` (claimed in one statement) ->
``sent`` (the central confirmed: created or duplicate) or ``failed`` (a reason a retry
cannot fix, kept for the technician) or back to ``pending`` with a later
``next_attempt_at`` (network, 5xx, 429/503 with Retry-After, 401). Entries left
``sending`` by a crash go back to ``pending`` when the worker starts. A POST is retried
only because the central deduplicates on the Tracking ID.

The worker runs on its own thread and never blocks the UI. Between deliveries, when nothing
is due, it refreshes reference data, pulls statuses, and sends the kiosk's heartbeat
(``kiosk.heartbeat``) every ``heartbeat_interval_s``; a heartbeat that fails is logged
and tried again at the next interval.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import threading
from typing import Callable

from sqlalchemy import select, update

from kiosk.core.reports import ReportService
from kiosk.core.store.db import Store
from kiosk.core.store.models import Report
from sync_queue.client import CentralClient, CentralUnavailable, RateLimited, Rejected, Unauthorized
from sync_queue.outbox import OutboxEntry, OutboxState

log = logging.getLogger(__name__)

BATCH_SIZE = 100
BASE_DELAY_S = 5.0
MAX_DELAY_S = 600.0
IDLE_POLL_S = 30.0
REFERENCE_EVERY_S = 3600.0
STATUS_EVERY_S = 900.0
HEARTBEAT_EVERY_S = 300.0
#: Statuses after which a report no longer changes: not pulled again.
FINAL_STATUSES = ("closed", "rejected", "archived")
PENDING, SENDING, SENT, FAILED = (s.value for s in (OutboxState.PENDING, OutboxState.SENDING, OutboxState.SENT, OutboxState.FAILED))


def backoff_seconds(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng() * ceiling / 2


@dataclasses.dataclass
class PassResult:
    """What one pass did (for ``kiosk sync --once`` and the status indicator)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    online: bool | None = None  # None: nothing was due, so nothing was tried
    error: str | None = None


class SyncWorker:
    """Delivers the outbox on its own thread. ``heartbeat`` gathers the kiosk's heartbeat
    body given when the central last answered a sync (``kiosk.runtime.heartbeat.Heartbeat.gather``);
    without it no heartbeat is sent."""

    def __init__(self, store: Store, reports: ReportService, client: CentralClient, *,
                 now: Callable[[], dt.datetime], rng: Callable[[], float] = random.random, batch_size: int = BATCH_SIZE,
                 heartbeat: Callable[[dt.datetime | None], dict] | None = None,
                 heartbeat_interval_s: float = HEARTBEAT_EVERY_S):
        self.store, self.reports, self.client = store, reports, client
        self.now, self.rng, self.batch_size = now, rng, batch_size
        self.heartbeat, self.heartbeat_interval_s = heartbeat, heartbeat_interval_s
        self.online: bool | None = None
        self.last_error: str | None = None
        #: When the central last answered a delivery or housekeeping call (this process only).
        self.last_success_at: dt.datetime | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the state machine ----------------------------------------------------------
    def recover(self) -> int:
        """Entries a crash left ``sending`` go back to ``pending``."""
        with self.store.engine.begin() as conn:
            count = conn.execute(
                update(OutboxEntry).where(OutboxEntry.state == SENDING).values(state=PENDING)
            ).rowcount
        if count:
            log.info("%d outbox entries were left sending by a crash: pending again", count)
        return count

    def claim(self) -> list[str]:
        """Mark up to ``batch_size`` due entries ``sending`` in one statement; their IDs."""
        now = self.now()
        due = (
            select(OutboxEntry.id)
            .where(OutboxEntry.state == PENDING, OutboxEntry.next_attempt_at <= now)
            .order_by(OutboxEntry.id).limit(self.batch_size)
        )
        with self.store.engine.begin() as conn:  # BEGIN IMMEDIATE: one writer at a time
            rows = conn.execute(
                update(OutboxEntry).where(OutboxEntry.id.in_(due.scalar_subquery()))
                .values(state=SENDING, updated_at=now).returning(OutboxEntry.id, OutboxEntry.tracking_id)
            ).all()
        return [tid for _id, tid in sorted(rows)]

    def next_due(self) -> dt.datetime | None:
        with self.store.engine.connect() as conn:
            return conn.execute(
                select(OutboxEntry.next_attempt_at).where(OutboxEntry.state == PENDING)
                .order_by(OutboxEntry.next_attempt_at).limit(1)
            ).scalar()

    def run_once(self) -> PassResult:
        """Claim, send and settle one batch."""
        result = PassResult()
        ids = self.claim()
        if not ids:
            return result
        payloads = [self.reports.payload(tid) for tid in ids]
        try:
            answers = self.client.send_reports(payloads)
        except RateLimited as exc:
            delay = exc.retry_after if exc.retry_after is not None else None
            self._retry(ids, str(exc), delay)
            return self._offline(result, str(exc), len(ids))
        except (CentralUnavailable, Unauthorized) as exc:
            self._retry(ids, str(exc), None)
            return self._offline(result, str(exc), len(ids))
        except Rejected as exc:
            self._settle_failed({tid: str(exc) for tid in ids})
            result.failed, result.online, result.error = len(ids), True, str(exc)
            return result
        sent, failed = [], {}
        for tid, answer in zip(ids, answers):
            outcome = answer.get("outcome")
            if answer.get("tracking_id") != tid:
                failed[tid] = "central answered for another tracking id"
            elif outcome in ("created", "duplicate"):
                sent.append(tid)
            elif outcome == "conflict":
                failed[tid] = "conflict: the central holds a different report under this tracking id"
            else:
                problems = "; ".join(f"{e.get('field')}: {e.get('problem')}" for e in answer.get("errors", []))
                failed[tid] = f"invalid: {problems}"[:500]
        self._settle_sent(sent)
        self._settle_failed(failed)
        self.online, self.last_error, self.last_success_at = True, None, self.now()
        result.sent, result.failed, result.online = len(sent), len(failed), True
        log.info("sync pass: %d sent, %d failed", len(sent), len(failed))
        return result

    def _offline(self, result: PassResult, error: str, count: int) -> PassResult:
        self.online, self.last_error = False, error
        log.warning("sync pass failed: %s", error)
        result.online, result.error, result.retried = False, error, count
        return result

    def _retry(self, ids: list[str], error: str, delay: float | None) -> None:
        now = self.now()
        with self.store.engine.begin() as conn:
            for tid in ids:
                attempts = conn.execute(select(OutboxEntry.attempts).where(OutboxEntry.tracking_id == tid)).scalar() + 1
                wait = delay if delay is not None else backoff_seconds(attempts, self.rng)
                conn.execute(update(OutboxEntry).where(OutboxEntry.tracking_id == tid).values(
                    state=PENDING, attempts=attempts, next_attempt_at=now + dt.timedelta(seconds=wait),
                    last_error=error[:500], updated_at=now))

    def _settle_sent(self, ids: list[str]) -> None:
        """Confirmed by the central: sent, and the name and phone are forgotten (same transaction)."""
        if not ids:
            return
        now = self.now()
        with self.store.engine.begin() as conn:
            conn.execute(update(OutboxEntry).where(OutboxEntry.tracking_id.in_(ids)).values(
                state=SENT, attempts=OutboxEntry.attempts + 1, last_error=None, updated_at=now))
            conn.execute(update(Report).where(Report.tracking_id.in_(ids)).values(reporter_name=None, reporter_phone=None))

    def _settle_failed(self, reasons: dict[str, str]) -> None:
        if not reasons:
            return
        now = self.now()
        with self.store.engine.begin() as conn:
            for tid, reason in reasons.items():
                conn.execute(update(OutboxEntry).where(OutboxEntry.tracking_id == tid).values(
                    state=FAILED, attempts=OutboxEntry.attempts + 1, last_error=reason[:500], updated_at=now))
                log.error("outbox entry failed for good: %s", reason.split(":")[0])

    # -- reference data and status pull ----------------------------------------------------
    def refresh_reference(self) -> bool:
        """Fetch categories, agencies and kecamatan when the central's version changed.
        Returns True when new data was stored; the kiosk keeps what it has on any error."""
        from kiosk.core.reference import ReferenceDataError, replace_reference_data
        from kiosk.core.store.models import Meta

        with self.store.session() as session:
            etag = session.scalar(select(Meta.value).where(Meta.key == "reference_etag"))
        fetched = self.client.reference(etag)
        if fetched is None:
            return False
        new_etag, data = fetched
        try:
            replace_reference_data(self.store, data)
        except ReferenceDataError as exc:
            log.error("central sent unusable reference data: %s", exc)
            return False
        with self.store.session() as session, session.begin():
            session.merge(Meta(key="reference_etag", value=new_etag))
        return True

    def pull_statuses(self, limit: int = 200) -> int:
        """Refresh what the central says about this kiosk's delivered, unfinished reports."""
        from kiosk.core.status_lookup import remember_remote_status
        from kiosk.core.store.models import RemoteStatus

        with self.store.session() as session:
            ids = session.scalars(
                select(OutboxEntry.tracking_id)
                .outerjoin(RemoteStatus, RemoteStatus.tracking_id == OutboxEntry.tracking_id)
                .where(OutboxEntry.state == SENT)
                .where((RemoteStatus.status.is_(None)) | (RemoteStatus.status.not_in(FINAL_STATUSES)))
                .order_by(RemoteStatus.fetched_at.is_not(None), RemoteStatus.fetched_at)
                .limit(limit)
            ).all()
        pulled = 0
        for tid in ids:
            found = self.client.status(tid)
            if found is None:
                continue
            remember_remote_status(self.store, tid, found, self.now())
            pulled += 1
        return pulled

    def housekeeping(self) -> None:
        """Reference data and status pull, each on its own period, only when online."""
        now = self.now()
        try:
            if self._due(now, "_reference_at", REFERENCE_EVERY_S):
                self.refresh_reference()
                self.last_success_at = self.now()
            if self._due(now, "_status_at", STATUS_EVERY_S):
                self.pull_statuses()
                self.last_success_at = self.now()
        except (CentralUnavailable, RateLimited, Unauthorized, Rejected) as exc:
            log.warning("housekeeping skipped: %s", exc)

    def send_heartbeat(self) -> bool:
        """Gather and send the heartbeat now; False (logged, no personal data in it) when
        it could not be gathered or the central did not take it."""
        if self.heartbeat is None:
            return False
        try:
            body = self.heartbeat(self.last_success_at)
        except Exception as exc:  # noqa: BLE001 - a broken check must not stop deliveries
            log.error("heartbeat not gathered: %s", type(exc).__name__)
            return False
        try:
            self.client.heartbeat(body)
        except (CentralUnavailable, RateLimited, Unauthorized, Rejected) as exc:
            log.warning("heartbeat not sent (next try in %g s): %s", self.heartbeat_interval_s, exc)
            return False
        return True

    def heartbeat_if_due(self) -> bool | None:
        """Send the heartbeat when ``heartbeat_interval_s`` has passed since the last try
        (successful or not); None when it was not due."""
        if self.heartbeat is None or not self._due(self.now(), "_heartbeat_at", self.heartbeat_interval_s):
            return None
        return self.send_heartbeat()

    def _due(self, now: dt.datetime, attr: str, period: float) -> bool:
        last = getattr(self, attr, None)
        if last is not None and (now - last).total_seconds() < period:
            return False
        setattr(self, attr, now)
        return True

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
            if self.online is not False:
                self.housekeeping()
            self.heartbeat_if_due()  # offline too: the central may be reachable again
            due = self.next_due()
            wait = IDLE_POLL_S if due is None else max(0.5, min(IDLE_POLL_S, (due - self.now()).total_seconds()))
            self._wake.wait(wait)
            self._wake.clear()

