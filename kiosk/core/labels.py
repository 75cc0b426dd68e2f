"""Words the citizen sees for domain values (English msgids, translated at display)."""
from __future__ import annotations

from kiosk.core.domain import ReportKind
from kiosk.kernel.i18n import N_

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
