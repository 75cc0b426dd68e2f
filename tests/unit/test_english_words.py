"""Words of the English catalog a newcomer tripped over (issue 12)."""
from __future__ import annotations

from kiosk.core.labels import KIND_LABELS
from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.wire import ReportKind


def test_aspirasi_is_a_suggestion_in_english_and_kecamatan_is_explained():
    en, id_ = gettext_for("en"), gettext_for("id")
    assert en(KIND_LABELS[ReportKind.ASPIRASI]) == "Suggestion"
    assert id_(KIND_LABELS[ReportKind.ASPIRASI]) == "Aspirasi"
    assert en("Kecamatan") == "Kecamatan (district)" and id_("Kecamatan") == "Kecamatan"
