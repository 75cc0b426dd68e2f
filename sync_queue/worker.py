"""The sync worker: delivers outbox entries to the central service, exactly once in effect.

One loop on its own thread, never blocking the UI: claim a batch of due entries, send it
through the client, settle each answer through the :class:`~sync_queue.outbox.Outbox`
(which owns the state machine), then wait until the next entry is due or a new report
wakes it. A POST is retried only because the central deduplicates on the Tracking ID.

How an answer settles: ``created``/``duplicate`` -> sent (the reporter's name and phone
forgotten in the same transaction); ``conflict``, ``invalid`` or a 4xx a retry cannot fix
-> failed with the reason, for the technician; network, 5xx, 429/503 (with Retry-After)
and 401 -> pending again, later; so is an answer that is not the central's (a captive
portal's login page, a proxy's or firewall's own error page). A 413 (a proxy's body
limit) halves the batch, down to one report, before anything is failed. When the central
answers again after an outage, everything waiting is due at once (not each entry on its
own backoff). While a citizen is at the screen a backlog goes in small batches with a
pause after each (``GENTLE_BATCH``), so the UI's frames stay even.

A backlog is read ahead: on the worker's own thread, while a full batch's POST is in
flight (on a short-lived ``sync-post`` thread) the next batch is claimed and its reports
read and opened, so the kiosk's work and the central's overlap instead of taking turns.
A batch read ahead was never tried: whatever ends the drain first (the central not
reached, a crash, the thread stopping) puts it back as it was (``Outbox.unclaim``).

The thread cannot be killed by an answer: every pass and every idle step is guarded, and
a supervisor starts the thread again should anything get past that (``restarts``,
``last_crash``, ``alive``); while it is down ``online`` is False.

Between deliveries it runs its periodic tasks (:mod:`sync_queue.periodic`: reference
refresh, status pull, heartbeat), which live with their own code and are handed in.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, Iterable, Protocol

from sqlalchemy.engine import Connection, Engine

from kiosk.kernel.storage import UnreadableRecord
from kiosk.kernel.wire import MAX_BATCH, FeedbackIn, ReportIn, is_feedback_key
from sync_queue.client import CentralClient, CentralUnavailable, RateLimited, Rejected, TooLarge, Unauthorized
from sync_queue.lock import APP_ROLE, DeliveryLock
from sync_queue.outbox import Outbox, voice_of
from sync_queue.periodic import PeriodicTask, Schedule

log = logging.getLogger(__name__)

#: Reports a pass claims and sends in one POST: as many as the central takes at once, so a
#: backlog goes in few round trips (a proxy's smaller body limit halves it, below).
BATCH_SIZE = MAX_BATCH
#: While a citizen is at the screen (:attr:`SyncWorker.citizen_present`), a backlog goes in
#: batches of this many with a pause after each: the worker's own Python work (opening the
#: sealed text, building the JSON, settling the answers) takes the interpreter from the UI
#: thread in turns, and batches of 500 back to back made the citizen's frames uneven
#: (``benchmarks/drain.py``). About 80 reports a second then; full speed again once the
#: kiosk is left alone.
GENTLE_BATCH = 25
GENTLE_PAUSE_S = 0.25
IDLE_POLL_S = 30.0
HEARTBEAT_EVERY_S = 300.0
#: The heartbeat task's name: ``send_heartbeat()`` and ``heartbeat_if_due()`` run it.
HEARTBEAT_TASK = "heartbeat"
#: How often a worker started while another process delivers asks for the lock again.
LOCK_POLL_S = 1.0
#: A dead sync thread is started again at once; if it dies again before finishing a pass,
#: after 1 s, 2 s, 4 s ... at most this long.
RESTART_MAX_S = 60.0
#: ``last_error`` of a report a proxy refuses even alone.
TOO_LARGE_ALONE = ("too large: refused alone with HTTP 413 by the central or, more likely, a proxy in front of it; "
                   "raise the proxy's body limit (e.g. nginx client_max_body_size), then retry failed")


class HasEngine(Protocol):
    """The kiosk's store, as far as the worker needs it."""

    engine: Engine


class ReportSource(Protocol):
    """The kiosk's reports, as far as the worker needs them (``kiosk.core.reports.ReportService``)."""

    def payload(self, tracking_id: str) -> ReportIn | None:
        """The report as the central takes it (None: no such report on this kiosk). Raises
        :class:`~kiosk.kernel.storage.UnreadableRecord` for a report it holds but cannot
        read: that entry fails alone, with the exception's ``reason``."""

    def payloads(self, tracking_ids: list[str]) -> dict[str, ReportIn | UnreadableRecord]:
        """:meth:`payload` of a batch at once: each report held, as the central takes it, or
        the :class:`~kiosk.kernel.storage.UnreadableRecord` that sets it aside alone; a
        report not held is left out."""

    def feedback_payload(self, key: str) -> FeedbackIn | None:
        """An objection or rating as the central takes it (None: no such item). Raises
        :class:`~kiosk.kernel.storage.UnreadableRecord` as :meth:`payload` does."""

    def voice_payload(self, tracking_id: str) -> tuple[bytes, str] | None:
        """A report's recorded complaint as it travels: (Ogg Opus bytes, SHA-256); None when
        the kiosk holds none. Raises :class:`~kiosk.kernel.storage.UnreadableRecord` as
        :meth:`payload` does."""

    def on_delivered(self, connection: Connection, tracking_ids: list[str]) -> None:
        """The central has these (Tracking IDs and feedback keys): forget what must not
        stay (inside the outbox's transaction)."""


@dataclasses.dataclass
class PassResult:
    """What one pass did (for ``kiosk sync --once`` and the status indicator)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    online: bool | None = None  # None: nothing was due, so nothing was tried
    error: str | None = None


@dataclasses.dataclass
class _Claimed:
    """A claimed batch, its reports read: what is left to send (``ids``, each report's
    body in ``payloads``) and what was settled while reading (damaged entries failed)."""

    ids: list[str]
    payloads: dict[str, ReportIn | FeedbackIn]
    result: PassResult
    full: bool  # as many as asked: more is likely waiting


class SyncWorker:
    """Delivers the outbox on its own thread, and runs ``tasks`` (periodic tasks) when
    nothing is due. ``store`` gives the engine the outbox lives in; ``reports`` gives
    each report's payload and forgets personal data once it is delivered. ``monotonic``
    times the periodic tasks. ``lock_path``: the data directory's delivery lock
    (:mod:`sync_queue.lock`), held by the thread for its life, so that no other process
    delivers (or recovers) from the same database meanwhile."""

    def __init__(self, store: HasEngine, reports: ReportSource, client: CentralClient, *,
                 now: Callable[[], dt.datetime], rng: Callable[[], float] = random.random,
                 batch_size: int = BATCH_SIZE, tasks: Iterable[PeriodicTask] = (),
                 monotonic: Callable[[], float] = time.monotonic, lock_path: Path | None = None):
        self.reports, self.client, self.now, self.batch_size = reports, client, now, batch_size
        self.outbox = Outbox(store.engine, now=now, rng=rng, on_delivered=reports.on_delivered)
        self.tasks = Schedule(now, tasks, on_success=self._task_worked, monotonic=monotonic)
        self.lock = None if lock_path is None else DeliveryLock(lock_path)
        #: When the central last answered a delivery or housekeeping call (this process only).
        self.last_success_at: dt.datetime | None = None
        #: How many times the supervisor started the sync thread again, and why it last died.
        self.restarts = 0
        self.last_crash: str | None = None
        self._pass_error: str | None = None  # the last pass crashed (a bug): its type
        self._passes = 0  # passes the thread finished (a restart loop's progress)
        self._send_limit = batch_size  # lowered by 413s: what a proxy lets through
        #: Whether a citizen is using the kiosk now (the app sets it: its session's idle
        #: watch); read on the sync thread, so it must only read.
        self.citizen_present: Callable[[], bool] = lambda: False
        self._in_flight: list[str] = []  # claimed by the pass under way
        self._ahead: _Claimed | None = None  # claimed and read while the last POST was in flight
        self._held_back = True  # entries may wait out a backoff: due at once when the central answers
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._supervisor: threading.Thread | None = None

    # -- what the Welcome indicator, the admin screen and the technician read -----------------
    @property
    def alive(self) -> bool:
        """Is the sync thread running (False before ``start``, after ``stop`` and while a
        dead thread waits for its restart)?"""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def online(self) -> bool | None:
        """Did the central itself answer the last call (None: nothing asked yet)? False
        while the thread is down, and after an answer that was not the central's."""
        if self._supervisor is not None and not self.alive:
            return False
        return self.client.reachable

    @property
    def connection(self) -> str:
        """``online``, ``offline`` or ``unknown`` (nothing asked yet), as Welcome's
        indicator and the admin screen show it: never online while the thread is down or
        when the last answer was not the central's."""
        return {True: "online", False: "offline"}.get(self.online, "unknown")

    @property
    def last_error(self) -> str | None:
        """Why the kiosk is not delivering, for the technician (None: it is)."""
        if self._supervisor is not None and not self.alive and not self._stop.is_set():
            return f"the sync thread stopped ({self.last_crash or 'it ended'}); it is being restarted"
        return self._pass_error or self.client.problem

    def add_task(self, task: PeriodicTask) -> None:
        """Run ``task`` between deliveries (tasks that need this worker, such as the heartbeat, come after it)."""
        self.tasks.add(task)

    # -- delivery ------------------------------------------------------------------------
    def recover(self) -> int:
        """Entries a crash left ``sending`` go back to ``pending`` (with a lock: only while
        holding it, see :meth:`hold_lock`)."""
        return self.outbox.recover(self.lock)

    def hold_lock(self, role: str = APP_ROLE) -> bool:
        """Take the data directory's delivery lock as ``role``, without waiting; whether
        this worker holds it (True when it has no lock to take)."""
        return self.lock is None or self.lock.try_acquire(role)

    def release_lock(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def claim(self) -> list[str]:
        """Mark up to ``batch_size`` due entries ``sending`` (fewer once a proxy refused
        bigger batches with 413; at most :data:`GENTLE_BATCH` while a citizen is at the
        screen); their Tracking IDs."""
        self._in_flight = self.outbox.claim(self._claim_size())
        return self._in_flight

    def _claim_size(self) -> int:
        size = min(self.batch_size, self._send_limit)
        return min(size, GENTLE_BATCH) if self._gentle() else size

    def _gentle(self) -> bool:
        """A citizen is at the screen: small batches, a pause after each (:data:`GENTLE_BATCH`)."""
        try:
            return bool(self.citizen_present())
        except Exception as exc:  # noqa: BLE001 - the app's state unreadable: deliver as usual
            log.error("whether a citizen is present is unknown: %s", type(exc).__name__)
            return False

    def next_due(self) -> dt.datetime | None:
        return self.outbox.next_due()

    def run_once(self, *, read_ahead: bool = False) -> PassResult:
        """Claim, send and settle one batch. Should anything fail in between, what it
        claimed is put back (pending, later) before the error goes on.

        ``read_ahead`` (the worker's thread): while a full batch's POST is in flight, claim
        and read the next one, which the next pass sends; :meth:`release_ahead` puts it back
        when no pass follows. Without it a pass leaves nothing claimed behind it (``kiosk
        sync --once``)."""
        try:
            result = self._pass(read_ahead)
        except BaseException as exc:
            self._pass_error = f"sync pass crashed: {type(exc).__name__}"
            self._put_back(self._pass_error)
            raise
        self._pass_error = None
        return result

    def release_ahead(self) -> int:
        """Put a batch read ahead back as it was (pending, due as before, no attempt
        counted): it was never tried. How many entries."""
        ahead, self._ahead = self._ahead, None
        if ahead is None or not ahead.ids:
            return 0
        try:
            return self.outbox.unclaim(ahead.ids)
        except Exception as exc:  # noqa: BLE001 - the database itself failing: recover() at the next start
            log.error("could not put back the batch read ahead: %s", type(exc).__name__)
            return 0

    def _put_back(self, error: str) -> None:
        claimed, self._in_flight = self._in_flight, []
        try:
            self.outbox.retry_later(claimed, error)  # only those still ``sending`` change
        except Exception as exc:  # noqa: BLE001 - the database itself failing: recover() at the next start
            log.error("could not put claimed entries back: %s", type(exc).__name__)
        self.release_ahead()

    def _read(self, ids: list[str], full: bool) -> _Claimed:
        """The claimed ``ids`` with their bodies: each damaged or missing one failed alone at
        once; on a read error (the database busy) all of them go back, later, and it raises."""
        result, payloads, unsendable = PassResult(), {}, {}
        try:  # the batch's reports in one read, not a few queries each
            reports = self.reports.payloads([tid for tid in ids if voice_of(tid) is None and not is_feedback_key(tid)])
        except Exception as exc:  # e.g. the database busy: nothing stays claimed, try later
            self.outbox.retry_later(ids, f"the reports could not be read ({type(exc).__name__})")
            raise
        for tid in ids:
            if voice_of(tid) is not None:
                continue  # a recording is read when it is sent, one at a time (hundreds of kB each)
            try:
                body = self.reports.feedback_payload(tid) if is_feedback_key(tid) else reports.get(tid)
                if isinstance(body, UnreadableRecord):
                    raise body
            except UnreadableRecord as exc:  # damaged at rest: set aside alone, the others go
                unsendable[tid] = exc.reason
                continue
            except Exception as exc:  # e.g. the database busy: nothing stays claimed, try later
                self.outbox.retry_later(ids, f"the reports could not be read ({type(exc).__name__})")
                raise
            if body is None:  # cannot happen while the foreign key holds; never send a null report
                unsendable[tid] = "the report itself is missing on this kiosk" if not is_feedback_key(tid) \
                    else "the objection or rating itself is missing on this kiosk"
            else:
                payloads[tid] = body
        if unsendable:
            result.failed += self.outbox.mark_failed(unsendable)
            ids = [tid for tid in ids if tid not in unsendable]
        return _Claimed(ids, payloads, result, full)

    def _next_batch(self) -> _Claimed | None:
        """The batch read ahead, or a newly claimed one; None when nothing was due. While a
        citizen is at the screen, only the first :data:`GENTLE_BATCH` of a batch read ahead
        go; the rest wait as they were."""
        batch, self._ahead = self._ahead, None
        if batch is None:
            size = self._claim_size()
            ids = self.claim()
            if not ids:
                return None
            return self._read(ids, len(ids) == size)
        self._in_flight = list(batch.ids)  # from here a crash puts them back (run_once)
        if self._gentle() and len(batch.ids) > GENTLE_BATCH:
            rest, batch.ids = batch.ids[GENTLE_BATCH:], batch.ids[:GENTLE_BATCH]
            self.outbox.unclaim(rest)
            self._in_flight = list(batch.ids)
        return batch

    def _pass(self, read_ahead: bool = False) -> PassResult:
        batch = self._next_batch()
        if batch is None:
            return PassResult()
        ids, payloads, result = batch.ids, batch.payloads, batch.result
        if not ids:
            return result
        # Objections and ratings first, then recordings (each after its report), then reports.
        for picks, deliver in ((is_feedback_key, lambda keys, res: self._deliver_feedback(keys, payloads, res)),
                               (lambda tid: voice_of(tid) is not None, self._deliver_voices)):
            keys = [tid for tid in ids if picks(tid)]
            if not keys:
                continue
            result = deliver(keys, result)
            ids = [tid for tid in ids if not picks(tid)]
            if result.online is False:  # the central was not reached: the reports wait with them
                self.outbox.retry_later(ids, result.error or "the central was not reached")
                result.retried += len(ids)
            if result.online is False or not ids:
                self._in_flight = []
                return result
        return self._deliver(ids, payloads, result, read_ahead=read_ahead and batch.full)

    def _deliver_voices(self, keys: list[str], result: PassResult) -> PassResult:
        """Upload the claimed recordings one by one (each after its report, which the
        outbox saw to), settling each as it is answered: the central keeps a recording once
        per Tracking ID and hash, so one sent again after a crash is answered as before."""
        answered = False
        for index, key in enumerate(keys):
            tracking_id = voice_of(key)
            try:
                payload = self.reports.voice_payload(tracking_id)
            except UnreadableRecord as exc:
                result.failed += self.outbox.mark_failed({key: exc.reason})
                continue
            if payload is None:
                result.failed += self.outbox.mark_failed({key: "the recording itself is missing on this kiosk"})
                continue
            ogg, sha256 = payload
            try:
                self.client.put_voice(tracking_id, ogg, sha256)
            except RateLimited as exc:
                self.outbox.retry_later(keys[index:], str(exc), exc.retry_after)
                return self._offline(result, str(exc), len(keys) - index)
            except (CentralUnavailable, Unauthorized) as exc:
                self.outbox.retry_later(keys[index:], str(exc))
                return self._offline(result, str(exc), len(keys) - index)
            except TooLarge:
                result.failed += self.outbox.mark_failed({key: TOO_LARGE_ALONE})
            except Rejected as exc:  # 409: another recording under this report; 400: damaged on the way
                result.failed += self.outbox.mark_failed({key: f"recording refused: {exc}"})
                result.error = str(exc)
            else:
                result.sent += self.outbox.mark_sent([key])
            answered = True
            self.last_success_at = self.now()
        if answered:
            result.online = True
            self._central_answers()
        return result

    def _deliver_feedback(self, keys: list[str], payloads: dict, result: PassResult) -> PassResult:
        """Send the claimed objections and ratings in one call (they are small) and settle
        each, as reports are: the central records each key once, so a resend is harmless."""
        try:
            answers = self.client.send_feedback([payloads[key] for key in keys])
        except RateLimited as exc:
            self.outbox.retry_later(keys, str(exc), exc.retry_after)
            return self._offline(result, str(exc), len(keys))
        except (CentralUnavailable, Unauthorized) as exc:
            self.outbox.retry_later(keys, str(exc))
            return self._offline(result, str(exc), len(keys))
        except (Rejected, TooLarge) as exc:  # e.g. a central without /api/v1/feedback yet: the technician retries
            result.failed += self.outbox.mark_failed({key: f"refused: {exc}" for key in keys})
            result.error = str(exc)
        else:
            sent, failed = [], {}
            for key, answer in zip(keys, answers):
                if answer.key != key:
                    failed[key] = "central answered for another item"
                elif answer.outcome in ("created", "duplicate"):
                    sent.append(key)
                elif answer.outcome == "conflict":
                    failed[key] = "conflict: the central holds another item under this key"
                else:
                    failed[key] = "invalid: " + "; ".join(f"{e.field}: {e.problem}" for e in answer.errors)
            result.sent += self.outbox.mark_sent(sent)
            result.failed += self.outbox.mark_failed(failed)
        self.last_success_at = self.now()
        result.online = True
        self._central_answers()
        return result

    def _deliver(self, ids: list[str], payloads: dict[str, ReportIn], result: PassResult, *,
                 read_ahead: bool = False) -> PassResult:
        """Send the claimed ``ids`` and settle each one: in one batch, or, while something
        refuses the body as too large (413), in halves down to single reports (the size
        that went through is kept for the next claims). A report refused alone fails with
        the reason; when the central is not reached, what is left goes back to pending.
        ``read_ahead``: the next batch is claimed and read while the last POST is in flight."""
        size, start, answered = len(ids), 0, False
        while start < len(ids):
            chunk = ids[start:start + size]
            last = start + len(chunk) >= len(ids)
            try:
                answers = self._send(chunk, payloads, read_ahead=read_ahead and last and self._ahead is None)
            except TooLarge:
                if len(chunk) > 1:
                    size = self._send_limit = len(chunk) // 2
                    log.warning("a batch of %d reports was refused as too large (413): sending %d at a time",
                                len(chunk), size)
                else:
                    result.failed += self.outbox.mark_failed({chunk[0]: TOO_LARGE_ALONE})
                    start += 1
                continue
            except RateLimited as exc:
                self.outbox.retry_later(ids[start:], str(exc), exc.retry_after)
                return self._offline(result, str(exc), len(ids) - start)
            except (CentralUnavailable, Unauthorized) as exc:
                self.outbox.retry_later(ids[start:], str(exc))
                return self._offline(result, str(exc), len(ids) - start)
            except Rejected as exc:  # the central itself refused the batch: no retry can help
                result.failed += self.outbox.mark_failed({tid: str(exc) for tid in chunk})
                result.error = str(exc)
            else:
                self._settle(chunk, answers, result)
            answered = True
            self.last_success_at = self.now()
            start += len(chunk)
        self._in_flight = []
        if answered:
            result.online = True
            self._central_answers()
        log.info("sync pass: %d sent, %d failed", result.sent, result.failed)
        return result

    def _send(self, chunk: list[str], payloads: dict[str, ReportIn], *, read_ahead: bool) -> list:
        """POST ``chunk``; with ``read_ahead``, the POST goes on a thread of its own while
        this one claims and reads the next batch (kept for the next pass). The POST's
        answer or error comes back here either way; a failure to read ahead is logged and
        changes nothing (that batch is back to pending, later)."""
        reports = [payloads[tid] for tid in chunk]
        if not read_ahead or self._gentle():
            return self.client.send_reports(reports)
        outcome: dict[str, object] = {}

        def post() -> None:
            try:
                outcome["answers"] = self.client.send_reports(reports)
            except BaseException as exc:  # noqa: BLE001 - handed to the sync thread below
                outcome["error"] = exc

        poster = threading.Thread(target=post, name="sync-post", daemon=True)
        poster.start()
        try:
            size = self._claim_size()
            ahead_ids = self.outbox.claim(size)
            if ahead_ids:
                self._ahead = self._read(ahead_ids, len(ahead_ids) == size)
        except Exception as exc:  # noqa: BLE001 - the POST under way matters more
            log.error("the next batch could not be read ahead: %s", type(exc).__name__)
        finally:
            poster.join()  # the client's own timeout ends it
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["answers"]  # type: ignore[return-value]

    def _settle(self, ids: list[str], answers, result: PassResult) -> None:
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
        result.sent += self.outbox.mark_sent(sent)
        result.failed += self.outbox.mark_failed(failed)

    def _offline(self, result: PassResult, error: str, count: int) -> PassResult:
        self._in_flight, self._held_back = [], True
        self.release_ahead()  # the central is not reached: the next batch waits untried
        log.warning("sync pass failed: %s", error)
        result.online, result.error, result.retried = False, error, count
        return result

    def _central_answers(self) -> None:
        """The central answered: what waits out a backoff from an outage goes now."""
        if self._held_back:
            self.outbox.make_due_now()
            self._held_back = False

    # -- periodic tasks ----------------------------------------------------------------------
    def _task_worked(self, task: PeriodicTask) -> None:
        if task.online_only:  # housekeeping calls to the central: it answered
            self.last_success_at = self.now()

    def send_heartbeat(self) -> bool:
        """Run the heartbeat task now; False (logged, no personal data in it) when it could
        not be gathered or the central did not take it, or no heartbeat is scheduled."""
        return self.tasks.run_now(HEARTBEAT_TASK)

    def heartbeat_soon(self) -> None:
        """Send the heartbeat at the worker's next idle step instead of at its interval
        (a help call, and its end, reach the fleet view within seconds); from any thread."""
        if self.tasks.make_due(HEARTBEAT_TASK):
            self._wake.set()

    def heartbeat_if_due(self) -> bool | None:
        """Send the heartbeat when its interval has passed since the last try (successful
        or not); None when it was not due."""
        return self.tasks.run_if_due(HEARTBEAT_TASK)

    # -- the thread --------------------------------------------------------------------
    def start(self) -> None:
        """Deliver on a thread of its own. With the lock free it is taken and a crash's
        leftovers recovered at once; otherwise (``kiosk sync --once`` running) the thread
        waits for it first."""
        if self.hold_lock():
            self.recover()
        self._supervisor = threading.Thread(target=self._supervise, name="sync-supervisor", daemon=True)
        self._supervisor.start()

    @property
    def stopping(self) -> bool:
        """Has ``stop`` been asked? A long task checks it between its calls to the central,
        so that quitting the kiosk does not wait for the rest of its work."""
        return self._stop.is_set()

    def wake(self) -> None:
        """A new report was saved: try now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout)  # it joins the thread, which lets the lock go as it ends
        else:
            self.release_lock()  # held for a pass of ``kiosk sync --once``

    def _supervise(self) -> None:
        """Run the sync thread until ``stop``; when it dies (something got past every
        guard), log it and start it again: at once, then, if it keeps dying before it
        finishes a pass, after 1 s, 2 s, 4 s ... up to ``RESTART_MAX_S``."""
        deaths = 0
        while not self._stop.is_set():
            passes = self._passes
            thread = self._thread = threading.Thread(target=self._run_recorded, name="sync", daemon=True)
            try:
                thread.start()
            except RuntimeError as exc:  # no thread to be had right now
                log.error("sync thread not started: %s", type(exc).__name__)
                self._stop.wait(RESTART_MAX_S)
                continue
            thread.join()
            if self._stop.is_set():
                return
            self.restarts += 1
            deaths = 1 if self._passes > passes else deaths + 1
            delay = 0.0 if deaths == 1 else min(RESTART_MAX_S, 2.0 ** (deaths - 2))
            log.error("the sync thread died (%s): starting it again in %g s (restart %d)",
                      self.last_crash or "it ended", delay, self.restarts)
            self._stop.wait(delay)

    def _run_recorded(self) -> None:
        """The thread's body: whatever ends it is recorded (type and stack, never the
        message: it may quote a citizen) for the supervisor."""
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - recorded, then the supervisor restarts
            self.last_crash = type(exc).__name__
            log.error("sync thread died of %s\n%s", self.last_crash, "".join(traceback.format_tb(exc.__traceback__)))

    def _run(self) -> None:
        try:
            if self._wait_for_lock():
                self._loop()
        finally:
            self.release_ahead()  # stopped mid-backlog: what was read ahead waits, untried
            self.release_lock()

    def _wait_for_lock(self) -> bool:
        """Hold the lock (recovering once it is taken); False when stopped before that."""
        if self.lock is None or self.lock.held:
            return True
        holder = self.lock.holder()
        log.info("another delivery pass (%s) holds the delivery lock: waiting for it",
                 holder[1] if holder else "unknown")
        while not self._stop.wait(LOCK_POLL_S):
            if self.hold_lock():
                self.recover()
                return True
        return False

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                result = self.run_once(read_ahead=True)
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any bug
                log.error("sync pass crashed: %s", type(exc).__name__)
                result = PassResult(error=type(exc).__name__)
            self._passes += 1
            if result.sent or result.failed:
                if self._gentle():
                    self._stop.wait(GENTLE_PAUSE_S)  # the citizen's frames first; a stop ends the pause
                continue  # more may be due right away
            if self._stop.is_set():
                break  # asked to stop: no housekeeping on the way out
            try:
                self._between_passes()
            except Exception as exc:  # noqa: BLE001 - nor may housekeeping stop deliveries
                log.error("sync housekeeping crashed: %s", type(exc).__name__)
            self._wake.wait(self._idle_wait())
            self._wake.clear()

    def _between_passes(self) -> None:
        """The periodic tasks that are due (each run guarded by the schedule): housekeeping
        only when the central is not known to be offline, the heartbeat offline too (the
        central may be reachable again). When one of them found the central answering
        again, the backlog is due at once."""
        self.tasks.run_due(online=self.client.reachable is not False, stopping=self._stop.is_set)
        if self.client.reachable is False:
            self._held_back = True
        elif self.client.reachable:
            self._central_answers()

    def _idle_wait(self) -> float:
        """Seconds until the next entry is due, between 0.5 and ``IDLE_POLL_S``."""
        try:
            due = self.next_due()
        except Exception as exc:  # noqa: BLE001 - e.g. the database busy: poll again later
            log.error("next due time unknown: %s", type(exc).__name__)
            return IDLE_POLL_S
        return IDLE_POLL_S if due is None else max(0.5, min(IDLE_POLL_S, (due - self.now()).total_seconds()))
