"""The SMS core (issue 16, docs/SMS.md) against a real central (SQLite file and PostgreSQL),
its real API and CLI: BARUT files a report with a valid SMS Tracking ID and queues one
reply of at most 160 GSM-7 characters; a message handed over again, or by three workers at
once, files once; CEK answers what the public page says (never a confidential report's
reply); STOP ends the notices; an answered report queues its one notice, however often it
is answered; one number's flood is limited and never delays another; numbers and texts are
not in the SQLite file in plain; the retention purge; the send worker's outcomes; the SMS
file's checks; migration c0015.

The desk runs in this process (``central.sms.SmsDesk`` over the real database and SMS
file) as an adapter would run it; reports are moved with the real ``python -m central
report`` (with the SMS file, as an officer's CLI is started)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import re
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, inspect

from central import crypto, feedback, sms_config, sms_text
from central.db import Database
from central.sms import NotSent, IncomingSms, SendWorker, SmsDesk
from kiosk.kernel.tracking_id import format_tracking_id, parse_tracking_id
from kiosk.kernel.wire import FeedbackIn
from tests.support import servers
from tests.support.central import (alembic, assert_schema_matches_models, central_cli, query, report, running_central,
                                   secret_key_file, send)
from tests.support.sms import a_number, sms_file

STATUS_URL = "https://lapor.baritoutarakab.go.id/status"
_GROUPED_ID = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{5}-[0-9A-Z]{5}\b")


@dataclasses.dataclass
class World:
    base: str
    url: str
    token: str
    key: str
    file: str
    desk: SmsDesk
    backend: str

    def sms(self, text: str, sender: str | None = None, *, message_id: str | None = None, gateway: str = "modem",
            at: dt.datetime | None = None) -> IncomingSms:
        return IncomingSms(gateway, uuid.uuid4().hex if message_id is None else message_id, sender or a_number(),
                           text, at or dt.datetime.now(dt.timezone.utc))

    def cli(self, *args: str):
        return central_cli(self.url, "--secret-key-file", self.key, "--sms-file", self.file, *args)

    def move(self, tid: str, *steps: tuple[str, ...]) -> None:
        for step in steps:
            result = self.cli("report", tid, *step)
            assert result.returncode == 0, result.stderr

    def outbox(self, where: str, **params) -> list[dict]:
        keys = ("id", "dedupe_key", "kind", "gateway", "state", "tracking_id", "to_sealed", "text_sealed")
        rows = query(self.url, f"SELECT {', '.join(keys)} FROM sms_outbox WHERE {where} ORDER BY id", **params)
        return [dict(zip(keys, row)) for row in rows]

    def opened(self, row: dict) -> tuple[str, str]:
        return self.desk.box.open(row["to_sealed"]), self.desk.box.open(row["text_sealed"])


def _world(backend: str, tmp_path_factory, request):
    folder = tmp_path_factory.mktemp(f"sms-{backend}")
    url = (f"sqlite:///{folder / 'central.sqlite3'}" if backend == "sqlite"
           else servers.fresh_database(request.getfixturevalue("postgres_url"), "sms"))
    key, path = secret_key_file(), sms_file(folder, status_url=STATUS_URL)
    with running_central(url, env={"CENTRAL_SMS_FILE": path, "CENTRAL_SECRET_KEY_FILE": key}) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik").stdout.strip()
        db = Database(url)
        db.sms = SmsDesk(db, crypto.load(key), sms_config.load(path), rng=random.Random(1))
        try:
            yield World(base, url, token, key, path, db.sms, backend)
        finally:
            db.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    yield from _world(request.param, tmp_path_factory, request)


@pytest.fixture(scope="module")
def sqlite_world(request, tmp_path_factory):
    yield from _world("sqlite", tmp_path_factory, request)


# -- filing ------------------------------------------------------------------------------------------
def test_a_hundred_messages_file_a_hundred_reports_with_a_reply_each(world):
    """GIVEN 100 different BARUT messages from 100 numbers WHEN the desk takes them THEN 100
    reports exist (channel sms, unsorted, no number in their body) and 100 replies wait
    for the gateway, each GSM-7, at most 160 characters, naming its report's valid ID."""
    numbers = [a_number() for _ in range(100)]
    spellings = ["BARUT {}", "barut: {}", "Barut  {}", "BARUT. {}"]
    texts = [f"Lampu jalan nomor {n} di Jalan Negara padam sejak minggu lalu" for n in range(100)]
    taken = [world.desk.take(world.sms(spellings[n % 4].format(text), numbers[n])) for n, text in enumerate(texts)]
    assert [t.outcome for t in taken] == ["filed"] * 100
    ids = [t.tracking_id for t in taken]
    assert len(set(ids)) == 100 and all(parse_tracking_id(t) == t and t.startswith("0767") for t in ids)
    rows = {r[0]: r for r in query(world.url, "SELECT tracking_id, channel, kind, category_code, agency_code, "
                                              "kecamatan_code, anonymous, confidential, body, kiosk_code FROM reports "
                                              "WHERE channel = 'sms'")}
    assert set(ids) <= set(rows)
    for n, tid in enumerate(ids):
        _, channel, kind, category, agency, kecamatan, anonymous, confidential, body, issuer = rows[tid]
        assert (channel, kind, category, agency, kecamatan, issuer) == ("sms", "pengaduan", "LAINNYA", None,
                                                                        "TIDAK_TAHU", "0767")
        assert not anonymous and not confidential
        body = json.loads(body)
        assert body["description"] == texts[n] and body["language"] == "id"
        assert texts[n].startswith(body["title"].rstrip("\u2026"))
        assert body["reporter_phone"] == "" and body["reporter_name"] == "" and "sms_consent" not in body
        assert numbers[n][1:] not in json.dumps(body)
    due = world.desk.due("modem", 500)
    mine = {o.id: o for o in due}
    replies = world.outbox("kind = 'reply' AND tracking_id IN (" + ", ".join(f"'{t}'" for t in ids) + ")")
    assert len(replies) == 100
    for row in replies:
        out = mine[row["id"]]
        n = ids.index(row["tracking_id"])
        assert out.to == "+62" + numbers[n][1:]
        assert sms_text.is_gsm7(out.text) and sms_text.length(out.text) <= 160, out.text
        [shown] = set(_GROUPED_ID.findall(out.text))
        assert parse_tracking_id(shown) == row["tracking_id"] and shown == format_tracking_id(row["tracking_id"])
        assert "CEK " + shown in out.text
        assert world.desk.sent(out.id)
    assert not world.desk.due("modem", 500) or all(o.id not in mine for o in world.desk.due("modem", 500))


@pytest.mark.parametrize("with_id", [True, False])
def test_the_same_message_five_times_files_once(world, with_id):
    """GIVEN one message handed over 5 times (with the gateway's id, or without one: the
    same sender, text and second) WHEN taken THEN one report and one reply; the others
    are repeats naming the same report."""
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    message = world.sms("BARUT Sampah menumpuk di pasar", message_id="gw-5x-" + uuid.uuid4().hex if with_id else "",
                        at=at)
    taken = [world.desk.take(dataclasses.replace(message, received_at=at + dt.timedelta(microseconds=n * 1000)))
             for n in range(5)]
    assert [t.outcome for t in taken] == ["filed"] + ["repeat"] * 4
    assert {t.tracking_id for t in taken} == {taken[0].tracking_id} and taken[1].reply is None
    assert len(query(world.url, "SELECT 1 FROM reports WHERE tracking_id = :t", t=taken[0].tracking_id)) == 1
    assert len(world.outbox("tracking_id = :t", t=taken[0].tracking_id)) == 1


def test_three_workers_taking_one_message_at_once_file_one_report(world):
    """GIVEN three workers, each with its own database connections WHEN they take the same
    message at the same moment THEN one files it and the others find it: one report."""
    desks = []
    for _ in range(3):
        db = Database(world.url)
        desks.append(SmsDesk(db, world.desk.box, world.desk.config))
    message = world.sms("BARUT Jembatan kayu di desa retak", message_id="race-" + uuid.uuid4().hex)
    start, results = threading.Barrier(3), []

    def take(desk):
        start.wait()
        results.append(desk.take(message))

    threads = [threading.Thread(target=take, args=(d,)) for d in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for desk in desks:
        desk.db.close()
    assert sorted(t.outcome for t in results) == ["filed", "repeat", "repeat"]
    tid = next(t.tracking_id for t in results if t.outcome == "filed")
    assert {t.tracking_id for t in results} == {tid}
    assert query(world.url, "SELECT count(*) FROM sms_messages WHERE message_key = :k", k=message.message_id) == [(1,)]
    assert len(query(world.url, "SELECT 1 FROM reports WHERE tracking_id = :t", t=tid)) == 1
    assert len(world.outbox("tracking_id = :t", t=tid)) == 1


# -- CEK --------------------------------------------------------------------------------------------
def test_cek_of_a_kiosk_receipt_says_what_the_public_page_says(world):
    """GIVEN a report a kiosk sent through the API WHEN its holder sends CEK with the ID as
    printed, in lower case, and the bare ID THEN the reply names its step and the date the
    public page expects the next one by; after it is forwarded, the agency and its date."""
    body = report()
    assert send(world.base, world.token, body)[0]["outcome"] == "created"
    tid = body["tracking_id"]
    page = requests.get(f"{world.base}/status/{tid}", timeout=30).text
    for text in (f"CEK {format_tracking_id(tid)}", f"cek {tid.lower()}", format_tracking_id(tid).lower(),
                 f"Cek: {tid[:4]} {tid[4:9]} {tid[9:]}"):
        taken = world.desk.take(world.sms(text))
        assert (taken.outcome, taken.tracking_id) == ("status", tid), text
        assert "Diterima oleh kantor pusat" in taken.reply and "Berikutnya: verifikasi" in taken.reply
        date = re.search(r"paling lambat (\d+ \w+ \d{4})", taken.reply).group(1)
        assert date in page and sms_text.length(taken.reply) <= 160 and sms_text.is_gsm7(taken.reply)
    world.move(tid, ("verify",), ("forward", "--agency", "DINKES"))
    taken = world.desk.take(world.sms(f"CEK {format_tracking_id(tid)}"))
    page = requests.get(f"{world.base}/status/{tid}", timeout=30).text
    assert "Diteruskan ke Dinas Kesehatan" in taken.reply and "tindak lanjut instansi" in taken.reply
    assert re.search(r"paling lambat (\d+ \w+ \d{4})", taken.reply).group(1) in page
    assert "Siti" not in taken.reply and "Antrean" not in taken.reply  # no identity, no content


def test_cek_never_shows_a_confidential_reports_reply(world):
    """GIVEN two answered kiosk reports, one confidential WHEN CEK asks for each THEN the
    open one's reply starts with the answer; the confidential one's never quotes it."""
    answer = "Petugas loket tiga sudah ditegur kepala dinas"
    tids = {}
    for confidential in (False, True):
        body = report(confidential=confidential)
        send(world.base, world.token, body)
        tids[confidential] = body["tracking_id"]
        world.move(body["tracking_id"], ("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", answer))
    open_reply = world.desk.take(world.sms(f"CEK {tids[False]}")).reply
    secret_reply = world.desk.take(world.sms(f"CEK {tids[True]}")).reply
    assert "Dijawab oleh Dinas Kesehatan" in open_reply and "Jawaban: Petugas loket tiga" in open_reply
    assert "Dijawab oleh" in secret_reply and "rahasia" in secret_reply
    assert "Petugas" not in secret_reply and "loket" not in secret_reply and "Antrean" not in secret_reply


def test_a_mistyped_check_symbol_and_an_unknown_number(world):
    """GIVEN a real report's ID with its last symbol changed, and a valid ID no report has
    WHEN each is asked THEN "salah ketik" for the first, "tidak ditemukan" for the second."""
    tid = world.desk.take(world.sms("BARUT Air PDAM keruh")).tracking_id
    wrong = tid[:-1] + ("0" if tid[-1] != "0" else "1")
    for text in (f"CEK {wrong}", wrong):
        taken = world.desk.take(world.sms(text))
        assert taken.outcome == "status" and taken.tracking_id is None
        assert "salah ketik" in taken.reply and "tidak ditemukan" not in taken.reply
    from kiosk.kernel.tracking_id import new_tracking_id

    nobody = new_tracking_id("0767")
    taken = world.desk.take(world.sms(f"CEK {nobody}"))
    assert "tidak ditemukan" in taken.reply and format_tracking_id(nobody) in taken.reply


def test_unknown_keywords_and_an_empty_report_get_help(world):
    for text in ("Halo selamat pagi", "BARUT", "barut:", "  Barut.  ", "LAPOR jalan rusak", ""):
        taken = world.desk.take(world.sms(text))
        assert taken.outcome == "help" and taken.tracking_id is None, text
        assert "BARUT (spasi) isi aduan" in taken.reply and "CEK" in taken.reply and "STOP" in taken.reply
        assert sms_text.length(taken.reply) <= 160
    assert "kosong" in world.desk.take(world.sms("barut :")).reply


# -- the answer notice and STOP -----------------------------------------------------------------------
def test_an_sms_report_answered_twice_is_noticed_once_through_its_gateway(world):
    """GIVEN a report filed by SMS through the SMSSync phone WHEN it is answered, objected
    to and answered again THEN one notice waits, to its sender, through that gateway,
    saying how to read the answer."""
    number = a_number()
    tid = world.desk.take(world.sms("BARUT Lampu puskesmas mati", number, gateway="hp")).tracking_id
    world.move(tid, ("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", "Sudah diperbaiki"))
    feedback.take(world.desk.db, FeedbackIn(key=uuid.uuid4().hex, kind="objection", tracking_id=tid, text="",
                                            filed_at=dt.datetime.now(dt.timezone.utc)), kiosk_code=None)
    assert query(world.url, "SELECT status FROM reports WHERE tracking_id = :t", t=tid) != [("answered",)]
    world.move(tid, ("answer", "--reply", "Sudah diperbaiki lagi"))
    [notice] = world.outbox("dedupe_key = :k", k=f"answered:{tid}")
    assert (notice["kind"], notice["gateway"], notice["state"]) == ("answered", "hp", "pending")
    to, text = world.opened(notice)
    assert to == "+62" + number[1:]
    assert f"CEK {format_tracking_id(tid)}" in text and "sudah dijawab" in text and sms_text.length(text) <= 160


def test_stop_then_answered_sends_no_notice(world):
    number = a_number()
    tid = world.desk.take(world.sms("BARUT Parit tersumbat", number)).tracking_id
    stopped = world.desk.take(world.sms("Stop", number))
    assert stopped.outcome == "stopped" and "tidak akan menerima" in stopped.reply
    again = world.desk.take(world.sms("STOP", number.replace("0", "+62", 1)))
    assert again.outcome == "stopped" and again.reply is None  # told once
    world.move(tid, ("verify",), ("forward", "--agency", "DPUPR"), ("answer", "--reply", "Sudah dibersihkan"))
    assert world.outbox("dedupe_key = :k", k=f"answered:{tid}") == []


def test_kiosk_reports_are_noticed_only_with_consent_and_never_when_anonymous(world):
    """GIVEN kiosk reports with a phone: one whose reporter agreed, one who did not, one
    anonymous that agreed WHEN each is answered THEN only the first gets a notice, through
    notify_gateway; a STOP sent after the notice was queued keeps it from going out."""
    phone = a_number()
    bodies = {"agreed": report(reporter_phone=phone, sms_consent=True), "not asked": report(reporter_phone=phone),
              "anonymous": report(reporter_phone="", reporter_name="", anonymous=True, sms_consent=True)}
    for body in bodies.values():
        assert send(world.base, world.token, body)[0]["outcome"] == "created"
        world.move(body["tracking_id"], ("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", "Selesai"))
    notices = {name: world.outbox("dedupe_key = :k", k=f"answered:{b['tracking_id']}") for name, b in bodies.items()}
    assert notices["not asked"] == [] and notices["anonymous"] == []
    [notice] = notices["agreed"]
    assert notice["gateway"] == "modem" and world.opened(notice)[0] == "+62" + phone[1:]
    world.desk.take(world.sms("STOP", phone))
    assert notice["id"] not in {o.id for o in world.desk.due("modem", 500)}
    [after] = world.outbox("id = :i", i=notice["id"])
    assert after["state"] == "failed"


# -- limits ---------------------------------------------------------------------------------------
def test_one_numbers_flood_is_limited_and_never_delays_another(world):
    """GIVEN 30 BARUT messages from one number in a moment WHEN taken THEN 10 are filed and
    20 kept as limited (no report, no reply); a message from another number right after
    is filed."""
    number = a_number()
    taken = [world.desk.take(world.sms(f"BARUT Banjir di gang {n}", number)) for n in range(30)]
    assert [t.outcome for t in taken].count("filed") == 10
    assert [t.outcome for t in taken].count("limited") == 20
    assert all(t.reply is None and t.tracking_id is None for t in taken if t.outcome == "limited")
    hashed = world.desk.number_hash("+62" + number[1:])
    assert query(world.url, "SELECT outcome, count(*) FROM sms_messages WHERE sender_hash = :h GROUP BY outcome "
                            "ORDER BY outcome", h=hashed) == [("filed", 10), ("limited", 20)]
    assert world.desk.take(world.sms("BARUT Banjir di gang lain")).outcome == "filed"
    assert world.desk.take(world.sms("STOP", number)).outcome == "stopped"  # STOP is never limited


# -- personal data at rest, retention ---------------------------------------------------------------------
def test_numbers_and_texts_are_not_in_the_sqlite_file_in_plain(sqlite_world):
    """GIVEN messages of every kind from one number, their replies sent WHEN the SQLite
    file and its WAL are read as bytes THEN neither the number (in any spelling) nor a
    message's text is there; only the report's own description is, as a kiosk's is."""
    world = sqlite_world
    number = "081399887766"
    texts = ["BARUT Kepala desa Sukamaju minta uang rokok saat urus KTP", "Halo apakah ini kantor bupati Zeta",
             "STOP"]
    tid = world.desk.take(world.sms(texts[0], number)).tracking_id
    world.desk.take(world.sms(texts[1], number))
    world.desk.take(world.sms(f"CEK {tid}", number))
    world.desk.take(world.sms(texts[2], number))
    for out in world.desk.due("modem", 500):
        world.desk.sent(out.id)
    path = Path(world.url.removeprefix("sqlite:///"))
    data = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    for secret in (number, number[1:], "62" + number[1:], texts[0], texts[1], "kantor bupati Zeta"):
        assert secret.encode() not in data, secret
    assert texts[0].removeprefix("BARUT ").encode() in data  # the report's description
    assert sqlite3.connect(path).execute("SELECT count(*) FROM sms_messages WHERE text_sealed NOT LIKE 'fernet:%' "
                                         "OR sender_sealed NOT LIKE 'fernet:%'").fetchone() == (0,)


def test_purge_clears_numbers_and_texts_past_retention(world):
    """GIVEN a report filed by SMS and rejected, a help message, and a report still open
    WHEN ``sms purge`` runs 91 days later THEN the first two lose number, hash and text (the
    rows stay), with their sent replies; the open report's message keeps its own."""
    rejected = world.desk.take(world.sms("BARUT Iklan rokok dekat sekolah"))
    help_taken = world.desk.take(world.sms("Tes tes"))
    open_one = world.desk.take(world.sms("BARUT Jalan berlubang di Lahei"))
    world.move(rejected.tracking_id, ("reject", "--reply", "Bukan kewenangan daerah"))
    for out in world.desk.due("modem", 500):
        world.desk.sent(out.id)
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=91)).isoformat()
    result = world.cli("sms", "purge", "--now", later)
    assert result.returncode == 0, result.stderr
    rows = dict(query(world.url, "SELECT tracking_id, text_sealed FROM sms_messages WHERE tracking_id IN (:a, :b)",
                      a=rejected.tracking_id, b=open_one.tracking_id))
    assert rows[rejected.tracking_id] is None and rows[open_one.tracking_id] is not None
    assert world.outbox("tracking_id = :t", t=rejected.tracking_id)[0]["to_sealed"] is None
    assert world.outbox("tracking_id = :t", t=open_one.tracking_id)[0]["to_sealed"] is not None
    assert query(world.url, "SELECT count(*) FROM sms_messages WHERE outcome = 'help' AND text_sealed IS NOT NULL "
                            "AND taken_at <= :t", t=dt.datetime.now(dt.timezone.utc)) == [(0,)]
    assert help_taken.outcome == "help"


# -- the send worker --------------------------------------------------------------------------------
class Recorder:
    """A push gateway that records what it was given, or refuses as told."""

    def __init__(self):
        self.given, self.refuse = [], {}

    def send(self, outgoing):
        self.given.append(outgoing)
        if outgoing.id in self.refuse:
            raise NotSent("modem busy" if self.refuse[outgoing.id] else "number refused", self.refuse[outgoing.id])


def test_the_send_worker_settles_each_sms_by_its_outcome(world):
    """GIVEN three replies waiting WHEN the worker sends them, one refused for now and one
    for good THEN the first is sent, the second pending again after a backoff, the third
    failed; the reason is kept, never the text."""
    for out in world.desk.due("modem", 500):  # what earlier tests left waiting
        world.desk.sent(out.id)
    for out in world.desk.due("hp", 500):
        world.desk.sent(out.id)
    taken = [world.desk.take(world.sms(f"BARUT Pohon tumbang nomor {n}")) for n in range(3)]
    rows = [world.outbox("tracking_id = :t", t=t.tracking_id)[0] for t in taken]
    gateway = Recorder()
    gateway.refuse = {rows[1]["id"]: True, rows[2]["id"]: False}
    worker = SendWorker(world.desk, {"modem": gateway})
    assert worker.run_once() == 3
    assert worker.run_once() == 0  # the retried one waits for its backoff
    states = {r["id"]: r["state"] for r in (world.outbox("id = :i", i=row["id"])[0] for row in rows)}
    assert states == {rows[0]["id"]: "sent", rows[1]["id"]: "pending", rows[2]["id"]: "failed"}
    reasons = query(world.url, "SELECT last_reason, attempts, next_attempt_at FROM sms_outbox WHERE id = :i",
                    i=rows[1]["id"])
    assert reasons[0][0] == "modem busy" and reasons[0][1] == 1
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    [again] = [o for o in world.desk.due("modem", 1000, now=later) if o.id == rows[1]["id"]]
    assert world.desk.sent(again.id, now=later) and not world.desk.sent(again.id, now=later)


# -- the SMS file and the secret key ---------------------------------------------------------------------
def test_a_wrong_sms_file_or_no_secret_key_stops_the_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    key = secret_key_file()
    cases = {'keyword = "BAR UT"\n[gateways.m]\ntype = "gammu"\n': "keyword",
             '[gateways.m]\ntype = "nokia"\n': "[gateways.m]: type must be one of gammu, smssync, android",
             'issuer = "OI0"\n[gateways.m]\ntype = "gammu"\n': "issuer",
             'retention_days = 0\n[gateways.m]\ntype = "gammu"\n': "retention_days",
             'notify_gateway = "x"\n[gateways.m]\ntype = "gammu"\n': "notify_gateway",
             'keyword = "CEK"\n[gateways.m]\ntype = "gammu"\n': "must differ",
             '[limits]\nper_number_per_hour = -1\n[gateways.m]\ntype = "gammu"\n': "per_number_per_hour",
             'keyword = "BARUT"\n': "no [gateways.NAME] table",
             'colour = "red"\n[gateways.m]\ntype = "gammu"\n': "unknown key 'colour'"}
    for n, (text, expected) in enumerate(cases.items()):
        path = tmp_path / f"s{n}.toml"
        path.write_text(text)
        for command in (("sms", "purge"), ("serve", "--port", "1")):
            result = central_cli(url, "--secret-key-file", key, "--sms-file", str(path), *command)
            assert result.returncode == 2 and str(path) in result.stderr and expected in result.stderr, \
                (text, result.stderr)
    good = sms_file(tmp_path)
    import os

    no_key = {**os.environ, "CENTRAL_SECRET_KEY_FILE": ""}
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "central", "--database-url", url, "--sms-file", good, "sms",
                             "purge"], cwd=servers.ROOT, capture_output=True, text=True, timeout=60, env=no_key)
    assert result.returncode == 2 and crypto.HOW_TO_CONFIGURE in result.stderr
    nothing = central_cli(url, "--secret-key-file", key, "sms", "purge")
    assert nothing.returncode == 2 and "--sms-file" in nothing.stderr
    taken = central_cli(url, "--secret-key-file", key, "kiosk", "add", "0767", "--location", "x")
    assert taken.returncode == 0  # no SMS file yet: the code is free ...
    result = central_cli(url, "--secret-key-file", key, "--sms-file", good, "sms", "purge")
    assert result.returncode == 2 and "0767" in result.stderr and "issuer" in result.stderr  # ... then it is a kiosk's


# -- the schema ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_c0015_matches_the_models_and_goes_down_and_up(backend, tmp_path, request):
    """GIVEN a database at c0014 WHEN the central migrates THEN the schema is the models'
    (the SMS tables' unique keys and indexes included); down and up again works."""

    from central.db import migrate

    url = (f"sqlite:///{tmp_path / 'central.sqlite3'}" if backend == "sqlite"
           else servers.fresh_database(request.getfixturevalue("postgres_url"), "sms_mig"))
    alembic(url, "c0014")
    db = Database(url)
    try:
        migrate(db.engine)
        assert_schema_matches_models(db)
        names = {i["name"] for i in inspect(db.engine).get_indexes("sms_messages")}
        assert {"ix_sms_messages_tracking_id", "ix_sms_messages_unpurged"} <= names
        assert "ix_sms_outbox_due" in {i["name"] for i in inspect(db.engine).get_indexes("sms_outbox")}
    finally:
        db.close()
    alembic(url, "c0014", "downgrade")
    engine = create_engine(url)
    assert not {"sms_messages", "sms_outbox", "sms_opt_outs"} & set(inspect(engine).get_table_names())
    engine.dispose()
    alembic(url, "c0015")
