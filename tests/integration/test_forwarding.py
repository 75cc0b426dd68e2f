"""The forwarding outbox and the LAPOR! adapter against a real central (SQLite and
PostgreSQL), a real LAPOR! double over HTTP (``tests/support/lapor_double.py``) and the real
CLI: routing, what the submission holds (never an anonymous reporter's identity), retries
with backoff and Retry-After, refusals, lost answers reconciled by a look-up or by an admin
(CLI and workbench, CSRF checked), LAPOR!'s steps coming back into the citizen's status
exactly once, the LAPOR! number shown to the citizen, and no report text in the logs.

Workers run in this process (``central.forwarder.Forwarder`` over the real database and
the forwarding file, with a clock the test moves) where time matters, and as the real
``python -m central forward --once`` where the process's log matters."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import subprocess
import sys

import pytest
import requests
from sqlalchemy import create_engine, inspect

from central.db import Database
from central.forwarder import Forwarder, Settings
from central.forwarding_config import load
from kiosk.kernel.clock import utc_now
from kiosk.kernel.tracking_id import format_tracking_id
from tests.support import servers
from tests.support.central import (alembic, assert_schema_matches_models, auth, central_cli, env_synced_to, query,
                                   report, running_central, send)
from tests.support.clock import FakeClock
from kiosk.core.status_lookup import look_up
from tests.support.lapor_double import LaporDouble, forwarding_file
from tests.support.servers import ROOT
from tests.support.workbench import add_officer, csrf_of, log_in

NAME, PHONE, EMAIL = "Wulan Rahasiawati", "081377770000", "wulan@contoh.id"
TITLE, TEXT = "Lampu jalan padam", "Lampu di depan pasar Muara Teweh padam sejak tiga minggu."
SETTINGS = Settings(batch=5, claim_ttl_s=10, backoff_base_s=2.0, backoff_cap_s=60, look_after_s=5, pull_every_s=60)


class Clock:
    """The worker's clock: the real one, moved ahead by the test."""

    def __init__(self):
        self.ahead = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utc_now() + self.ahead

    def skip(self, seconds: float) -> None:
        self.ahead += dt.timedelta(seconds=seconds)


@dataclasses.dataclass
class World:
    base: str
    url: str
    token: str
    double: LaporDouble
    file: str
    backend: str

    def file_report(self, **changes) -> str:
        body = report(title=TITLE, description=TEXT, reporter_name=NAME, reporter_phone=PHONE, **changes)
        assert send(self.base, self.token, body)[0]["outcome"] == "created"
        return body["tracking_id"]

    def worker(self, clock: Clock | None = None, settings: Settings = SETTINGS, seed: int = 1) -> Forwarder:
        db = Database(self.url)
        return Forwarder(db, load(self.file), settings, rng=random.Random(seed), clock=clock or Clock())

    def entry(self, tid: str) -> dict:
        [row] = query(self.url, "SELECT state, attempts, next_attempt_at, updated_at, last_reason, upstream_id, extra, "
                                "confirmed_by, unconfirmed_times FROM forwarding WHERE tracking_id = :t", t=tid)
        keys = ("state", "attempts", "next_attempt_at", "updated_at", "last_reason", "upstream_id", "extra",
                "confirmed_by", "unconfirmed_times")
        out = dict(zip(keys, row))
        for key in ("next_attempt_at", "updated_at"):  # SQLite hands back text
            if isinstance(out[key], str):
                out[key] = dt.datetime.fromisoformat(out[key]).replace(tzinfo=dt.timezone.utc)
            elif out[key] is not None and out[key].tzinfo is None:
                out[key] = out[key].replace(tzinfo=dt.timezone.utc)
        return out

    def status(self, tid: str) -> dict:
        answer = requests.get(f"{self.base}/api/v1/reports/{tid}/status", headers=auth(self.token), timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return central_cli(self.url, *args)


def _world(backend: str, tmp_path_factory, request, **double_options):
    folder = tmp_path_factory.mktemp(f"forwarding-{backend}")
    url = (f"sqlite:///{folder / 'central.sqlite3'}" if backend == "sqlite"
           else servers.fresh_database(request.getfixturevalue("postgres_url"), "forwarding"))
    with LaporDouble(hold_s=1.5, **double_options).running() as double:
        path = forwarding_file(folder, double, timeout_s=0.5)
        with running_central(url, env={"CENTRAL_FORWARDING_FILE": path}) as base:
            token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik").stdout.strip()
            yield World(base, url, token, double, path, backend)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    yield from _world(request.param, tmp_path_factory, request)


@pytest.fixture(scope="module")
def sqlite_world(request, tmp_path_factory):
    yield from _world("sqlite", tmp_path_factory, request)


def _only(double: LaporDouble, tid: str):
    [stored] = double.for_our_id(tid)
    return stored


# -- routing and what is sent ----------------------------------------------------------------
def test_reports_are_routed_by_category_and_agency(tmp_path):
    """GIVEN a file that sends KESEHATAN reports to one destination and DINKES's to another
    WHEN reports of each kind come in THEN each gets an entry for every destination one of
    whose routes matches, once, and a report no route matches gets none."""
    with LaporDouble().running() as double:
        path = forwarding_file(tmp_path, double, routes=(
            '[[routes]]\ndestination = "lapor"\ncategories = ["KESEHATAN"]\n'
            '[[routes]]\ndestination = "dinkes"\nagencies = ["DINKES"]\n'
            '[[routes]]\ndestination = "lapor"\nagencies = ["DINKES"]\n'),
            extra=f'[destinations.dinkes]\ntype = "lapor"\nurl = "{double.url}"\ntoken_file = "{tmp_path / "lapor.token"}"\n')
        url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
        with running_central(url, env={"CENTRAL_FORWARDING_FILE": path}) as base:
            token = central_cli(url, "kiosk", "add", "MT01", "--location", "x").stdout.strip()
            cases = {"health": report(category_code="KESEHATAN"),
                     "health+dinkes": report(category_code="KESEHATAN", agency_code="DINKES"),
                     "roads+dinkes": report(category_code="JALAN_JEMBATAN", agency_code="DINKES"),
                     "roads": report(category_code="JALAN_JEMBATAN", agency_code="DPUPR")}
            send(base, token, *cases.values())
        routed = {}
        for tid, destination in query(url, "SELECT tracking_id, destination FROM forwarding"):
            routed.setdefault(tid, []).append(destination)
    got = {case: sorted(routed.get(body["tracking_id"], [])) for case, body in cases.items()}
    assert got == {"health": ["lapor"], "health+dinkes": ["dinkes", "lapor"], "roads+dinkes": ["dinkes", "lapor"],
                   "roads": []}


def test_an_anonymous_report_carries_no_identity_and_a_confidential_one_is_rahasia(world):
    """GIVEN an anonymous and confidential report and one that is neither WHEN they are
    forwarded THEN the double holds the first with empty reporter elements, anonim and
    rahasia 1, and no trace of the name, phone or e-mail anywhere in the XML; the second
    with the reporter; neither carries our Tracking ID in the published text."""
    hidden = world.file_report(anonymous=True, confidential=True)
    shown = world.file_report()
    world.worker().drain()
    secret, open_ = _only(world.double, hidden), _only(world.double, shown)
    for needle in (NAME, "Wulan", "Rahasiawati", PHONE, EMAIL):
        assert needle.encode() not in secret.xml
    assert [e.text for e in secret.root.find("pelapor")] == [None] * 4
    laporan = secret.root.find("laporan")
    assert (laporan.get("anonim"), laporan.get("rahasia")) == ("1", "1")
    assert TEXT in laporan.findtext("isi") and TITLE == laporan.findtext("judul")
    assert hidden not in laporan.findtext("isi") and format_tracking_id(hidden) not in laporan.findtext("isi")
    assert laporan.findtext("trackingidkios") == hidden
    pelapor = {e.tag: e.text for e in open_.root.find("pelapor")}
    assert pelapor == {"email": None, "telpon": PHONE, "namadepan": "Wulan", "namabelakang": "Rahasiawati"}
    assert (open_.root.find("laporan").get("anonim"), open_.root.find("laporan").get("rahasia")) == ("0", "0")
    entry = world.entry(hidden)
    assert entry["state"] == "sent" and entry["upstream_id"] == secret.trackingid and entry["confirmed_by"] == "answer"
    assert json.loads(entry["extra"]) == {"transaksiid": secret.transaksiid}


# -- retries ---------------------------------------------------------------------------------
def test_a_500_is_retried_with_backoff_and_full_jitter(world):
    """GIVEN LAPOR! answering 500 twice WHEN the worker runs THEN each failure waits a random
    time up to 2 s, then 4 s (nothing is sent before it is due), and the third attempt is
    stored once."""
    clock = Clock()
    worker = world.worker(clock)
    tid = world.file_report()
    world.double.inject("500", "500")
    for attempt, ceiling in ((1, 2.0), (2, 4.0)):
        worker.drain()
        entry = world.entry(tid)
        assert (entry["state"], entry["attempts"], entry["last_reason"]) == ("pending", attempt, "LAPOR! answered 500")
        wait = (entry["next_attempt_at"] - entry["updated_at"]).total_seconds()
        assert 0 <= wait <= ceiling + 0.01
        if wait > 0.05:
            assert worker.run_once() == 0  # not due yet: nothing claimed, nothing sent
        clock.skip(ceiling + 0.1)
    worker.drain()
    assert world.entry(tid)["state"] == "sent" and world.entry(tid)["attempts"] == 3
    assert len(world.double.for_our_id(tid)) == 1


def test_retry_after_is_honoured(world):
    """GIVEN LAPOR! answering 503 with Retry-After: 30 WHEN the worker runs THEN the entry is
    due 30 s later, not before, and then it is sent."""
    clock = Clock()
    worker = world.worker(clock)
    tid = world.file_report()
    world.double.inject("busy:30")
    worker.drain()
    entry = world.entry(tid)
    assert entry["state"] == "pending" and 29.9 <= (entry["next_attempt_at"] - entry["updated_at"]).total_seconds() <= 30.1
    clock.skip(25)
    assert worker.run_once() == 0
    clock.skip(6)
    worker.drain()
    assert world.entry(tid)["state"] == "sent" and world.double.faults["busy"] >= 1


def test_a_refusal_fails_with_its_reason_and_the_cli_tells_and_resends(world):
    """GIVEN LAPOR! refusing a report with 400 WHEN the worker runs THEN the entry fails with
    LAPOR!'s code as its reason; ``forwarding`` lists it (table and JSON) and exits 1 once it
    waited longer than the limit, 0 before; ``resend`` by an admin sends it again."""
    tid = world.file_report()
    world.double.inject("refuse")
    world.worker().drain()
    entry = world.entry(tid)
    assert entry["state"] == "failed"
    assert entry["last_reason"] == "LAPOR! refused the report (HTTP 400): kategori_tidak_dikenal"
    table = world.cli("forwarding")
    assert table.returncode == 0, table.stderr
    assert format_tracking_id(tid) in table.stdout and "kategori_tidak_dikenal" in table.stdout
    assert TEXT not in table.stdout and TITLE not in table.stdout and NAME not in table.stdout
    late = world.cli("forwarding", "--json", "--older-than", "0.00001")
    assert late.returncode == 1, late.stderr
    document = json.loads(late.stdout)
    [row] = [e for e in document["entries"] if e["tracking_id"] == tid]
    assert row["state"] == "failed" and row["late"] and row["attempts"] == 1 and document["late"] >= 1
    assert set(row) == {"tracking_id", "destination", "state", "attempts", "age_s", "late", "last_reason",
                        "next_attempt_at"}
    wrong = world.cli("forwarding", "confirm", tid, "nowhere", "1234567")
    assert wrong.returncode == 2 and "no entry for nowhere" in wrong.stderr
    again = world.cli("forwarding", "resend", tid, "lapor", "--actor", "Rina Admin")
    assert again.returncode == 0, again.stderr
    assert world.entry(tid)["state"] == "pending"
    world.worker().drain()
    assert world.entry(tid)["state"] == "sent" and len(world.double.for_our_id(tid)) == 1
    assert query(world.url, "SELECT officer_name, event, address FROM audit_log WHERE tracking_id = :t", t=tid) == [
        ("Rina Admin", "forwarding_resent", "cli")]


# -- lost answers ----------------------------------------------------------------------------
def test_a_lost_answer_is_unconfirmed_then_found_by_a_look_up(world):
    """GIVEN LAPOR! storing a report and closing the connection without an answer, and
    another request held past the client's timeout without storing WHEN the worker runs THEN
    both are unconfirmed, never sent again blindly; looked up once ``look_after`` has
    passed: the first is found (sent, with LAPOR!'s number, stored once), the second is not
    there, so it is sent again, and then stored once."""
    clock = Clock()
    worker = world.worker(clock)
    lost, held = world.file_report(), world.file_report()
    world.double.inject("lose", "timeout")
    worker.drain()
    for tid in (lost, held):
        entry = world.entry(tid)
        assert (entry["state"], entry["unconfirmed_times"]) == ("unconfirmed", 1), entry
    submits = world.double.requests["submit"]
    assert worker.run_once() == 0  # not looked up before look_after
    clock.skip(SETTINGS.look_after_s + 0.1)
    worker.drain()
    assert world.double.requests["submit"] == submits + 1  # only the one not found was sent again
    found = world.entry(lost)
    assert (found["state"], found["confirmed_by"]) == ("sent", "look_up")
    assert found["upstream_id"] == _only(world.double, lost).trackingid
    assert world.entry(held)["state"] == "sent" and world.entry(held)["confirmed_by"] == "answer"
    assert len(world.double.for_our_id(held)) == 1


def test_without_a_look_up_an_admin_confirms_by_cli(world, tmp_path):
    """GIVEN a LAPOR! that cannot look reports up (lookup = false) WHEN an answer is lost
    THEN the entry stays unconfirmed, not due again, for an admin; ``forwarding confirm``
    makes it sent with the number the admin found, in the audit log."""
    path = forwarding_file(tmp_path, world.double, timeout_s=0.5, lookup=False)
    clock = Clock()
    worker = Forwarder(Database(world.url), load(path), SETTINGS, clock=clock)
    tid = world.file_report()
    world.double.inject("lose")
    worker.drain()
    clock.skip(SETTINGS.look_after_s + 1)
    worker.drain()
    entry = world.entry(tid)
    assert entry["state"] == "unconfirmed" and entry["next_attempt_at"] is None
    assert "an admin confirms or resends" in entry["last_reason"]
    number = _only(world.double, tid).trackingid
    done = world.cli("forwarding", "confirm", format_tracking_id(tid), "lapor", number, "--actor", "Rina Admin")
    assert done.returncode == 0, done.stderr
    entry = world.entry(tid)
    assert (entry["state"], entry["upstream_id"], entry["confirmed_by"]) == ("sent", number, "Rina Admin")
    assert world.status(tid)["lapor_number"] == number
    assert query(world.url, "SELECT event, detail FROM audit_log WHERE tracking_id = :t", t=tid) == [
        ("forwarding_confirmed", f"lapor {number}")]
    again = world.cli("forwarding", "resend", tid, "lapor")
    assert again.returncode == 2 and "is sent" in again.stderr


def test_an_admin_confirms_on_the_workbench_with_csrf_and_an_agency_only_sees(sqlite_world, tmp_path):
    """GIVEN an unconfirmed entry LAPOR! cannot look up WHEN officers open the report's page
    THEN the admin sees its state and the forms, an agency officer the state only; a POST
    without the CSRF token is refused and changes nothing; an agency officer's POST is
    refused; the admin's confirm makes it sent and the page shows "Nomor LAPOR!"."""
    world = sqlite_world
    path = forwarding_file(tmp_path, world.double, timeout_s=0.5, lookup=False)
    tid = world.file_report(agency_code="DINKES")
    for action in ("verify", "forward"):
        assert world.cli("report", tid, action, "--agency", "DINKES").returncode == 0
    world.double.inject("lose")
    clock = Clock()
    worker = Forwarder(Database(world.url), load(path), SETTINGS, clock=clock)
    worker.drain()
    clock.skip(SETTINGS.look_after_s + 1)
    worker.drain()
    assert world.entry(tid)["state"] == "unconfirmed"
    secret = add_officer(world.url, "Rina Admin", "admin", totp=True)
    add_officer(world.url, "Budi Dinkes", "agency", "DINKES")
    admin, agency = log_in(world.base, "Rina Admin", secret), log_in(world.base, "Budi Dinkes")
    page = admin.get(f"{world.base}/workbench/reports/{tid}?lang=id", timeout=30)
    assert page.status_code == 200
    assert "Belum pasti: jawabannya hilang" in page.text and "/forwarding/confirm" in page.text
    seen = agency.get(f"{world.base}/workbench/reports/{tid}?lang=id", timeout=30)
    assert "Belum pasti: jawabannya hilang" in seen.text and "/forwarding/confirm" not in seen.text
    number = _only(world.double, tid).trackingid
    target = f"{world.base}/workbench/reports/{tid}/forwarding/confirm"
    forged = admin.post(target, data={"destination": "lapor", "upstream_id": number}, allow_redirects=False, timeout=30)
    assert forged.status_code == 403 and world.entry(tid)["state"] == "unconfirmed"
    refused = agency.post(target, data={"destination": "lapor", "upstream_id": number, "csrf": csrf_of(seen.text)},
                          allow_redirects=False, timeout=30)
    assert refused.status_code == 403 and world.entry(tid)["state"] == "unconfirmed"
    empty = admin.post(target, data={"destination": "lapor", "upstream_id": " ", "csrf": csrf_of(page.text)},
                       allow_redirects=False, timeout=30)
    assert empty.status_code == 400 and world.entry(tid)["state"] == "unconfirmed"
    done = admin.post(target, data={"destination": "lapor", "upstream_id": number, "csrf": csrf_of(page.text)},
                      allow_redirects=False, timeout=30)
    assert done.status_code == 303, done.text[:500]
    assert world.entry(tid)["state"] == "sent" and world.entry(tid)["confirmed_by"] == "Rina Admin"
    after = admin.get(f"{world.base}/workbench/reports/{tid}?lang=id", timeout=30).text
    assert f"Nomor LAPOR!: {number}" in after and "/forwarding/confirm" not in after
    assert query(world.url, "SELECT officer_name, event FROM audit_log WHERE tracking_id = :t AND event LIKE 'forw%'",
                 t=tid) == [("Rina Admin", "forwarding_confirmed")]


# -- status back -----------------------------------------------------------------------------
def test_lapor_steps_come_back_to_the_citizen_once(world, tmp_path):
    """GIVEN a forwarded report WHEN LAPOR!'s officers reply while it is still received here,
    then answer it once it is with an agency, and the worker pulls twice after each THEN
    the citizen's status (API and public page) shows each reply once, the answer moves the
    report to answered, and both show the LAPOR! number; a confidential report's reply
    reaches the officers only."""
    clock = Clock()
    worker = world.worker(clock)
    tid = world.file_report(agency_code="DINKES")
    secret_tid = world.file_report(agency_code="DINKES", confidential=True)
    worker.drain()
    number = world.entry(tid)["upstream_id"]
    world.double.answer(number, "proses", isi="Laporan Anda sedang kami pelajari.")
    world.double.answer(world.entry(secret_tid)["upstream_id"], "proses", isi="Balasan rahasia untuk pelapor.")
    for _ in range(2):
        clock.skip(61)
        worker.drain()
    for action in ("verify", "forward"):
        assert world.cli("report", tid, action, "--agency", "DINKES").returncode == 0
    world.double.answer(number, "selesai", isi="Lampu sudah diganti oleh Dinas.", catatan="petugas: Andi")
    for _ in range(2):
        clock.skip(61)
        worker.drain()
    status = world.status(tid)
    assert status["lapor_number"] == number and status["status"] == "answered"
    replies = [e["public_reply"] for e in status["events"] if e["public_reply"]]
    assert replies == ["Laporan Anda sedang kami pelajari.", "Lampu sudah diganti oleh Dinas."]
    page = requests.get(f"{world.base}/status/{tid}?lang=id", timeout=30).text
    assert f"Nomor LAPOR!: {number}" in page
    kiosk = env_synced_to(tmp_path, world.base, world.token, FakeClock())  # the receipt checked at a kiosk
    try:
        for lang, words in (("id", "Nomor LAPOR!"), ("en", "LAPOR! number")):
            answer = look_up(tid, env=kiosk, language=lang)
            assert answer.lines[0] == f"{words}: {number}", answer
            assert answer.reply == "Lampu sudah diganti oleh Dinas."
    finally:
        kiosk.close()
    assert page.count("Laporan Anda sedang kami pelajari.") == 1 and page.count("Lampu sudah diganti") == 1
    secret_status = world.status(secret_tid)
    assert not any(e["public_reply"] for e in secret_status["events"])
    notes = query(world.url, "SELECT note FROM report_events WHERE tracking_id = :t AND actor = 'lapor'", t=secret_tid)
    assert any("Balasan rahasia untuk pelapor." in n for (n,) in notes)
    assert query(world.url, "SELECT count(*) FROM forwarding_events") [0][0] >= 3


# -- logs, config, migration -----------------------------------------------------------------
def test_the_worker_logs_no_report_text_or_identity(world):
    """GIVEN reports whose forwarding meets a 500, a lost answer, a refusal and a success
    WHEN the real ``python -m central forward --once`` runs THEN its log names entries,
    destinations and outcomes, never a title, a text, a name, a phone or a Tracking ID."""
    tids = [world.file_report() for _ in range(4)]
    world.double.inject("500", "lose", "refuse")
    run = subprocess.run([sys.executable, "-m", "central", "--database-url", world.url, "--forwarding-file",
                          world.file, "forward", "--once", "--backoff-base", "30", "--look-after", "60"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    log = run.stdout + run.stderr
    assert "unconfirmed" in log and "failed" in log and "sent" in log
    for needle in (TITLE, TEXT, NAME, "Wulan", PHONE, EMAIL, "Lampu", *tids, *map(format_tracking_id, tids)):
        assert needle not in log, needle


def test_a_wrong_forwarding_file_stops_the_start_with_its_key(tmp_path):
    """GIVEN forwarding files with a mistake WHEN serve or forward starts THEN it exits 2
    naming the file, the key and the problem; forward without a file says what to give."""
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    token = tmp_path / "t.token"
    token.write_text("abc\n")
    cases = {
        '[destinations.lapor]\ntype = "lapr"\n': "type must be one of",
        f'[destinations.lapor]\ntype = "lapor"\nurl = "ftp://x"\ntoken_file = "{token}"\n': "url must be",
        '[destinations.lapor]\ntype = "lapor"\nurl = "http://x"\ntoken_file = "/nonexistent/t"\n': "token_file",
        f'[destinations.lapor]\ntype = "lapor"\nurl = "http://x"\ntoken_file = "{token}"\ntimeout = 3\n': "unknown key 'timeout'",
        f'[destinations.lapor]\ntype = "lapor"\nurl = "http://x"\ntoken_file = "{token}"\n': "no [[routes]]",
        f'[destinations.lapor]\ntype = "lapor"\nurl = "http://x"\ntoken_file = "{token}"\n'
        '[[routes]]\ndestination = "lapor"\ncategories = []\n': "categories is empty",
        f'[destinations.lapor]\ntype = "lapor"\nurl = "http://x"\ntoken_file = "{token}"\n'
        '[[routes]]\ndestination = "lapr"\n': "destination must name one of",
    }
    for n, (text, expected) in enumerate(cases.items()):
        path = tmp_path / f"f{n}.toml"
        path.write_text(text)
        for command in (("forward", "--once"), ("serve", "--port", "1")):
            result = central_cli(url, "--forwarding-file", str(path), *command)
            assert result.returncode == 2 and str(path) in result.stderr and expected in result.stderr, \
                (text, result.stderr)
    nothing = central_cli(url, "forward", "--once")
    assert nothing.returncode == 2 and "--forwarding-file" in nothing.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_c0014_matches_the_models_and_goes_down_and_up(backend, tmp_path, request):
    """GIVEN a database at c0013 with a report WHEN the central migrates THEN the schema is
    the models' (forwarding's unique key and indexes included); down and up again works."""

    from central.db import migrate

    url = (f"sqlite:///{tmp_path / 'central.sqlite3'}" if backend == "sqlite"
           else servers.fresh_database(request.getfixturevalue("postgres_url"), "forwarding_mig"))
    alembic(url, "c0013")
    db = Database(url)
    try:
        migrate(db.engine)
        assert_schema_matches_models(db)
        names = {i["name"] for i in inspect(db.engine).get_indexes("forwarding")}
        assert {"ix_forwarding_due", "ix_forwarding_waiting"} <= names
    finally:
        db.close()
    alembic(url, "c0013", "downgrade")
    engine = create_engine(url)
    assert not {"forwarding", "forwarding_events"} & set(inspect(engine).get_table_names())
    engine.dispose()
    alembic(url, "c0014")
