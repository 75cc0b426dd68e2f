"""What an officer may do to a report, without HTTP: the lifecycle's actions by role, internal
notes, an agency's request to re-route, "duplicate of" links, and the reply templates. The
workbench's pages and the officer API both come here, so they keep the same rules.

Roles (docs/WORKBENCH.md): ``admin`` verifies, forwards, re-routes (with a reason), rejects,
postpones, archives and closes; ``agency`` starts and answers the reports that are with their
agency, and may ask the admins to re-route one; ``viewer`` does nothing. Every step is a
report event with the officer as actor and a line in the audit log, in one transaction.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Protocol

from sqlalchemy import select

from central import deadlines, lifecycle, workbench
from central.db import Database
from central.models import AuditEntry, Report, ReportEvent, ReplyTemplate
from kiosk.kernel.clock import utc_now

log = logging.getLogger(__name__)

#: The lifecycle's actions each role may take (``central.lifecycle.ACTIONS``).
ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "admin": ("verify", "forward", "reroute", "reject", "postpone", "archive", "close"),
    "agency": ("start", "answer"),
    "viewer": (),
    # The tokens of ``officer add NAME`` (before roles: migration c0009): what they could do
    # then, through the officer API only; no workbench account.
    "script": tuple(lifecycle.ACTIONS),
}
#: Events for officers only: the status is unchanged and nothing of them leaves the central.
INTERNAL_KINDS = ("note", "reroute_request", "merged", "unmerged")
#: Whatever an officer types: a note, a reason, a reply, a template's text.
TEXT_MAX = 4000
TITLE_MAX = 120


class Officer(Protocol):
    name: str
    role: str
    agency_code: str | None


class Refused(Exception):
    """Why an officer's request was not applied: ``role`` (403), ``not_found`` (404, also
    for a report that is not this officer's to see), ``stale`` (409: the report moved since
    the form was shown), ``merged`` (409: a duplicate follows its original), ``invalid``
    (400: ``detail`` says what is missing or wrong)."""

    def __init__(self, why: str, detail: str = ""):
        super().__init__(detail or why)
        self.why = why
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class ApiOfficer:
    """An officer behind an API token (``officer`` of ``token_holder``)."""

    name: str
    role: str
    agency_code: str | None


def api_officer(db: Database, name: str) -> ApiOfficer:
    """The role and agency of the officer an API token names (``deps.officer_name``)."""
    from central.models import Officer as OfficerRow

    with db.session() as session:
        row = session.get(OfficerRow, name)
    return ApiOfficer(row.name, row.role, row.agency_code)


def may(officer: Officer, action: str) -> bool:
    return action in ROLE_ACTIONS.get(officer.role, ())


def available(officer: Officer, status: str, duplicate_of: str | None) -> list[str]:
    """The buttons of a report's page: the officer's actions that apply to ``status``."""
    if duplicate_of is not None:
        return []
    return [a for a in ROLE_ACTIONS.get(officer.role, ()) if status in lifecycle.ACTIONS[a].allowed_from]


def _clean(text: str | None, limit: int = TEXT_MAX) -> str:
    """An officer's text as stored: CR LF as LF, trimmed; over ``limit`` is refused."""
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise Refused("invalid", "too_long")
    return text


def _visible_report(session, officer: Officer, tracking_id: str, *, lock: bool = False) -> Report:
    query = workbench._visible(select(Report), officer).where(Report.tracking_id == tracking_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise Refused("not_found")
    return row


def act(db: Database, officer: Officer, tracking_id: str, action: str, *, note: str = "", reply: str | None = None,
        agency: str | None = None, expect_status: str | None = None, address: str = "") -> str:
    """One lifecycle step by an officer, under the role's rules; returns the new status.
    An agency officer acts only on a report that is with their agency (else not_found);
    ``expect_status`` is the status the officer's form was shown with."""
    if action not in lifecycle.ACTIONS:
        raise Refused("invalid", f"unknown action {action!r}; one of: {', '.join(lifecycle.ACTIONS)}")
    if not may(officer, action):
        raise Refused("role")
    note, reply = _clean(note), (_clean(reply) if reply is not None else None)
    with db.session() as session:
        current = _visible_report(session, officer, tracking_id)
    if current.duplicate_of is not None:
        raise Refused("merged", current.duplicate_of)
    if expect_status is not None and current.status != expect_status:
        raise Refused("stale", current.status)
    if action == "reroute":
        if not note:
            raise Refused("invalid", "reason")  # No Wrong Door: the next agency reads why
        if agency and agency.strip().upper() == (current.agency_code or ""):
            raise Refused("invalid", "same_agency")
    if lifecycle.ACTIONS[action].needs_agency and not agency:
        raise Refused("invalid", "agency")
    if lifecycle.ACTIONS[action].needs_reply and not (reply or "").strip():
        raise Refused("invalid", "reply")
    try:
        return lifecycle.apply(db, tracking_id, action, actor=officer.name, note=note, reply=reply, agency=agency,
                               expect_status=expect_status,
                               expect_agency=officer.agency_code if officer.role == "agency" else None,
                               audit_address=address)
    except lifecycle.StaleReport:
        raise Refused("stale") from None
    except lifecycle.MergedReport:
        raise Refused("merged") from None
    except lifecycle.LifecycleError as exc:
        raise Refused("invalid", str(exc)) from None


def _event(session, officer: Officer, report: Report, kind: str, note: str, now: dt.datetime, address: str,
           audit_event: str) -> None:
    session.add(ReportEvent(tracking_id=report.tracking_id, status=report.status, at=now, actor=officer.name,
                            note=note, public_reply=None, agency_code=None, kind=kind))
    session.add(AuditEntry(at=now, officer_name=officer.name, event=audit_event, tracking_id=report.tracking_id,
                           address=address))


def add_note(db: Database, officer: Officer, tracking_id: str, text: str, *, address: str = "") -> None:
    """An internal note on a report (admin, or the agency that has it); the status stays."""
    if officer.role not in ("admin", "agency"):
        raise Refused("role")
    text = _clean(text)
    if not text:
        raise Refused("invalid", "note")
    now = utc_now()
    with db.session() as session, session.begin():
        report = _visible_report(session, officer, tracking_id, lock=True)
        _event(session, officer, report, "note", text, now, address, "note_added")


#: An agency may ask while the report is with them and not answered yet.
REROUTE_REQUEST_FROM = ("forwarded", "rerouted", "in_progress")


def request_reroute(db: Database, officer: Officer, tracking_id: str, reason: str, *,
                    expect_status: str | None = None, address: str = "") -> None:
    """An agency officer says the report is not theirs: an event the admins see on the
    report's page. The report stays with the agency until an admin re-routes it."""
    if officer.role != "agency":
        raise Refused("role")
    reason = _clean(reason)
    if not reason:
        raise Refused("invalid", "reason")
    now = utc_now()
    with db.session() as session, session.begin():
        report = _visible_report(session, officer, tracking_id, lock=True)
        if report.duplicate_of is not None:
            raise Refused("merged", report.duplicate_of)
        if (expect_status is not None and report.status != expect_status) or report.status not in REROUTE_REQUEST_FROM:
            raise Refused("stale", report.status)
        _event(session, officer, report, "reroute_request", reason, now, address, "reroute_requested")


def pending_reroute_request(events) -> object | None:
    """The agency's latest request to re-route when no status change came after it."""
    pending = None
    for event in events:
        if event.kind == "reroute_request":
            pending = event
        elif event.kind == "status":
            pending = None
    return pending


# -- duplicates ------------------------------------------------------------------------------
#: A duplicate is linked while it is still open; the original may be anything but archived.
LINKABLE = lifecycle.OPEN


def link_duplicate(db: Database, officer: Officer, tracking_id: str, original_id: str, *,
                   expect_status: str | None = None, address: str = "") -> str:
    """Make ``tracking_id`` a duplicate of ``original_id``: from now on it has the original's
    status, agency and replies. Returns the duplicate's status. Admins only; never of
    itself, of its own duplicate, or of a report that is itself a duplicate (no chains)."""
    if officer.role != "admin":
        raise Refused("role")
    if original_id == tracking_id:
        raise Refused("invalid", "self")
    now = utc_now()
    with db.session() as session, session.begin():
        # Lock both rows in one order, whichever is which, so two links cannot deadlock.
        rows = {r.tracking_id: r for r in session.scalars(
            select(Report).where(Report.tracking_id.in_(sorted((tracking_id, original_id))))
            .order_by(Report.tracking_id).with_for_update())}
        duplicate, original = rows.get(tracking_id), rows.get(original_id)
        if duplicate is None:
            raise Refused("not_found")
        if original is None:
            raise Refused("invalid", "no_original")
        if expect_status is not None and duplicate.status != expect_status:
            raise Refused("stale", duplicate.status)
        if duplicate.duplicate_of is not None:
            raise Refused("merged", duplicate.duplicate_of)
        if original.duplicate_of == tracking_id:
            raise Refused("invalid", "own_duplicate")
        if original.duplicate_of is not None:
            raise Refused("invalid", "chain")
        if session.scalar(select(Report.tracking_id).where(Report.duplicate_of == tracking_id).limit(1)):
            raise Refused("invalid", "has_duplicates")
        if duplicate.status not in LINKABLE or original.status == "archived":
            raise Refused("invalid", "not_linkable")
        duplicate.duplicate_of = original_id
        duplicate.due_from = duplicate.due_on = None  # the original carries the deadline (central.deadlines)
        _event(session, officer, duplicate, "merged", original_id, now, address, "duplicate_linked")
        if duplicate.status != original.status or duplicate.agency_code != original.agency_code:
            reply = None
            if original.status in ("answered", "closed", "rejected"):
                reply = session.scalar(select(ReportEvent.public_reply).where(
                    ReportEvent.tracking_id == original_id, ReportEvent.public_reply.is_not(None))
                    .order_by(ReportEvent.at.desc(), ReportEvent.id.desc()).limit(1))
            duplicate.status, duplicate.agency_code = original.status, original.agency_code
            session.add(ReportEvent(tracking_id=tracking_id, status=original.status, at=now, actor=officer.name,
                                    note="", public_reply=reply, agency_code=original.agency_code, kind="status"))
        return duplicate.status


def unlink_duplicate(db: Database, officer: Officer, tracking_id: str, *, address: str = "") -> None:
    """The report stands on its own again, in the status it has now."""
    if officer.role != "admin":
        raise Refused("role")
    now = utc_now()
    with db.session() as session, session.begin():
        report = session.get(Report, tracking_id, with_for_update=True)
        if report is None:
            raise Refused("not_found")
        if report.duplicate_of is None:
            raise Refused("stale", report.status)
        original, report.duplicate_of = report.duplicate_of, None
        deadlines.follow(report, None, now, db.calendar)  # its own deadline again, from now
        _event(session, officer, report, "unmerged", original, now, address, "duplicate_unlinked")


def duplicates_of(db: Database, tracking_id: str) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(Report.tracking_id).where(Report.duplicate_of == tracking_id)
                                    .order_by(Report.tracking_id)))


# -- reply templates -------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Template:
    id: int
    category_code: str | None
    title: str
    text: str
    updated_at: dt.datetime
    updated_by: str


def _template(row: ReplyTemplate) -> Template:
    return Template(row.id, row.category_code, row.title, row.text, row.updated_at, row.updated_by)


def templates(db: Database, category_code: str | None = None, *, every: bool = False) -> list[Template]:
    """``every``: all of them (the admins' list); else those for ``category_code`` and for
    every category (the answer form's choice), by title."""
    query = select(ReplyTemplate)
    if not every:
        query = query.where((ReplyTemplate.category_code == category_code) | ReplyTemplate.category_code.is_(None))
    with db.session() as session:
        rows = session.scalars(query.order_by(ReplyTemplate.category_code.is_(None), ReplyTemplate.category_code,
                                              ReplyTemplate.title, ReplyTemplate.id)).all()
    return [_template(r) for r in rows]


def template(db: Database, template_id: int) -> Template | None:
    with db.session() as session:
        row = session.get(ReplyTemplate, template_id)
    return _template(row) if row is not None else None


def _checked(title: str, text: str, category_code: str | None, known_categories: set[str]) -> tuple[str, str, str | None]:
    title, text = _clean(title, TITLE_MAX), _clean(text)
    if not title or "\n" in title:
        raise Refused("invalid", "title")
    if not text:
        raise Refused("invalid", "text")
    if category_code and category_code not in known_categories:
        raise Refused("invalid", "category")
    return title, text, category_code or None


def save_template(db: Database, officer: Officer, *, title: str, text: str, category_code: str | None,
                  known_categories: set[str], template_id: int | None = None, address: str = "") -> int:
    """Add (``template_id`` None) or change a template; returns its id. Admins only."""
    if officer.role != "admin":
        raise Refused("role")
    title, text, category_code = _checked(title, text, category_code, known_categories)
    now = utc_now()
    with db.session() as session, session.begin():
        if template_id is None:
            row = ReplyTemplate(created_at=now)
            session.add(row)
        else:
            row = session.get(ReplyTemplate, template_id, with_for_update=True)
            if row is None:
                raise Refused("not_found")
        row.title, row.text, row.category_code, row.updated_at, row.updated_by = title, text, category_code, now, officer.name
        session.flush()
        session.add(AuditEntry(at=now, officer_name=officer.name, address=address,
                               event="template_added" if template_id is None else "template_changed"))
        return row.id


def delete_template(db: Database, officer: Officer, template_id: int, *, address: str = "") -> None:
    if officer.role != "admin":
        raise Refused("role")
    with db.session() as session, session.begin():
        row = session.get(ReplyTemplate, template_id, with_for_update=True)
        if row is None:
            raise Refused("not_found")
        session.delete(row)
        session.add(AuditEntry(at=utc_now(), officer_name=officer.name, event="template_deleted", address=address))
