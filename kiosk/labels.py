"""Words the citizen sees for domain values (English msgids, translated at display)."""
from __future__ import annotations

import datetime as dt

from kiosk.domain import ReportKind
from kiosk.i18n import N_

KIND_LABELS: dict[ReportKind, str] = {
    ReportKind.PENGADUAN: N_("Complaint"),
    ReportKind.ASPIRASI: N_("Aspiration"),
    ReportKind.PERMINTAAN_INFORMASI: N_("Request for information"),
}

KIND_EXPLANATIONS: dict[ReportKind, str] = {
    ReportKind.PENGADUAN: N_("A public service went wrong or did not serve you."),
    ReportKind.ASPIRASI: N_("A suggestion or an idea to make a public service better."),
    ReportKind.PERMINTAAN_INFORMASI: N_("You need information from a government office."),
}


def long_date(value: dt.date, language: str) -> str:
    """``23 November 2026`` in Indonesian or English."""
    from babel.dates import format_date  # loads locale data: not at start-up

    return format_date(value, format="long", locale="id" if language == "id" else "en")
