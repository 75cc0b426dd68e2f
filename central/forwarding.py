"""The forwarding outbox (issue 15): one entry per (report, destination), and the only code
that writes an entry's ``state``. Every transition is one conditional UPDATE that says
whether it applied, so several worker processes on several machines share the table
without ever doing one step twice (docs/FORWARDING.md).

    pending --claim+begin_send--> sending --mark_sent--> sent   (a worker pulls its status)
       ^                            |  \\--mark_failed--> failed      (an admin: resend/confirm)
       |                            |   \\--mark_unconfirmed--> unconfirmed
       +------retry_later-----------+                                |
       +------found_nothing (look-up: the system has no such report)-+
                       sent <--mark_sent (look-up found it; an admin confirms)
    sending, claim expired (a worker died): pending where the destination is
    idempotent, else unconfirmed (the request may have left: never blindly resent).
    pending --route_again (the report's agency changed, its routes no longer name this
    destination)--> withdrawn --route_again (routed here again)--> pending

A worker claims entries (``claimed_by``, ``claim_expires``): due pending entries to send,
due unconfirmed entries to look up, due sent entries to pull their status. On PostgreSQL
the claim skips rows another worker is claiming (``FOR UPDATE SKIP LOCKED``); on SQLite
the one writer at a time makes the same conditional UPDATE safe.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import logging
from collections.abc import Iterable, Mapping

from sqlalchemy import and_, func, or_, select, update

from central.db import Database
from central.models import AuditEntry, ForwardingEntry
from kiosk.kernel.clock import utc_now

log = logging.getLogger(__name__)

T = ForwardingEntry.__table__
#: What an upstream system's reason may hold, at most (it never holds report text).
REASON_MAX = 300


class State(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    WITHDRAWN = "withdrawn"  # never sent, and no longer routed there (``route_again``)


#: States an admin may settle by hand (``confirm``, ``resend``).
ADMIN_STATES = (State.FAILED.value, State.UNCONFIRMED.value)
#: How ``confirmed_by`` says an entry became sent without an admin.
BY_ANSWER, BY_LOOK_UP = "answer", "look_up"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)


def _reason(text: str | None) -> str | None:
    return None if text is None else text[:REASON_MAX]


def _new_entry(tracking_id: str, name: str, kind: str, now: dt.datetime) -> ForwardingEntry:
    return ForwardingEntry(tracking_id=tracking_id, destination=name, kind=kind, state=State.PENDING.value,
                           attempts=0, next_attempt_at=_utc(now), unconfirmed_times=0, created_at=_utc(now),
                           updated_at=_utc(now))


def enqueue(session, tracking_id: str, routed: Iterable[tuple[str, str]], now: dt.datetime) -> int:
    """In the report's own transaction (``central.service.add_report``): a pending entry,
    due now, for each (destination name, type) the report is routed to."""
    n = 0
    for name, kind in routed:
        session.add(_new_entry(tracking_id, name, kind, now))
        n += 1
    return n


def route_again(session, tracking_id: str, routed: Iterable[tuple[str, str]], now: dt.datetime, *,
                withdraw: bool, idempotent: Iterable[str] = (), reason: str = "") -> tuple[list[str], list[str]]:
    """Inside the report's transaction, when its routes may name other destinations than
    when it came in (its agency changed: ``central.lifecycle.apply``; a destination was
    added: ``python -m central forwarding backfill``): a routed destination without an
    entry gets a pending one, and a withdrawn one is pending again. With ``withdraw``, a
    pending entry of a destination no longer routed becomes withdrawn (``reason``), unless
    the report may be there already: an ``idempotent`` destination after an attempt whose
    answer was lost, where the resend is how its number is learnt. An entry being sent,
    sent, failed or unconfirmed is left as it is: what left cannot be called back. The
    entries are locked first, so a worker's ``begin_send`` either came before (the entry
    is sending, and kept) or finds it withdrawn (nothing is sent). Returns the names added
    and the names withdrawn."""
    routed = dict(routed)
    rows = {row.destination: row for row in session.scalars(
        select(ForwardingEntry).where(ForwardingEntry.tracking_id == tracking_id)
        .order_by(ForwardingEntry.id).with_for_update())}
    added: list[str] = []
    withdrawn: list[str] = []
    for name, kind in routed.items():
        row = rows.get(name)
        if row is None:
            session.add(_new_entry(tracking_id, name, kind, now))
            added.append(name)
        elif row.state == State.WITHDRAWN.value:
            row.state, row.next_attempt_at, row.updated_at = State.PENDING.value, _utc(now), _utc(now)
            row.last_reason = _reason(reason) if reason else None
            added.append(name)
    if withdraw:
        for name, row in rows.items():
            if name in routed or row.state != State.PENDING.value or (row.attempts and name in set(idempotent)):
                continue
            row.state, row.next_attempt_at, row.updated_at = State.WITHDRAWN.value, None, _utc(now)
            row.claimed_by = row.claim_expires = None
            row.last_reason = _reason(reason) if reason else None
            withdrawn.append(name)
    if added or withdrawn:
        log.info("forwarding routed again: %d entries added, %d withdrawn", len(added), len(withdrawn))
    return added, withdrawn


@dataclasses.dataclass(frozen=True)
class Claimed:
    """An entry a worker holds: what to do with it follows from ``state``."""

    id: int
    tracking_id: str
    destination: str
    state: str
    attempts: int
    upstream_id: str | None


class Outbox:
    """One worker's hands on the table: ``worker`` names it in ``claimed_by``; every
    transition of an entry it holds checks that it still does."""

    def __init__(self, db: Database, worker: str, claim_ttl: dt.timedelta):
        self.db, self.worker, self.claim_ttl = db, worker, claim_ttl

    def _update(self, entry_id: int, where, now: dt.datetime, **values) -> bool:
        with self.db.session() as session, session.begin():
            done = session.execute(update(T).where(T.c.id == entry_id, *where)
                                   .values(updated_at=_utc(now), **values)).rowcount
        return done == 1

    def _mine(self, state: State):
        return (T.c.state == state.value, T.c.claimed_by == self.worker)

    # -- claiming ------------------------------------------------------------------------
    def recover(self, now: dt.datetime, idempotent: set[str], look_after: dt.timedelta) -> int:
        """Entries left ``sending`` by a worker whose claim expired (killed, or its machine
        gone): the request may have left. Back to pending where the destination recognises
        a resend; else unconfirmed, looked up after ``look_after``. Returns how many."""
        expired = and_(T.c.state == State.SENDING.value, T.c.claim_expires < _utc(now))
        reason = "the worker sending it stopped before the answer came (the report may be there)"
        with self.db.session() as session, session.begin():
            back = session.execute(update(T).where(expired, T.c.destination.in_(sorted(idempotent))).values(
                state=State.PENDING.value, claimed_by=None, claim_expires=None, next_attempt_at=_utc(now),
                last_reason=reason, updated_at=_utc(now))).rowcount if idempotent else 0
            unsure = session.execute(update(T).where(expired).values(
                state=State.UNCONFIRMED.value, claimed_by=None, claim_expires=None,
                next_attempt_at=_utc(now + look_after), unconfirmed_times=T.c.unconfirmed_times + 1,
                last_reason=reason, updated_at=_utc(now))).rowcount
        if back or unsure:
            log.warning("%d entries left sending by a stopped worker: %d to send again, %d unconfirmed", back + unsure,
                        back, unsure)
        return back + unsure

    def claim(self, limit: int, now: dt.datetime, destinations: Iterable[str]) -> list[Claimed]:
        """Up to ``limit`` due entries of these destinations no live worker holds, oldest
        due first: pending (to send), unconfirmed (to look up), sent (to pull its status)."""
        now = _utc(now)
        due = and_(T.c.state.in_([State.PENDING.value, State.UNCONFIRMED.value, State.SENT.value]),
                   T.c.next_attempt_at <= now, T.c.destination.in_(sorted(destinations)),
                   or_(T.c.claimed_by.is_(None), T.c.claim_expires < now))
        pick = select(T.c.id).where(due).order_by(T.c.next_attempt_at, T.c.id).limit(limit) \
            .with_for_update(skip_locked=True)
        with self.db.session() as session, session.begin():
            rows = session.execute(update(T).where(T.c.id.in_(pick.scalar_subquery()), due)
                                   .values(claimed_by=self.worker, claim_expires=now + self.claim_ttl)
                                   .returning(T.c.id, T.c.tracking_id, T.c.destination, T.c.state, T.c.attempts,
                                              T.c.upstream_id)).all()
        return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)

    # -- sending -------------------------------------------------------------------------
    def begin_send(self, entry_id: int, now: dt.datetime) -> bool:
        """pending (held by this worker) -> sending, one attempt more, the claim renewed for
        the request: False when another worker took it meanwhile (nothing is sent)."""
        return self._update(entry_id, self._mine(State.PENDING), now, state=State.SENDING.value,
                            attempts=T.c.attempts + 1, claim_expires=_utc(now) + self.claim_ttl)

    def mark_sent(self, entry_id: int, upstream_id: str, extra: Mapping[str, str], now: dt.datetime, *,
                  how: str, next_pull: dt.datetime | None) -> bool:
        """The system holds the report: sending (this worker's) or unconfirmed -> sent, with
        its number. An answer is the truth whoever holds an unconfirmed entry now."""
        where = or_(and_(*self._mine(State.SENDING)), T.c.state == State.UNCONFIRMED.value)
        return self._update(entry_id, (where,), now, state=State.SENT.value, upstream_id=upstream_id[:64],
                            extra=json.dumps(dict(extra), sort_keys=True) if extra else None, confirmed_by=how,
                            claimed_by=None, claim_expires=None, sent_at=_utc(now), last_reason=None,
                            next_attempt_at=_utc(next_pull) if next_pull else None)

    def retry_later(self, entry_id: int, reason: str, due: dt.datetime, now: dt.datetime) -> bool:
        """sending -> pending, due at ``due`` (a backoff, or the system's Retry-After)."""
        return self._update(entry_id, self._mine(State.SENDING), now, state=State.PENDING.value,
                            next_attempt_at=_utc(due), last_reason=_reason(reason), claimed_by=None,
                            claim_expires=None)

    def mark_failed(self, entry_id: int, reason: str, now: dt.datetime) -> bool:
        """sending -> failed: the system refused it for good; an admin decides."""
        return self._update(entry_id, self._mine(State.SENDING), now, state=State.FAILED.value,
                            next_attempt_at=None, last_reason=_reason(reason), claimed_by=None, claim_expires=None)

    def mark_unconfirmed(self, entry_id: int, reason: str, look_at: dt.datetime, now: dt.datetime) -> bool:
        """sending -> unconfirmed: the answer was lost; looked up from ``look_at``."""
        return self._update(entry_id, self._mine(State.SENDING), now, state=State.UNCONFIRMED.value,
                            next_attempt_at=_utc(look_at), last_reason=_reason(reason), claimed_by=None,
                            claim_expires=None, unconfirmed_times=T.c.unconfirmed_times + 1)

    # -- reconciling ---------------------------------------------------------------------
    def found_nothing(self, entry_id: int, now: dt.datetime) -> bool:
        """unconfirmed (held) -> pending, due now: the system says it has no such report,
        so the request that lost its answer never arrived, and a resend is safe."""
        return self._update(entry_id, self._mine(State.UNCONFIRMED), now, state=State.PENDING.value,
                            next_attempt_at=_utc(now), claimed_by=None, claim_expires=None,
                            last_reason="not found upstream after a lost answer: sent again")

    def stay_unconfirmed(self, entry_id: int, reason: str, next_look: dt.datetime | None, now: dt.datetime) -> bool:
        """unconfirmed (held) stays so: looked up again at ``next_look``, or never (None:
        the system cannot be asked; an admin confirms or resends)."""
        return self._update(entry_id, self._mine(State.UNCONFIRMED), now, claimed_by=None, claim_expires=None,
                            last_reason=_reason(reason), next_attempt_at=_utc(next_look) if next_look else None)

    # -- status pulls --------------------------------------------------------------------
    def pulled(self, entry_id: int, next_pull: dt.datetime | None, now: dt.datetime, reason: str | None = None) -> bool:
        """A sent entry's status pull is over: released, pulled again at ``next_pull``."""
        return self._update(entry_id, self._mine(State.SENT), now, claimed_by=None, claim_expires=None,
                            next_attempt_at=_utc(next_pull) if next_pull else None, last_reason=_reason(reason))


# -- an admin's hand ---------------------------------------------------------------------
class NotApplicable(ValueError):
    """The admin's request does not apply: no such entry, or it is not failed/unconfirmed."""


def _admin(db: Database, tracking_id: str, destination: str, actor: str, address: str, event: str,
           detail: str, now: dt.datetime, **values) -> None:
    with db.session() as session, session.begin():
        done = session.execute(update(T).where(
            T.c.tracking_id == tracking_id, T.c.destination == destination, T.c.state.in_(ADMIN_STATES))
            .values(updated_at=now, claimed_by=None, claim_expires=None, **values)).rowcount
        if not done:
            state = session.scalar(select(T.c.state).where(T.c.tracking_id == tracking_id,
                                                           T.c.destination == destination))
            raise NotApplicable(f"report {tracking_id} has no entry for {destination}" if state is None else
                                f"the entry for {destination} is {state}: only a failed or unconfirmed one can be "
                                "confirmed or sent again")
        session.add(AuditEntry(at=now, officer_name=actor, event=event, tracking_id=tracking_id, address=address,
                               detail=detail[:200]))
    log.info("forwarding entry settled by an admin: %s", event)


def confirm(db: Database, tracking_id: str, destination: str, upstream_id: str, *, actor: str, address: str,
            next_pull: dt.datetime | None = None) -> None:
    """An admin found the report upstream: failed/unconfirmed -> sent with its number."""
    upstream_id = upstream_id.strip()
    if not upstream_id or len(upstream_id) > 64 or not upstream_id.isprintable():
        raise NotApplicable("the upstream number is empty, too long or not printable")
    now = utc_now()
    _admin(db, tracking_id, destination, actor, address, "forwarding_confirmed", f"{destination} {upstream_id}", now,
           state=State.SENT.value, upstream_id=upstream_id, confirmed_by=actor[:100], sent_at=now,
           last_reason=None, next_attempt_at=next_pull or now)


def resend(db: Database, tracking_id: str, destination: str, *, actor: str, address: str) -> None:
    """An admin knows the system does not hold the report: failed/unconfirmed -> pending, due now."""
    now = utc_now()
    _admin(db, tracking_id, destination, actor, address, "forwarding_resent", destination, now,
           state=State.PENDING.value, next_attempt_at=now, last_reason=f"sent again by {actor}"[:REASON_MAX])


# -- reading -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EntryView:
    """An entry as officers and the CLI see it: never the report's text."""

    tracking_id: str
    destination: str
    kind: str
    state: str
    attempts: int
    last_reason: str | None
    upstream_id: str | None
    extra: dict
    confirmed_by: str | None
    unconfirmed_times: int
    created_at: dt.datetime
    updated_at: dt.datetime
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime | None

    @property
    def admin_may_settle(self) -> bool:
        return self.state in ADMIN_STATES


def _view(row: ForwardingEntry) -> EntryView:
    return EntryView(row.tracking_id, row.destination, row.kind, row.state, row.attempts, row.last_reason,
                     row.upstream_id, json.loads(row.extra) if row.extra else {}, row.confirmed_by,
                     row.unconfirmed_times, row.created_at, row.updated_at, row.sent_at, row.next_attempt_at)


def entries_of(db: Database, tracking_id: str) -> list[EntryView]:
    with db.session() as session:
        rows = session.scalars(select(ForwardingEntry).where(ForwardingEntry.tracking_id == tracking_id)
                               .order_by(ForwardingEntry.id)).all()
    return [_view(r) for r in rows]


def waiting(db: Database) -> list[EntryView]:
    """Every entry not sent, oldest first (``python -m central forwarding``); a withdrawn
    one waits for nothing."""
    with db.session() as session:
        rows = session.scalars(select(ForwardingEntry).where(ForwardingEntry.state != State.SENT.value,
                                                             ForwardingEntry.state != State.WITHDRAWN.value)
                               .order_by(ForwardingEntry.created_at, ForwardingEntry.id)).all()
    return [_view(r) for r in rows]


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return dict(session.execute(select(T.c.state, func.count()).group_by(T.c.state)).all())


def upstream_number(session, tracking_id: str, kind: str = "lapor") -> str | None:
    """The number a system of ``kind`` gave the report (the citizen's "Nomor LAPOR!"),
    once it holds it; None before."""
    return session.scalar(select(T.c.upstream_id).where(
        T.c.tracking_id == tracking_id, T.c.kind == kind, T.c.state == State.SENT.value).order_by(T.c.id).limit(1))
