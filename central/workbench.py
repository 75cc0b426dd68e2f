"""What the workbench's pages show, without HTTP: the inbox (keyset pages, newest first,
counts per status) and one report with its timeline, each as an officer may see it.

Who sees what: ``admin`` and ``viewer`` every report; ``agency`` only the reports that are
with their agency now (forwarded or later, and not moved on to another agency). An
anonymous reporter's name and phone never leave this module for ``agency`` or ``viewer``;
an ``admin`` gets them only through ``reveal_identity``, which the caller audits.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

from sqlalchemy import func, select, tuple_

from central.accounts import SignedIn
from central.db import Database
from central.models import Kiosk, Report, ReportEvent

log = logging.getLogger(__name__)

PAGE_SIZE = 50
STATUSES = ("received", "verified", "forwarded", "rerouted", "in_progress", "answered", "closed", "postponed",
            "rejected", "archived")
#: An agency officer sees a report while it is with their agency: from forwarding on.
AGENCY_STATUSES = ("forwarded", "rerouted", "in_progress", "answered", "closed")


def _visible(query, officer: SignedIn):
    if officer.role == "agency":
        return query.where(Report.agency_code == officer.agency_code, Report.status.in_(AGENCY_STATUSES))
    return query


@dataclasses.dataclass(frozen=True)
class InboxRow:
    tracking_id: str
    received_at: dt.datetime
    status: str
    kind: str
    category_code: str
    agency_code: str | None
    kiosk_code: str
    title: str
    anonymous: bool
    confidential: bool


@dataclasses.dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    counts: dict[str, int]  # per status, of what this officer may see
    next_cursor: str | None  # the keyset of the last row, when more follow


def encode_cursor(received_at: dt.datetime, tracking_id: str) -> str:
    return f"{received_at.astimezone(dt.timezone.utc).isoformat()}~{tracking_id}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, str] | None:
    """The keyset in a ``?after=`` value; None for anything else (the first page)."""
    when, _, tracking_id = cursor.partition("~")
    try:
        at = dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    if at.tzinfo is None or not tracking_id.isalnum() or len(tracking_id) > 14:
        return None
    return at, tracking_id


def page_query(officer: SignedIn, status: str | None, after: str | None, limit: int = PAGE_SIZE + 1):
    """The SELECT of one inbox page (one more row than shown: whether more follow)."""
    query = _visible(select(Report), officer)
    if status in STATUSES:
        query = query.where(Report.status == status)
    keyset = decode_cursor(after) if after else None
    if keyset is not None:
        query = query.where(tuple_(Report.received_at, Report.tracking_id) < tuple_(*keyset))
    return query.order_by(Report.received_at.desc(), Report.tracking_id.desc()).limit(limit)


def inbox(db: Database, officer: SignedIn, *, status: str | None = None, after: str | None = None,
          page_size: int = PAGE_SIZE) -> InboxPage:
    """One page of the inbox, newest first, after the keyset ``after`` (from ``next_cursor``).
    Keyset pagination on (received_at, tracking_id): each page is one index range scan,
    as fast at row 100,000 as at row 1, and stable while reports arrive."""
    query = page_query(officer, status, after, page_size + 1)
    counts_query = _visible(select(Report.status, func.count()).select_from(Report), officer).group_by(Report.status)
    with db.session() as session:
        reports = session.scalars(query).all()
        counts = {name: count for name, count in session.execute(counts_query)}
    more = len(reports) > page_size
    reports = reports[:page_size]
    rows = [InboxRow(r.tracking_id, r.received_at, r.status, r.kind, r.category_code, r.agency_code, r.kiosk_code,
                     json.loads(r.body).get("title", ""), r.anonymous, r.confidential) for r in reports]
    cursor = encode_cursor(reports[-1].received_at, reports[-1].tracking_id) if more else None
    return InboxPage(rows, {s: counts.get(s, 0) for s in STATUSES}, cursor)


@dataclasses.dataclass(frozen=True)
class EventView:
    status: str
    at: dt.datetime
    actor: str
    note: str
    public_reply: str | None
    agency_code: str | None


@dataclasses.dataclass(frozen=True)
class ReportView:
    """A report as one officer may see it: ``body`` is what the citizen gave, without the
    reporter's name and phone when the report is anonymous (``identity_hidden``)."""

    tracking_id: str
    status: str
    agency_code: str | None
    kiosk_code: str
    kiosk_location: str
    received_at: dt.datetime
    anonymous: bool
    confidential: bool
    body: dict
    identity_hidden: bool
    may_reveal: bool
    events: list[EventView]


IDENTITY_FIELDS = ("reporter_name", "reporter_phone")


def report(db: Database, officer: SignedIn, tracking_id: str, *, reveal_identity: bool = False) -> ReportView | None:
    """The report, or None when it does not exist or is not this officer's to see (the
    same answer: an agency officer learns nothing of other agencies' reports)."""
    with db.session() as session:
        row = session.scalar(_visible(select(Report), officer).where(Report.tracking_id == tracking_id))
        if row is None:
            return None
        kiosk = session.get(Kiosk, row.kiosk_code)
        events = session.scalars(select(ReportEvent).where(ReportEvent.tracking_id == tracking_id)
                                 .order_by(ReportEvent.at, ReportEvent.id)).all()
    body = json.loads(row.body)
    hidden = bool(row.anonymous) and not (reveal_identity and officer.role == "admin")
    if hidden:
        for field in IDENTITY_FIELDS:
            body.pop(field, None)
    return ReportView(
        tracking_id=row.tracking_id, status=row.status, agency_code=row.agency_code, kiosk_code=row.kiosk_code,
        kiosk_location=kiosk.location if kiosk else "", received_at=row.received_at, anonymous=row.anonymous,
        confidential=row.confidential, body=body, identity_hidden=hidden,
        may_reveal=hidden and officer.role == "admin",
        events=[EventView(e.status, e.at, e.actor, e.note, e.public_reply, e.agency_code) for e in events])
