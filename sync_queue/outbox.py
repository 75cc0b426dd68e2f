"""The outbox: one entry per report, objection or rating still to be delivered to the central.

:class:`Outbox` is the one owner of an entry's state, as litequeue's queue is of its
messages: every transition is one named method that says whether (or to how many
entries) it applied, and nobody else reads or writes the ``state`` column.

    pending --claim--> sending --mark_sent--> sent
       ^                 |  |
       |   retry_later --+  +--mark_failed--> failed
       +----------- recover (a crash) / retry_failed (the technician) ------+

The entry is written in the same transaction as its report (:meth:`Outbox.enqueue` takes
the caller's session); everything else runs in a transaction of its own, opened with
``BEGIN IMMEDIATE`` by the kiosk's engine. Built from what this layer may know: an
SQLAlchemy engine and a clock, never the kiosk core (which hooks into :meth:`Outbox.mark_sent`
to forget the reporter's name and phone in the same transaction).

An entry has a ``kind``: ``report`` (keyed by its Tracking ID), or ``objection`` /
``rating`` (the citizen's answer to an answer, keyed by its feedback key: 32 hex digits,
``kiosk.kernel.wire.is_feedback_key``; no Tracking ID of its own). Every method takes and
gives these keys; the worker tells the kinds apart by the key. A ``voice`` entry uploads a
report's recorded complaint once the report's own entry is ``sent`` (:meth:`Outbox.claim`
takes it no sooner); its key is the Tracking ID with :data:`VOICE_SUFFIX` (:func:`voice_key`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import random
from typing import Callable

from sqlalchemy import ForeignKey, Index, Integer, Select, String, and_, exists, func, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from kiosk.kernel.clock import utc_now
from kiosk.kernel.storage import Base, UtcDateTime, reading
from sync_queue.lock import DeliveryLock, LockNotHeld

log = logging.getLogger(__name__)

BASE_DELAY_S = 5.0
MAX_DELAY_S = 600.0
#: An entry last scheduled more than this far ahead of now was scheduled by a wall clock
#: that was ahead and has been set back since: :meth:`Outbox.claim` takes it now instead
#: of waiting for the wrong time to come round again (a day, for a clock a day ahead).
SCHEDULED_AHEAD_S = 60.0
#: ``last_error`` keeps this many characters.
ERROR_MAX = 500
#: A ``voice`` entry's key: its report's Tracking ID and this.
VOICE_SUFFIX = "/voice"


def voice_key(tracking_id: str) -> str:
    """The key of the entry that uploads ``tracking_id``'s recorded complaint."""
    return tracking_id + VOICE_SUFFIX


def voice_of(key: str) -> str | None:
    """The Tracking ID a ``voice`` entry's key names; None for any other key."""
    return key[:-len(VOICE_SUFFIX)] if key.endswith(VOICE_SUFFIX) else None


class OutboxState(enum.StrEnum):
    """Where an entry is. A ``StrEnum``: compares equal to, and prints as, its word."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


#: Not yet confirmed by the central system (failed ones wait for the technician).
WAITING = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED)


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),
                      Index("ix_outbox_feedback_key", "feedback_key", unique=True),
                      Index("ix_outbox_voice_of", "voice_of", unique=True))
    __mapper_args__ = {"eager_defaults": False}  # no RETURNING of the server defaults below

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str | None] = mapped_column(String(14), ForeignKey("reports.tracking_id"), unique=True,
                                                    nullable=True)  # kind report
    # Server-side defaults only: a report's INSERT names neither column, so it is the same
    # statement as before kiosk store 0005 (a store still at 0004 until it is opened again).
    kind: Mapped[str] = mapped_column(String(16), server_default="report")  # report | objection | rating
    #: kinds objection, rating: the kiosk core's ``feedback`` row (named, not imported: this layer is below it)
    feedback_key: Mapped[str | None] = mapped_column(String(32), ForeignKey("feedback.key", name="fk_outbox_feedback_key"),
                                                     nullable=True, server_default=text("NULL"))
    #: kind voice: the kiosk core's ``voice_notes`` row (its report's Tracking ID)
    voice_of: Mapped[str | None] = mapped_column(String(14), ForeignKey("voice_notes.tracking_id", name="fk_outbox_voice_of"),
                                                 nullable=True, server_default=text("NULL"))
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


@dataclasses.dataclass(frozen=True)
class OutboxItem:
    """One entry as ``kiosk queue`` and the admin screen list it (a copy: changing it
    changes nothing in the outbox)."""

    tracking_id: str
    state: OutboxState
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    kind: str = "report"  # objection, rating: ``tracking_id`` holds the feedback key; voice: ``<Tracking ID>/voice``


@dataclasses.dataclass(frozen=True)
class QueueFigures:
    """What the heartbeat says about the outbox: numbers and times, never an ID."""

    depth: int  # waiting, failed included (as ``kiosk queue`` counts)
    failed: int
    oldest_waiting_at: dt.datetime | None  # created_at of the oldest waiting entry
    last_sent_at: dt.datetime | None  # when the central last confirmed a report


#: Called inside :meth:`Outbox.mark_sent`'s transaction with the IDs it marked sent.
OnDelivered = Callable[[Connection, list[str]], None]


def backoff_seconds(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng() * ceiling / 2


#: An entry's key: its Tracking ID, its feedback key, or its report's Tracking ID and "/voice".
_KEY = func.coalesce(OutboxEntry.feedback_key, OutboxEntry.voice_of + VOICE_SUFFIX, OutboxEntry.tracking_id)


def _keyed(keys: list[str]):
    """The entries of these keys (each column by its own unique index)."""
    voices = [tid for tid in map(voice_of, keys) if tid is not None]
    return or_(OutboxEntry.tracking_id.in_(keys), OutboxEntry.feedback_key.in_(keys), OutboxEntry.voice_of.in_(voices))


def _state_query(tracking_id: str) -> Select:
    return select(OutboxEntry.state).where(OutboxEntry.tracking_id == tracking_id)


class Outbox:
    """The only reader and writer of outbox state. ``now`` stamps every transition;
    ``rng`` jitters the backoff; ``on_delivered`` runs in :meth:`mark_sent`'s transaction."""

    def __init__(self, engine: Engine, *, now: Callable[[], dt.datetime] = utc_now,
                 rng: Callable[[], float] = random.random, on_delivered: OnDelivered | None = None):
        self.engine, self.now, self.rng, self.on_delivered = engine, now, rng, on_delivered

    # -- transitions ---------------------------------------------------------------------
    @staticmethod
    def enqueue(session: Session, tracking_id: str, now: dt.datetime) -> bool:
        """A new entry, ``pending`` and due at once, inside the caller's transaction (the
        one that writes its report: both or neither). True; the insert fails loudly
        (at flush or commit) when there is no such report or it is queued already."""
        session.add(OutboxEntry(
            tracking_id=tracking_id, state=OutboxState.PENDING.value, attempts=0,
            next_attempt_at=now, created_at=now, updated_at=now,
        ))
        return True

    @staticmethod
    def enqueue_feedback(session: Session, key: str, kind: str, now: dt.datetime) -> bool:
        """A new ``objection`` or ``rating`` entry for the feedback row ``key``, inside the
        caller's transaction (the one that writes the row)."""
        session.add(OutboxEntry(
            tracking_id=None, kind=kind, feedback_key=key, state=OutboxState.PENDING.value, attempts=0,
            next_attempt_at=now, created_at=now, updated_at=now,
        ))
        return True

    @staticmethod
    def enqueue_voice(session: Session, tracking_id: str, now: dt.datetime) -> bool:
        """A new ``voice`` entry for the recording of ``tracking_id`` (its ``voice_notes``
        row), inside the transaction that writes the report: claimed once the report is sent."""
        session.add(OutboxEntry(
            tracking_id=None, kind="voice", voice_of=tracking_id, state=OutboxState.PENDING.value, attempts=0,
            next_attempt_at=now, created_at=now, updated_at=now,
        ))
        return True

    def recover(self, lock: DeliveryLock | None = None) -> int:
        """Entries a crash left ``sending`` go back to ``pending``; how many. With the data
        directory's delivery ``lock`` (the app's worker, ``kiosk sync --once``), only while
        holding it: an entry is ``sending`` then only because its sender died, never because
        another live process is sending it (raises :class:`LockNotHeld` otherwise)."""
        if lock is not None and not lock.held:
            raise LockNotHeld("recover() needs the delivery lock: another process may be sending")
        with self.engine.begin() as conn:
            count = conn.execute(
                update(OutboxEntry).where(OutboxEntry.state == OutboxState.SENDING.value)
                .values(state=OutboxState.PENDING.value)
            ).rowcount
        if count:
            log.info("%d outbox entries were left sending by a crash: pending again", count)
        return count

    def claim(self, limit: int) -> list[str]:
        """Mark up to ``limit`` due ``pending`` entries ``sending`` in one statement;
        their Tracking IDs, oldest entry first (empty: nothing was due).

        Also due: an entry scheduled (``updated_at``) more than :data:`SCHEDULED_AHEAD_S`
        in the future, i.e. while the wall clock was ahead; it was corrected since. Its
        own ``next_attempt_at`` cannot be trusted, while a long Retry-After given by a
        right clock still is."""
        now = self.now()
        report = aliased(OutboxEntry)
        report_sent = exists().where(report.tracking_id == OutboxEntry.voice_of, report.state == OutboxState.SENT.value)
        due = (
            select(OutboxEntry.id)
            .where(OutboxEntry.state == OutboxState.PENDING.value,
                   or_(OutboxEntry.next_attempt_at <= now,
                       OutboxEntry.updated_at > now + dt.timedelta(seconds=SCHEDULED_AHEAD_S)),
                   or_(OutboxEntry.voice_of.is_(None), report_sent))  # a recording after its report
            .order_by(OutboxEntry.id).limit(limit)
        )
        with self.engine.begin() as conn:  # BEGIN IMMEDIATE: one writer at a time
            rows = conn.execute(
                update(OutboxEntry).where(OutboxEntry.id.in_(due.scalar_subquery()))
                .values(state=OutboxState.SENDING.value, updated_at=now)
                .returning(OutboxEntry.id, _KEY)
            ).all()
        return [key for _id, key in sorted(rows)]

    def mark_sent(self, tracking_ids: list[str]) -> int:
        """The central confirmed these: ``sending`` -> ``sent``, and ``on_delivered`` in the
        same transaction. How many were ``sending`` (only those change, and only those
        reach the hook)."""
        if not tracking_ids:
            return 0
        now = self.now()
        with self.engine.begin() as conn:
            applied = conn.execute(
                update(OutboxEntry)
                .where(_keyed(tracking_ids), OutboxEntry.state == OutboxState.SENDING.value)
                .values(state=OutboxState.SENT.value, attempts=OutboxEntry.attempts + 1, last_error=None, updated_at=now)
                .returning(_KEY)
            ).scalars().all()
            if applied and self.on_delivered is not None:
                self.on_delivered(conn, sorted(applied))
        return len(applied)

    def retry_later(self, tracking_ids: list[str], error: str, delay_s: float | None = None) -> int:
        """Not delivered this time: ``sending`` -> ``pending`` with one more attempt, due
        after ``delay_s`` (the server's Retry-After) or else the backoff. How many."""
        if not tracking_ids:
            return 0
        now = self.now()
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(OutboxEntry.id, OutboxEntry.attempts)
                .where(_keyed(tracking_ids), OutboxEntry.state == OutboxState.SENDING.value)
                .order_by(OutboxEntry.id)
            ).all()
            for entry_id, attempts in rows:
                wait = delay_s if delay_s is not None else backoff_seconds(attempts + 1, self.rng)
                conn.execute(update(OutboxEntry).where(OutboxEntry.id == entry_id).values(
                    state=OutboxState.PENDING.value, attempts=attempts + 1,
                    next_attempt_at=now + dt.timedelta(seconds=wait), last_error=error[:ERROR_MAX], updated_at=now))
        return len(rows)

    def unclaim(self, keys: list[str]) -> int:
        """Claimed but never tried (a batch read ahead, then not sent): ``sending`` ->
        ``pending`` as they were, no attempt counted, due when they were. How many."""
        if not keys:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(
                update(OutboxEntry).where(_keyed(keys), OutboxEntry.state == OutboxState.SENDING.value)
                .values(state=OutboxState.PENDING.value)
            ).rowcount

    def mark_failed(self, reasons: dict[str, str]) -> int:
        """Refused for a reason a retry cannot fix: ``sending`` -> ``failed``, the reason
        kept for the technician. How many were ``sending``."""
        if not reasons:
            return 0
        now = self.now()
        applied = 0
        with self.engine.begin() as conn:
            for tid, reason in reasons.items():
                changed = conn.execute(
                    update(OutboxEntry)
                    .where(_keyed([tid]), OutboxEntry.state == OutboxState.SENDING.value)
                    .values(state=OutboxState.FAILED.value, attempts=OutboxEntry.attempts + 1,
                            last_error=reason[:ERROR_MAX], updated_at=now)
                ).rowcount
                if changed:
                    applied += changed
                    log.error("outbox entry failed for good: %s", reason.split(":")[0])
        return applied

    def retry_failed(self) -> int:
        """The technician's "retry failed": ``failed`` -> ``pending``, and everything
        waiting is due now (tried at once instead of after its backoff). How many were failed."""
        now = self.now()
        with self.engine.begin() as conn:
            failed = conn.execute(
                update(OutboxEntry).where(OutboxEntry.state == OutboxState.FAILED.value)
                .values(state=OutboxState.PENDING.value, next_attempt_at=now, updated_at=now)
            ).rowcount
            conn.execute(
                update(OutboxEntry)
                .where(OutboxEntry.state == OutboxState.PENDING.value, OutboxEntry.next_attempt_at > now)
                .values(next_attempt_at=now, updated_at=now)
            )
        return failed

    def make_due_now(self) -> int:
        """The central answers again after an outage: every ``pending`` entry waiting out
        its backoff is due now, so the backlog goes at once instead of each entry on its
        own schedule (up to :data:`MAX_DELAY_S` away). ``failed`` ones stay for the
        technician. How many were moved."""
        now = self.now()
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(OutboxEntry)
                .where(OutboxEntry.state == OutboxState.PENDING.value, OutboxEntry.next_attempt_at > now)
                .values(next_attempt_at=now, updated_at=now)
            ).rowcount
        if moved:
            log.info("the central answers again: %d waiting outbox entries are due now", moved)
        return moved

    # -- history -------------------------------------------------------------------------
    @staticmethod
    def sent_before(connection: Connection, cutoff: dt.datetime, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` entries confirmed (``sent``) before ``cutoff``, oldest first, as
        (kind, key) — never the newest sent entry, which says when the central last
        confirmed something (:meth:`figures`, the heartbeat). A report is only offered with
        its recording's entry sent too (or none), so that nothing of it is still to go."""
        newest = select(func.max(OutboxEntry.id)).where(OutboxEntry.state == OutboxState.SENT.value).scalar_subquery()
        voice = aliased(OutboxEntry)
        voice_waiting = exists().where(voice.voice_of == OutboxEntry.tracking_id, voice.state != OutboxState.SENT.value)
        rows = connection.execute(
            select(OutboxEntry.kind, _KEY)
            .where(OutboxEntry.state == OutboxState.SENT.value, OutboxEntry.updated_at < cutoff,
                   OutboxEntry.id != newest, ~voice_waiting)
            .order_by(OutboxEntry.id).limit(limit)
        ).all()
        return [(kind or "report", key) for kind, key in rows]

    @staticmethod
    def forget_sent(connection: Connection, keys: list[str]) -> int:
        """Delete these entries, inside the caller's transaction (the one that deletes what
        they delivered), if they are ``sent``: a waiting entry is never forgotten. How many."""
        if not keys:
            return 0
        return connection.execute(
            OutboxEntry.__table__.delete().where(_keyed(keys), OutboxEntry.state == OutboxState.SENT.value)
        ).rowcount

    # -- reads ---------------------------------------------------------------------------
    def next_due(self) -> dt.datetime | None:
        """When the earliest ``pending`` entry is due (None: nothing pending)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(OutboxEntry.next_attempt_at).where(OutboxEntry.state == OutboxState.PENDING.value)
                .order_by(OutboxEntry.next_attempt_at).limit(1)
            ).scalar()

    def count_waiting(self) -> int:
        """Reports not yet confirmed by the central system (failed ones included). A
        spoken complaint's recording is part of its report: counted only once the report
        itself has gone (one spoken report is one waiting, not two)."""
        waiting = [s.value for s in WAITING]
        report = aliased(OutboxEntry)
        report_waiting = exists().where(report.tracking_id == OutboxEntry.voice_of, report.state.in_(waiting))
        with reading(self.engine).connect() as conn:  # the UI's Welcome asks: never behind the worker's claim
            return conn.execute(
                select(func.count()).select_from(OutboxEntry)
                .where(OutboxEntry.state.in_(waiting), ~and_(OutboxEntry.voice_of.is_not(None), report_waiting))
            ).scalar() or 0

    def state_of(self, tracking_id: str) -> OutboxState | None:
        """Where one report's entry is; None when it has none (read without waiting for a writer)."""
        with reading(self.engine).connect() as conn:
            value = conn.execute(_state_query(tracking_id)).scalar()
        return OutboxState(value) if value else None

    def entries(self, *, include_sent: bool = False) -> list[OutboxItem]:
        """Every entry, oldest first; sent ones only when asked (``kiosk queue --all``)."""
        query = select(OutboxEntry).order_by(OutboxEntry.id)
        if not include_sent:
            query = query.where(OutboxEntry.state != OutboxState.SENT.value)
        with Session(self.engine) as session:
            return [
                OutboxItem(tracking_id=e.tracking_id or e.feedback_key or voice_key(e.voice_of), state=OutboxState(e.state), attempts=e.attempts,
                           next_attempt_at=e.next_attempt_at, last_error=e.last_error,
                           created_at=e.created_at, updated_at=e.updated_at, kind=e.kind or "report")
                for e in session.scalars(query)
            ]

    def figures(self) -> QueueFigures:
        """Depth, failed, the oldest waiting entry's creation and the last confirmation."""
        waiting = [s.value for s in WAITING]
        with self.engine.connect() as conn:
            depth, oldest = conn.execute(
                select(func.count(), func.min(OutboxEntry.created_at)).where(OutboxEntry.state.in_(waiting))
            ).one()
            failed = conn.execute(
                select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == OutboxState.FAILED.value)
            ).scalar() or 0
            last_sent = conn.execute(
                select(func.max(OutboxEntry.updated_at)).where(OutboxEntry.state == OutboxState.SENT.value)
            ).scalar()
        return QueueFigures(depth=depth or 0, failed=failed, oldest_waiting_at=oldest if depth else None,
                            last_sent_at=last_sent)

    @staticmethod
    def sent_ids() -> Select:
        """A query of the Tracking IDs the central has confirmed, for a caller to narrow
        (the status pull joins it with what it already knows)."""
        return select(OutboxEntry.tracking_id).where(OutboxEntry.state == OutboxState.SENT.value,
                                                     OutboxEntry.kind == "report")


# Module-level names kept for code that already holds a session (the report service's
# transaction, tests): the same work as the class, which stays the one owner.
enqueue = Outbox.enqueue


def state_of(session: Session, tracking_id: str) -> OutboxState | None:
    """:meth:`Outbox.state_of`, inside the caller's session."""
    value = session.scalar(_state_query(tracking_id))
    return OutboxState(value) if value else None
