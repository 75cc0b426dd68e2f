"""The central service's tables: kiosks, reports (one per Tracking ID), conflicts,
lifecycle events, reference data, each kiosk's latest heartbeat, and the Open311 clients
with the requests they filed. Portable between SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import (BigInteger, Boolean, Date, DateTime as _DateTime, Float, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, TypeDecorator, UniqueConstraint, event, or_, text)
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


#: The channel of a kiosk in a hall, and of the reports it files (``Kiosk.channel``, ``Report.channel``):
#: the database's default (c0013), so that a row written without one, by any code at any
#: revision, is a kiosk's.
KIOSK_CHANNEL = "kiosk"


#: The length of a report's public Open311 id (``Report.open311_id``): lowercase hex digits.
OPEN311_ID_LEN = 16


def new_open311_id() -> str:
    """A new public Open311 id: 64 random bits as 16 lowercase hex digits, never derived
    from the Tracking ID (which is the receipt holder's secret: docs/TRACKING_ID.md). Every
    path that inserts a report draws one (``central.service.add_report``; bulk inserts of
    benchmarks and tests); the unique index refuses a repeat."""
    return secrets.token_hex(OPEN311_ID_LEN // 2)


class Kiosk(Base):
    """An issuer of Tracking IDs: a kiosk in a hall, or (c0013) the central itself for one of
    its own channels (``channel`` ``open311``): a row that reserves the issuer code, so no
    kiosk can ever be registered under it; it has no usable token and is no part of the fleet."""

    __tablename__ = "kiosks"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    location: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # never the token itself
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    channel: Mapped[str] = mapped_column(String(16), server_default=KIOSK_CHANNEL)


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
    #: The original this report was merged into: its status follows the original's
    #: (``central.actions``); None when it stands on its own.
    duplicate_of: Mapped[str | None] = mapped_column(String(14), ForeignKey("reports.tracking_id", name="fk_reports_duplicate_of"),
                                                     nullable=True, index=True)
    kecamatan_code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # from the body, for the filter
    #: The current deadline (``central.deadlines.follow``): the local date its wait began
    #: and the day it is due; both None when no step is due (postponed, closed, ...).
    due_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    #: The FIRST time the report took each step (its first status event of that status), for
    #: the recap (``central.recap``); kept by ``_first_step`` below with every status event
    #: the ORM writes (a bulk insert passes it by, and sets them itself), never moved by a
    #: later one (an answer after an objection, a close after a reopening).
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    forwarded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The inbox's marks (``central.inbox.MARKS``), kept by ``_marks`` below with every event
    #: the ORM writes: when an agency asked the admins to re-route the report, while no
    #: status change has come since; when the citizen's objection took it back to its agency,
    #: while it waits there for the new answer. None otherwise.
    reroute_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    objected_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: How the report came in (c0013): ``kiosk``, or ``open311`` (``central.open311``: its
    #: ``kiosk_code`` is then the central's own issuer code for that channel).
    channel: Mapped[str] = mapped_column(String(16), server_default=KIOSK_CHANNEL)
    #: The report's public id in Open311 GeoReport v2, its ``service_request_id`` (c0013):
    #: random (``new_open311_id``), unique, and the only id of a report Open311 ever shows or
    #: reads. The Tracking ID lets whoever holds it read the status page and file an
    #: objection or a rating, so it is never published (docs/TRACKING_ID.md).
    open311_id: Mapped[str] = mapped_column(String(OPEN311_ID_LEN))

    #: The workbench's inbox: newest first by (received_at, tracking_id), by keyset, for
    #: everyone, one status, one agency, or one agency and status; or by deadline
    #: (due_on, tracking_id) (``central.inbox``).
    __table_args__ = (
        Index("ix_reports_received", "received_at", "tracking_id"),
        Index("ix_reports_status_received", "status", "received_at", "tracking_id"),
        Index("ix_reports_agency_status_received", "agency_code", "status", "received_at", "tracking_id"),
        Index("ix_reports_due", "due_on", "tracking_id", "status"),  # status: the overdue counts from the index alone
        Index("ix_reports_agency_due", "agency_code", "due_on", "tracking_id"),
        # The recap's counts, and its times of the reports that are no duplicate, of a period
        # from an index alone (``central.recap``).
        Index("ix_reports_recap", "received_at", "status", "agency_code", "category_code", "kecamatan_code", "kind",
              "due_on", "channel"),
        Index("ix_reports_first_steps", "duplicate_of", "received_at", "verified_at", "forwarded_at", "answered_at"),
        Index("ix_reports_open311_id", "open311_id", unique=True),
        # The inbox's marks: partial indexes of the few marked reports, newest first.
        *(Index(f"ix_reports_{column}", "received_at", "tracking_id", "agency_code", "status",
                sqlite_where=text(f"{column} IS NOT NULL"), postgresql_where=text(f"{column} IS NOT NULL"))
          for column in ("reroute_requested_at", "objected_at")),
    )


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
    #: ``status``: a status change, the only kind that leaves the central (status API,
    #: public page, kiosks); ``note``, ``reroute_request``, ``merged``, ``unmerged``: for
    #: officers only, the status unchanged (``central.actions.INTERNAL_KINDS``).
    kind: Mapped[str] = mapped_column(String(16), default="status")


#: The report's column that holds the first time of each step (``Report.verified_at``, ...).
FIRST_STEPS = {"verified": "verified_at", "forwarded": "forwarded_at", "answered": "answered_at",
               "closed": "closed_at"}


@event.listens_for(ReportEvent, "after_insert")
def _first_step(mapper, connection, target: ReportEvent) -> None:
    """A status event of a step sets the report's time of that step, in the same transaction,
    unless an earlier one already did: wherever the event is written (an officer's action, a
    duplicate following its original, the automatic close), the row says when each step was
    FIRST taken. One UPDATE, so the report's ORM object is not touched mid-flush."""
    column = FIRST_STEPS.get(target.status) if target.kind in (None, "status") else None
    if column is None:
        return
    table = Report.__table__
    connection.execute(table.update()
                       .where(table.c.tracking_id == target.tracking_id,
                              or_(table.c[column].is_(None), table.c[column] > target.at))
                       .values({column: target.at}))


#: The status events a report keeps its objection mark through: back with an agency, not
#: answered again yet (``objected`` itself sets it: ``central.feedback.OBJECTED``).
KEEPS_OBJECTION = ("forwarded", "rerouted", "in_progress")


@event.listens_for(ReportEvent, "after_insert")
def _marks(mapper, connection, target: ReportEvent) -> None:
    """An agency's request to re-route marks the report until the next status event; the
    citizen's objection marks it until it is answered again or leaves the agencies' hands."""
    table = Report.__table__
    if target.kind == "reroute_request":
        values = {"reroute_requested_at": target.at}
    elif target.kind in (None, "status"):
        values = {"reroute_requested_at": None}
        if target.status == "objected":
            values["objected_at"] = target.at
        elif target.status not in KEEPS_OBJECTION:
            values["objected_at"] = None
    else:
        return
    connection.execute(table.update().where(table.c.tracking_id == target.tracking_id).values(values))


class Officer(Base):
    """A complaint officer: an API token for scripts (officers made before the workbench,
    and ``officer add NAME`` without ``--role``), and/or a workbench account (role,
    argon2id password hash, TOTP secret, failed-login counter and lock)."""

    __tablename__ = "officers"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: the API token's own state: revoked when the account is disabled, and it stays revoked
    #: when the account is enabled again, until ``officer token NAME`` gives a new one
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: an admin disabled the account: no login, no session, no token (``central.accounts``)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: admin | agency | viewer (workbench accounts) | script (an API token only, no workbench)
    role: Mapped[str] = mapped_column(String(16), default="admin")
    agency_code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # role agency only
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)  # argon2id, PHC string
    #: sealed by ``central.crypto`` ("fernet:..."); plain base32 only before a key was configured
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # no code used twice
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)  # a password an admin set
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WorkbenchSession(Base):
    """A signed-in browser: only the SHA-256 of its cookie's token is kept. ``stage`` is
    ``totp`` between the password and the code, ``enrol`` while an admin without TOTP
    enrols, ``change`` while a one-time password must be changed, ``ok`` once signed in
    (only ``ok`` opens the workbench)."""

    __tablename__ = "workbench_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_name: Mapped[str] = mapped_column(String(100), ForeignKey("officers.name"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: stage ``enrol``: the sealed TOTP secret being enrolled, until one code confirms it
    pending_totp: Mapped[str | None] = mapped_column(String(255), nullable=True)


class RateBucket(Base):
    """One client's token bucket for status lookups (``central.ratelimit``), shared by every
    worker and machine: ``tokens`` as of ``at`` (seconds since the epoch), and whether the
    last lookup was allowed."""

    __tablename__ = "rate_buckets"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # public | kiosk
    client: Mapped[str] = mapped_column(String(64), primary_key=True)  # an address or a kiosk code
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[float] = mapped_column(Float)
    allowed: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_rate_buckets_scope_at", "scope", "at"),)


class LoginFailure(Base):
    """One failed sign-in: the client's address and a digest of the name typed (a password
    typed into the name field is never stored as typed)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str] = mapped_column(String(64))
    name_sha256: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_login_failures_address_at", "address", "at"),
                      Index("ix_login_failures_name_at", "name_sha256", "at"))


class AuditEntry(Base):
    """Who did what on the workbench, and when: logins (ok, failed, locked), logouts,
    password changes, identity views (with the report)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    officer_name: Mapped[str | None] = mapped_column(String(100), nullable=True)  # None: no such officer
    event: Mapped[str] = mapped_column(String(32))
    tracking_id: Mapped[str | None] = mapped_column(String(14), nullable=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    subject: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the account an admin changed
    #: what else the line needs, e.g. a CSV export's period and options (never citizen text)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ReplyTemplate(Base):
    """A reply an agency officer may start an answer from: for one category, or for every
    category (``category_code`` None). Managed by admins on the workbench."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(100))


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


class Objection(Base):
    """"Masalah belum selesai": the citizen's objection to an answer, once per idempotency
    key (``key``: the kiosk's feedback item id, or the public page's). ``text`` is citizen
    text, shown to officers only; ``reopened``: whether it took the report back to its agency."""

    __tablename__ = "objections"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(14), ForeignKey("reports.tracking_id"))
    kiosk_code: Mapped[str | None] = mapped_column(String(4), nullable=True)  # None: the public page
    text: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reopened: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_objections_tracking_id", "tracking_id", "received_at"),)


class Rating(Base):
    """A satisfaction rating from 1 to 5, once per idempotency key; a report's rating is its
    latest (by ``received_at``, then ``key``)."""

    __tablename__ = "ratings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(14), ForeignKey("reports.tracking_id"))
    kiosk_code: Mapped[str | None] = mapped_column(String(4), nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    body_sha256: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_ratings_tracking_id", "tracking_id", "received_at"),)


class KabupatenDay(Base):
    """One of the kabupaten's own calendar days on top of Indonesia's (c0010): a day off
    (its anniversary, a regional holiday) or, ``working``, a day worked after all.
    Replaced as a whole by ``python -m central holidays import FILE``; every deadline
    counts with them (``central.deadlines.load_calendar``) and kiosks get them with the
    reference data."""

    __tablename__ = "kabupaten_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(200))


class VoiceNote(Base):
    """A report's recorded complaint (c0012), uploaded by its kiosk after the report and
    kept once per report: keyed by the Tracking ID, its ``sha256`` telling a repeat (the
    same answer) from another recording (refused). It is the report's description: only
    an officer who may read the report hears it (``central.workbench``), never the public
    page, the status API or an export."""

    __tablename__ = "voice_notes"

    tracking_id: Mapped[str] = mapped_column(String(14), ForeignKey("reports.tracking_id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)  # Ogg Opus; bytea on PostgreSQL
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Open311Client(Base):
    """A system that files and reads reports through Open311 GeoReport v2 (c0013): its API
    key is stored as a SHA-256 digest only (keys are 256 random bits, as kiosk tokens are),
    shown once by ``python -m central open311-client add NAME``."""

    __tablename__ = "open311_clients"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Open311Request(Base):
    """A report filed through Open311 (c0013): which client filed it, the client's own ID of
    it (the ``client_report_id`` attribute: the idempotency key, once per client), the
    token ``GET tokens/{token}`` answers, and a digest of what was asked (a resend that asks
    something else is kept in ``intake_conflicts``, never applied)."""

    __tablename__ = "open311_requests"

    tracking_id: Mapped[str] = mapped_column(String(14), ForeignKey("reports.tracking_id"), primary_key=True)
    client_name: Mapped[str] = mapped_column(String(100), ForeignKey("open311_clients.name"))
    client_report_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    request_sha256: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("client_name", "client_report_id", name="uq_open311_requests_client_report"),)


class ForwardingEntry(Base):
    """One report on its way to one upstream system (c0014, ``central.forwarding``: the only
    writer of ``state``): made in the report's own transaction for each destination its
    route names (``central.forwarding_config``). ``state``: pending, sending, sent, failed,
    unconfirmed (the request left and its answer was lost), withdrawn (never sent, and the
    report's new agency no longer routes it there). ``next_attempt_at``: when a
    worker takes it next (a send, a look-up, a status pull), NULL when nobody does (an
    admin decides, or nothing is left to do). ``claimed_by``/``claim_expires``: the worker
    that holds it, until when. ``last_reason`` never holds report text."""

    __tablename__ = "forwarding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_id: Mapped[str] = mapped_column(String(14), ForeignKey("reports.tracking_id"))
    destination: Mapped[str] = mapped_column(String(64))  # its name in the forwarding file
    kind: Mapped[str] = mapped_column(String(32))  # its type there (``lapor``, ``open311``) when the entry was made
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    upstream_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    extra: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON of strings (LAPOR!'s transaksiid)
    #: How it became sent: ``answer`` (the system said so), ``look_up`` (found there after a
    #: lost answer), or the name of the admin who confirmed it.
    confirmed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unconfirmed_times: Mapped[int] = mapped_column(Integer, default=0)  # how often its answer was lost
    claimed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    claim_expires: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        UniqueConstraint("tracking_id", "destination", name="uq_forwarding_report_destination"),
        Index("ix_forwarding_due", "state", "next_attempt_at"),  # the workers' claim
        Index("ix_forwarding_waiting", "created_at", sqlite_where=text("state != 'sent'"),
              postgresql_where=text("state != 'sent'")),  # python -m central forwarding
    )


class ForwardingEvent(Base):
    """An upstream step already written into the report's timeline (c0014): once per
    (entry, the system's own id of the step), in the same transaction as its event."""

    __tablename__ = "forwarding_events"

    entry_id: Mapped[int] = mapped_column(Integer, ForeignKey("forwarding.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # the system's time of the step
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SmsMessage(Base):
    """One SMS a gateway handed over (c0015, ``central.sms``), kept once per (gateway, the
    gateway's id of it, or ``h:`` and a keyed digest of sender, text and second received
    when it gives none), whatever became of it (``outcome``: filed, status, stopped, help,
    limited). The number and the text are sealed (``central.crypto``), the number's keyed
    hash finds its opt-out and rate limit; all three are cleared by the retention purge
    (``purged_at``). ``tracking_id``: the report it filed, or the one it asked about."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gateway: Mapped[str] = mapped_column(String(64))
    message_key: Mapped[str] = mapped_column(String(128))
    sender_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    sender_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # the gateway's time
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # the central's
    outcome: Mapped[str] = mapped_column(String(16))
    tracking_id: Mapped[str | None] = mapped_column(String(14), nullable=True)
    purged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        UniqueConstraint("gateway", "message_key", name="uq_sms_messages_gateway_key"),
        Index("ix_sms_messages_tracking_id", "tracking_id", "outcome"),
        Index("ix_sms_messages_unpurged", "taken_at", sqlite_where=text("purged_at IS NULL"),
              postgresql_where=text("purged_at IS NULL")),  # the retention purge
    )


class SmsOutgoing(Base):
    """One SMS the central sends (c0015, ``central.sms.SmsDesk``: the only writer of
    ``state``), once per ``dedupe_key`` (``reply:<message id>``, ``answered:<Tracking ID>``,
    ``admin:<uuid>``): pending, sending (claimed until ``claim_expires``), sent, failed.
    ``to_sealed``/``text_sealed``: sealed, cleared by the retention purge; ``last_reason``
    never holds the text."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # reply | answered | admin
    gateway: Mapped[str] = mapped_column(String(64))
    to_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    to_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    tracking_id: Mapped[str | None] = mapped_column(String(14), nullable=True, index=True)
    message_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("sms_messages.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claim_expires: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_sms_outbox_due", "gateway", "state", "next_attempt_at"),)  # ``SmsDesk.due``


class SmsOptOut(Base):
    """A number that sent STOP (c0015): no notice goes to it. Found by its keyed hash; the
    number itself is kept sealed, so the hashes can be made again after a key change
    (``python -m central sms rehash``)."""

    __tablename__ = "sms_opt_outs"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    number_sealed: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
