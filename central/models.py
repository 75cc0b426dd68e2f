"""The central service's tables: kiosks, reports (one per Tracking ID), conflicts,
lifecycle events, reference data and each kiosk's latest heartbeat. Portable between
SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime as _DateTime, Float, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class DateTime(TypeDecorator):
    """Aware UTC datetimes on both backends (SQLite hands back naive ones)."""

    impl = _DateTime(timezone=True)
    cache_ok = True

    def __init__(self, timezone: bool = True):
        super().__init__()

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value


class Kiosk(Base):
    __tablename__ = "kiosks"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    location: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # never the token itself
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Report(Base):
    __tablename__ = "reports"

    tracking_id: Mapped[str] = mapped_column(String(14), primary_key=True)
    kiosk_code: Mapped[str] = mapped_column(String(4), ForeignKey("kiosks.code"))
    body: Mapped[str] = mapped_column(Text)  # canonical JSON as first received
    body_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    category_code: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # where it is now
    confidential: Mapped[bool] = mapped_column(Boolean)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class IntakeConflict(Base):
    """A different body sent under a Tracking ID we already hold: kept, never applied."""

    __tablename__ = "intake_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str] = mapped_column(String(14), index=True)
    kiosk_code: Mapped[str] = mapped_column(String(4))
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReportEvent(Base):
    """One step of a report's lifecycle: when, who, a note, and what the citizen may read."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str] = mapped_column(String(14), ForeignKey("reports.tracking_id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    public_reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    agency_code: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Officer(Base):
    """A complaint officer who may move reports through the officer API."""

    __tablename__ = "officers"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ReferenceSet(Base):
    """Categories, agencies and kecamatan as one versioned JSON document."""

    __tablename__ = "reference_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class KioskHeartbeat(Base):
    """The latest heartbeat of one kiosk (fleet monitoring): machine state only, never
    anything about a report or a person. Ages are as the kiosk measured them at
    ``sent_at`` on its own clock, so a wrong kiosk clock does not distort them."""

    __tablename__ = "kiosk_heartbeats"

    kiosk_code: Mapped[str] = mapped_column(String(4), ForeignKey("kiosks.code"), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # server time
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # kiosk time
    version: Mapped[str] = mapped_column(String(64))
    queue_depth: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    oldest_waiting_age_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_sync_age_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    printer_kind: Mapped[str] = mapped_column(String(16))
    printer: Mapped[str] = mapped_column(String(16))
    paper: Mapped[str] = mapped_column(String(16))
    camera: Mapped[str] = mapped_column(String(16))
    disk_free_bytes: Mapped[int] = mapped_column(BigInteger)
    disk_total_bytes: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)  # the validated heartbeat as canonical JSON
