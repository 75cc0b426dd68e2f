"""The outbox: one entry per report still to be delivered to the central system.

Written in the same transaction as its report; the sync worker (issue 3) claims
``pending`` entries whose ``next_attempt_at`` has come.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kiosk.kernel.storage import Base, UtcDateTime


class OutboxState(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


WAITING = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED)


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str] = mapped_column(String(14), ForeignKey("reports.tracking_id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


def enqueue(session: Session, tracking_id: str, now: dt.datetime) -> OutboxEntry:
    """Add the entry for a new report (inside the caller's transaction)."""
    entry = OutboxEntry(
        tracking_id=tracking_id, state=OutboxState.PENDING.value, attempts=0,
        next_attempt_at=now, created_at=now, updated_at=now,
    )
    session.add(entry)
    return entry


def count_waiting(session: Session) -> int:
    """Reports not yet confirmed by the central system."""
    return session.scalar(
        select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state.in_([s.value for s in WAITING]))
    ) or 0


def state_of(session: Session, tracking_id: str) -> OutboxState | None:
    value = session.scalar(select(OutboxEntry.state).where(OutboxEntry.tracking_id == tracking_id))
    return OutboxState(value) if value else None
