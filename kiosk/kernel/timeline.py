"""A report's status as plain words for the citizen: one line per step with its date, and
what happens next with the expected time. Shared by the kiosk's status screen and the
central service's public page, so both say the same thing in the same words."""
from __future__ import annotations

import dataclasses

from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import N_, gettext_for
from kiosk.kernel.i18n import long_date
from kiosk.kernel.wire import StatusOut
from kiosk.kernel.workdays import DEADLINE_DAYS, NATIONAL, WorkCalendar

STEP_WORDS = {
    "received": N_("Received by the central office"),
    "verified": N_("Verified"),
    "forwarded": N_("Forwarded to {agency}"),
    "rerouted": N_("Sent on to {agency}, the office responsible"),
    "in_progress": N_("{agency} is working on it"),
    "answered": N_("Answered by {agency}"),
    "closed": N_("Closed"),
    "postponed": N_("Postponed"),
    "rejected": N_("Not taken up"),
    "archived": N_("Archived"),
    "objected": N_("The reporter says the problem is not solved"),  # never the objection's text
}

#: The satisfaction rating's words (the kiosk's buttons, the workbench's report page).
RATING_WORDS = {
    1: N_("Very dissatisfied"), 2: N_("Dissatisfied"), 3: N_("Neither satisfied nor dissatisfied"),
    4: N_("Satisfied"), 5: N_("Very satisfied"),
}

NEXT_WORDS = {
    "received": N_("Next: the report is verified within 3 working days."),
    "verified": N_("Next: the report is forwarded to the office responsible."),
    "forwarded": N_("Next: the office follows up within 5 working days."),
    "rerouted": N_("Next: the office follows up within 5 working days."),
    "in_progress": N_("Next: the office answers the report."),
    "answered": N_("Next: the report is closed 10 working days after the answer if there is no objection."),
    "postponed": N_("Next: the central office resumes the report."),
}


@dataclasses.dataclass(frozen=True)
class TimelineLine:
    date: str
    text: str
    reply: str | None = None


def timeline(status: StatusOut, language: str, agency_names: dict[str, str], *,
             calendar: WorkCalendar = NATIONAL) -> tuple[list[TimelineLine], str | None]:
    """The lines of a central public status (see the HTTP contract) and the next step,
    its expected date counted in working days of ``calendar``."""
    _ = gettext_for(language)
    unknown_agency = _("the office responsible")
    lines = []
    for event in status.events:
        when = event.at.astimezone(LOCAL_TZ).date()
        agency = agency_names.get(event.agency_code or status.agency_code or "", unknown_agency)
        words = STEP_WORDS.get(event.status, event.status)
        lines.append(TimelineLine(long_date(when, language), _(words).format(agency=agency), event.public_reply))
    next_words = NEXT_WORDS.get(status.status)
    next_text = None
    if next_words:
        next_text = _(next_words)
        expected = expected_date(status, calendar=calendar)
        if expected is not None:
            next_text += " " + _("Expected by {date}.").format(date=long_date(expected, language))
    return lines, next_text


def expected_date(status: StatusOut, *, calendar: WorkCalendar = NATIONAL):
    """The local date by which the next step is due, counted in working days of
    ``calendar`` from the last step; None when the status has no such deadline (the SMS
    status answer says the same date as the page)."""
    days = DEADLINE_DAYS.get(status.status)
    if not days or not status.events or status.status not in NEXT_WORDS:
        return None
    last = status.events[-1].at.astimezone(LOCAL_TZ).date()
    return calendar.add_working_days(last, days)
