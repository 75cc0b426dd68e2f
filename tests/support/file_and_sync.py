"""A kiosk process for the crash test: files reports and syncs them at the same time.

    python -m tests.support.file_and_sync DATA_DIR CENTRAL_URL TOKEN TARGET

Prints each Tracking ID once its report is committed. Stops filing when the database
holds TARGET reports, then syncs until nothing waits and prints DONE.
"""
import datetime as dt
import sys
import threading

from kiosk.core import reference
from kiosk.core.domain import Draft, ReportKind
from kiosk.core.reports import ReportService
from kiosk.core.store.db import open_store
from kiosk.runtime.config import VARS, Config
from sync_queue.client import CentralClient
from sync_queue.worker import SyncWorker


def main(data_dir: str, url: str, token: str, target: int) -> None:
    config = Config(values={**{v.key: v.default for v in VARS}, "data_dir": data_dir}, source="file_and_sync")
    store = open_store(config.database_file, key_file=config.key_path)
    reference.load_seed_if_empty(store)
    now = lambda: dt.datetime.now(dt.timezone.utc)  # noqa: E731
    service = ReportService(store, kiosk_code="MT01", clock=now)
    worker = SyncWorker(store, service, CentralClient(url, token, timeout=5), now=now, batch_size=25)
    worker.recover()
    stop = threading.Event()

    def sync_loop():
        while not stop.is_set():
            if not (worker.run_once().sent):
                stop.wait(0.02)  # filing is going on in the other thread; poll briskly

    thread = threading.Thread(target=sync_loop, daemon=True)
    thread.start()
    with store.engine.connect() as conn:
        have = conn.exec_driver_sql("SELECT count(*) FROM reports").scalar()
    for i in range(have, target):
        saved = service.submit(Draft(
            kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title=f"Laporan {i}",
            description="Antrean di puskesmas sangat panjang setiap pagi.", incident_date=dt.date(2026, 11, 20),
            kecamatan_code="LAHEI", reporter_name="Siti",
        ))
        print(saved.tracking_id, flush=True)
    stop.set()
    thread.join()
    while service.count_waiting():
        if not worker.run_once().sent:
            worker_due = worker.next_due()
            if worker_due is not None:
                threading.Event().wait(max(0.0, min(1.0, (worker_due - now()).total_seconds())))
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
