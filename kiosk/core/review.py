"""What the review screen lists: every answer in readable words, with the step that edits it."""
from __future__ import annotations

import dataclasses

from kiosk.core import reference
from kiosk.core.domain import PRIVACY_QUESTIONS, Draft
from kiosk.core.flow import Step
from kiosk.kernel.i18n import N_, gettext_for
from kiosk.core.labels import KIND_LABELS
from kiosk.kernel.i18n import long_date
from kiosk.kernel.durations import voice_line


#: The identity step's two questions, as the citizen was asked them.
PRIVACY_QUESTION_TEXT: dict[str, str] = {
    "anonymous": N_("Hide your name from the office?"),
    "confidential": N_("Keep the report's content private?"),
}
#: What each answer means, as the review lists it: (the answer, its consequence).
PRIVACY_ANSWER_TEXT: dict[tuple[str, bool], tuple[str, str]] = {
    ("anonymous", True): (N_("Anonymous: yes"), N_("Your name is not sent to the office")),
    ("anonymous", False): (N_("Anonymous: no"), N_("Your name is sent to the office")),
    ("confidential", True): (N_("Confidential: yes"), N_("The report's content is not shown on the internet")),
    ("confidential", False): (N_("Confidential: no"), N_("The report's content may be shown on the internet")),
}


#: The SMS toggle's answer as the review lists it, under the name and phone; only when the
#: toggle was offered (a phone, not anonymous).
SMS_ANSWER_TEXT: dict[bool, str] = {
    True: N_("SMS when answered: yes"),
    False: N_("SMS when answered: no"),
}


def privacy_lines(draft: Draft, gettext) -> list[str]:
    """Each privacy answer in words, with what it means; an unanswered one says so."""
    lines = []
    for name in PRIVACY_QUESTIONS:
        answer = draft.privacy_answer(name)
        if answer is None:
            lines.append(f"{gettext(PRIVACY_QUESTION_TEXT[name])} {gettext('(not given)')}")
        else:
            said, meaning = PRIVACY_ANSWER_TEXT[(name, answer)]
            lines.append(f"{gettext(said)} — {gettext(meaning)}")
    return lines


def description_text(draft: Draft, gettext) -> str:
    """The description as the review shows it: the recording's line, then anything typed."""
    if draft.voice is None:
        return draft.description
    line = voice_line(draft.voice.duration_s, gettext)
    return f"{line}\n{draft.description}" if draft.description.strip() else line


@dataclasses.dataclass(frozen=True)
class ReviewRow:
    step: Step
    label: str
    value: str


def _label(choices, code, default: str) -> str:
    return next((c.label for c in choices if c.code == code), default)


def review_rows(draft: Draft, store, language: str) -> list[ReviewRow]:
    """The review, translated for ``language``."""
    _ = gettext_for(language)
    unknown = _("I don't know (the central office will route it)")
    not_given = _("(not given)")
    kind = _(KIND_LABELS[draft.kind]) if draft.kind else not_given
    category = _label(reference.categories(store, language), draft.category_code, not_given)
    agency = _label(reference.agencies(store, language), draft.agency_code, unknown) if draft.agency_code else unknown
    kecamatan = _label(reference.kecamatan_choices(store, language), draft.kecamatan_code, not_given)
    place = f"{kecamatan}, {draft.location_text}" if draft.location_text else kecamatan
    when = long_date(draft.incident_date, language) if draft.incident_date else not_given
    who = draft.reporter_name or not_given
    if draft.reporter_phone:
        who = f"{who}, {draft.reporter_phone}"
    if draft.sms_possible:
        who = f"{who}\n{_(SMS_ANSWER_TEXT[draft.sms_consent])}"
    return [
        ReviewRow(Step.KIND, _("Kind of report"), kind),
        ReviewRow(Step.CATEGORY, _("Category"), category),
        ReviewRow(Step.AGENCY, _("Office"), agency),
        # A recorded complaint without a typed title is filed under its category's name.
        ReviewRow(Step.DESCRIBE, _("Title"), draft.title or (category if draft.voice is not None else "")),
        ReviewRow(Step.DESCRIBE, _("What happened"), description_text(draft, _)),
        ReviewRow(Step.WHEN_WHERE, _("When and where"), f"{when}\n{place}"),
        ReviewRow(Step.IDENTITY, _("Your identity"), who),
        ReviewRow(Step.IDENTITY, _("Privacy"), "\n".join(privacy_lines(draft, _))),
    ]

