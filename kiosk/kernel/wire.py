"""The wire contract between a kiosk and the central service, defined once.

The kiosk's client builds its requests from these models and reads the answers through
them; the central's routes take and give the same models, so ``/openapi.json`` is what
both sides really speak (docs/ARCHITECTURE.md, "HTTP contract"). Field limits live in
:mod:`kiosk.kernel.limits`, re-exported here, and nowhere else: the kiosk's screens and
validation import them.

Only pydantic and the kernel: the kiosk (below its UI) and the central may both import it.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Callable, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, PlainSerializer, field_validator, model_validator

from kiosk.kernel.clock import utc_now
from kiosk.kernel.printer_kinds import PrinterKindName
# The limits and the kinds of report are the contract's; they live in kiosk.kernel.limits,
# which the kiosk's screens read without pydantic.
from kiosk.kernel.limits import (  # noqa: F401 - re-exported
    CODE_MAX,
    DESCRIPTION_MAX,
    KECAMATAN_OUTSIDE,
    KECAMATAN_UNKNOWN,
    LOCATION_MAX,
    MAX_BATCH,
    NAME_MAX,
    NOTE_MAX,
    PHONE_MAX,
    TITLE_MAX,
    ReportKind,
)
from kiosk.kernel.tracking_id import ALPHABET, CANONICAL_LEN, KIOSK_CODE_LEN, TrackingIdError, parse_tracking_id

#: The most JSON one character of a text field can take: a character outside the Basic
#: Multilingual Plane written as two ``\uXXXX`` escapes (``requests`` and ``json.dumps``
#: escape everything outside ASCII).
_JSON_BYTES_PER_CHAR = 12
#: A report's keys, numbers, booleans, dates and punctuation, with room to spare.
_REPORT_FRAME_BYTES = 1024
#: The largest report a kiosk can send, as JSON (about 57 KB).
MAX_REPORT_BYTES = _REPORT_FRAME_BYTES + _JSON_BYTES_PER_CHAR * (
    CANONICAL_LEN + TITLE_MAX + DESCRIPTION_MAX + LOCATION_MAX + NAME_MAX + PHONE_MAX + 3 * CODE_MAX)
#: The largest request body the central reads (about 28 MB): a full batch of the largest
#: reports. A body announced or streamed past it gets 413 before it is parsed.
MAX_BODY_BYTES = MAX_BATCH * MAX_REPORT_BYTES + _REPORT_FRAME_BYTES

#: A Tracking ID as printed (``MT01-14D2P-F2DBX``) or canonical (``MT0114D2PF2DBX``), for
#: the schema of path parameters. The central also tolerates lower case, spaces and O/I/L
#: typed for 0/1/1 (``parse_tracking_id``); anything it cannot read gets a 400 (a 404 page
#: on ``/status/``).
_SYMBOL = f"[{ALPHABET}]"
TRACKING_ID_PATTERN = (f"^{_SYMBOL}{{{KIOSK_CODE_LEN}}}-?{_SYMBOL}{{5}}-?"
                       f"{_SYMBOL}{{{CANONICAL_LEN - KIOSK_CODE_LEN - 5}}}$")

#: When a report may have been made: not before the product existed, and not more than
#: 30 days ahead of the central's clock. Kiosk clocks drift, lose their time zone, or are
#: set by hand a day or a week wrong; the fleet view flags that (CLOCK-SKEW) and a
#: technician fixes it, while the complaint itself is still taken. Only a time no wrong
#: clock explains (year 1, year 9999) is refused, because a refused report is lost to the
#: citizen until a technician acts.
CREATED_AT_EARLIEST = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
CREATED_AT_AHEAD_MAX = dt.timedelta(days=30)

# C0 controls, DEL, C1 controls (category Cc) and lone surrogates (Cs: JSON's "\ud800"
# escapes carry them): nothing a person types, and PostgreSQL cannot store NUL at all.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINE_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _refusing(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        found = pattern.search(value)
        if found is not None:
            raise ValueError(f"character U+{ord(found.group()):04X} is not allowed "
                             "(no control characters or lone surrogates)")
        return value

    return check


#: One line of text (codes, a title, a name): no control character at all.
Line = Annotated[str, AfterValidator(_refusing(_CONTROL))]
#: Text that may span lines (a description, an officer's note): tab, LF and CR allowed.
Lines = Annotated[str, AfterValidator(_refusing(_CONTROL_BUT_LINE_BREAKS))]

#: The languages a report may be written in (``kiosk.kernel.i18n.LANGUAGES``, as a type).
Language = Literal["id", "en"]


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


#: A time the central answers with, written as ``datetime.isoformat()`` (``+00:00``, not
#: pydantic's ``Z``): the status and heartbeat answers have always been written so, and
#: stored status answers on kiosks are too. Intake results keep pydantic's form.
IsoDatetime = Annotated[dt.datetime, PlainSerializer(_iso, return_type=str, when_used="json")]


# -- a recorded complaint: PUT /api/v1/reports/{id}/voice ----------------------------------
#: The largest recorded complaint the central takes (3 minutes at 20 kbit/s are ~450 kB).
VOICE_MAX_BYTES = 1024 * 1024
#: The longest recorded complaint a report may announce (the kiosk stops at 180 s).
VOICE_MAX_SECONDS = 600.0
#: The upload's body type, and the header that carries the body's SHA-256 in hex.
VOICE_CONTENT_TYPE = "audio/ogg"
VOICE_SHA256_HEADER = "X-Content-SHA256"
SHA256_PATTERN = r"^[0-9a-f]{64}$"


class VoiceRef(BaseModel):
    """A report's recorded complaint, announced with the report and uploaded after it
    (keyed by the Tracking ID and this hash): it takes the typed description's place."""

    model_config = {"extra": "forbid"}

    sha256: str = Field(pattern=SHA256_PATTERN)
    duration_s: float = Field(gt=0, le=VOICE_MAX_SECONDS)


class VoiceResult(BaseModel):
    """The central holds this recording of the report (the same answer to a repeat)."""

    tracking_id: str
    sha256: str
    size: int
    received_at: dt.datetime


# -- reports: POST /api/v1/reports ------------------------------------------------------
class ReportIn(BaseModel):
    """One report as a kiosk sends it."""

    model_config = {"extra": "forbid"}

    tracking_id: str = Field(description="canonical: 14 symbols, upper case, no dashes; issued by the sending kiosk")
    kind: ReportKind
    category_code: Line = Field(min_length=1, max_length=CODE_MAX)
    agency_code: Line | None = Field(default=None, max_length=CODE_MAX, description="null: the citizen did not know")
    title: Line = Field(min_length=1, max_length=TITLE_MAX)
    description: Lines = Field(max_length=DESCRIPTION_MAX, description="may be empty only with a voice recording")
    incident_date: dt.date
    kecamatan_code: Line = Field(min_length=1, max_length=CODE_MAX)
    location_text: Line = Field(default="", max_length=LOCATION_MAX)
    reporter_name: Line = Field(default="", max_length=NAME_MAX)
    reporter_phone: Line = Field(default="", max_length=PHONE_MAX)
    anonymous: bool
    confidential: bool
    language: Language
    created_at: dt.datetime = Field(description="on the kiosk's clock; from 2020-01-01 to 30 days past the central's clock")
    voice: VoiceRef | None = Field(default=None, description="a recorded complaint, uploaded after the report")
    sms_consent: bool = Field(default=False, description="the reporter agreed to one SMS to reporter_phone when the "
                                                         "report is answered (never for an anonymous report); "
                                                         "optional: older kiosks do not send it")

    def body(self) -> dict:
        """The report as a kiosk sends it and the central stores it: the fields added after
        the first kiosks (``voice``, ``sms_consent``) only when they say something. A kiosk
        upgraded before its central is then still understood (a central that does not know
        a field refuses it), and a report resent by an upgraded kiosk is still a duplicate of
        what it sent before, never a conflict."""
        unsent = ({"voice"} if self.voice is None else set()) | (set() if self.sms_consent else {"sms_consent"})
        return self.model_dump(mode="json", exclude=unsent or None)

    @model_validator(mode="after")
    def _described(self) -> "ReportIn":
        if not self.description and self.voice is None:
            raise ValueError("description: String should have at least 1 character (or a voice recording)")
        return self

    @field_validator("tracking_id")
    @classmethod
    def _canonical_tracking_id(cls, value: str) -> str:
        try:
            canonical = parse_tracking_id(value)
        except TrackingIdError as exc:
            raise ValueError(str(exc)) from None
        if canonical != value:
            raise ValueError("tracking id must be sent in canonical form (14 symbols, upper case, no dashes)")
        return value

    @field_validator("created_at")
    @classmethod
    def _plausible_created_at(cls, value: dt.datetime) -> dt.datetime:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
        if aware < CREATED_AT_EARLIEST:
            raise ValueError(f"is before {CREATED_AT_EARLIEST.date()}: check the kiosk's clock")
        if aware > utc_now() + CREATED_AT_AHEAD_MAX:
            raise ValueError(f"is more than {CREATED_AT_AHEAD_MAX.days} days ahead of the central's clock: "
                             "check the kiosk's clock")
        return value


class ReportBatch(BaseModel):
    """``{"reports": [...]}``. Each report is checked on its own (one bad report does
    not refuse the batch), so the items arrive as plain objects."""

    reports: list[dict] = Field(min_length=1, max_length=MAX_BATCH,
                                description="each a ReportIn; one that is not gets outcome invalid, not a 422")


class FieldProblem(BaseModel):
    """Which field is wrong and why: ``title`` / ``String should have at least 1 character``."""

    field: str
    problem: str


Outcome = Literal["created", "duplicate", "conflict", "invalid"]


class ItemResult(BaseModel):
    """What became of one report: ``created``; ``duplicate`` (the same body again: same
    ``received_at``); ``conflict`` (a different body under a Tracking ID already held:
    recorded, never applied); ``invalid`` (``errors`` says which field and why)."""

    tracking_id: str | None
    outcome: Outcome
    received_at: dt.datetime | None = None
    errors: list[FieldProblem] = []


class BatchResult(BaseModel):
    """One result per report, in the order sent."""

    results: list[ItemResult]


# -- status: GET /api/v1/reports/{id}/status -------------------------------------------------
class StatusEvent(BaseModel):
    """One step of a report's lifecycle as the citizen may see it (never the note or the actor)."""

    status: str
    at: IsoDatetime
    public_reply: str | None = None
    agency_code: str | None = None


class StatusOut(BaseModel):
    """What anyone holding the receipt may see: never the reporter's identity, and no
    title when the report is confidential."""

    tracking_id: str
    status: str
    kind: ReportKind
    category_code: str
    confidential: bool
    agency_code: str | None = None
    title: str | None = None
    received_at: IsoDatetime
    events: list[StatusEvent] = []
    #: LAPOR!'s own number for the report once LAPOR! holds it (the central forwards it:
    #: docs/FORWARDING.md), for the citizen to follow it there; None before, or when the
    #: central does not forward to LAPOR!.
    lapor_number: str | None = None


# -- feedback: POST /api/v1/feedback -----------------------------------------------------------
#: What a citizen may write with an objection ("Masalah belum selesai").
OBJECTION_TEXT_MAX = 500
#: Ratings: 1 "Sangat tidak puas" ... 5 "Sangat puas".
RATING_MIN, RATING_MAX = 1, 5
#: A feedback item's idempotency key: 32 lower-case hex digits (``uuid4().hex``), made once
#: by the kiosk when the citizen files it, as a report's Tracking ID is. Never mistaken for
#: a Tracking ID (upper-case Crockford symbols, 14 of them).
FEEDBACK_KEY_PATTERN = r"^[0-9a-f]{32}$"
_FEEDBACK_KEY = re.compile(FEEDBACK_KEY_PATTERN)
FeedbackKind = Literal["objection", "rating"]


def is_feedback_key(key: str) -> bool:
    """Is this an outbox key of a feedback item (not a Tracking ID)?"""
    return bool(_FEEDBACK_KEY.match(key))


class FeedbackIn(BaseModel):
    """The citizen's answer to an answer, as a kiosk sends it: an ``objection`` (the problem
    is not solved; ``text`` may be empty) or a ``rating`` (``score`` 1-5, no text). ``key``
    is the idempotency key: the same key again is the same item, never a second one."""

    model_config = {"extra": "forbid"}

    key: str = Field(pattern=FEEDBACK_KEY_PATTERN)
    kind: FeedbackKind
    tracking_id: str = Field(description="canonical: the answered report's Tracking ID (of any kiosk)")
    text: Lines = Field(default="", max_length=OBJECTION_TEXT_MAX)
    score: int | None = Field(default=None, ge=RATING_MIN, le=RATING_MAX)
    filed_at: dt.datetime = Field(description="when the citizen filed it, on the kiosk's clock")

    _canonical_tracking_id = field_validator("tracking_id")(ReportIn._canonical_tracking_id.__func__)
    _plausible_filed_at = field_validator("filed_at")(ReportIn._plausible_created_at.__func__)

    @model_validator(mode="after")
    def _consistent(self) -> "FeedbackIn":
        if self.kind == "rating" and (self.score is None or self.text):
            raise ValueError("a rating has a score from 1 to 5 and no text")
        if self.kind == "objection" and self.score is not None:
            raise ValueError("an objection has no score")
        return self


class FeedbackBatch(BaseModel):
    """``{"items": [...]}``, each checked on its own as reports are."""

    items: list[dict] = Field(min_length=1, max_length=MAX_BATCH,
                              description="each a FeedbackIn; one that is not gets outcome invalid, not a 422")


class FeedbackResult(BaseModel):
    """What became of one item: ``created``; ``duplicate`` (this key again, the same
    content); ``conflict`` (another content under a key already held: never applied);
    ``invalid`` (``errors``: which field and why, e.g. an unknown Tracking ID)."""

    key: str | None
    outcome: Outcome
    errors: list[FieldProblem] = []


class FeedbackBatchResult(BaseModel):
    """One result per item, in the order sent."""

    results: list[FeedbackResult]


# -- heartbeat: POST /api/v1/heartbeat --------------------------------------------------------
#: ``unknown``: not checked this time (e.g. the printer was busy printing).
PrinterState = Literal["ok", "cover_open", "unavailable", "timeout", "fault", "unknown"]
PaperState = Literal["ok", "low", "out", "unknown"]
CameraState = Literal["not_configured", "ok", "unavailable", "unknown"]
PRINTER_FAULTS = ("cover_open", "unavailable", "timeout", "fault")

_TEN_YEARS_S = 10 * 365 * 86400.0
_MAX_COUNT = 10_000_000


class HeartbeatIn(BaseModel):
    """How a kiosk is doing as a machine. Numbers, timestamps, fixed state words and a
    version string only: any other field is refused, so a heartbeat cannot carry a
    Tracking ID, a text or a name. Ages are measured on the kiosk's own clock at
    ``sent_at``, so a kiosk with a wrong clock still reports them right; the central
    keeps its own ``received_at``."""

    model_config = {"extra": "forbid", "allow_inf_nan": False}

    sent_at: AwareDatetime
    version: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]*$")
    queue_depth: int = Field(ge=0, le=_MAX_COUNT, description="reports not yet confirmed by the central (failed included)")
    failed: int = Field(ge=0, le=_MAX_COUNT, description="reports the central refused for good (need a technician)")
    oldest_waiting_age_s: float | None = Field(default=None, ge=0, le=_TEN_YEARS_S)
    last_sync_age_s: float | None = Field(default=None, ge=0, le=_TEN_YEARS_S,
                                          description="since the central last answered a sync; null: not since start-up and nothing ever sent")
    printer_kind: PrinterKindName
    printer: PrinterState
    paper: PaperState
    camera: CameraState
    disk_free_bytes: int = Field(ge=0, le=2**62)
    disk_total_bytes: int = Field(ge=0, le=2**62)
    # Optional (older kiosks do not send them): the last step of the kiosk's wall clock.
    clock_step_s: float | None = Field(default=None, ge=-_TEN_YEARS_S, le=_TEN_YEARS_S,
                                       description="the wall clock's last step, seconds (positive: jumped ahead); null: none since start-up")
    clock_step_age_s: float | None = Field(default=None, ge=0, le=_TEN_YEARS_S,
                                           description="since that step was noticed (monotonic clock)")
    # Optional: a citizen pressed "Minta bantuan petugas" (a number only, never who or why).
    help_called_age_s: float | None = Field(default=None, ge=0, le=_TEN_YEARS_S,
                                            description="since a citizen asked for staff on the kiosk (monotonic clock); null: no call")

    @model_validator(mode="after")
    def _consistent(self) -> "HeartbeatIn":
        if (self.clock_step_s is None) != (self.clock_step_age_s is None):
            raise ValueError("clock_step_s and clock_step_age_s go together")
        if self.failed > self.queue_depth:
            raise ValueError("failed cannot exceed queue_depth (failed reports are part of the queue)")
        if (self.queue_depth > 0) != (self.oldest_waiting_age_s is not None):
            raise ValueError("oldest_waiting_age_s is required when queue_depth > 0, and must be null otherwise")
        if self.disk_free_bytes > self.disk_total_bytes:
            raise ValueError("disk_free_bytes cannot exceed disk_total_bytes")
        return self


class HeartbeatAck(BaseModel):
    """The central took the heartbeat as this kiosk's latest."""

    received_at: IsoDatetime = Field(description="the central's clock")


# -- errors --------------------------------------------------------------------------------
class Problem(BaseModel):
    """An error answer: ``detail`` is a sentence, or ``{"field", "problem"}`` for a
    malformed Tracking ID."""

    detail: str | FieldProblem
