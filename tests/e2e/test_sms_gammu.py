"""SMS through a real Gammu SMS daemon (issue 16): ``gammu-smsd`` with Gammu's dummy phone and
the files backend (tests/support/gammu_phone.py), the central's ``sms gammu-receive`` as its
RunOnReceive, and the replies sent by the real ``python -m central sms send`` worker through
``gammu-smsd-inject`` and read back from the daemon's sent folder.

Gammu runs RunOnReceive once per message and waits for it; each run of the central's command
costs a Python start with the database (a second or two). So the hundred messages are taken
the way a technician takes a backlog: the daemon receives them with a hook that only records,
and one ``sms gammu-receive`` is given their inbox files. Every other test hands the message
over through the real hook.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from central import sms_text
from central.crypto import new_key_file
from central.sms import NotSent, Outgoing
from central.sms_gammu import GammuSender
from kiosk.kernel.tracking_id import format_tracking_id, parse_tracking_id
from tests.support import servers
from tests.support.central import auth, central_cli, query, report, running_central, send
from tests.support.gammu_phone import GammuPhone, installed, sms_file
from tests.support.servers import ROOT

GROUPED_ID = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{5}-[0-9A-Z]{5}\b")
MESSAGES = 100


@pytest.fixture(autouse=True)
def _gammu_installed():
    if not installed():
        pytest.fail("Gammu is not installed: `make test` installs Debian's gammu and gammu-smsd")


class Central:
    """The central's command line on one database, with the SMS file and a secret key."""

    def __init__(self, url: str, sms: str, key: str):
        self.url, self.sms, self.key = url, sms, key

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "central", "--database-url", self.url, "--sms-file", self.sms,
                "--secret-key-file", self.key, *args]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), cwd=ROOT, capture_output=True, text=True, timeout=120)

    def send_once(self) -> int:
        done = self.run("sms", "send", "--once")
        assert done.returncode == 0, done.stderr
        return int(done.stdout.split()[0])


def _set_up(postgres_url: str, tmp_path: Path, *, hook: bool = True, inject: str | None = None,
            **phone_options) -> tuple[Central, GammuPhone]:
    """A fresh database, its own secret key, and a Gammu daemon whose RunOnReceive is the
    central's ``sms gammu-receive`` (``hook``; else it only records the runs)."""
    url = servers.fresh_database(postgres_url, "sms_gammu")
    new_key_file(str(tmp_path / "secret.key"))
    central = Central(url, str(tmp_path / "sms.toml"), str(tmp_path / "secret.key"))
    phone = GammuPhone(tmp_path / "gammu", hook=central.argv("sms", "gammu-receive") if hook else None,
                       **phone_options)
    sms_file(Path(central.sms), phone.rc, inject=inject)
    return central, phone


def _execute(url: str, sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _execute_autocommit(url: str, sql: str) -> None:
    """CREATE or DROP DATABASE (outside a transaction)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _reports(url: str) -> dict[str, dict]:
    """The SMS channel's reports: Tracking ID -> body."""
    rows = query(url, "SELECT tracking_id, body FROM reports WHERE channel = 'sms'")
    return {tid: json.loads(body) for tid, body in rows}


def _one_id(text: str) -> str:
    found = GROUPED_ID.findall(text)
    assert found, text
    assert len(set(found)) == 1, text
    return parse_tracking_id(found[0])  # raises on a wrong check symbol


def test_a_hundred_messages_give_a_hundred_reports_and_a_hundred_replies(postgres_url, tmp_path):
    """GIVEN a hundred SMS "BARUT ..." from a hundred numbers on Gammu's phone
    WHEN gammu-smsd receives them, the central takes their inbox files and the send worker runs
    THEN a hundred SMS reports, and a hundred replies in Gammu's sent folder, one per number,
    each one SMS of at most 160 characters naming the valid Tracking ID of that number's report."""
    # A hook that records only; LoopSleep 0: the daemon sends a hundred at once.
    central, phone = _set_up(postgres_url, tmp_path, hook=False, loop_sleep=0)
    numbers = [f"+62812{n:07d}" for n in range(MESSAGES)]
    started = time.monotonic()
    with phone:
        for n, number in enumerate(numbers):
            phone.receive(number, f"BARUT Jalan berlubang di RT {n:03d}, mohon diperbaiki")
        runs = phone.wait_hook_runs(MESSAGES, timeout=60)
        received = time.monotonic()
        files = [str(phone.inbox / name) for run in runs for name in run.args]
        taken = central.run("sms", "gammu-receive", *files)
        assert taken.returncode == 0, taken.stderr
        assert taken.stdout.startswith(f"messages taken: {MESSAGES} (filed {MESSAGES}); not taken: 0"), taken.stdout
        filed = time.monotonic()
        assert central.send_once() == MESSAGES
        sent = phone.wait_sent(MESSAGES, timeout=60)
    print(f"{MESSAGES} SMS: received {received - started:.1f} s, taken {filed - received:.1f} s, "
          f"replied {time.monotonic() - filed:.1f} s")
    reports = _reports(central.url)
    assert len(reports) == MESSAGES
    assert sorted(s.number for s in sent) == numbers  # one reply per number
    for sms in sent:
        assert sms.parts == 1 and len(sms.text) <= 160 and sms_text.fits_one(sms.text), sms.text
        tid = _one_id(sms.text)
        n = numbers.index(sms.number)
        assert reports[tid]["description"] == f"Jalan berlubang di RT {n:03d}, mohon diperbaiki"
        assert reports[tid]["kind"] == "pengaduan" and reports[tid]["agency_code"] is None


def test_the_same_message_handed_over_five_times_files_one_report(postgres_url, tmp_path):
    """GIVEN one SMS taken through Gammu's RunOnReceive
    WHEN the same run is handed over four times more at once (Gammu's environment and the
    inbox file's name), and a technician runs the command on the inbox file itself
    THEN one report, one reply sent."""
    central, phone = _set_up(postgres_url, tmp_path)
    with phone:
        phone.receive("+6281377001122", "barut  Lampu jalan mati sejak seminggu")
        (run,) = phone.wait_hook_runs(1)
        assert run.status == 0, phone.hook_output()
        assert run.message_variables["SMS_1_TEXT"] == "barut  Lampu jalan mati sejak seminggu"
        said = phone.hook_output()  # what the daemon's log gets from the hook
        assert "taken" in said and "81377001122" not in said and "Lampu" not in said
        assert not GROUPED_ID.search(said)
        again = [subprocess.Popen(central.argv("sms", "gammu-receive", *run.args), cwd=phone.root, env=run.environ,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        for proc in again:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        by_hand = central.run("sms", "gammu-receive", str(phone.inbox / run.args[0]))
        assert by_hand.returncode == 0 and by_hand.stdout.startswith("messages taken: 1 (repeat 1)"), by_hand.stdout
        assert query(central.url, "SELECT count(*), min(outcome) FROM sms_messages") == [(1, "filed")]
        assert central.send_once() == 1
        (sent,) = phone.wait_sent(1)
    (tid,) = _reports(central.url)
    assert sent.number == "+6281377001122" and _one_id(sent.text) == tid
    assert _reports(central.url)[tid]["description"] == "Lampu jalan mati sejak seminggu"


def test_a_three_part_message_is_one_report_with_the_whole_text(postgres_url, tmp_path):
    """GIVEN a long SMS (UCS-2: it holds an é) that the phone receives in three parts
    WHEN Gammu hands it to the central
    THEN one report whose text is the whole message, one reply."""
    words = " ".join(f"kata{n:02d}" for n in range(17))
    text = f"BARUT Pelayanan di kantor kecamatan lambat, antrean sampai sore: {words} café"
    assert 2 * 67 < len(text) <= 3 * 67  # UCS-2: 67 characters in each part
    central, phone = _set_up(postgres_url, tmp_path)
    with phone:
        assert phone.receive_multipart("+6285211223344", text) == 3
        (run,) = phone.wait_hook_runs(1)
        assert run.status == 0, phone.hook_output()
        assert len(run.args) == 3 and run.message_variables["SMS_MESSAGES"] == "3"
        assert central.send_once() == 1
        (sent,) = phone.wait_sent(1)
    reports = _reports(central.url)
    assert list(reports) == [_one_id(sent.text)]
    assert next(iter(reports.values()))["description"] == text.removeprefix("BARUT ")


def test_a_message_the_central_could_not_take_waits_in_gammus_inbox(postgres_url, tmp_path):
    """GIVEN the central's database away when Gammu hands a message over (the hook fails)
    WHEN the technician, once it is back, runs the command on Gammu's inbox folder, twice
    THEN the message is filed once, from the file Gammu kept."""
    central, phone = _set_up(postgres_url, tmp_path)
    name = central.url.rsplit("/", 1)[1]
    _execute_autocommit(postgres_url, f"DROP DATABASE {name}")  # the server is up, the database away
    with phone:
        phone.receive("+6281900112233", "BARUT Sampah menumpuk di pasar")
        (run,) = phone.wait_hook_runs(1)
        assert run.status not in (0, None)
        # The daemon logs the failure once it has reaped the hook, which may be after the
        # hook's own status file is written (under load, it was).
        phone.wait_for_log("Process failed with exit status", timeout=30)
    _execute_autocommit(postgres_url, f"CREATE DATABASE {name}")
    for inbox_file in phone.inbox.iterdir():  # written a minute ago: the daemon is done with it
        os.utime(inbox_file, (time.time() - 60, time.time() - 60))
    first, again = (central.run("sms", "gammu-receive", str(phone.inbox)) for _ in range(2))
    assert first.returncode == 0 and first.stdout.startswith("messages taken: 1 (filed 1)"), first.stdout + first.stderr
    assert again.returncode == 0 and again.stdout.startswith("messages taken: 1 (repeat 1)"), again.stdout
    (body,) = _reports(central.url).values()
    assert body["description"] == "Sampah menumpuk di pasar"


def _kiosk_report(central: Central, base: str, **changes) -> str:
    token = central_cli(central.url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik").stdout.strip()
    body = report(**changes)
    assert send(base, token, body)[0]["outcome"] == "created"
    return body["tracking_id"]


def test_cek_of_a_kiosk_receipt_answers_its_status(postgres_url, tmp_path):
    """GIVEN a report filed at a kiosk (its receipt holds the Tracking ID)
    WHEN its holder sends "cek <the ID, with spaces>" from any phone
    THEN the reply names the report and its current step, in one SMS; no report is filed."""
    central, phone = _set_up(postgres_url, tmp_path)
    with running_central(central.url) as base:
        tid = _kiosk_report(central, base)
    spaced = format_tracking_id(tid).replace("-", " ").lower()
    with phone:
        phone.receive("+6287700001111", f"cek {spaced}")
        (run,) = phone.wait_hook_runs(1)
        assert run.status == 0, phone.hook_output()
        assert central.send_once() == 1
        (sent,) = phone.wait_sent(1)
    assert sent.number == "+6287700001111" and sent.parts == 1 and sms_text.fits_one(sent.text)
    assert sent.text.startswith(f"Laporan {format_tracking_id(tid)}: ") and "Berikutnya: verifikasi" in sent.text
    assert _reports(central.url) == {}
    assert query(central.url, "SELECT outcome, tracking_id FROM sms_messages") == [("status", tid)]


#: gammu-smsd-inject, held at its door while the gate file exists: it says it came in, then
#: waits for a reader of the FIFO that never comes (the test kills it with the worker).
HELD_INJECT = """#!/bin/sh
if [ -e "{gate}" ]; then
    echo "$$" > "{came}.tmp" && mv "{came}.tmp" "{came}"
    read -r _ < "{fifo}"
fi
exec gammu-smsd-inject "$@"
"""


def test_the_answer_notice_is_sent_once_after_the_worker_is_killed_mid_send(postgres_url, tmp_path):
    """GIVEN a kiosk report whose citizen gave a phone and agreed to an SMS, answered
    WHEN the send worker is killed (SIGKILL) while it hands the notice to gammu-smsd-inject,
    and a worker runs again once its claim has run out
    THEN the phone sends the notice once, and it is settled as sent."""
    gate, came, fifo = tmp_path / "gate", tmp_path / "came", tmp_path / "fifo"
    inject = tmp_path / "held-inject"
    inject.write_text(HELD_INJECT.format(gate=gate, came=came, fifo=fifo), encoding="utf-8")
    inject.chmod(0o755)
    os.mkfifo(fifo)
    gate.touch()
    central, phone = _set_up(postgres_url, tmp_path, hook=False, inject=str(inject))
    officer = central_cli(central.url, "officer", "add", "rina").stdout.strip()
    with running_central(central.url, env={"CENTRAL_SMS_FILE": central.sms,
                                           "CENTRAL_SECRET_KEY_FILE": central.key}) as base:
        tid = _kiosk_report(central, base, reporter_phone="0812-7700-2222", sms_consent=True, agency_code="DINKES")
        for action in ({"action": "verify"}, {"action": "forward", "agency": "DINKES"},
                       {"action": "answer", "reply": "Sudah ditangani."}):
            done = requests.post(f"{base}/api/v1/officer/reports/{tid}/actions", json=action, headers=auth(officer),
                                 timeout=30)
            assert done.status_code == 200, done.text
    assert query(central.url, "SELECT kind, state FROM sms_outbox") == [("answered", "pending")]
    with phone:
        worker = subprocess.Popen(central.argv("sms", "send", "--poll-interval", "0.2"), cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while not came.exists():  # the worker claimed the notice and is inside the inject
                assert worker.poll() is None and time.monotonic() < deadline, "the worker never reached inject"
                time.sleep(0.02)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)  # the worker and the held inject with it
            worker.wait(timeout=10)
        assert query(central.url, "SELECT state, attempts FROM sms_outbox") == [("sending", 1)]
        assert phone.waiting_to_send() == []
        # The claim runs out (SmsDesk.CLAIM_TTL: two minutes): moved to now instead of waiting.
        _execute(central.url, "UPDATE sms_outbox SET claim_expires = now() - interval '1 second'")
        gate.unlink()
        assert central.send_once() == 1
        (sent,) = phone.wait_sent(1)
    assert sent.number == "+6281277002222"
    assert sent.text.startswith(f"Laporan {format_tracking_id(tid)} sudah dijawab.") and sms_text.fits_one(sent.text)
    assert query(central.url, "SELECT state, attempts FROM sms_outbox") == [("sent", 2)]


#: What a reply may hold: GSM-7 with its extension table, characters beyond GSM-7 (UCS-2, one
#: beyond the BMP), a line break, and a text long enough for three parts (the core keeps its
#: replies to one SMS; the sender does not count on it).
TEXTS = ("Laporan 0767-J2C4J-1PGMJ: diterima {Rp 5.000 [€]}. Berikutnya: verifikasi.",
         "Terima kasih \U0001F64F \u201claporan\u201d Anda",
         "Baris satu\nBaris dua",
         "Panjang " + "abcdefghij" * 30)


def test_the_sender_hands_every_text_to_gammu_as_it_is(tmp_path):
    """GIVEN gammu-smsd running, WHEN the sender hands it texts of every kind through
    gammu-smsd-inject, THEN the daemon sends each to its number, text unchanged, in as many
    parts as its encoding needs."""
    phone = GammuPhone(tmp_path / "gammu", loop_sleep=0)
    sender = GammuSender("modem", {"config": str(phone.rc)})
    numbers = [f"+62813000000{n:02d}" for n in range(len(TEXTS))]
    with phone:
        for n, (number, text) in enumerate(zip(numbers, TEXTS), start=1):
            sender.send(Outgoing(n, "modem", number, text))
        sent = {s.number: s for s in phone.wait_sent(len(TEXTS))}
    assert {number: sent[number].text for number in numbers} == dict(zip(numbers, TEXTS))
    assert [sent[number].parts for number in numbers] == [1, 1, 1, 3]


def test_the_sender_tells_what_a_retry_may_fix(tmp_path):
    """A number no retry can send to fails for good; a broken outbox (a disk, a permission)
    is tried again, with a reason that names no number; a wrong setting stops the worker."""
    phone = GammuPhone(tmp_path / "gammu")  # not started: inject only writes its outbox
    sender = GammuSender("modem", {"config": str(phone.rc), "timeout": 20})
    with pytest.raises(NotSent) as refused:
        sender.send(Outgoing(1, "modem", "Telkomsel", "Halo"))
    assert refused.value.retry is False
    sender.send(Outgoing(2, "modem", "+6281300000001", "Halo"))
    sender.send(Outgoing(2, "modem", "+6281300000001", "Halo"))  # handed over again after a crash: once
    (waiting,) = phone.waiting_to_send()
    assert waiting.endswith(f"_+6281300000001_{GammuSender.note(Outgoing(2, 'modem', '+6281300000001', 'Halo'))}"
                            ".smsbackup")
    shutil.rmtree(phone.inbox)  # inject checks the daemon's folders: a broken setup
    with pytest.raises(NotSent) as broken:
        sender.send(Outgoing(3, "modem", "+6281300000001", "Halo"))
    assert broken.value.retry is True and "exited with" in broken.value.reason
    assert "81300000001" not in broken.value.reason
    shutil.rmtree(phone.outbox)
    with pytest.raises(NotSent) as no_outbox:
        sender.send(Outgoing(4, "modem", "+6281300000001", "Halo"))
    assert no_outbox.value.retry is True and "outbox" in no_outbox.value.reason
    with pytest.raises(ValueError, match="config"):
        GammuSender("modem", {"config": str(tmp_path / "no-such-rc")})
    with pytest.raises(ValueError, match="inject"):
        GammuSender("modem", {"config": str(phone.rc), "inject": "no-such-inject"})
