"""The kiosk's store on a real SQLite file: durable, atomic, encrypted at rest."""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import stat
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from kiosk.core import reference
from kiosk.core.domain import Draft, ReportKind
from kiosk.core.reports import IncompleteDraft, ReportService
from kiosk.core.store.crypto import SealError
from kiosk.core.store.db import SCHEMA_HEAD, StoreError, head_revision, open_store
from kiosk.kernel.tracking_id import new_tracking_id
from sync_queue.outbox import OutboxState

from tests.support.servers import ROOT  # noqa: E402
NOW = dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc)
SECRETS = ("Siti Rahmawati", "081234567890", "pungutan liar di loket tujuh", "Jalan Pramuka nomor 12")


def draft(**changes) -> Draft:
    values = dict(
        kind=ReportKind.PENGADUAN, category_code="PUNGLI", title=SECRETS[2], description=f"Petugas meminta uang: {SECRETS[2]}.",
        incident_date=dt.date(2026, 11, 20), kecamatan_code="TEWEH_TENGAH", location_text=SECRETS[3],
        reporter_name=SECRETS[0], reporter_phone=SECRETS[1], anonymous=True, confidential=True,
    )
    values.update(changes)
    return Draft(**values)


@pytest.fixture
def service(store):
    return ReportService(store, kiosk_code="MT01", clock=lambda: NOW)


def test_durability_settings_on_every_connection(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_schema_comes_from_alembic_and_reopening_is_idempotent(tmp_path, store, service):
    assert store.schema_revision() == head_revision() == SCHEMA_HEAD
    saved = service.submit(draft())
    store.close()
    again = open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "secret.key")
    assert again.schema_revision() == head_revision()
    assert ReportService(again, kiosk_code="MT01", clock=lambda: NOW).find(saved.tracking_id) is not None
    again.close()


def test_submit_writes_report_and_outbox_entry(service, store):
    saved = service.submit(draft())
    status = service.find(saved.tracking_id)
    assert status.outbox_state is OutboxState.PENDING
    assert status.created_at == NOW and status.confidential
    assert service.count_waiting() == 1
    assert service.load_draft(saved.tracking_id).reporter_name == SECRETS[0]


def test_both_rows_or_neither(service, store):
    """GIVEN the outbox refuses the insert WHEN a report is submitted THEN no report row stays."""
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk says no'); END"))
    with pytest.raises(StoreError):
        service.submit(draft())
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 0


def test_incomplete_draft_is_refused(service):
    with pytest.raises(IncompleteDraft) as info:
        service.submit(draft(title="  "))
    assert info.value.field == "title"


def test_repeated_tracking_id_draws_a_new_one(service, store):
    first = service.submit(draft())
    drawn = iter([first.tracking_id, new_tracking_id("MT01")])
    service.id_factory = lambda code: next(drawn)
    second = service.submit(draft())
    assert second.tracking_id != first.tracking_id
    assert service.find(second.tracking_id) is not None
    assert service.count_waiting() == 2


def test_personal_data_and_text_are_encrypted_at_rest(tmp_path, service, store):
    service.submit(draft())
    store.close()  # checkpoint nothing on purpose: look at the -wal file too
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("kiosk.sqlite3*"))
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
    mode = stat.S_IMODE((tmp_path / "secret.key").stat().st_mode)
    assert mode == 0o600


def test_wrong_key_is_refused_at_open(tmp_path, service, store):
    """GIVEN a database and a key file from elsewhere WHEN the store opens THEN a StoreError
    says so, before any report is sealed with the stranger key."""
    service.submit(draft())
    store.close()
    other = tmp_path / "other"
    with pytest.raises(StoreError, match="does not belong to the database"):
        open_store(tmp_path / "kiosk.sqlite3", key_file=other / "secret.key")
    again = open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "secret.key")  # the right key still opens
    again.close()


def test_wrong_key_is_refused_for_a_database_without_key_check(tmp_path, service, store):
    """A database written before the key check existed is tested against a stored report."""
    saved = service.submit(draft())
    store.close()
    with sqlite3.connect(tmp_path / "kiosk.sqlite3") as con:
        con.execute("DELETE FROM meta WHERE key = 'key_check'")
    con.close()
    with pytest.raises(StoreError, match="does not belong to the database"):
        open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "other" / "secret.key")
    again = open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "secret.key")
    assert ReportService(again, kiosk_code="MT01", clock=lambda: NOW).load_draft(saved.tracking_id).title == SECRETS[2]
    again.close()
    with pytest.raises(StoreError, match="does not belong to the database"):  # the check is back in place
        open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "other" / "secret.key")


def test_unreadable_text_is_a_typed_error_not_garbage(tmp_path, service, store):
    """A token sealed with another key is refused with SealError, never returned as text."""
    saved = service.submit(draft())
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE reports SET title = :t"), {"t": Fernet(Fernet.generate_key()).encrypt(b"x")})
    with pytest.raises(SealError, match="key file does not belong"):
        service.load_draft(saved.tracking_id)


def test_damaged_key_file_is_a_store_error(tmp_path):
    (tmp_path / "secret.key").write_bytes(b"not a fernet key")
    with pytest.raises(StoreError, match="secret.key"):
        open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "secret.key")


def test_key_file_is_created_once_with_no_leftovers(tmp_path):
    key_file = tmp_path / "data" / "secret.key"
    open_store(tmp_path / "data" / "kiosk.sqlite3", key_file=key_file).close()
    first = key_file.read_bytes()
    open_store(tmp_path / "data" / "kiosk.sqlite3", key_file=key_file).close()
    assert key_file.read_bytes() == first
    assert not list(key_file.parent.glob("*.tmp"))


def test_busy_timeout_on_every_connection(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_a_transaction_takes_the_write_lock_when_it_begins(tmp_path, store):
    """GIVEN a session that has begun but not yet written WHEN another connection asks
    for the write lock THEN it is refused: BEGIN IMMEDIATE, so no reader-to-writer upgrade
    can deadlock later."""
    other = sqlite3.connect(tmp_path / "kiosk.sqlite3", timeout=0, isolation_level=None)
    try:
        with store.session() as session, session.begin():
            session.execute(text("SELECT count(*) FROM reports")).scalar()  # a read only
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once committed
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_migration_matches_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kiosk.kernel.storage import Base

    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []


def test_delete_personal_data(service):
    saved = service.submit(draft())
    service.delete_personal_data(saved.tracking_id)
    kept = service.load_draft(saved.tracking_id)
    assert (kept.reporter_name, kept.reporter_phone) == ("", "")
    assert kept.title == SECRETS[2]


def test_unwritable_location_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError):
        open_store(blocker / "kiosk.sqlite3", key_file=blocker / "secret.key")


def test_corrupt_database_is_a_store_error(tmp_path):
    db = tmp_path / "kiosk.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        open_store(db, key_file=tmp_path / "secret.key")


@pytest.mark.parametrize("kill_after", [1, 7, 23])
def test_killed_mid_commit_leaves_no_half_report(tmp_path, kill_after):
    """GIVEN a process submitting reports in a loop WHEN it is SIGKILLed at some point
    THEN every ID it reported as saved is there with its outbox entry, and no report
    exists without its entry (or the other way round)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.submit_loop", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    saved = []
    try:
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read()
        while len(saved) < kill_after:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            saved.append(line.strip())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    con = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        reports = {r for (r,) in con.execute("SELECT tracking_id FROM reports")}
        entries = {r for (r,) in con.execute("SELECT tracking_id FROM outbox")}
    finally:
        con.close()
    assert reports == entries
    assert set(saved) <= reports
    assert len(reports) - len(saved) <= 1  # at most the one committed but not yet printed


def test_reference_seed(store):
    kec = reference.kecamatan(store)
    assert len(kec) == 9 and {"Teweh Tengah", "Gunung Purei", "Montallat"} <= {c.label for c in kec}
    agencies_id = {a.label for a in reference.agencies(store, "id")}
    assert {"Dinas Kependudukan dan Pencatatan Sipil (Disdukcapil)", "Dinas Kesehatan (Dinkes)",
            "Dinas Pendidikan (Disdik)", "Dinas Pekerjaan Umum dan Penataan Ruang (PUPR)", "Dinas Perhubungan (Dishub)",
            "Dinas Sosial (Dinsos)", "Rumah Sakit Umum Daerah (RSUD) Muara Teweh",
            "Satuan Polisi Pamong Praja (Satpol PP)"} <= agencies_id
    assert reference.categories(store, "en")[0].label.startswith("Civil registration")
    assert reference.version(store)
    assert reference.load_seed_if_empty(store) is False  # loaded once


def test_reference_replacement_is_all_or_nothing(store):
    before = reference.categories(store, "id")
    with pytest.raises(reference.ReferenceDataError, match=r"kecamatan\[1\]\.name"):
        reference.replace_reference_data(store, {
            "version": "x", "categories": [{"code": "A", "name_id": "A", "name_en": "A"}],
            "agencies": [{"code": "B", "name_id": "B", "name_en": "B"}],
            "kecamatan": [{"code": "C", "name": "C"}, {"code": "D", "name": ""}],
        })
    assert reference.categories(store, "id") == before
    reference.replace_reference_data(store, {
        "version": "v2", "categories": [{"code": "A", "name_id": "Satu", "name_en": "One"}],
        "agencies": [{"code": "B", "name_id": "Dua", "name_en": "Two"}], "kecamatan": [{"code": "C", "name": "Tiga"}],
    })
    assert [c.label for c in reference.categories(store, "en")] == ["One"]
    assert reference.version(store) == "v2"


def test_upgrade_from_the_previous_schema_keeps_every_report(tmp_path, central, token):
    """GIVEN a database at schema 0001 holding queued and failed reports WHEN the new kiosk
    opens it THEN Alembic upgrades it, every report and outbox entry is still there, and
    after "retry failed" all of them reach a real central service."""
    from kiosk.runtime.admin import retry_failed
    from sync_queue.client import CentralClient
    from sync_queue.worker import SyncWorker
    from tests.support.reports import migrated_from

    def queue_three(old) -> list[str]:  # seeded: the service checks codes against it
        service = ReportService(old, kiosk_code="MT01", clock=lambda: NOW)
        queued = [service.submit(draft()).tracking_id for _ in range(3)]
        with old.engine.begin() as conn:
            conn.execute(text("UPDATE outbox SET state = 'failed', last_error = 'invalid: title' WHERE tracking_id = :t"),
                         {"t": queued[0]})
        return queued

    with migrated_from(tmp_path, "0001", queue_three) as (upgraded, queued):
        service = ReportService(upgraded, kiosk_code="MT01", clock=lambda: NOW)
        assert [service.find(t).outbox_state for t in queued] == [OutboxState.FAILED, OutboxState.PENDING,
                                                                  OutboxState.PENDING]
        assert service.load_draft(queued[1]).reporter_name == SECRETS[0]
        assert retry_failed(upgraded, NOW) == 1
        worker = SyncWorker(upgraded, service, CentralClient(central[0], token, timeout=5), now=lambda: NOW)
        assert worker.run_once().sent == 3
        assert [service.find(t).outbox_state for t in queued] == [OutboxState.SENT] * 3
        assert service.count_waiting() == 0


def test_upgrade_from_0003_keeps_reports_and_takes_the_new_seed(tmp_path):
    """GIVEN a kiosk at schema 0003 holding a report and the seed as it was then (bare
    abbreviations, no usual agencies) WHEN the new kiosk opens it and loads its seed THEN
    the report is intact, the seed of this version replaces the old one (names spelled
    out, usual agencies first); a kiosk whose data came from the central keeps it."""
    from tests.support.reports import SEED_BEFORE_0004, migrated_from

    for central_sent_it in (False, True):
        folder = tmp_path / ("central" if central_sent_it else "seed")
        folder.mkdir()

        def file_one(old) -> tuple[str, list]:
            if central_sent_it:
                with old.engine.begin() as conn:
                    conn.execute(text("UPDATE meta SET value = 'central-5' WHERE key = 'reference_version'"))
            tracking_id = ReportService(old, kiosk_code="MT01", clock=lambda: NOW).submit(draft()).tracking_id
            return tracking_id, reference.agencies(old, "id")

        with migrated_from(folder, "0003", file_one) as (upgraded, (tracking_id, before)):
            assert SCHEMA_HEAD == head_revision()
            service = ReportService(upgraded, kiosk_code="MT01", clock=lambda: NOW)
            assert service.find(tracking_id).outbox_state is OutboxState.PENDING
            assert service.load_draft(tracking_id).title == SECRETS[2]
            assert reference.agencies(upgraded, "id") == before  # the migration keeps what was held
            assert reference.load_seed_if_empty(upgraded) is not central_sent_it
            if central_sent_it:
                assert reference.version(upgraded) == "central-5" and reference.agencies(upgraded, "id") == before
            else:
                assert reference.version(upgraded) not in (None, SEED_BEFORE_0004)
                first = reference.agency_choices(upgraded, "id", "KEPENDUDUKAN")[0]
                assert (first.label, first.usual) == ("Dinas Kependudukan dan Pencatatan Sipil (Disdukcapil)", True)


# -- issue 11: a damaged value is set aside alone; deleted data is overwritten; the key kept private --
def test_one_damaged_value_is_unreadable_report_not_a_wrong_key(tmp_path, service, store):
    """GIVEN two reports, one with one character of its sealed title changed WHEN they are
    read THEN the damaged one raises UnreadableReport naming its Tracking ID and saying the
    text is damaged, not the key; the other opens; neither reprint nor the count crashes."""
    from kiosk.core.reports import UnreadableReport

    good, bad = service.submit(draft()).tracking_id, service.submit(draft()).tracking_id
    with store.engine.begin() as conn:
        token = bytearray(conn.execute(text("SELECT title FROM reports WHERE tracking_id = :t"), {"t": bad}).scalar())
        token[len(token) // 2] ^= 0x01  # one character, still ASCII
        conn.execute(text("UPDATE reports SET title = :v WHERE tracking_id = :t"), {"v": bytes(token), "t": bad})
    with pytest.raises(UnreadableReport) as info:
        service.payload(bad)
    assert info.value.tracking_id == bad and info.value.field == "title"
    assert info.value.reason.startswith("unreadable: its stored title is damaged (not the key")
    assert SECRETS[2] not in str(info.value)
    assert service.load_draft(good).title == SECRETS[2]
    assert service.unreadable_reason(bad) == info.value.reason and service.unreadable_reason(good) is None
    assert service.unreadable_ids() == [bad]
    assert service.find(bad).tracking_id == bad  # still known
    assert service.reprint(bad, config=None) is None  # nothing to print, no traceback for a screen


def test_sealer_says_damaged_or_foreign_for_a_value_it_cannot_open(store):
    for token in (b"gAAAA-not-a-token", "text, not bytes", b"\xff\xfe"):
        with pytest.raises(SealError, match="damaged"):
            store.sealer.open(token)


def test_deleted_personal_data_is_overwritten_in_the_file(tmp_path, service, store):
    """GIVEN a delivered report WHEN its name and phone are forgotten THEN their sealed
    bytes are gone from the database file (secure_delete, set on every connection)."""
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    saved = service.submit(draft())
    with store.engine.connect() as conn:
        sealed_name, sealed_phone = conn.execute(text("SELECT reporter_name, reporter_phone FROM reports")).one()
    raw_con = sqlite3.connect(tmp_path / "kiosk.sqlite3", isolation_level=None)
    raw_con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # into the main file: the file is what is searched
    raw_con.close()
    assert bytes(sealed_name) in (tmp_path / "kiosk.sqlite3").read_bytes()
    service.delete_personal_data(saved.tracking_id)
    store.close()  # the last connection checkpoints the WAL into the file and removes it
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("kiosk.sqlite3*"))
    assert bytes(sealed_name) not in raw and bytes(sealed_phone) not in raw


def test_a_key_file_others_may_read_is_made_private_with_a_warning(tmp_path, caplog):
    key_file = tmp_path / "secret.key"
    open_store(tmp_path / "kiosk.sqlite3", key_file=key_file).close()
    key_file.chmod(0o644)
    with caplog.at_level("WARNING", logger="kiosk.core.store.crypto"):
        open_store(tmp_path / "kiosk.sqlite3", key_file=key_file).close()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert any("mode 0644" in r.getMessage() and "now 0600" in r.getMessage() for r in caplog.records)


def test_a_read_only_key_file_outside_the_data_directory_is_only_read(tmp_path):
    """systemd's credential: a 0400 file in a read-only directory opens the store and is never written."""
    from kiosk.core.store.crypto import load_or_create_key

    credentials = tmp_path / "credentials"
    credentials.mkdir()
    key_file = credentials / "kiosk-key"
    key_file.write_bytes(Fernet.generate_key())
    key_file.chmod(0o400)
    credentials.chmod(0o500)
    try:
        first = open_store(tmp_path / "data" / "kiosk.sqlite3", key_file=key_file)
        reference.load_seed_if_empty(first)
        saved = ReportService(first, kiosk_code="MT01", clock=lambda: NOW).submit(draft())
        first.close()
        again = open_store(tmp_path / "data" / "kiosk.sqlite3", key_file=key_file)
        assert ReportService(again, kiosk_code="MT01", clock=lambda: NOW).load_draft(saved.tracking_id).title == SECRETS[2]
        again.close()
        assert load_or_create_key(key_file).open(load_or_create_key(key_file).seal("x")) == "x"
        assert sorted(p.name for p in credentials.iterdir()) == ["kiosk-key"]
        assert not (tmp_path / "data" / "secret.key").exists()
    finally:
        credentials.chmod(0o700)


def test_the_kiosks_connections_keep_small_page_caches_however_large_the_file(store):
    """GIVEN a store file of 8 MiB WHEN three of its pooled connections (the UI's, the sync
    worker's, the printer's) each read all of it THEN SQLite holds under 2 MiB more for
    them (its default page cache is 2 MiB a connection, kept for the connection's life: a
    kiosk's memory grew with its database, in ``benchmarks/soak.py``), and each still reads
    every row."""
    from benchmarks.soak_kiosk import sqlite_mib
    from kiosk.kernel.storage import reading

    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE filler (n INTEGER PRIMARY KEY, body BLOB)")
        conn.exec_driver_sql("WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 2048) "
                             "INSERT INTO filler SELECT n, randomblob(4096) FROM k")
    before = sqlite_mib()
    assert before is not None, "the SQLite library Python uses cannot be loaded by name"
    connections = [reading(store.engine).connect() for _ in range(3)]  # held at once
    try:
        for conn in connections:
            assert conn.exec_driver_sql("SELECT count(*), sum(length(body)) FROM filler").one() == (2048, 2048 * 4096)
        assert sqlite_mib() - before < 2.0
    finally:
        for conn in connections:
            conn.close()
