"""The report page's actions as the officer may take them (``report.html`` and
``report_actions.html``): which buttons, which agencies and templates, what a refusal or a
success says. Shared by the page (``central.routers.workbench``) and the forms that post to
it (``central.routers.workbench_actions``)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from central import actions, deadlines
from central.db import Database
from central.workbench import ReportView
from kiosk.kernel.i18n import N_

ACTION_WORDS = {
    "verify": N_("Verify"), "forward": N_("Forward"), "reroute": N_("Re-route"), "start": N_("Start work"),
    "answer": N_("Send the answer"), "close": N_("Close"), "postpone": N_("Postpone"), "reject": N_("Reject"),
    "archive": N_("Archive"),
}
#: What a refusal says on the report's page (``central.actions.Refused``'s why and detail).
PROBLEMS = {
    "stale": N_("Someone else changed this report while you had it open. Nothing was saved: this is the report as it is now."),
    "gone": N_("This report is no longer with your agency. Nothing was saved."),
    "merged": N_("This report is merged with another one and follows its status. Act on the original report, or unlink it first."),
    "reason": N_("Please write the reason."),
    "agency": N_("Please choose an agency."),
    "reply": N_("Please write the reply the citizen will read."),
    "note": N_("Please write the note."),
    "same_agency": N_("The report is already with this agency: choose another one."),
    "too_long": N_("The text is too long (at most 4000 characters)."),
    "self": N_("A report cannot be a duplicate of itself."),
    "own_duplicate": N_("That report is a duplicate of this one: a report cannot be a duplicate of its own duplicate."),
    "chain": N_("That report is itself a duplicate: link this one to its original instead."),
    "has_duplicates": N_("Other reports are duplicates of this one: unlink them first."),
    "not_linkable": N_("Only an open report can be marked as a duplicate, and not of an archived report."),
    "no_original": N_("There is no report with that Tracking ID."),
    "bad_id": N_("That is not a valid Tracking ID."),
    "other": N_("This action cannot be applied to the report as it is now."),
    "forwarding": N_("This forwarding is not failed or unconfirmed (any more): nothing was changed."),
    "upstream_id": N_("Please type the number the other system gave the report."),
    # An admin's reply by SMS (central.sms_workbench): nothing was queued.
    "sms_empty": N_("Please write the SMS."),
    "sms_not_gsm7": N_("The SMS holds a character a basic phone may not show (an emoji, curly quotes, a letter of "
                       "another alphabet): write it with plain letters. Nothing was sent."),
    "sms_too_long": N_("The SMS is too long: at most 160 characters (^ ~ | € and square or curly "
                       "brackets count as two). Nothing was sent."),
    "sms_stopped": N_("This number sent STOP: the central sends it no more SMS. Nothing was sent."),
    "sms_purged": N_("The number was deleted after the retention period: no SMS can be sent to it. Nothing was sent."),
    "sms_no_gateway": N_("The gateway this report's SMS came through is no longer configured: no SMS can be sent. "
                         "Nothing was sent."),
    "sms_unavailable": N_("SMS cannot be sent for this report (the central's SMS channel is off). Nothing was sent."),
}
DONE = {"note": N_("The note has been added."), "reroute_request": N_("Your request has been sent to the administrators."),
        "merged": N_("The report is now merged: its status follows the original."),
        "unmerged": N_("The report stands on its own again."), "action": N_("Done: the report's status has been updated."),
        "forwarding_confirmed": N_("The forwarding has been confirmed with the number you typed."),
        "forwarding_resent": N_("The report will be sent again to that system."),
        "sms_queued": N_("The SMS is queued: the gateway sends it shortly."),
        "sms_repeat": N_("This SMS had already been queued (the form was sent twice): it is sent once.")}


def page_context(db: Database, officer: actions.Officer, view: ReportView, ref: dict, query: Mapping[str, str], *,
                 problem: str | None = None, draft: dict[str, str] | None = None) -> dict:
    """What report.html needs for its actions: the buttons, the agencies to choose (``ref``:
    the reference data in the page's language), the reply templates (``query``'s
    ``template``: the one to fill the answer with), an agency's pending request to re-route,
    the duplicates; ``problem`` and ``draft``: why a form was refused, and what was typed."""
    draft = dict(draft or {})
    chosen = None
    replies: list[actions.Template] = []
    available = actions.available(officer, view.status, view.duplicate_of)
    if "answer" in available:
        replies = actions.templates(db, view.body.get("category_code"))
        asked = query.get("template", "")
        chosen = next((t for t in replies if str(t.id) == asked), None)
        if chosen is not None and "reply" not in draft:
            draft["reply"] = chosen.text
    done = query.get("done")
    return {
        "actions": available, "action_words": ACTION_WORDS, "problem": PROBLEMS.get(problem) if problem else None,
        "done": DONE.get(done) if done else None,
        "agency_choices": sorted(ref["agencies"].items(), key=lambda item: item[1]),
        "replies": replies, "chosen_template": chosen, "draft": draft,
        "may_note": officer.role in ("admin", "agency"),
        "may_ask_reroute": officer.role == "agency" and view.duplicate_of is None
        and view.status in actions.REROUTE_REQUEST_FROM,
        "pending_request": actions.pending_reroute_request(view.events) if officer.role == "admin" else None,
        "duplicates": actions.duplicates_of(db, view.tracking_id),
        "may_link": officer.role == "admin" and view.duplicate_of is None and view.status in actions.LINKABLE,
    }


#: What the current step's due date is for, by status (``central.deadlines.DAYS``).
DUE_WORDS = {
    "received": N_("Verification due: {date}"), "verified": N_("Forwarding due: {date}"),
    "forwarded": N_("The agency's follow-up due: {date}"), "rerouted": N_("The agency's follow-up due: {date}"),
    "in_progress": N_("The agency's follow-up due: {date}"),
    "answered": N_("The citizen may object until: {date}"),
}


@dataclasses.dataclass(frozen=True)
class Deadline:
    """The current step's due date as the report's page writes it."""

    msgid: str  # DUE_WORDS
    due_on: str  # "Jumat, 4 Desember 2026"
    days: int  # working days the step has (central.deadlines.DAYS)
    since: str  # the day the wait began, "1 Desember 2026"
    days_late: int  # working days past the due date; 0 when not overdue


def deadline(db: Database, view: ReportView, lang: str, today: dt.date | None = None) -> Deadline | None:
    """The current step's deadline in ``lang``, counted with the central's calendar (as the
    inbox marks it); None when no step is due (postponed, closed, a duplicate...)."""
    from babel.dates import format_date  # loads locale data: not at start-up

    if view.due_on is None or view.status not in DUE_WORDS:
        return None
    locale = "id" if lang == "id" else "en"
    today = today or deadlines.today()
    return Deadline(DUE_WORDS[view.status], format_date(view.due_on, "EEEE, d MMMM y", locale=locale),
                    deadlines.DAYS[view.status],
                    format_date(view.due_from, "d MMMM y", locale=locale) if view.due_from else "",
                    deadlines.days_late(view.due_on, today, db.calendar))
