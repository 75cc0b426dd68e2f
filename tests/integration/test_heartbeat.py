"""Fleet monitoring against a real central (``python -m central serve`` in a subprocess):
kiosks send heartbeats through their sync worker, and ``python -m central kiosks`` (also a
subprocess) shows the fleet and flags the kiosks a technician must visit."""
from __future__ import annotations

import datetime as dt
import importlib.metadata
import itertools
import json
import logging
import sqlite3
import threading
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from devices.escpos_sim import parse_escpos
from tests.support.printer_sims import TcpPrinterSimulator
from devices.printer.file import FilePrinter
from kiosk.runtime.config import VARS, Config, load_config
from kiosk.core.domain import Draft, ReportKind
from kiosk.runtime.env import build_env
from kiosk.runtime.heartbeat import Heartbeat, HeartbeatTask
from kiosk.kernel.wire import HeartbeatIn
from sync_queue.client import CentralClient, Unauthorized
from sync_queue.worker import SyncWorker
from tests.support.central import central_cli, running_central
from tests.support.clock import FakeClock

GIB = 1024 ** 3
VERSION = importlib.metadata.version("lapor-kiosk")
_codes = itertools.count(100)


def real_time_clock() -> FakeClock:
    """A hand-moved clock that starts at the real time, as a kiosk's clock would (the
    central stamps heartbeats with its own clock, and flags kiosks whose clocks are off)."""
    return FakeClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))


def register(url: str, code: str, location: str = "Kantor Kecamatan Lahei") -> str:
    result = central_cli(url, "kiosk", "add", code, "--location", location)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def kiosk_env(tmp_path, clock, base: str, token: str, code: str = "MT01", **settings):
    """A whole kiosk environment (store, printer, sync worker with heartbeat) as ``kiosk run`` builds it."""
    values = {"data_dir": str(tmp_path / f"data-{code}"), "kiosk_code": code, "central_url": base,
              "central_token": token, **settings}
    path = tmp_path / f"kiosk-{code}.toml"
    path.write_text("[kiosk]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), encoding="utf-8")
    return build_env(load_config(path, environ={}), now=clock.now, monotonic=clock.monotonic)


def file_report(env, **changes) -> str:
    values = dict(kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title="Antrean puskesmas",
                  description="Antrean di puskesmas sangat panjang.", incident_date=dt.date(2026, 11, 20),
                  kecamatan_code="LAHEI", reporter_name="Siti Aminah", reporter_phone="0812345678")
    values.update(changes)
    return env.reports.submit(Draft(**values)).tracking_id


def fleet(url: str, *args: str) -> tuple[int, dict[str, dict]]:
    """``python -m central kiosks --json``: (exit code, kiosks by code)."""
    result = central_cli(url, "kiosks", "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, {k["code"]: k for k in json.loads(result.stdout)["kiosks"]}


def healthy(**changes) -> dict:
    """A heartbeat body with nothing wrong in it, sent now."""
    body = {"sent_at": dt.datetime.now(dt.timezone.utc).isoformat(), "version": "0.1.0",
            "queue_depth": 0, "failed": 0, "oldest_waiting_age_s": None, "last_sync_age_s": 30.0,
            "printer_kind": "network", "printer": "ok", "paper": "ok", "camera": "ok",
            "disk_free_bytes": 50 * GIB, "disk_total_bytes": 100 * GIB}
    body.update(changes)
    return body


def post(base: str, token: str, body: dict) -> requests.Response:
    return requests.post(f"{base}/api/v1/heartbeat", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def later(received_at: str, minutes: float) -> str:
    return (dt.datetime.fromisoformat(received_at) + dt.timedelta(minutes=minutes)).isoformat()


class NearEndPrinter(TcpPrinterSimulator):
    """Our TCP printer simulator, plus a ``paper_low`` state: DLE EOT 4 then sets the
    roll's near-end bits (2 and 3), as a printer does when the roll is nearly used up."""

    def status_byte(self, n: int) -> int:
        byte = super().status_byte(n)
        return byte | 0x0C if n == 4 and self.state == "paper_low" else byte


# -- the kiosk side: what the worker sends, and what the fleet view makes of it ---------------
def test_worker_heartbeat_shows_queue_and_sync_in_the_fleet(central, token, tmp_path):
    """GIVEN a kiosk with three reports waiting, the oldest filed 2 minutes ago
    WHEN its sync worker's heartbeat is due THEN `python -m central kiosks` lists the kiosk
    with queue 3, oldest waiting about 2 minutes, its version, the file printer and no
    camera; after the reports are delivered the next heartbeat shows an empty queue and
    a recent sync."""
    base, url, _ = central
    clock = real_time_clock()
    env = kiosk_env(tmp_path, clock, base, token, heartbeat_interval_s=60)
    try:
        for _ in range(3):
            file_report(env)
            clock.advance(40)
        clock.advance(40)  # the first report is now 160 s old
        assert env.sync.heartbeat_if_due() is True
        assert env.sync.heartbeat_if_due() is None  # not due again before heartbeat_interval_s

        code, kiosks = fleet(url)
        me = kiosks["MT01"]
        assert me["location"] == "Mal Pelayanan Publik Muara Teweh" and me["version"] == VERSION
        assert (me["queue_depth"], me["failed"]) == (3, 0)
        assert 160 <= me["oldest_waiting_age_s"] < 160 + 60
        assert me["last_sync_age_s"] is None  # nothing delivered yet
        assert (me["printer_kind"], me["printer"], me["paper"], me["camera"]) == ("file", "ok", "ok", "not_configured")
        assert 0 < me["disk_free_bytes"] <= me["disk_total_bytes"]
        assert "SILENT" not in me["flags"] and "CLOCK-SKEW" not in me["flags"]

        assert env.sync.run_once().sent == 3
        clock.advance(61)
        assert env.sync.heartbeat_if_due() is True
        _, kiosks = fleet(url)
        me = kiosks["MT01"]
        assert (me["queue_depth"], me["oldest_waiting_age_s"]) == (0, None)
        assert 61 <= me["last_sync_age_s"] < 61 + 60

        table = central_cli(url, "kiosks")
        [row] = [line for line in table.stdout.splitlines() if line.startswith("MT01")]
        assert "Mal Pelayanan Publik" in row and VERSION in row and "file:ok" in row and "not_configured" in row
        assert table.stdout.splitlines()[0].split() == ["CODE", "LOCATION", "VERSION", "HEARD", "QUEUE", "OLDEST",
                                                        "SYNCED", "PRINTER", "PAPER", "CAMERA", "DISK", "FLAGS"]
    finally:
        env.close()


def test_running_worker_sends_a_heartbeat_after_delivering(central, tmp_path):
    """The worker thread as `kiosk run` starts it: reports first, then the heartbeat."""
    base, url, db_file = central
    token = register(url, "MT05")
    clock = real_time_clock()
    env = kiosk_env(tmp_path, clock, base, token, code="MT05")
    arrived = threading.Event()
    env.sync.client._http.hooks["response"].append(
        lambda response, **_: arrived.set() if response.url.endswith("/api/v1/heartbeat") and response.ok else None)
    try:
        file_report(env)
        file_report(env)
        env.sync.start()
        assert arrived.wait(30), "no heartbeat reached the central"
    finally:
        env.close()
    _, kiosks = fleet(url)
    assert kiosks["MT05"]["queue_depth"] == 0 and kiosks["MT05"]["last_sync_age_s"] is not None
    with sqlite3.connect(db_file) as con:
        assert con.execute("SELECT count(*) FROM reports WHERE kiosk_code = 'MT05'").fetchone() == (2,)


def test_printer_out_of_paper_is_flagged_and_no_paper_moves(central, tmp_path):
    """GIVEN a kiosk with a network printer that has run out of paper (our TCP printer
    simulator) WHEN the heartbeat goes out THEN the fleet flags NO-PAPER and exits 1;
    the printer was only asked for its status, nothing printed. A new roll clears the flag;
    a nearly used-up roll is PAPER-LOW; an open cover is a PRINTER-FAULT."""
    base, url, _ = central
    token = register(url, "MT03")
    sim = NearEndPrinter(state="paper_out")
    clock = real_time_clock()
    env = kiosk_env(tmp_path, clock, base, token, code="MT03", printer="network", printer_host="127.0.0.1",
                    printer_port=sim.port, printer_timeout_s=2.0)
    try:
        assert env.sync.send_heartbeat() is True
        rc, kiosks = fleet(url)
        assert (kiosks["MT03"]["printer"], kiosks["MT03"]["paper"]) == ("ok", "out")
        assert "NO-PAPER" in kiosks["MT03"]["flags"] and rc == 1
        table = central_cli(url, "kiosks").stdout
        assert "NO-PAPER" in next(line for line in table.splitlines() if line.startswith("MT03"))
        [job] = sim.wait_for_jobs(1)
        assert parse_escpos(job).cuts == 0 and b"\x1b@" not in job  # asked, never printed

        sim.state = "online"
        assert env.sync.send_heartbeat() is True
        _, kiosks = fleet(url)
        assert kiosks["MT03"]["paper"] == "ok" and not {"NO-PAPER", "PRINTER-FAULT"} & set(kiosks["MT03"]["flags"])

        sim.state = "paper_low"
        assert env.sync.send_heartbeat() is True
        _, kiosks = fleet(url)
        assert kiosks["MT03"]["paper"] == "low" and "PAPER-LOW" in kiosks["MT03"]["flags"]

        sim.state = "cover_open"
        assert env.sync.send_heartbeat() is True
        _, kiosks = fleet(url)
        assert kiosks["MT03"]["printer"] == "cover_open" and "PRINTER-FAULT" in kiosks["MT03"]["flags"]
    finally:
        env.close()
        sim.close()


def test_heartbeat_carries_no_personal_data_or_complaint_text(central, tmp_path):
    """GIVEN reports with recognisable names, phone, place and text waiting on a kiosk
    WHEN its heartbeat goes out THEN neither the bytes on the wire nor what the central
    stored contain any of them, nor a Tracking ID."""
    base, url, db_file = central
    token = register(url, "MT06")
    clock = real_time_clock()
    env = kiosk_env(tmp_path, clock, base, token, code="MT06")
    recognisable = ["Qwertyuiop Sulistyowati", "081299887766", "Jalan Kenanga Nomor 17", "Jembatan Zyxwvut roboh",
               "Kepala dinas Plmoknijb meminta uang"]
    wire: list[bytes] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: wire.append(response.request.body))
    client = CentralClient(base, token, session=session)
    worker = SyncWorker(env.store, env.reports, client, now=clock.now)
    worker.add_task(HeartbeatTask(Heartbeat(config=env.config, store=env.store, printer=env.printer, now=clock.now).gather,
                                  client, last_sync_at=lambda: worker.last_success_at))
    try:
        ids = [file_report(env, reporter_name=recognisable[0], reporter_phone=recognisable[1], location_text=recognisable[2],
                           title=recognisable[3], description=recognisable[4]),
               file_report(env, title=recognisable[3], description=recognisable[4], anonymous=True, reporter_name="",
                           reporter_phone="")]
        assert worker.send_heartbeat() is True
    finally:
        env.close()
    [sent] = wire
    with sqlite3.connect(db_file) as con:
        con.row_factory = sqlite3.Row
        stored = dict(con.execute("SELECT * FROM kiosk_heartbeats WHERE kiosk_code = 'MT06'").fetchone())
    assert stored["queue_depth"] == 2  # it is the heartbeat of this kiosk, with these reports waiting
    seen = [sent.decode("utf-8"), json.dumps(stored, default=str)]
    for needle in [*recognisable, *ids, *(i[4:] for i in ids)]:
        for haystack in seen:
            assert needle.lower() not in haystack.lower(), needle
    assert set(json.loads(stored["body"])) == {
        "sent_at", "version", "queue_depth", "failed", "oldest_waiting_age_s", "last_sync_age_s", "printer_kind",
        "printer", "paper", "camera", "disk_free_bytes", "disk_total_bytes"}


def test_unreachable_central_does_not_stop_deliveries_and_is_retried_next_interval(tmp_path, caplog):
    clock = real_time_clock()
    env = kiosk_env(tmp_path, clock, "http://127.0.0.1:9", "token", heartbeat_interval_s=300)  # nothing on port 9
    try:
        tid = file_report(env)
        with caplog.at_level(logging.WARNING, logger="sync_queue.worker"):
            assert env.sync.heartbeat_if_due() is False
        assert "heartbeat not sent" in caplog.text and "Siti" not in caplog.text and tid not in caplog.text
        assert env.sync.heartbeat_if_due() is None  # no busy retry
        clock.advance(300)
        assert env.sync.heartbeat_if_due() is False  # tried again at the next interval
        assert env.reports.count_waiting() == 1  # the report is untouched, still waiting
    finally:
        env.close()


# -- the central side: authentication, validation, flags and the exit code ---------------------
def test_wrong_missing_or_revoked_token_gets_401(central):
    base, url, _ = central
    token = register(url, "MT07")
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": token}):
        assert requests.post(f"{base}/api/v1/heartbeat", json=healthy(), headers=headers, timeout=30).status_code == 401
    with pytest.raises(Unauthorized):
        CentralClient(base, "not-a-token").heartbeat(HeartbeatIn.model_validate(healthy()))
    assert post(base, token, healthy()).status_code == 200
    assert central_cli(url, "kiosk", "revoke", "MT07").returncode == 0
    assert post(base, token, healthy()).status_code == 401


@pytest.mark.parametrize("changes", [
    {"reporter_name": "Siti Aminah"},  # no field beyond the contract, ever
    {"queue_depth": -1},
    {"queue_depth": 2, "oldest_waiting_age_s": None},
    {"failed": 3, "queue_depth": 1, "oldest_waiting_age_s": 5.0},
    {"paper": "maybe"},
    {"printer_kind": "telepathy"},
    {"version": "1.0 <script>"},
    {"version": "x" * 65},
    {"disk_free_bytes": 200 * GIB},  # more free than total
    {"sent_at": "2026-11-23T10:30:00"},  # no time zone
    {"last_sync_age_s": "soon"},
], ids=lambda c: next(iter(c)))
def test_nonsense_heartbeat_gets_422(central, changes):
    base, url, _ = central
    token = register(url, f"V{next(_codes)}")
    assert post(base, token, healthy(**changes)).status_code == 422


def test_nan_age_gets_422(central):
    base, url, _ = central
    token = register(url, "MT08")
    raw = json.dumps(healthy(queue_depth=1)).replace('"oldest_waiting_age_s": null', '"oldest_waiting_age_s": NaN')
    response = requests.post(f"{base}/api/v1/heartbeat", data=raw, timeout=30,
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 422


def test_silent_kiosk_is_flagged(central):
    """GIVEN a kiosk whose last heartbeat the central received at T WHEN the fleet is
    judged at T + 10 min and T + 16 min (``--now``) THEN it is SILENT only the second
    time; ``--silent-after 30`` tolerates 16 minutes."""
    base, url, _ = central
    token = register(url, "MT04")
    answer = post(base, token, healthy())
    assert answer.status_code == 200
    received = answer.json()["received_at"]
    _, kiosks = fleet(url, "--now", later(received, 10))
    assert "SILENT" not in kiosks["MT04"]["flags"] and 599 <= kiosks["MT04"]["last_heard_age_s"] <= 601
    _, kiosks = fleet(url, "--now", later(received, 16))
    assert "SILENT" in kiosks["MT04"]["flags"]
    _, kiosks = fleet(url, "--now", later(received, 16), "--silent-after", "30")
    assert "SILENT" not in kiosks["MT04"]["flags"]


def test_exit_code_is_0_only_when_every_kiosk_in_service_is_healthy(tmp_path):
    """On a central of its own: 0 for a healthy fleet, 1 as soon as one kiosk in service is
    flagged (a flag of a revoked kiosk does not count), as cron or a monitor would use it."""
    url = f"sqlite:///{tmp_path / 'fleet.sqlite3'}"
    with running_central(url) as base:
        tokens = {code: register(url, code) for code in ("AB01", "AB02")}
        received = {code: post(base, t, healthy()).json()["received_at"] for code, t in tokens.items()}
        now = max(received.values())

        def judge(*args: str) -> tuple[int, str]:
            result = central_cli(url, "kiosks", "--now", later(now, 1), *args)
            return result.returncode, result.stdout

        rc, out = judge()
        assert rc == 0 and "2 kiosks, 0 need attention" in out
        assert all(line.rstrip().endswith(" ok") for line in out.splitlines() if line.startswith("AB0"))

        for changes, flag, options in (
            ({"paper": "low"}, "PAPER-LOW", ()),
            ({"printer": "timeout", "paper": "unknown"}, "PRINTER-FAULT", ()),
            ({"camera": "unavailable"}, "CAMERA-FAULT", ()),
            ({"disk_free_bytes": 200 * 1024 ** 2}, "LOW-DISK", ()),
            ({"queue_depth": 4, "oldest_waiting_age_s": 2 * 3600.0}, "BACKED-UP", ()),
            ({"queue_depth": 60, "oldest_waiting_age_s": 30.0}, "BACKED-UP", ()),
            ({"queue_depth": 60, "oldest_waiting_age_s": 30.0}, None, ("--max-queue", "100")),
            ({"queue_depth": 2, "failed": 1, "oldest_waiting_age_s": 30.0}, "FAILED-REPORTS", ()),
            ({"sent_at": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)).isoformat()}, "CLOCK-SKEW", ()),
        ):
            assert post(base, tokens["AB02"], healthy(**changes)).status_code == 200
            rc, out = judge(*options)
            [row] = [line for line in out.splitlines() if line.startswith("AB02")]
            if flag is None:
                assert rc == 0 and row.rstrip().endswith(" ok"), row
            else:
                assert rc == 1 and flag in row and "1 need attention" in out, (flag, row)

        assert central_cli(url, "kiosk", "revoke", "AB02").returncode == 0
        rc, out = judge()
        assert rc == 0 and "REVOKED" in next(line for line in out.splitlines() if line.startswith("AB02"))

        rc, out = judge("--silent-after", "0.5")  # AB01 last heard a minute before --now
        assert rc == 1 and "SILENT" in next(line for line in out.splitlines() if line.startswith("AB01"))

        register(url, "AB03")  # registered, never heard from
        rc, out = judge()
        row = next(line for line in out.splitlines() if line.startswith("AB03"))
        assert rc == 1 and "never" in row and "SILENT" in row


def test_officers_see_the_fleet_over_http(central):
    base, url, _ = central
    officer = central_cli(url, "officer", "add", f"petugas-{uuid.uuid4().hex[:6]}").stdout.strip()
    kiosk_token = register(url, "MT09")
    assert post(base, kiosk_token, healthy(paper="out")).status_code == 200
    assert requests.get(f"{base}/api/v1/fleet", headers={"Authorization": f"Bearer {kiosk_token}"}, timeout=30).status_code == 401
    answer = requests.get(f"{base}/api/v1/fleet", headers={"Authorization": f"Bearer {officer}"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["needs_attention"] is True
    assert "NO-PAPER" in {k["code"]: k for k in answer.json()["kiosks"]}["MT09"]["flags"]


# -- PostgreSQL ---------------------------------------------------------------------------
def test_migration_and_heartbeat_round_trip_on_postgresql(postgres_url, store, tmp_path):
    """The c0002 migration (and those after it) on a fresh PostgreSQL database, a heartbeat gathered from a real
    kiosk store, a second one replacing it, and terabyte disks (BIGINT)."""
    from tests.support.servers import fresh_database

    url = fresh_database(postgres_url, "fleet")
    with running_central(url) as base:
        token = register(url, "PG01", "Kantor Bupati Barito Utara")
        config = Config(values={**{v.key: v.default for v in VARS}, "data_dir": str(tmp_path), "kiosk_code": "PG01"},
                        source="test")
        clock = real_time_clock()
        body = Heartbeat(config=config, store=store, printer=FilePrinter(tmp_path / "receipts"), now=clock.now).gather()
        client = CentralClient(base, token)
        assert client.heartbeat(body).received_at.tzinfo is not None
        _, kiosks = fleet(url)
        assert kiosks["PG01"]["version"] == VERSION and kiosks["PG01"]["queue_depth"] == 0
        assert client.heartbeat(HeartbeatIn.model_validate(
            healthy(disk_free_bytes=3 * 1024 ** 4, disk_total_bytes=8 * 1024 ** 4, paper="out")))
        rc, kiosks = fleet(url)
        assert kiosks["PG01"]["disk_total_bytes"] == 8 * 1024 ** 4 and "NO-PAPER" in kiosks["PG01"]["flags"] and rc == 1
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() >= "c0002"
            assert conn.execute(text("SELECT count(*) FROM kiosk_heartbeats")).scalar() == 1
    finally:
        engine.dispose()


# -- a wall clock stepped a day ahead, then set right -----------------------------------------
def test_a_clock_a_day_ahead_then_corrected_delays_nothing_and_the_fleet_sees_the_step(central, tmp_path, caplog):
    """GIVEN a kiosk whose wall clock jumps a day ahead while the central is out of reach:
    two reports are filed and tried (backoff from the wrong time), a third is filed
    WHEN the clock is set right and the central answers again
    THEN the heartbeat keeps its 60 s period through both steps, the next pass delivers
    all three without `retry failed`, the heartbeat carries the step (-1 day, seconds ago)
    and the fleet view flags CLOCK-STEP (not SILENT, not CLOCK-SKEW); each step is
    logged once, for the technician."""
    from urllib.parse import urlsplit

    from tests.support.fault_proxy import FaultProxy

    base, url, db_file = central
    token = register(url, "MT10")
    upstream = urlsplit(base)
    proxy = FaultProxy((upstream.hostname, upstream.port), {"reset": 1})
    clock = real_time_clock()
    env = kiosk_env(tmp_path, clock, proxy.url, token, code="MT10", heartbeat_interval_s=60)
    day = dt.timedelta(days=1)
    try:
        with caplog.at_level(logging.WARNING, logger="sync_queue.periodic"):
            assert env.sync.heartbeat_if_due() is False  # ran; the central is out of reach
            clock.advance(30)
            clock.wall += day  # the RTC jumps a day ahead
            tried = [file_report(env), file_report(env)]
            assert env.sync.run_once().retried == 2  # pending again, due "tomorrow" + backoff
            untried = file_report(env)  # due "tomorrow"
            clock.advance(30)
            assert env.sync.heartbeat_if_due() is False  # its period, though the clock jumped
            clock.advance(30)
            clock.wall -= day  # NTP sets it right
            proxy.set_weights({"pass": 1})
            clock.advance(30)
            assert env.sync.heartbeat_if_due() is True  # not a day later
            result = env.sync.run_once()
            assert (result.sent, result.failed) == (3, 0)
            assert env.reports.count_waiting() == 0
            assert env.sync.heartbeat_if_due() is None  # and not more often than its period
        steps = [r.getMessage() for r in caplog.records if "wall clock was stepped" in r.getMessage()]
        assert len(steps) == 2 and "ahead by 86400 s" in steps[0] and "back by 86400 s" in steps[1], steps
        assert not any(tid in message for tid in (*tried, untried) for message in steps)

        rc, kiosks = fleet(url)
        me = kiosks["MT10"]
        assert me["clock_step_s"] == -86400.0 and 0 <= me["clock_step_age_s"] < 60  # noticed as the heartbeat went
        assert "CLOCK-STEP" in me["flags"] and rc == 1
        assert not {"SILENT", "CLOCK-SKEW"} & set(me["flags"])
        table = central_cli(url, "kiosks").stdout
        assert "CLOCK-STEP" in next(line for line in table.splitlines() if line.startswith("MT10"))
        rc, kiosks = fleet(url, "--now", (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=25)).isoformat())
        assert "CLOCK-STEP" not in kiosks["MT10"]["flags"]  # a day later the step is history
    finally:
        env.close()
        proxy.close()
    with sqlite3.connect(db_file) as con:
        delivered = {r[0] for r in con.execute("SELECT tracking_id FROM reports WHERE kiosk_code = 'MT10'")}
    assert delivered == {*tried, untried}
