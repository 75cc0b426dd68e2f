"""The report a citizen files, as plain data shared by the flow, the store and the receipt.

Nothing here touches the UI, the database or a device.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum


class ReportKind(str, enum.Enum):
    """LAPOR!'s classification of a report."""

    PENGADUAN = "pengaduan"  # complaint
    ASPIRASI = "aspirasi"  # aspiration / suggestion
    PERMINTAAN_INFORMASI = "permintaan_informasi"  # request for information


#: Upper bounds on what a citizen may type. The description limit is the product's;
#: the others keep a receipt and a review screen readable.
TITLE_MAX = 150
DESCRIPTION_MAX = 4000
LOCATION_MAX = 200
NAME_MAX = 100
PHONE_MAX = 20
TITLE_MIN = 5
DESCRIPTION_MIN = 15

#: Sentinel agency code for "Tidak tahu" (No Wrong Door: the central side routes it).
AGENCY_UNKNOWN = None


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
    language: str = "id"


@dataclasses.dataclass(frozen=True)
class SavedReport:
    """A report durably committed on the kiosk, with its outbox entry."""

    tracking_id: str
    created_at: dt.datetime  # aware, UTC
    draft: Draft
    kiosk_code: str
