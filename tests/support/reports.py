"""Reports filed straight through the kiosk's ReportService (no screen), for sync tests."""
from __future__ import annotations

import datetime as dt

from kiosk.core.domain import Draft, ReportKind
from kiosk.core.reports import ReportService


def file_reports(store, clock, count: int, **changes) -> list[str]:
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    ids = []
    for i in range(count):
        values = dict(kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title=f"Antrean {i}",
                      description="Antrean di puskesmas sangat panjang.", incident_date=dt.date(2026, 11, 20),
                      kecamatan_code="LAHEI", reporter_name="Siti Aminah", reporter_phone="0812345678")
        values.update(changes)
        ids.append(service.submit(Draft(**values)).tracking_id)
    return ids
