"""The report a citizen files, as plain data shared by the flow, the store and the receipt.

Nothing here touches the UI, the database or a device.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

# ReportKind and the upper limits are the wire contract's (kiosk.kernel.limits, which
# kiosk.kernel.wire re-exports): the central checks the same numbers, the filing screen's
# max_chars too. Re-exported here because the domain is where the kiosk's code looks for them.
from kiosk.kernel.limits import (  # noqa: F401 - re-exported
    DESCRIPTION_MAX,
    LOCATION_MAX,
    NAME_MAX,
    PHONE_MAX,
    TITLE_MAX,
    ReportKind,
)

#: Lower bounds: the kiosk's own, to help a citizen write a report an officer can act on
#: (the central takes any non-empty title and description).
TITLE_MIN = 5
DESCRIPTION_MIN = 15

#: The two privacy questions of the identity step, asked as plain yes/no questions and
#: never answered by default: hide the name from the office, keep the content off the internet.
PRIVACY_QUESTIONS: tuple[str, ...] = ("anonymous", "confidential")

#: Sentinel agency code for "Tidak tahu" (No Wrong Door: the central side routes it).
AGENCY_UNKNOWN = None


@dataclasses.dataclass(frozen=True)
class VoiceNote:
    """A recorded complaint (``devices.microphone.Recording``, as the report keeps it): the
    Ogg Opus bytes that travel, their SHA-256 (the upload's key with the Tracking ID) and
    length. It takes the place of the typed description; the bytes never show in a repr."""

    ogg: bytes = dataclasses.field(repr=False)
    sha256: str
    duration_s: float


@dataclasses.dataclass
class Draft:
    """What the citizen has entered so far. Every field may still be empty."""

    kind: ReportKind | None = None
    category_code: str | None = None
    agency_code: str | None = AGENCY_UNKNOWN
    title: str = ""
    description: str = ""
    incident_date: dt.date | None = None
    kecamatan_code: str | None = None
    location_text: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    anonymous: bool = False
    confidential: bool = False
    #: The citizen agreed to one SMS to ``reporter_phone`` when the report is answered
    #: (issue 16). Only ever True with a phone and not anonymous: the flow offers it then,
    #: and takes it back when either changes (:attr:`kiosk.core.flow.FilingFlow.sms_offered`).
    sms_consent: bool = False
    language: str = "id"
    #: Which of :data:`PRIVACY_QUESTIONS` the citizen has answered. The filing flow does
    #: not leave the identity step until both are; the two flags above stay plain booleans
    #: (False until answered) for everything after the flow.
    privacy_answered: frozenset[str] = frozenset()
    #: Whether the citizen answered the agency step ("I don't know" included, which
    #: leaves ``agency_code`` None): the flow does not leave that step before.
    agency_answered: bool = False
    #: A recorded complaint in place of the typed description (then the description may
    #: stay empty, and an empty title becomes the category's name); None: typed only.
    voice: VoiceNote | None = None

    @property
    def sms_possible(self) -> bool:
        """Whether the citizen may ask for an SMS when the report is answered: a phone is
        given and the report is not anonymous (an anonymous report never gets one)."""
        return bool((self.reporter_phone or "").strip()) and not self.anonymous

    def privacy_answer(self, name: str) -> bool | None:
        """The citizen's answer to a privacy question, None while unanswered."""
        if name not in PRIVACY_QUESTIONS:
            raise ValueError(name)
        return getattr(self, name) if name in self.privacy_answered else None


@dataclasses.dataclass(frozen=True)
class SavedReport:
    """A report durably committed on the kiosk, with its outbox entry."""

    tracking_id: str
    created_at: dt.datetime  # aware, UTC
    draft: Draft
    kiosk_code: str


class IncompleteDraft(ValueError):
    """A required answer is missing; ``field`` names it."""

    def __init__(self, field: str):
        super().__init__(f"draft is missing {field}")
        self.field = field


class InvalidDraft(ValueError):
    """An answer a report may not hold (too long, an unknown code, a future date...);
    ``field`` names it and ``problem`` says why, in the kiosk's own words (never the text)."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem
