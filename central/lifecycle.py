"""A report's lifecycle at the central office, following LAPOR!.

received -> verified -> forwarded (to an agency) -> in_progress -> answered -> closed;
or postponed, rerouted ("not our authority": No Wrong Door, forwarded to another agency),
rejected, archived. Every step records time, actor, an internal note, and optionally a
reply the citizen may read.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

from sqlalchemy import select

from central import deadlines, forwarding
from central.db import Database
from central.models import AuditEntry, Report, ReportEvent
from kiosk.kernel.clock import utc_now

log = logging.getLogger(__name__)

OPEN = ("received", "verified", "forwarded", "rerouted", "in_progress", "postponed")


@dataclasses.dataclass(frozen=True)
class Action:
    to: str
    allowed_from: tuple[str, ...]
    needs_agency: bool = False
    needs_reply: bool = False


ACTIONS: dict[str, Action] = {
    "verify": Action("verified", ("received", "postponed")),
    "forward": Action("forwarded", ("verified",), needs_agency=True),
    "reroute": Action("rerouted", ("forwarded", "rerouted", "in_progress"), needs_agency=True),
    "start": Action("in_progress", ("forwarded", "rerouted", "postponed")),
    "answer": Action("answered", ("forwarded", "rerouted", "in_progress"), needs_reply=True),
    "close": Action("closed", ("answered",)),
    "postpone": Action("postponed", ("received", "verified", "forwarded", "rerouted", "in_progress")),
    "reject": Action("rejected", ("received", "verified"), needs_reply=True),
    "archive": Action("archived", ("received", "verified", "rejected", "closed", "postponed")),
}


class LifecycleError(ValueError):
    """The action does not apply (unknown report, wrong state, missing agency or reply)."""


class StaleReport(LifecycleError):
    """The report is no longer as the officer's form saw it (someone else moved it)."""


class MergedReport(LifecycleError):
    """The report is a duplicate: its status follows its original (``duplicate_of``)."""


def agency_codes(db: Database) -> set[str]:
    """The agency codes of the central's current reference data (what kiosks show)."""
    from central.service import current_reference

    _, body = current_reference(db)
    return {agency["code"] for agency in json.loads(body)["agencies"]}


def apply(db: Database, tracking_id: str, action: str, *, actor: str, note: str = "",
          reply: str | None = None, agency: str | None = None, now: dt.datetime | None = None,
          expect_status: str | None = None, expect_agency: str | None = None,
          audit_address: str | None = None) -> str:
    """Move the report; returns its new status. Its duplicates follow it, in the same
    transaction. ``expect_status`` / ``expect_agency``: what the officer's form saw (else
    StaleReport, nothing applied); ``audit_address``: also write the audit log's line."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise LifecycleError(f"unknown action {action!r}; one of: {', '.join(ACTIONS)}")
    if spec.needs_agency and not agency:
        raise LifecycleError(f"{action} needs --agency")
    if agency:
        known = agency_codes(db)
        agency = agency.strip().upper() if agency.strip().upper() in known else agency
        if agency not in known:
            # Else the citizen reads "forwarded to the office responsible" and nobody is.
            raise LifecycleError(f"unknown agency {agency!r}; one of: {', '.join(sorted(known))}")
    if spec.needs_reply and not (reply or "").strip():
        raise LifecycleError(f"{action} needs --reply (the text the citizen will read)")
    if not actor.strip():
        raise LifecycleError("an actor (who does this) is required")
    now = now or utc_now()
    with db.session() as session, session.begin():
        report = session.get(Report, tracking_id, with_for_update=True)
        if report is None:
            raise LifecycleError(f"no report {tracking_id}")
        if report.duplicate_of is not None:
            raise MergedReport(f"{tracking_id} is merged with {report.duplicate_of}: act on that report, or unlink it")
        if (expect_status is not None and report.status != expect_status) or \
                (expect_agency is not None and report.agency_code != expect_agency):
            raise StaleReport(f"{tracking_id} is {report.status} now")
        if report.status not in spec.allowed_from:
            raise LifecycleError(f"cannot {action} a report that is {report.status}")
        before, report.status = report.status, spec.to
        deadlines.follow(report, before, now, db.calendar)
        moved_agency = bool(agency) and agency != report.agency_code
        if agency:
            report.agency_code = agency
        if moved_agency and db.forwarding is not None:
            _route_again(session, db.forwarding, report, now)
        session.add(ReportEvent(tracking_id=tracking_id, status=spec.to, at=now, actor=actor.strip(),
                                note=note, public_reply=reply, agency_code=agency, kind="status"))
        notice_if_answered(session, db.sms, report, now)
        follow_original(session, report, actor=actor.strip(), reply=reply, now=now, sms=db.sms)
        if audit_address is not None:
            session.add(AuditEntry(at=now, officer_name=actor.strip(), event=f"report_{action}",
                                   tracking_id=tracking_id, address=audit_address))
    log.info("report moved to %s by an officer", spec.to)
    return spec.to


def _route_again(session, config, report: Report, now: dt.datetime) -> None:
    """The report's agency changed: where it travels onward follows its routes for the new
    agency (``central.forwarding.route_again``), in the same transaction as the move."""
    idempotent = {name for name, d in config.destinations.items() if d.idempotent}
    forwarding.route_again(session, report.tracking_id, config.route(report.category_code, report.agency_code), now,
                           withdraw=True, idempotent=idempotent,
                           reason=f"not sent: the report went to {report.agency_code} before it left, and no route "
                                  f"for {report.agency_code} names this system")


def notice_if_answered(session, sms, report: Report, now: dt.datetime) -> None:
    """The report is answered now: its one SMS notice, in this same transaction, when the
    central takes SMS (``sms``: ``Database.sms``) and the report qualifies
    (``central.sms.SmsDesk.notice_answered``)."""
    if sms is not None and report.status == "answered":
        sms.notice_answered(session, report, now)


def follow_original(session, original: Report, *, actor: str, reply: str | None, now: dt.datetime,
                    sms=None) -> int:
    """Give the original's status, agency and reply to each of its duplicates (inside the
    caller's transaction); returns how many moved. A duplicate already there is left alone.
    ``sms``: a duplicate that becomes answered gets its own SMS notice (``notice_if_answered``)."""
    moved = 0
    duplicates = session.scalars(select(Report).where(Report.duplicate_of == original.tracking_id)
                                 .order_by(Report.tracking_id).with_for_update()).all()
    for duplicate in duplicates:
        if duplicate.status == original.status and duplicate.agency_code == original.agency_code and not reply:
            continue
        duplicate.status = original.status
        duplicate.agency_code = original.agency_code
        duplicate.due_from = duplicate.due_on = None  # the original carries the deadline (central.deadlines)
        session.add(ReportEvent(tracking_id=duplicate.tracking_id, status=original.status, at=now, actor=actor,
                                note="", public_reply=reply, agency_code=original.agency_code, kind="status"))
        notice_if_answered(session, sms, duplicate, now)
        moved += 1
    return moved


def upstream_step(session, report: Report, status: str | None, *, actor: str, note: str, reply: str | None,
                  now: dt.datetime, calendar, sms=None) -> str:
    """A step an upstream system reports (``central.forwarder``), inside the caller's
    transaction with the report locked: the report moves to ``status`` where one of our
    actions leads there from where it is (an agency known when the action needs one; an
    answer without a reply is allowed: it was given upstream); otherwise the status stays,
    and the step is a status event at the current status when it carries a reply the
    citizen may read, else an internal note. Returns ``moved``, ``reply`` or ``note``.
    ``sms`` (``Database.sms``): a report answered upstream gets its SMS notice too."""
    action = next((a for a in ACTIONS.values() if status and a.to == status and report.status in a.allowed_from
                   and not (a.needs_agency and (a.to == "rerouted" or not report.agency_code))), None)
    if action is not None and report.duplicate_of is None:
        before, report.status = report.status, action.to
        deadlines.follow(report, before, now, calendar)
        session.add(ReportEvent(tracking_id=report.tracking_id, status=action.to, at=now, actor=actor, note=note,
                                public_reply=reply, agency_code=report.agency_code if action.needs_agency else None,
                                kind="status"))
        notice_if_answered(session, sms, report, now)
        follow_original(session, report, actor=actor, reply=reply, now=now, sms=sms)
        return "moved"
    if reply:
        session.add(ReportEvent(tracking_id=report.tracking_id, status=report.status, at=now, actor=actor,
                                note=note, public_reply=reply, agency_code=None, kind="status"))
        return "reply"
    session.add(ReportEvent(tracking_id=report.tracking_id, status=report.status, at=now, actor=actor,
                            note=note or (f"{actor}: {status}" if status else actor), public_reply=None,
                            agency_code=None, kind="note"))
    return "note"
