"""What the workbench's pages show, without HTTP: one report with its timeline, as an
officer may see it, and who may see which reports (the inbox itself: ``central.inbox``).

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

from sqlalchemy import select

from central.accounts import SignedIn
from central.db import Database
from central.feedback import AUTO_CLOSER, CITIZEN
from central.models import Kiosk, Report, ReportEvent
from kiosk.kernel.i18n import N_

log = logging.getLogger(__name__)

STATUSES = ("received", "verified", "forwarded", "rerouted", "in_progress", "answered", "closed", "postponed",
            "rejected", "archived")
#: An agency officer sees a report while it is with their agency: from forwarding on.
AGENCY_STATUSES = ("forwarded", "rerouted", "in_progress", "answered", "closed")


def _visible(query, officer: SignedIn):
    if officer.role == "agency":
        return query.where(Report.agency_code == officer.agency_code, Report.status.in_(AGENCY_STATUSES))
    return query


#: The actors of the events no officer made (the intake, ``central.service.take_report``;
#: the citizen's objection; the automatic close), in the officer's language on the page.
MACHINE_ACTORS = {"system": N_("the system"), CITIZEN: N_("the reporter"),
                  AUTO_CLOSER: N_("the system (closed automatically)")}


@dataclasses.dataclass(frozen=True)
class EventView:
    status: str
    at: dt.datetime
    actor: str
    note: str
    public_reply: str | None
    agency_code: str | None
    kind: str = "status"  # or an officers-only event: central.actions.INTERNAL_KINDS

    @property
    def actor_msgid(self) -> str | None:
        """The words for an actor that is not an officer (``MACHINE_ACTORS``), else None."""
        return MACHINE_ACTORS.get(self.actor)


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
    duplicate_of: str | None = None  # the original whose status this report follows
    due_from: dt.date | None = None  # the current step's wait: from this local date (central.deadlines)
    due_on: dt.date | None = None  # ... to this one; None when no step is due
    channel: str = "kiosk"  # how it came in (``Report.channel``): ``kiosk`` or ``open311``


#: The reporter's identity in a report's body (``reporter_email``: Open311's ``email``).
IDENTITY_FIELDS = ("reporter_name", "reporter_phone", "reporter_email")


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
        may_reveal=hidden and officer.role == "admin", duplicate_of=row.duplicate_of, due_from=row.due_from,
        due_on=row.due_on, channel=row.channel,
        events=[EventView(e.status, e.at, e.actor, e.note, e.public_reply, e.agency_code, e.kind) for e in events])
