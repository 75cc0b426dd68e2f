"""The wire contract between a kiosk and the central service, defined once.

The kiosk's client builds its requests from these models and reads the answers through
them; the central's routes take and give the same models, so ``/openapi.json`` is what
both sides really speak (docs/ARCHITECTURE.md, "HTTP contract"). Field limits live here
and nowhere else: the kiosk's screens and validation import them.

Only pydantic and the kernel: the kiosk (below its UI) and the central may both import it.
"""
from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, PlainSerializer, field_validator, model_validator

from kiosk.kernel.printer_kinds import PrinterKindName
from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

# -- limits ---------------------------------------------------------------------------
#: Upper bounds on what a citizen may type. The description limit is the product's; the
#: others keep a receipt and a review screen readable.
TITLE_MAX = 150
DESCRIPTION_MAX = 4000
LOCATION_MAX = 200
NAME_MAX = 100
PHONE_MAX = 20
#: Codes of categories, agencies and kecamatan.
CODE_MAX = 64
#: Reports in one ``POST /api/v1/reports``.
MAX_BATCH = 500
#: What an officer may write in a note or a reply.
NOTE_MAX = 4000

#: The languages a report may be written in (``kiosk.kernel.i18n.LANGUAGES``, as a type).
Language = Literal["id", "en"]


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


#: A time the central answers with, written as ``datetime.isoformat()`` (``+00:00``, not
#: pydantic's ``Z``): the status and heartbeat answers have always been written so, and
#: stored status answers on kiosks are too. Intake results keep pydantic's form.
IsoDatetime = Annotated[dt.datetime, PlainSerializer(_iso, return_type=str, when_used="json")]


class ReportKind(str, enum.Enum):
    """LAPOR!'s classification of a report."""

    PENGADUAN = "pengaduan"  # complaint
    ASPIRASI = "aspirasi"  # aspiration / suggestion
    PERMINTAAN_INFORMASI = "permintaan_informasi"  # request for information


# -- reports: POST /api/v1/reports ------------------------------------------------------
class ReportIn(BaseModel):
    """One report as a kiosk sends it."""

    model_config = {"extra": "forbid"}

    tracking_id: str = Field(description="canonical: 14 symbols, upper case, no dashes; issued by the sending kiosk")
    kind: ReportKind
    category_code: str = Field(min_length=1, max_length=CODE_MAX)
    agency_code: str | None = Field(default=None, max_length=CODE_MAX, description="null: the citizen did not know")
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    incident_date: dt.date
    kecamatan_code: str = Field(min_length=1, max_length=CODE_MAX)
    location_text: str = Field(default="", max_length=LOCATION_MAX)
    reporter_name: str = Field(default="", max_length=NAME_MAX)
    reporter_phone: str = Field(default="", max_length=PHONE_MAX)
    anonymous: bool
    confidential: bool
    language: Language
    created_at: dt.datetime

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

    @model_validator(mode="after")
    def _consistent(self) -> "HeartbeatIn":
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
