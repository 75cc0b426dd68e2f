"""What the central service does, without HTTP: kiosks and their tokens, the central's own
issuer codes, intake with the Tracking ID as idempotency key, reference data, and what a
status lookup may reveal."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import secrets
import types
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

import assets
from kiosk.kernel.clock import utc_now
from central import deadlines, forwarding as forwarding_outbox, search
from central.db import Database
from central.models import (KIOSK_CHANNEL, IntakeConflict, Kiosk, Officer, ReferenceSet, Report, ReportEvent,
                            new_open311_id)
from kiosk.kernel.wire import StatusEvent, StatusOut

if TYPE_CHECKING:
    from central.forwarding_config import ForwardingConfig

log = logging.getLogger(__name__)

SEED_FILE = assets.seed_file()


def token_digest(token: str) -> str:
    """Tokens are 256 random bits, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class KioskExists(ValueError):
    pass


def add_kiosk(db: Database, code: str, location: str) -> str:
    """Register a kiosk and return its token (shown once; only its digest is stored)."""
    from kiosk.kernel.tracking_id import normalize_kiosk_code

    code = normalize_kiosk_code(code)
    token = secrets.token_urlsafe(32)
    try:
        with db.session() as session, session.begin():
            session.add(Kiosk(code=code, location=location, token_sha256=token_digest(token), created_at=utc_now()))
    except IntegrityError:
        with db.session() as session:
            held = session.get(Kiosk, code)
        if held is not None and held.channel != KIOSK_CHANNEL:
            raise KioskExists(f"{code} is the central's own issuer code for its {held.channel} channel: "
                              "choose another kiosk code") from None
        raise KioskExists(f"kiosk {code} is already registered") from None
    log.info("kiosk %s registered", code)
    return token


class IssuerTaken(ValueError):
    """The issuer code configured for one of the central's channels is a kiosk's."""


def reserve_issuer(db: Database, code: str, channel: str, location: str) -> None:
    """Reserve ``code`` as the central's issuer of ``channel``'s Tracking IDs: a ``kiosks``
    row of that channel (made once; every worker may ask at start), whose token digest is of
    a secret nobody keeps, so no kiosk can ever be registered, authenticate or send a
    heartbeat under it. IssuerTaken when a kiosk (or another channel) holds the code."""
    for _ in range(2):  # two workers starting at once: the second finds the first's row
        with db.session() as session:
            held = session.get(Kiosk, code)
        if held is not None:
            if held.channel != channel:
                holder = "a kiosk" if held.channel == KIOSK_CHANNEL else f"the {held.channel} channel"
                raise IssuerTaken(f"the issuer code {code} for the central's {channel} channel is already {holder}'s "
                                  f"({held.location}): configure another one")
            return
        try:
            with db.session() as session, session.begin():
                session.add(Kiosk(code=code, location=location, channel=channel, created_at=utc_now(),
                                  token_sha256=token_digest(secrets.token_urlsafe(32))))
        except IntegrityError:
            continue
        log.info("issuer code %s reserved for the %s channel", code, channel)
        return
    raise RuntimeError("issuer code neither reserved nor found")


def add_officer(db: Database, name: str) -> str:
    """Register a script's API token (role ``script``: every lifecycle action through the
    officer API, no workbench account); returns the token (shown once, stored as a digest)."""
    token = secrets.token_urlsafe(32)
    try:
        with db.session() as session, session.begin():
            session.add(Officer(name=name, token_sha256=token_digest(token), created_at=utc_now(), role="script"))
    except IntegrityError:
        raise KioskExists(f"officer {name} is already registered") from None
    return token


def authenticate_officer(db: Database, token: str) -> str | None:
    with db.session() as session:
        officer = session.scalar(select(Officer).where(Officer.token_sha256 == token_digest(token)))
    if officer is None or officer.revoked_at is not None or officer.disabled_at is not None:
        return None
    return officer.name


def revoke_kiosk(db: Database, code: str) -> bool:
    with db.session() as session, session.begin():
        kiosk = session.get(Kiosk, code.upper())
        if kiosk is None or kiosk.channel != KIOSK_CHANNEL:  # an issuer code of the central's is no kiosk
            return False
        kiosk.revoked_at = utc_now()
    log.info("kiosk %s revoked", code)
    return True


def authenticate(db: Database, token: str) -> str | None:
    """The kiosk code for a valid, unrevoked token; None otherwise."""
    with db.session() as session:
        kiosk = session.scalar(select(Kiosk).where(Kiosk.token_sha256 == token_digest(token)))
    if kiosk is None or kiosk.revoked_at is not None or kiosk.channel != KIOSK_CHANNEL:
        return None
    return kiosk.code


@dataclasses.dataclass(frozen=True)
class IntakeResult:
    tracking_id: str
    outcome: str  # created | duplicate | conflict
    received_at: dt.datetime


def canonical_json(body: dict) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def body_digest(body: dict) -> tuple[str, str]:
    """(canonical JSON, its SHA-256) of a report's body, as ``reports`` keeps them."""
    text = canonical_json(body)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_report(session, kiosk_code: str, body: dict, now: dt.datetime, calendar, *,
               channel: str = KIOSK_CHANNEL, forwarding: ForwardingConfig | None = None) -> Report:
    """Insert a new report in the caller's transaction: the row (status ``received``, its
    first deadline, its public Open311 id), the ``received`` event, its search entry and,
    with ``forwarding`` (the process's forwarding file: ``Database.forwarding``), a
    forwarding entry for each destination its routes name (``central.forwarding``).
    Every channel's intake goes through here (or :func:`add_reports`, its batch form, which
    does the work), so every report enters the same lifecycle and travels onward alike.
    Returns the row."""
    add_reports(session, kiosk_code, [body], now, calendar, channel=channel, forwarding=forwarding)
    return session.get(Report, body["tracking_id"])


#: How far apart the reports of one batch are received (:func:`add_reports`).
BATCH_STEP = dt.timedelta(microseconds=1)


def add_reports(session, kiosk_code: str, bodies: list[dict], now: dt.datetime, calendar, *,
                channel: str = KIOSK_CHANNEL, forwarding: ForwardingConfig | None = None) -> None:
    """:func:`add_report` for many new reports at once, in the caller's transaction: one
    multi-row INSERT per table (reports, their ``received`` events, search entries), not a
    round trip per row. The events go in as plain rows: the ORM hooks on a new event
    (``central.models._first_step``, ``_marks``) have nothing to do for a ``received`` event
    of a report just inserted (no step taken, no mark set).

    The reports are received in the batch's order (a kiosk sends its oldest first), each
    :data:`BATCH_STEP` after the one before it, so that the workbench's newest-first order
    (received time, then Tracking ID) is the order they were filed, as when each came alone."""
    if not bodies:
        return
    reports, events = [], []
    for position, body in enumerate(bodies):
        at = now + position * BATCH_STEP
        text, digest = body_digest(body)
        # Every column (the ones not named here NULL), as a plain row: an ORM object per
        # report would cost more than its INSERT.
        report = types.SimpleNamespace(**{**dict.fromkeys(Report.__table__.columns.keys()), **dict(
            tracking_id=body["tracking_id"], kiosk_code=kiosk_code, body=text, body_sha256=digest,
            kind=body["kind"], category_code=body["category_code"], agency_code=body.get("agency_code"),
            confidential=body["confidential"], anonymous=body["anonymous"], status="received",
            received_at=at, kecamatan_code=body.get("kecamatan_code"), channel=channel, open311_id=new_open311_id(),
        )})
        deadlines.follow(report, None, at, calendar)
        reports.append(vars(report))
        events.append({"tracking_id": report.tracking_id, "status": "received", "at": at, "actor": "system",
                       "note": "", "kind": "status"})
    session.execute(insert(Report), reports)
    session.execute(insert(ReportEvent), events)
    search.index_many(session, [(body["tracking_id"], body) for body in bodies])
    if forwarding is not None:
        for report in reports:
            forwarding_outbox.enqueue(session, report["tracking_id"],
                                      forwarding.route(report["category_code"], report["agency_code"]), now)


def take_report(db: Database, kiosk_code: str, body: dict, *, now: dt.datetime | None = None) -> IntakeResult:
    """Store a validated report once. A resend of the same body is a duplicate with the
    same result; a different body under the same ID is recorded as a conflict. ``now``:
    the arrival time (tests and seeded data; intake takes the clock's)."""
    text, digest = body_digest(body)
    tracking_id = body["tracking_id"]
    now = now or utc_now()
    for _ in range(2):  # a concurrent first insert makes the second attempt a lookup
        try:
            with db.session() as session, session.begin():
                existing = session.get(Report, tracking_id)
                if existing is not None:
                    if existing.body_sha256 == digest:
                        return IntakeResult(tracking_id, "duplicate", existing.received_at)
                    session.add(IntakeConflict(tracking_id=tracking_id, kiosk_code=kiosk_code, body=text,
                                               body_sha256=digest, received_at=now))
                    log.warning("conflicting body for an existing tracking id recorded")
                    return IntakeResult(tracking_id, "conflict", existing.received_at)
                add_report(session, kiosk_code, body, now, db.calendar, forwarding=db.forwarding)
        except IntegrityError:
            continue  # another worker stored it first: look again
        return IntakeResult(tracking_id, "created", now)
    raise RuntimeError("tracking id neither inserted nor found")


def take_reports(db: Database, kiosk_code: str, bodies: list[dict], *,
                 now: dt.datetime | None = None) -> list[IntakeResult]:
    """:func:`take_report` for a kiosk's batch, in ONE transaction: one look-up of every
    Tracking ID, the new ones inserted together (:func:`add_reports`), one commit (on
    SQLite one durable commit instead of one per report). The same outcome per report, in
    order. Raises what the database raised, the batch then stored nowhere: an
    IntegrityError (another worker stored one of them meanwhile) or a DataError (a value it
    cannot hold) tells the caller to take them one at a time (:func:`take_report`), where
    the race becomes a duplicate and the bad report is refused alone."""
    if not bodies:
        return []
    now = now or utc_now()
    ids = [body["tracking_id"] for body in bodies]
    if len(set(ids)) != len(ids):  # the same ID twice in one batch: the second is judged against the first
        return [take_report(db, kiosk_code, body, now=now) for body in bodies]
    results, new = [], []
    with db.session() as session, session.begin():
        held = {row.tracking_id: row for row in session.execute(
            select(Report.tracking_id, Report.body_sha256, Report.received_at).where(Report.tracking_id.in_(ids)))}
        for body in bodies:
            tracking_id = body["tracking_id"]
            existing = held.get(tracking_id)
            if existing is None:  # received when add_reports says: in the batch's order
                results.append(IntakeResult(tracking_id, "created", now + len(new) * BATCH_STEP))
                new.append(body)
                continue
            text, digest = body_digest(body)
            if existing.body_sha256 == digest:
                results.append(IntakeResult(tracking_id, "duplicate", existing.received_at))
                continue
            session.add(IntakeConflict(tracking_id=tracking_id, kiosk_code=kiosk_code, body=text,
                                       body_sha256=digest, received_at=now))
            log.warning("conflicting body for an existing tracking id recorded")
            results.append(IntakeResult(tracking_id, "conflict", existing.received_at))
        add_reports(session, kiosk_code, new, now, db.calendar, forwarding=db.forwarding)
    return results


def current_reference(db: Database) -> tuple[str, str]:
    """(version, JSON body) of the newest reference data, seeding it on first use."""
    with db.session() as session:
        row = session.scalar(select(ReferenceSet).order_by(ReferenceSet.id.desc()).limit(1))
        if row is not None:
            return row.version, row.body
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    publish_reference(db, data)
    return current_reference(db)


def publish_reference(db: Database, data: dict) -> None:
    try:
        with db.session() as session, session.begin():
            session.add(ReferenceSet(version=data["version"], body=canonical_json(data), created_at=utc_now()))
    except IntegrityError:
        log.info("reference version %s already published", data["version"])


def public_status(db: Database, tracking_id: str) -> StatusOut | None:
    """What the citizen may see: never identity; never the content of a confidential report."""
    with db.session() as session:
        report = session.get(Report, tracking_id)
        if report is None:
            return None
        events = session.scalars(
            select(ReportEvent).where(ReportEvent.tracking_id == tracking_id, ReportEvent.kind == "status")
            .order_by(ReportEvent.at, ReportEvent.id)
        ).all()  # internal notes, re-route requests and merges never leave the central
        lapor_number = forwarding_outbox.upstream_number(session, tracking_id, "lapor")
    body = json.loads(report.body)
    return StatusOut(
        tracking_id=report.tracking_id,
        status=report.status,
        kind=report.kind,
        category_code=report.category_code,
        confidential=report.confidential,
        agency_code=report.agency_code,
        title=None if report.confidential else body.get("title"),
        received_at=report.received_at,
        events=[StatusEvent(status=e.status, at=e.at, public_reply=e.public_reply, agency_code=e.agency_code)
                for e in events],
        lapor_number=lapor_number,
    )
