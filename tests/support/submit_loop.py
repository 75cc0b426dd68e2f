"""Submit reports forever, printing each Tracking ID once ``submit`` has returned.

Used by the kill-mid-commit test: whatever was printed must survive a SIGKILL.
    python -m tests.support.submit_loop DATA_DIR
"""
import datetime as dt
import sys
from pathlib import Path

from kiosk.core import reference
from kiosk.core.domain import Draft, ReportKind
from kiosk.core.reports import ReportService
from kiosk.core.store.db import open_store


def main(data_dir: str) -> None:
    data = Path(data_dir)
    store = open_store(data / "kiosk.sqlite3", key_file=data / "secret.key")
    reference.load_seed_if_empty(store)
    service = ReportService(store, kiosk_code="MT01", clock=lambda: dt.datetime.now(dt.timezone.utc))
    print("READY", flush=True)
    while True:
        saved = service.submit(Draft(
            kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title="Antrean puskesmas",
            description="Antrean di puskesmas sangat panjang setiap pagi." * 5,
            incident_date=dt.date(2026, 11, 20), kecamatan_code="LAHEI", reporter_name="Siti",
        ))
        print(saved.tracking_id, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
