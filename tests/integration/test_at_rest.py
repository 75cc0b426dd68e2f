"""What the kiosk keeps at rest: no complaint text, name or phone number in plain, in the
SQLite file, its WAL or the receipts folder, after filing, syncing, the status pull and the
receipts' retention; and a store from before (schema 0002) loses its plaintext titles."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from kiosk.core.domain import Draft, ReportKind
from kiosk.core.receipt_content import receipt_content
from kiosk.core.reports import ReportService
from kiosk.core.status_lookup import _last_known, look_up
from kiosk.core.store.db import SCHEMA_HEAD, open_store
from kiosk.core.sync_tasks import StatusPull
from tests.support.central import central_cli
from tests.support.clock import FakeClock
from tests.support.reports import kiosk_env

TITLE = "Pungutan liar loket tujuh Teweh"
DESCRIPTION = "Petugas meminta uang tambahan untuk mempercepat KTP elektronik."
LOCATION = "Kantor Disdukcapil lantai dua"
NAME = "Siti Rahmawati Kusuma"
PHONE = "081377712345"
REPLY = "Petugas sudah ditegur oleh kepala dinas."
SECRETS = (TITLE, DESCRIPTION, LOCATION, NAME, PHONE, REPLY)


def files_of(data: Path) -> list[Path]:
    """The database, its WAL (and shared memory) and every receipt."""
    return sorted(p for p in data.rglob("*") if p.is_file() and (p.name.startswith("kiosk.sqlite3") or "receipts" in p.parts))


def plaintext(files: list[Path], secrets=SECRETS) -> list[tuple[str, str]]:
    """(file, secret) for each secret found in plain (UTF-8, or the printer's cp437) in a file."""
    found = []
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            if secret.encode("utf-8") in data or secret.encode("cp437", "replace") in data:
                found.append((path.name, secret))
    return found


def test_nothing_a_citizen_wrote_sits_in_plain_at_rest(central, token, tmp_path):
    """GIVEN a kiosk that filed a report (title, description, place, name, phone), printed
    its receipt on the file printer, delivered it, and pulled its status after an officer
    answered WHEN its files are searched byte by byte THEN the database and its WAL hold
    none of it, the reply included; the receipts folder holds the title only until the
    retention has passed (0 days: the next start; days are tests/unit/test_receipt_retention.py);
    offline, the kiosk still shows the answer it learned."""
    base, url, _ = central
    clock = FakeClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    data = tmp_path / "data"
    env = kiosk_env(data, clock, base, token, receipt_retention_days=0)  # a receipt lives until the next print or start
    try:
        saved = env.reports.submit(Draft(
            kind=ReportKind.PENGADUAN, category_code="PUNGLI", title=TITLE, description=DESCRIPTION,
            incident_date=env.today(), kecamatan_code="TEWEH_TENGAH", location_text=LOCATION,
            reporter_name=NAME, reporter_phone=PHONE, confidential=False))
        tid = saved.tracking_id
        printed = env.print_async(receipt_content(saved, env, "id")).result()
        assert printed.ok, printed.error
        assert env.sync.run_once().sent == 1
        for action, *extra in (("verify",), ("forward", "--agency", "DISDUKCAPIL"), ("answer", "--reply", REPLY)):
            assert central_cli(url, "report", tid, action, "--actor", "Rina", *extra).returncode == 0
        assert StatusPull(env.store, env.sync.client, clock.now).pull() == 1
        assert env.sync.client.status(tid).title == TITLE  # the central's answer carries it ...
        database = [p for p in files_of(data) if "receipts" not in p.parts]
        assert any(p.name.endswith("-wal") for p in database)
        assert plaintext(database) == []  # ... the kiosk does not keep it, nor anything else in plain
        receipts = [p for p in files_of(data) if "receipts" in p.parts]
        assert {secret for _, secret in plaintext(receipts)} == {TITLE}  # the receipt: the title only
        known, _ = _last_known(env.store, tid)
        assert known.title is None and known.events[-1].public_reply == REPLY
    finally:
        env.close()

    offline = kiosk_env(data, clock, "http://127.0.0.1:9", token, receipt_retention_days=0)  # port 9: nobody
    try:
        answer = look_up(tid, env=offline, language="id")
        assert answer.kind == "local" and any(REPLY in line for line in answer.lines)  # learned before, sealed
        assert plaintext(files_of(data)) == []  # the receipt's retention passed: the kiosk's start removed it
    finally:
        offline.close()
    assert plaintext(files_of(data)) == []


def test_upgrade_drops_the_plaintext_titles_an_older_status_pull_kept(tmp_path):
    """GIVEN a store at schema 0002 whose status pull kept the central's answers as plain
    JSON (titles, a reply), rewritten several times WHEN the new kiosk opens it THEN no
    title or reply is left anywhere in the file, the statuses without a reply are still
    known, and the one with a reply is gone (to be pulled again, sealed)."""
    from tests.support.reports import store_at_revision

    db_file, key_file = tmp_path / "kiosk.sqlite3", tmp_path / "secret.key"
    old = store_at_revision(db_file, key_file, "0002")
    service = ReportService(old, kiosk_code="MT01", clock=lambda: dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc))
    draft = dict(kind=ReportKind.PENGADUAN, category_code="KESEHATAN", description="Antrean panjang sekali di loket.",
                 incident_date=dt.date(2026, 11, 20), kecamatan_code="LAHEI")
    plain, answered = (service.submit(Draft(title=f"{TITLE} {n}", **draft)).tracking_id for n in (1, 2))

    def body(tid: str, n: int, status: str, reply: str | None = None) -> str:
        events = [{"status": "received", "at": "2026-11-23T03:31:00Z", "public_reply": None, "agency_code": None},
                  {"status": status, "at": "2026-11-24T03:31:00Z", "public_reply": reply, "agency_code": "DINKES"}]
        return json.dumps({"tracking_id": tid, "status": status, "kind": "pengaduan", "category_code": "KESEHATAN",
                           "confidential": False, "agency_code": "DINKES", "title": f"{TITLE} {n}",
                           "received_at": "2026-11-23T03:31:00Z", "events": events})

    with old.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA secure_delete = OFF")  # as most builds of SQLite: rewritten rows leave copies
        for status in ("received", "verified", "forwarded"):  # each pull rewrote the row
            for tid, n in ((plain, 1), (answered, 2)):
                conn.exec_driver_sql("INSERT OR REPLACE INTO remote_status (tracking_id, status, body, fetched_at) "
                                     "VALUES (?, ?, ?, '2026-11-24 04:00:00')", (tid, status, body(tid, n, status)))
        conn.exec_driver_sql("UPDATE remote_status SET status = 'answered', body = ? WHERE tracking_id = ?",
                             (body(answered, 2, "answered", REPLY), answered))
    old.close()
    assert {s for _, s in plaintext([db_file], (f"{TITLE} 1", f"{TITLE} 2", REPLY))} == {f"{TITLE} 1", f"{TITLE} 2", REPLY}

    upgraded = open_store(db_file, key_file=key_file)
    try:
        assert upgraded.schema_revision() == SCHEMA_HEAD >= "0003"
        con = sqlite3.connect(db_file, isolation_level=None)  # as SQLite's own checkpoint does once the WAL grew
        try:
            assert con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        finally:
            con.close()
        files = [p for p in tmp_path.iterdir() if p.name.startswith("kiosk.sqlite3")]
        assert plaintext(files, (TITLE, REPLY)) == []
        known, _ = _last_known(upgraded, plain)
        assert (known.status, known.title, known.events[-1].agency_code) == ("forwarded", None, "DINKES")
        assert _last_known(upgraded, answered) == (None, None)
    finally:
        upgraded.close()
    assert plaintext([p for p in tmp_path.iterdir() if p.name.startswith("kiosk.sqlite3")], (TITLE, REPLY)) == []
