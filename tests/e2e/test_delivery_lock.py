"""One delivery pass per data directory, with real processes: the app's sync worker (a
kiosk process, ``tests/support/delivering_kiosk.py``) and the technician's
``kiosk sync --once`` (the real command) against a real central."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys

from kiosk.core.domain import Draft, ReportKind
from kiosk.runtime.config import load_config
from kiosk.runtime.env import build_env
from sync_queue.lock import APP_ROLE, TECHNICIAN_ROLE, DeliveryLock
from tests.support.servers import ROOT

REPORTS = 300


def write_config(tmp_path, base: str, token: str) -> str:
    values = {"data_dir": str(tmp_path / "data"), "kiosk_code": "MT01", "central_url": base, "central_token": token}
    path = tmp_path / "kiosk.toml"
    path.write_text("[kiosk]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), encoding="utf-8")
    return str(path)


def file_reports(config: str, count: int) -> list[str]:
    """Reports filed (and left waiting) by the kiosk's own service, before the app starts."""
    env = build_env(load_config(config, environ={}))
    try:
        return [env.reports.submit(Draft(
            kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title=f"Laporan {i}",
            description="Antrean di puskesmas sangat panjang setiap pagi.", incident_date=dt.date(2026, 11, 20),
            kecamatan_code="LAHEI", reporter_name="Siti")).tracking_id for i in range(count)]
    finally:
        env.close()


def start_app(config: str) -> subprocess.Popen:
    app = subprocess.Popen([sys.executable, "-m", "tests.support.delivering_kiosk", config], cwd=ROOT,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = app.stdout.readline().strip()
    assert line == "HOLDING", (line, app.stderr.read()[-2000:] if app.poll() is not None else "")
    return app


def kiosk(config: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", config, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def outbox_states(tmp_path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "data" / "kiosk.sqlite3") as con:
        return dict(con.execute("SELECT tracking_id, state FROM outbox"))


def central_counts(db_file, ids: list[str]) -> dict[str, int]:
    with sqlite3.connect(db_file) as con:
        rows = con.execute("SELECT tracking_id, count(*) FROM reports WHERE tracking_id IN (%s) GROUP BY tracking_id"
                           % ",".join("?" * len(ids)), ids).fetchall()
    return dict(rows)


def test_a_technician_pass_refuses_while_the_app_delivers_and_nothing_is_failed(central, token, tmp_path):
    """GIVEN 300 reports waiting and the kiosk app's worker delivering them (another process)
    WHEN the technician runs `kiosk sync --once` three times meanwhile
    THEN each refuses with a sentence naming the app and its queue (exit 4) and touches
    nothing; the app delivers every report, none failed, each once at the central."""
    base, _, db_file = central
    config = write_config(tmp_path, base, token)
    ids = file_reports(config, REPORTS)
    app = start_app(config)
    try:
        for _ in range(3):
            run = kiosk(config, "sync", "--once")
            assert run.returncode == 4, (run.returncode, run.stdout, run.stderr)
            assert "the kiosk app is delivering right now" in run.stderr and "its queue: " in run.stderr
            assert f"(pid {app.pid})" in run.stderr
            assert "sent" not in run.stdout  # no pass ran
        assert app.stdout.readline().strip() == "DELIVERED"
    finally:
        app.stdin.close()
        app.wait(60)
    assert app.returncode == 0, app.stderr.read()[-2000:]
    assert set(outbox_states(tmp_path).values()) == {"sent"}  # none `failed: conflict`
    assert central_counts(db_file, ids) == {tid: 1 for tid in ids}

    run = kiosk(config, "sync", "--once")  # the app has stopped: the lock is free again
    assert run.returncode == 0 and "sent 0, failed 0, waiting 0" in run.stdout, run.stderr


def test_a_killed_app_releases_the_lock_and_the_technician_finishes_its_batch(central, token, tmp_path):
    """GIVEN the app's worker delivering 300 reports WHEN the app is killed with SIGKILL
    (likely with a batch left `sending`) THEN `kiosk sync --once` gets the lock, puts that
    batch back and delivers everything: none failed, each once at the central."""
    base, _, db_file = central
    config = write_config(tmp_path, base, token)
    ids = file_reports(config, REPORTS)
    app = start_app(config)
    os.kill(app.pid, signal.SIGKILL)
    app.wait(60)
    app.stdin.close()

    run = kiosk(config, "sync", "--once")
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert "waiting 0" in run.stdout
    assert set(outbox_states(tmp_path).values()) == {"sent"}
    assert central_counts(db_file, ids) == {tid: 1 for tid in ids}


HOLD = """
import sys
from sync_queue.lock import DeliveryLock
lock = DeliveryLock(sys.argv[1])
assert lock.try_acquire()
print("HOLDING", flush=True)
sys.stdin.read()
"""


def test_a_holder_killed_with_sigkill_releases_the_lock(tmp_path):
    """GIVEN another process holding the lock WHEN it is killed with SIGKILL THEN the
    lock is free: a crash never leaves the kiosk locked out."""
    path = tmp_path / "delivery.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "HOLDING"
        mine = DeliveryLock(path)
        assert not mine.try_acquire()
        assert mine.holder() == (holder.pid, APP_ROLE)
        holder.kill()  # SIGKILL
        holder.wait(30)
        assert mine.try_acquire(TECHNICIAN_ROLE)
        assert mine.holder()[1] == TECHNICIAN_ROLE
        mine.release()
    finally:
        holder.kill()
        holder.wait(30)
