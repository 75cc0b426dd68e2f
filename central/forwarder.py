"""``python -m central forward``: the worker that hands reports to their upstream systems
(docs/FORWARDING.md). Any number of them, on any number of machines, share the outbox
(``central.forwarding``): each pass recovers entries a dead worker left sending, claims a
batch of due entries and does what each one's state asks:

- pending: one attempt (``Destination.send``), settled by its outcome: sent; again after
  a backoff with full jitter (or the system's Retry-After); failed; unconfirmed;
- unconfirmed: ``Destination.look_up``: found -> sent with its number; nothing there ->
  pending, sent again at once; LookUpUnsupported -> left for an admin; no answer -> later;
- sent: ``Destination.updates``: each new upstream step into the report's timeline, once.

Nothing here logs a report's text, a reporter's identity or a Tracking ID.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import random
import socket
import threading

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from central import lifecycle
from central.cli_common import loop
from central.db import Database
from central.destinations import (Delivered, Destination, LookUpUnsupported, Outgoing, Refused, TryLater, Unknown,
                                  UpstreamEvent)
from central.forwarding import BY_ANSWER, BY_LOOK_UP, Claimed, Outbox, State
from central.forwarding_config import ForwardingConfig
from central.models import ForwardingEvent, Report
from kiosk.kernel.clock import utc_now

log = logging.getLogger(__name__)

#: A report in one of these is done here: its status is no longer pulled from upstream.
FINISHED = ("closed", "archived", "rejected")
#: The longest Retry-After honoured as given (a longer one waits this long).
RETRY_AFTER_MAX_S = 24 * 3600.0


@dataclasses.dataclass(frozen=True)
class Settings:
    batch: int = 10
    claim_ttl_s: float = 120.0  # must outlast the longest request
    backoff_base_s: float = 5.0
    backoff_cap_s: float = 3600.0
    #: How long an entry stays unconfirmed before it is looked up (a request still on its
    #: way must have arrived), and again after a look-up that could not be asked.
    look_after_s: float = 60.0
    pull_every_s: float | None = 900.0  # None: never pull statuses


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{random.randrange(16 ** 4):04x}"


def outgoing(report: Report) -> Outgoing:
    return Outgoing(tracking_id=report.tracking_id, body=json.loads(report.body), kind=report.kind,
                    category_code=report.category_code, agency_code=report.agency_code,
                    kecamatan_code=report.kecamatan_code, confidential=report.confidential,
                    anonymous=report.anonymous, channel=report.channel, received_at=report.received_at,
                    public_id=report.open311_id or "")


class Forwarder:
    def __init__(self, db: Database, config: ForwardingConfig, settings: Settings = Settings(), *,
                 name: str | None = None, rng: random.Random | None = None, clock=utc_now):
        self.db, self.config, self.settings = db, config, settings
        self.name = name or worker_name()
        self.outbox = Outbox(db, self.name, dt.timedelta(seconds=settings.claim_ttl_s))
        self.rng = rng or random.Random()
        self.clock = clock
        self.idempotent = {n for n, d in config.destinations.items() if d.idempotent}

    # -- timing ----------------------------------------------------------------------------
    def backoff(self, attempts: int) -> float:
        """Full jitter: uniform between 0 and base * 2^(attempts-1), capped."""
        ceiling = min(self.settings.backoff_cap_s, self.settings.backoff_base_s * 2 ** max(0, attempts - 1))
        return self.rng.uniform(0, ceiling)

    def _later(self, now: dt.datetime, seconds: float) -> dt.datetime:
        return now + dt.timedelta(seconds=seconds)

    def _next_pull(self, now: dt.datetime, destination: Destination) -> dt.datetime | None:
        if self.settings.pull_every_s is None:
            return None
        return self._later(now, self.settings.pull_every_s)

    # -- one pass ----------------------------------------------------------------------------
    def run_once(self) -> int:
        """Recover, claim one batch, handle it; the number of entries handled (0: none due)."""
        now = self.clock()
        self.outbox.recover(now, self.idempotent, dt.timedelta(seconds=self.settings.look_after_s))
        claimed = self.outbox.claim(self.settings.batch, now, self.config.destinations)
        for entry in claimed:
            try:
                self.handle(entry)
            except Exception as exc:  # one entry's surprise must not stop the others: its claim expires
                log.error("forwarding entry %d to %s: %s", entry.id, entry.destination, type(exc).__name__,
                          exc_info=log.isEnabledFor(logging.DEBUG))
        return len(claimed)

    def handle(self, entry: Claimed) -> None:
        destination = self.config.destinations[entry.destination]
        with self.db.session() as session:
            report = session.get(Report, entry.tracking_id)
            finished = report.status in FINISHED
            sending = outgoing(report)
        if entry.state == State.PENDING.value:
            self._send(entry, destination, sending)
        elif entry.state == State.UNCONFIRMED.value:
            self._reconcile(entry, destination, sending)
        elif entry.state == State.SENT.value:
            self._pull(entry, destination, finished)

    def _send(self, entry: Claimed, destination: Destination, report: Outgoing) -> None:
        if not self.outbox.begin_send(entry.id, self.clock()):
            return  # another worker took it meanwhile
        outcome = destination.send(report)
        now = self.clock()
        attempts = entry.attempts + 1
        if isinstance(outcome, Delivered):
            self.outbox.mark_sent(entry.id, outcome.upstream_id, outcome.extra, now, how=BY_ANSWER,
                                  next_pull=self._next_pull(now, destination))
            log.info("forwarding entry %d to %s: sent (attempt %d)", entry.id, entry.destination, attempts)
        elif isinstance(outcome, TryLater):
            wait = min(outcome.retry_after, RETRY_AFTER_MAX_S) if outcome.retry_after is not None \
                else self.backoff(attempts)
            self.outbox.retry_later(entry.id, outcome.reason, self._later(now, wait), now)
            log.info("forwarding entry %d to %s: again in %.1f s (attempt %d): %s", entry.id, entry.destination, wait,
                     attempts, outcome.reason)
        elif isinstance(outcome, Refused):
            self.outbox.mark_failed(entry.id, outcome.reason, now)
            log.warning("forwarding entry %d to %s: failed: %s", entry.id, entry.destination, outcome.reason)
        elif isinstance(outcome, Unknown) and destination.idempotent:
            self.outbox.retry_later(entry.id, outcome.reason, self._later(now, self.backoff(attempts)), now)
            log.info("forwarding entry %d to %s: answer lost, sent again (idempotent): %s", entry.id,
                     entry.destination, outcome.reason)
        else:
            reason = outcome.reason if isinstance(outcome, Unknown) else f"an outcome of {type(outcome).__name__}"
            self.outbox.mark_unconfirmed(entry.id, reason, self._later(now, self.settings.look_after_s), now)
            log.warning("forwarding entry %d to %s: unconfirmed: %s", entry.id, entry.destination, reason)

    def _reconcile(self, entry: Claimed, destination: Destination, report: Outgoing) -> None:
        try:
            found = destination.look_up(report)
        except LookUpUnsupported as exc:
            self.outbox.stay_unconfirmed(entry.id, f"cannot be looked up ({exc}): an admin confirms or resends",
                                         None, self.clock())
            log.warning("forwarding entry %d to %s: unconfirmed, for an admin: %s", entry.id, entry.destination, exc)
            return
        except Exception as exc:  # OSError, requests.RequestException: not asked now
            now = self.clock()
            self.outbox.stay_unconfirmed(entry.id, f"look-up failed ({type(exc).__name__}): tried again later",
                                         self._later(now, max(self.settings.look_after_s, self.backoff(entry.attempts))),
                                         now)
            log.info("forwarding entry %d to %s: look-up failed (%s)", entry.id, entry.destination, type(exc).__name__)
            return
        now = self.clock()
        if found is None:
            self.outbox.found_nothing(entry.id, now)
            log.info("forwarding entry %d to %s: not there after a lost answer: sent again", entry.id, entry.destination)
        else:
            self.outbox.mark_sent(entry.id, found.upstream_id, found.extra, now, how=BY_LOOK_UP,
                                  next_pull=self._next_pull(now, destination))
            log.info("forwarding entry %d to %s: found upstream after a lost answer: sent", entry.id, entry.destination)

    def _pull(self, entry: Claimed, destination: Destination, finished: bool) -> None:
        since = self._last_step(entry.id)
        try:
            events = destination.updates(entry.upstream_id or "", since)
        except Exception as exc:  # not asked now: next time
            now = self.clock()
            self.outbox.pulled(entry.id, self._next_pull(now, destination), now,
                               reason=f"status pull failed ({type(exc).__name__})")
            return
        recorded = sum(self.record(entry, event) for event in events)
        now = self.clock()
        with self.db.session() as session:
            finished = session.get(Report, entry.tracking_id).status in FINISHED
        self.outbox.pulled(entry.id, None if finished else self._next_pull(now, destination), now)
        if recorded:
            log.info("forwarding entry %d to %s: %d upstream steps recorded", entry.id, entry.destination, recorded)

    def _last_step(self, entry_id: int) -> dt.datetime | None:
        with self.db.session() as session:
            return session.scalar(select(func.max(ForwardingEvent.at)).where(ForwardingEvent.entry_id == entry_id))

    def record(self, entry: Claimed, event: UpstreamEvent) -> bool:
        """One upstream step into the report's timeline, once: its ``forwarding_events`` row
        and its report event in one transaction (a repeat finds the row, or the key refuses
        it). The actor is the destination's name."""
        now = self.clock()
        try:
            with self.db.session() as session, session.begin():
                seen = session.get(ForwardingEvent, (entry.id, event.event_id[:128]))
                if seen is not None:
                    return False
                session.add(ForwardingEvent(entry_id=entry.id, event_id=event.event_id[:128],
                                            at=event.at.astimezone(dt.timezone.utc), recorded_at=now))
                session.flush()
                report = session.get(Report, entry.tracking_id, with_for_update=True)
                reply, note = event.public_reply or None, event.note or ""
                if reply and report.confidential:  # never public for a confidential report: the officers read it
                    reply, note = None, f"{note}\n{entry.destination}: {event.public_reply}".strip()
                lifecycle.upstream_step(session, report, event.status, actor=entry.destination, note=note,
                                        reply=reply, now=now, calendar=self.db.calendar, sms=self.db.sms)
        except IntegrityError:
            return False  # recorded meanwhile
        return True

    # -- the loop ----------------------------------------------------------------------------
    def drain(self) -> int:
        """``--once``: passes until nothing is due now; the number of entries handled."""
        total = passes = 0
        while (handled := self.run_once()) and passes < 10_000:  # a Retry-After of 0, forever: not forever
            total, passes = total + handled, passes + 1
        return total

    def run(self, stop: threading.Event, poll_interval_s: float) -> None:
        """Until ``stop`` is set (SIGTERM): a pass, then, when nothing was due, a wait."""
        log.info("forwarding worker %s started: %s", self.name, ", ".join(self.config.destinations))
        loop(self.run_once, stop, poll_interval_s, log=log, what="forwarding")
        log.info("forwarding worker %s stopped", self.name)
