"""What the review screen lists: every answer in readable words, with the step that edits it."""
from __future__ import annotations

import dataclasses

from kiosk.core import reference
from kiosk.core.domain import Draft
from kiosk.core.flow import Step
from kiosk.kernel.i18n import gettext_for
from kiosk.core.labels import KIND_LABELS
from kiosk.kernel.i18n import long_date


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
    kecamatan = _label(reference.kecamatan(store), draft.kecamatan_code, not_given)
    place = f"{kecamatan}, {draft.location_text}" if draft.location_text else kecamatan
    when = long_date(draft.incident_date, language) if draft.incident_date else not_given
    who = draft.reporter_name or not_given
    if draft.reporter_phone:
        who = f"{who}, {draft.reporter_phone}"
    flags = [
        _("Anonymous: yes") if draft.anonymous else _("Anonymous: no"),
        _("Confidential: yes") if draft.confidential else _("Confidential: no"),
    ]
    return [
        ReviewRow(Step.KIND, _("Kind of report"), kind),
        ReviewRow(Step.CATEGORY, _("Category and office"), f"{category}\n{agency}"),
        ReviewRow(Step.DESCRIBE, _("Title"), draft.title),
        ReviewRow(Step.DESCRIBE, _("What happened"), draft.description),
        ReviewRow(Step.WHEN_WHERE, _("When and where"), f"{when}\n{place}"),
        ReviewRow(Step.IDENTITY, _("Your identity"), f"{who}\n{' · '.join(flags)}"),
    ]

