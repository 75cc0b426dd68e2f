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

from central.db import Database
from central.models import Report, ReportEvent
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


def agency_codes(db: Database) -> set[str]:
    """The agency codes of the central's current reference data (what kiosks show)."""
    from central.service import current_reference

    _, body = current_reference(db)
    return {agency["code"] for agency in json.loads(body)["agencies"]}


def apply(db: Database, tracking_id: str, action: str, *, actor: str, note: str = "",
          reply: str | None = None, agency: str | None = None, now: dt.datetime | None = None) -> str:
    """Move the report; returns its new status."""
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
        if report.status not in spec.allowed_from:
            raise LifecycleError(f"cannot {action} a report that is {report.status}")
        report.status = spec.to
        if agency:
            report.agency_code = agency
        session.add(ReportEvent(tracking_id=tracking_id, status=spec.to, at=now, actor=actor.strip(),
                                note=note, public_reply=reply, agency_code=agency))
    log.info("report moved to %s by an officer", spec.to)
    return spec.to
