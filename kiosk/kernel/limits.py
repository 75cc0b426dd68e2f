"""The wire contract's plain numbers and words (:mod:`kiosk.kernel.wire` re-exports them):
what a citizen may type, the codes, a batch, the kinds of report.

Only the standard library: the kiosk's filing screens need these before their first frame,
and the contract's pydantic models (about 100 ms to import) are needed only once a report
travels or a status answer is read.
"""
from __future__ import annotations

import enum

#: Upper bounds on what a citizen may type. The description limit is the product's; the
#: others keep a receipt and a review screen readable.
TITLE_MAX = 150
DESCRIPTION_MAX = 4000
LOCATION_MAX = 200
NAME_MAX = 100
PHONE_MAX = 20
#: Codes of categories, agencies and kecamatan.
CODE_MAX = 64
#: Kecamatan answers beside the reference list's codes: the citizen does not know where, or
#: the matter lies outside the kabupaten (No Wrong Door: an officer sorts it out). Every
#: channel's report may carry them: the kiosk offers both, Open311 and SMS default to
#: "don't know".
KECAMATAN_UNKNOWN = "TIDAK_TAHU"
KECAMATAN_OUTSIDE = "LUAR_KABUPATEN"
#: Reports in one ``POST /api/v1/reports``.
MAX_BATCH = 500
#: What an officer may write in a note or a reply.
NOTE_MAX = 4000


class ReportKind(str, enum.Enum):
    """LAPOR!'s classification of a report."""

    PENGADUAN = "pengaduan"  # complaint
    ASPIRASI = "aspirasi"  # aspiration / suggestion
    PERMINTAAN_INFORMASI = "permintaan_informasi"  # request for information
