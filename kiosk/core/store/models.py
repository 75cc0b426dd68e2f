"""Kiosk tables: reports and reference data. (The outbox lives in ``sync_queue.outbox``.)

Free text and personal data columns hold Fernet tokens (see ``crypto.py``).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.kernel.storage import Base, UtcDateTime


class Report(Base):
    __tablename__ = "reports"
    __mapper_args__ = {"eager_defaults": False}  # no RETURNING of sms_consent's server default

    tracking_id: Mapped[str] = mapped_column(String(14), primary_key=True)
    kiosk_code: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(32))
    category_code: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[bytes] = mapped_column(LargeBinary)  # sealed
    description: Mapped[bytes] = mapped_column(LargeBinary)  # sealed
    incident_date: Mapped[dt.date] = mapped_column(Date)
    kecamatan_code: Mapped[str] = mapped_column(String(64))
    location_text: Mapped[bytes] = mapped_column(LargeBinary)  # sealed
    reporter_name: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # sealed; NULL once delivered
    reporter_phone: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # sealed; NULL once delivered
    anonymous: Mapped[bool] = mapped_column(Boolean)
    confidential: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: One SMS to the phone when the report is answered (issue 16; schema 0008). Kept once
    #: delivered, as ``anonymous`` is: a reprint still says the SMS will come. A server-side
    #: default only: a report without consent is the same INSERT as before schema 0008.
    sms_consent: Mapped[bool] = mapped_column(Boolean, server_default=false())


class VoiceNote(Base):
    """A report's recorded complaint (issue 14), written with the report in one transaction.
    ``audio`` is the Ogg Opus bytes sealed with the store's key, and NULL once the central
    has them (``secure_delete`` overwrites them); hash and length stay for the technician."""

    __tablename__ = "voice_notes"

    tracking_id: Mapped[str] = mapped_column(String(14), ForeignKey("reports.tracking_id"), primary_key=True)
    audio: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # sealed; NULL once delivered
    sha256: Mapped[str] = mapped_column(String(64))
    duration_s: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)  # bytes of Ogg Opus


class Category(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    sort: Mapped[int] = mapped_column(Integer)


class Agency(Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    sort: Mapped[int] = mapped_column(Integer)


class CategoryAgency(Base):
    """An agency that usually handles a category (the reference data's ``usual_agencies``),
    in the order the reference lists them; the agency step shows these first."""

    __tablename__ = "category_agencies"

    category_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    sort: Mapped[int] = mapped_column(Integer)


class Kecamatan(Base):
    __tablename__ = "kecamatan"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sort: Mapped[int] = mapped_column(Integer)


class CalendarDay(Base):
    """One of the kabupaten's own days from the central's reference data (``calendar_days``):
    a day off, or (``working``) a day worked after all; the status screen's expected dates
    count with them (``kiosk.core.reference.work_calendar``)."""

    __tablename__ = "calendar_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(200))


class Meta(Base):
    """Small key/value facts about the store, such as the reference data version."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


class RemoteStatus(Base):
    """What the central service last said about one of this kiosk's reports (public
    status only: no identity), and when the kiosk learned it.

    Free text never sits here in plain: ``body`` is the central's status JSON without the
    title (the kiosk never shows it) and without the officers' replies, which are in
    ``replies``, sealed (``kiosk.core.status_lookup`` writes and reads both)."""

    __tablename__ = "remote_status"

    tracking_id: Mapped[str] = mapped_column(String(14), ForeignKey("reports.tracking_id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    #: Sealed JSON list of each event's public reply (null where none); NULL: no replies.
    replies: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    fetched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Feedback(Base):
    """An objection ("Masalah belum selesai") or a rating filed at the status screen, for a
    report of any kiosk, until the central has it (``kiosk.core.feedback``). ``key`` is its
    idempotency key; ``text`` is citizen text, sealed, and NULL once delivered."""

    __tablename__ = "feedback"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # objection | rating
    tracking_id: Mapped[str] = mapped_column(String(14), index=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # sealed
    filed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
