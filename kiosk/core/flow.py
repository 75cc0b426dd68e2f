"""The citizen's filing path as a UI-free state machine.

A screen shows :attr:`FilingFlow.step` and forwards taps; everything a citizen can do
(choose, type, go back, edit from the review, submit) is a method here and is tested
without Kivy. Going back never loses what was typed: the draft lives here, not in
widgets.
"""
from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import enum
import logging
import re
from typing import Callable

from kiosk.core import domain
from kiosk.core.domain import PRIVACY_QUESTIONS, Draft, IncompleteDraft, InvalidDraft, ReportKind, SavedReport
from kiosk.kernel.i18n import N_
from kiosk.kernel.textclean import CleanResult, clean_input

log = logging.getLogger(__name__)


class Step(enum.Enum):
    KIND = "kind"
    CATEGORY = "category"
    AGENCY = "agency"
    DESCRIBE = "describe"
    WHEN_WHERE = "when_where"
    IDENTITY = "identity"
    REVIEW = "review"
    DONE = "done"


#: The question steps, in order; the review is not counted as a question.
QUESTIONS: tuple[Step, ...] = (Step.KIND, Step.CATEGORY, Step.AGENCY, Step.DESCRIBE, Step.WHEN_WHERE,
                                Step.IDENTITY)

#: Text fields: their length limit and whether they may hold several lines.
TEXT_FIELDS: dict[str, tuple[int, bool]] = {
    "title": (domain.TITLE_MAX, False),
    "description": (domain.DESCRIPTION_MAX, True),
    "location_text": (domain.LOCATION_MAX, False),
    "reporter_name": (domain.NAME_MAX, False),
    "reporter_phone": (domain.PHONE_MAX, False),
}

#: Where the citizen answers each field, and which field that step shows a message under:
#: where a refused report sends them back to.
FIELD_STEPS: dict[str, tuple[Step, str]] = {
    "kind": (Step.KIND, "kind"),
    "category_code": (Step.CATEGORY, "category_code"),
    "agency_code": (Step.AGENCY, "agency_code"),
    "title": (Step.DESCRIBE, "title"),
    "description": (Step.DESCRIBE, "description"),
    "incident_date": (Step.WHEN_WHERE, "incident_date"),
    "kecamatan_code": (Step.WHEN_WHERE, "kecamatan_code"),
    "location_text": (Step.WHEN_WHERE, "kecamatan_code"),
    "reporter_name": (Step.IDENTITY, "reporter_phone"),
    "reporter_phone": (Step.IDENTITY, "reporter_phone"),
    "anonymous": (Step.IDENTITY, "anonymous"),
    "confidential": (Step.IDENTITY, "confidential"),
    "sms_consent": (Step.IDENTITY, "sms_consent"),
}

#: What the identity step says under a privacy question the citizen has not answered.
UNANSWERED: dict[str, str] = {
    "anonymous": N_("Please answer Yes or No: hide your name from the office?"),
    "confidential": N_("Please answer Yes or No: keep the report's content private?"),
}

#: What the agency step says when Next is tapped before an office (or "I don't know") is
#: chosen: the office is an answer the citizen gives, never a silent default.
AGENCY_UNANSWERED = N_("Please choose an office, or \"I don't know\" if you are not sure.")

#: How far back the date calendar goes: this month and the two before it.
CALENDAR_MONTHS = 3


@dataclasses.dataclass(frozen=True)
class CalendarDay:
    """One day of the calendar's month grid; only days in the calendar's range, and not
    after today, can be chosen."""

    date: dt.date
    selectable: bool
    chosen: bool


def _add_months(first: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after the one ``first`` is in."""
    index = first.year * 12 + first.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, 1)


_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,18}[0-9]$")


@dataclasses.dataclass(frozen=True)
class Message:
    """A sentence for the citizen: an English msgid plus its format arguments."""

    msgid: str
    params: tuple[tuple[str, object], ...] = ()

    def render(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.msgid).format(**dict(self.params))


@dataclasses.dataclass(frozen=True)
class FieldError:
    field: str
    message: Message


def _msg(msgid: str, **params: object) -> Message:
    return Message(msgid, tuple(sorted(params.items())))


def validate(step: Step, draft: Draft, today: dt.date) -> list[FieldError]:
    """What stops the citizen from leaving ``step``; empty when the step is complete."""
    errors: list[FieldError] = []
    if step is Step.KIND and draft.kind is None:
        errors.append(FieldError("kind", _msg(N_("Choose what kind of report this is."))))
    elif step is Step.CATEGORY and not draft.category_code:
        errors.append(FieldError("category_code", _msg(N_("Choose a category."))))
    elif step is Step.AGENCY and not draft.agency_answered:
        errors.append(FieldError("agency_code", _msg(AGENCY_UNANSWERED)))
    elif step is Step.DESCRIBE:
        # A recorded complaint takes the description's place: the typed fields may stay
        # empty (the title then becomes the category's name, ``kiosk.core.reports``).
        spoken = draft.voice is not None
        if not draft.title.strip():
            if not spoken:
                errors.append(FieldError("title", _msg(N_("Please write a short title."))))
        elif len(draft.title.strip()) < domain.TITLE_MIN:
            errors.append(FieldError("title", _msg(N_("The title needs at least {n} characters."), n=domain.TITLE_MIN)))
        if spoken:
            return errors
        if not draft.description.strip():
            errors.append(FieldError("description", _msg(N_("Please tell us what happened."))))
        elif len(draft.description.strip()) < domain.DESCRIPTION_MIN:
            errors.append(
                FieldError("description", _msg(N_("Please write at least {n} characters about what happened."), n=domain.DESCRIPTION_MIN))
            )
    elif step is Step.WHEN_WHERE:
        if draft.incident_date is None:
            errors.append(FieldError("incident_date", _msg(N_("Choose the date it happened."))))
        elif draft.incident_date > today:
            errors.append(FieldError("incident_date", _msg(N_("The date cannot be in the future."))))
        if not draft.kecamatan_code:
            errors.append(FieldError("kecamatan_code", _msg(N_("Choose the kecamatan where it happened."))))
    elif step is Step.IDENTITY:
        phone = draft.reporter_phone.strip()
        if phone and not _PHONE.match(phone):
            errors.append(
                FieldError("reporter_phone", _msg(N_("A phone number has only digits, for example 0812 3456 7890.")))
            )
        for name in PRIVACY_QUESTIONS:  # asked, never defaulted: the content may become public
            if name not in draft.privacy_answered:
                errors.append(FieldError(name, _msg(UNANSWERED[name])))
    elif step is Step.REVIEW:
        for question in QUESTIONS:
            errors.extend(validate(question, draft, today))
    return errors


class FilingFlow:
    """One citizen's way from the first question to the saved report.

    ``today`` gives the kiosk's local date (injected so tests control it).
    """

    def __init__(self, *, today: Callable[[], dt.date], language: str = "id"):
        self._today = today
        self.draft = Draft(language=language, incident_date=today())
        self._blank = dataclasses.replace(self.draft)  # what "nothing entered yet" looks like
        #: The first day of the month the date calendar shows.
        self.calendar_month: dt.date = self.draft.incident_date.replace(day=1)
        self.step: Step = Step.KIND
        self.errors: list[FieldError] = []
        self.notices: dict[str, list[Message]] = {}
        self._editing_from_review = False
        self.saved: SavedReport | None = None

    # -- where we are ---------------------------------------------------------
    @property
    def question_number(self) -> int | None:
        """1-based number of the current question, None on the review."""
        return QUESTIONS.index(self.step) + 1 if self.step in QUESTIONS else None

    @property
    def question_count(self) -> int:
        return len(QUESTIONS)

    @property
    def editing_from_review(self) -> bool:
        return self._editing_from_review

    @property
    def has_answers(self) -> bool:
        """Whether the citizen entered anything (a choice, a date, a letter): leaving
        then throws it away, so the screen asks first."""
        return dataclasses.replace(self.draft, language=self._blank.language) != self._blank

    def set_language(self, language: str) -> None:
        """The citizen switched language: the report goes in it; every answer stays."""
        self.draft.language = language

    # -- answers ----------------------------------------------------------------
    def choose_kind(self, kind: ReportKind) -> None:
        """Pick the kind; a choice-only step moves on by itself."""
        self.draft.kind = ReportKind(kind)
        self.errors = []
        self.next()

    def choose_category(self, code: str) -> None:
        """A category chosen again later keeps the office already chosen: the citizen
        sees the agency step again on Next and may change it there."""
        self.draft.category_code = code
        self.errors = [e for e in self.errors if e.field != "category_code"]

    def choose_agency(self, code: str | None) -> None:
        """The citizen's answer to the agency step; ``None`` is "Tidak tahu" (No Wrong
        Door: the officer decides), an answer like any other."""
        self.draft.agency_code = code
        self.draft.agency_answered = True
        self.errors = [e for e in self.errors if e.field != "agency_code"]

    def choose_kecamatan(self, code: str) -> None:
        self.draft.kecamatan_code = code
        self.errors = [e for e in self.errors if e.field != "kecamatan_code"]

    def set_date(self, value: dt.date) -> list[FieldError]:
        """Set the incident date; a future date is refused and the old one kept."""
        if value > self._today():
            return [FieldError("incident_date", _msg(N_("The date cannot be in the future.")))]
        self.draft.incident_date = value
        self.calendar_month = max(value.replace(day=1), self.calendar_first_month)
        return []

    def shift_date(self, *, days: int = 0, months: int = 0) -> list[FieldError]:
        """Date picker steps; a month step keeps the day where the month allows it."""
        current = self.draft.incident_date or self._today()
        if months:
            index = current.year * 12 + current.month - 1 + months
            year, month = divmod(index, 12)
            day = min(current.day, calendar.monthrange(year, month + 1)[1])
            current = dt.date(year, month + 1, day)
        return self.set_date(current + dt.timedelta(days=days))

    # -- the date calendar: a month grid of the last CALENDAR_MONTHS months ------------------
    @property
    def calendar_first_month(self) -> dt.date:
        return _add_months(self._today().replace(day=1), 1 - CALENDAR_MONTHS)

    def can_turn_calendar(self, months: int) -> bool:
        """Whether the calendar can show the month ``months`` away (never a future month,
        never before its first month)."""
        target = _add_months(self.calendar_month, months)
        return self.calendar_first_month <= target <= self._today().replace(day=1)

    def turn_calendar(self, months: int) -> bool:
        """Show an earlier (negative) or later month; returns whether it turned."""
        if not self.can_turn_calendar(months):
            return False
        self.calendar_month = _add_months(self.calendar_month, months)
        return True

    def calendar_weeks(self) -> list[list[CalendarDay | None]]:
        """The shown month as weeks from Monday, None before the 1st and after the last day."""
        today, first = self._today(), self.calendar_first_month
        month = self.calendar_month
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
        return [[CalendarDay(day, first <= day <= today, day == self.draft.incident_date) if day.month == month.month
                 else None for day in week] for week in weeks]

    def choose_day(self, day: dt.date) -> list[FieldError]:
        """A tap on a day of the calendar (a day after today is refused, as by :meth:`set_date`)."""
        errors = self.set_date(day)
        if not errors:
            self.errors = [e for e in self.errors if e.field != "incident_date"]
        return errors

    def set_flag(self, name: str, value: bool) -> None:
        """The citizen's Yes or No to a privacy question (see :data:`PRIVACY_QUESTIONS`)."""
        if name not in PRIVACY_QUESTIONS:
            raise ValueError(name)
        setattr(self.draft, name, bool(value))
        self.draft.privacy_answered = self.draft.privacy_answered | {name}
        self.errors = [e for e in self.errors if e.field != name]
        self._keep_sms_consent()

    # -- one SMS when the report is answered (issue 16) ------------------------------------
    @property
    def sms_offered(self) -> bool:
        """Whether the identity step offers "send me an SMS when it is answered": only
        with a phone typed and the report not anonymous."""
        return self.draft.sms_possible

    def set_sms_consent(self, agreed: bool) -> bool:
        """The citizen's tap on the SMS toggle; returns the consent as it now stands
        (never given while it is not offered)."""
        self.draft.sms_consent = bool(agreed) and self.sms_offered
        return self.draft.sms_consent

    def _keep_sms_consent(self) -> None:
        """A consent stands only while it is offered: emptying the phone or choosing to
        stay anonymous takes it back (the citizen agrees again if it comes back)."""
        if not self.sms_offered:
            self.draft.sms_consent = False

    def set_voice(self, note: domain.VoiceNote) -> None:
        """The citizen recorded their complaint: it stands in for the typed description
        (a new recording replaces the one before)."""
        self.draft.voice = note
        self.errors = [e for e in self.errors if e.field not in ("title", "description")]

    def clear_voice(self) -> None:
        """The citizen deleted the recording: the typed description is needed again."""
        self.draft.voice = None

    def set_text(self, field: str, raw: str, *, cleaned_before: CleanResult | None = None) -> str:
        """Store cleaned text for ``field`` and return it (the screen shows that text).

        Notices say what cleaning did (shortened, characters removed), in the citizen's
        language once rendered; ``cleaned_before`` reports cleaning the text field already
        did while the text was typed or pasted.
        """
        max_len, multiline = TEXT_FIELDS[field]
        result = clean_input(raw, max_len=max_len, multiline=multiline)
        if cleaned_before is not None:
            result = result.merged(cleaned_before)
        notes: list[Message] = []
        if result.truncated:
            notes.append(_msg(N_("The text was shortened to {n} characters."), n=max_len))
        if result.removed_unsupported:
            notes.append(_msg(N_("Some characters (such as emoji or other scripts) cannot be used here and were left out.")))
        if result.removed_controls:
            notes.append(_msg(N_("Invisible control characters were removed.")))
        if notes:
            self.notices[field] = notes
        else:
            self.notices.pop(field, None)
        setattr(self.draft, field, result.text)
        self._keep_sms_consent()
        self._revalidate(field)
        return result.text

    def _revalidate(self, field: str) -> None:
        """A field with a message is checked again on each change: the message stays
        while the answer is still wrong and goes as soon as it is right."""
        if not any(e.field == field for e in self.errors):
            return
        again = [e for e in validate(self.step, self.draft, self._today()) if e.field == field]
        self.errors = [e for e in self.errors if e.field != field] + again

    # -- moving -------------------------------------------------------------------
    def next(self) -> bool:
        """Leave the current step if it is complete; returns whether it moved."""
        self.errors = validate(self.step, self.draft, self._today())
        if self.errors:
            return False
        if self._editing_from_review or self.step is Step.IDENTITY:
            self._editing_from_review = False
            self.step = Step.REVIEW
        elif self.step in QUESTIONS:
            self.step = QUESTIONS[QUESTIONS.index(self.step) + 1]
        return True

    def back(self) -> bool:
        """Go one step back, keeping every answer. Returns False on the first step
        (the screen then leaves the flow)."""
        self.errors = []
        if self._editing_from_review:
            self._editing_from_review = False
            self.step = Step.REVIEW
            return True
        if self.step is Step.REVIEW:
            self.step = QUESTIONS[-1]
            return True
        index = QUESTIONS.index(self.step)
        if index == 0:
            return False
        self.step = QUESTIONS[index - 1]
        return True

    def edit(self, step: Step) -> None:
        """From the review, jump to one question; "next" comes back to the review."""
        if self.step is not Step.REVIEW or step not in QUESTIONS:
            raise ValueError(f"cannot edit {step} from {self.step}")
        self._editing_from_review = True
        self.errors = []
        self.step = step

    def submit(self, save: Callable[[Draft], SavedReport]) -> SavedReport | None:
        """Save the report through ``save`` (durable before it returns) and finish.

        Returns None, with :attr:`errors` set, when something is still missing.
        """
        if self.step is not Step.REVIEW:
            raise ValueError(f"submit from {self.step}")
        self.errors = validate(Step.REVIEW, self.draft, self._today())
        if self.errors:
            self.step = next(s for s in QUESTIONS if validate(s, self.draft, self._today()))
            return None
        try:
            self.saved = save(self.draft)
        except (IncompleteDraft, InvalidDraft) as exc:
            # The service refused what the questions let through (e.g. the reference data
            # changed while the citizen filed): back to that question, with a sentence,
            # instead of an apology screen the citizen could only loop through.
            log.warning("report refused by the service: %s (%s)", exc.field, type(exc).__name__)
            self.step, shown = FIELD_STEPS.get(exc.field, (Step.KIND, "kind"))
            self.errors = [FieldError(shown, _msg(N_("Please check this answer again.")))]
            return None
        self.step = Step.DONE
        return self.saved

    def error_for(self, field: str) -> Message | None:
        return next((e.message for e in self.errors if e.field == field), None)
