"""The HTTP SMS gateways on a real central over HTTP (issue 16): SMSSync and SMS Gateway for
Android, each with the payloads the apps really send (docs/SMS.md, the apps' sources and
documentation).

- SMSSync: a received SMS files a report and its reply comes with the next ``task=send``
  poll; the results API's ``task=sent`` approves it once, and it is never given again;
  a reply whose claim expired unasked is given again and still approved once; a gateway
  without the results API gives each reply to one poll. A wrong or missing
  secret: 403 and nothing stored. The same SMS handed over 5 times (with the app's
  ``message_id``, and without one) and 234 times quickly: one report.
- Android: a signed ``sms:received`` files a report; its reply goes out through
  ``python -m central sms send --once`` to a double of the app's send API with Basic auth,
  once. A wrong signature, an old or a future timestamp: 401 and nothing stored. The
  app's retries of one event (the same event id, signed again): one report.
- The sender against the double: a lost answer or a 5xx after the app kept the message is
  a sent SMS (never two), 429 and 5xx are tried again, a refused number fails for good
  with the number masked in the reason.
- No sender number, message text, Tracking ID or secret in the central's log.

The central runs with the whole of its log kept (``running_central`` keeps its last 50
lines, for a failure's report): the last test reads every line."""
from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Iterator

import pytest
import requests

from central import sms_text
from central.sms import NotSent, Outgoing
from central.sms_android import AndroidGateway, signature
from tests.support import servers
from tests.support.android_gateway_double import PASSWORD, USERNAME, AndroidGatewayDouble
from tests.support.central import central_cli, query, running_central
from tests.support.servers import ROOT

SMSSYNC_SECRET, OLD_SMSSYNC_SECRET = "rahasia-barito-utara-2026", "kunci-hp-lama-muara-teweh"
SIGNING_KEY = "sWk3-Qm9Lr8Tz2Vb"


@dataclasses.dataclass
class World:
    base: str
    url: str
    sms_file: str
    log: list[str]
    double: AndroidGatewayDouble
    numbers: list[str] = dataclasses.field(default_factory=list)  # every sender number used
    texts: list[str] = dataclasses.field(default_factory=list)  # every text sent in

    def number(self) -> str:
        """A sender number of its own (each number has its own rate limit)."""
        number = f"+62812{len(self.numbers) + 1:04d}{os.getpid() % 10000:04d}"
        self.numbers.append(number)
        return number

    def text(self, words: str) -> str:
        text = f"BARUT {words} {uuid.uuid4().hex[:6]}"
        self.texts.append(text)
        return text

    def messages(self, gateway: str) -> list[tuple]:
        return query(self.url, "SELECT outcome, tracking_id FROM sms_messages WHERE gateway = :g ORDER BY id",
                     g=gateway)

    def sms_reports(self) -> int:
        return query(self.url, "SELECT COUNT(*) FROM reports WHERE channel = 'sms'")[0][0]



def _secret(tmp, name: str, value: str) -> str:
    path = tmp / name
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)
    return str(path)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("sms-http")
    url = f"sqlite:///{tmp / 'central.sqlite3'}"
    with AndroidGatewayDouble(hold_s=3.0).running() as double:
        sms_file = tmp / "sms.toml"
        sms_file.write_text(f"""
notify_gateway = "hp-android"

[gateways.hp-smssync]
type = "smssync"
secret_file = "{_secret(tmp, 'smssync.secret', SMSSYNC_SECRET)}"
results_api = true

[gateways.hp-lama]
type = "smssync"
secret_file = "{_secret(tmp, 'lama.secret', OLD_SMSSYNC_SECRET)}"

[gateways.hp-android]
type = "android"
signing_key_file = "{_secret(tmp, 'android.key', SIGNING_KEY)}"
url = "{double.url}"
username = "{USERNAME}"
password_file = "{_secret(tmp, 'android.password', PASSWORD)}"
read_timeout = 1
""", encoding="utf-8")
        with servers.central_keeping_its_log(url, {"CENTRAL_SMS_FILE": str(sms_file)}) as (base, log):
            yield World(base, url, str(sms_file), log, double)


# -- SMSSync ---------------------------------------------------------------------------------------
def _smssync_sms(world: World, number: str, text: str, *, message_id: str | None = "", secret=SMSSYNC_SECRET,
                 gateway: str = "hp-smssync") -> requests.Response:
    """The app's POST of one received SMS: its fields, form-encoded, as ``MessageHttpClient`` sends them."""
    fields = {"secret": secret, "from": number, "message": text, "sent_timestamp": "1795404600000",
              "sent_to": "+6281100000001", "message_id": str(uuid.uuid4()) if message_id == "" else message_id,
              "device_id": "hp-dprd-1"}
    fields = {k: v for k, v in fields.items() if v is not None}
    return requests.post(f"{world.base}/sms/smssync/{gateway}", data=fields, timeout=30)


def _poll(world: World, gateway: str = "hp-smssync", secret: str = SMSSYNC_SECRET) -> requests.Response:
    return requests.get(f"{world.base}/sms/smssync/{gateway}", params={"task": "send", "secret": secret}, timeout=30)


def _queued(world: World, *uuids: str, gateway: str = "hp-smssync") -> requests.Response:
    """The results API's ``POST ?task=sent``: JSON, and no secret (the app sends none)."""
    return requests.post(f"{world.base}/sms/smssync/{gateway}?task=sent", json={"queued_messages": list(uuids)},
                         timeout=30)


def test_smssync_files_a_report_and_its_reply_comes_with_the_next_poll_once(world):
    """GIVEN an SMSSync phone with the Message Results API on
    WHEN it posts a received "BARUT ..." SMS, polls, and asks to send what it got
    THEN one report is filed, the poll gives the reply with its Tracking ID to the sender,
    task=sent approves it once, and no later poll gives it again."""
    number = world.number()
    answer = _smssync_sms(world, number, world.text("Jalan di Desa Lahei rusak berat"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"payload": {"success": True, "error": None}}
    [(outcome, tracking_id)] = world.messages("hp-smssync")
    assert outcome == "filed"
    assert query(world.url, "SELECT channel, kind, category_code FROM reports WHERE tracking_id = :t",
                 t=tracking_id) == [("sms", "pengaduan", "LAINNYA")]

    poll = _poll(world)
    assert poll.status_code == 200, poll.text
    payload = poll.json()["payload"]
    assert (payload["task"], payload["success"], payload["secret"]) == ("send", True, SMSSYNC_SECRET)
    [reply] = payload["messages"]
    assert reply["to"] == number and sms_text.grouped(tracking_id) in reply["message"]
    assert sms_text.fits_one(reply["message"])

    forged = reply["uuid"].rsplit("-", 1)[0] + "-" + "0" * 20
    assert _queued(world, reply["uuid"], forged, "4ee5667d-6a1d-860c-54d4").json() == \
        {"message_uuids": [reply["uuid"]]}
    assert _queued(world, reply["uuid"]).json() == {"message_uuids": []}  # approved once: sent once
    assert _poll(world).json()["payload"]["messages"] == []
    assert query(world.url, "SELECT state FROM sms_outbox WHERE gateway = 'hp-smssync'") == [("sent",)]

    results = requests.get(f"{world.base}/sms/smssync/hp-smssync", timeout=30,
                           params={"task": "result", "secret": SMSSYNC_SECRET})
    assert results.json() == {"message_uuids": []}  # we ask for no results
    posted = requests.post(f"{world.base}/sms/smssync/hp-smssync?task=result&secret={SMSSYNC_SECRET}",
                           json={"message_result": []}, timeout=30)
    assert posted.json() == {"payload": {"success": True, "error": None}}


def _expire_claims(world: World, gateway: str) -> None:
    """What two minutes without the app's ``task=sent`` do: the replies' claims expire."""
    from sqlalchemy import create_engine, update

    from central.models import SmsOutgoing

    engine = create_engine(world.url)
    try:
        with engine.begin() as conn:
            conn.execute(update(SmsOutgoing.__table__).where(SmsOutgoing.gateway == gateway,
                                                             SmsOutgoing.state == "sending")
                         .values(claim_expires=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    finally:
        engine.dispose()


def test_a_reply_given_and_never_asked_about_is_given_again_and_still_sent_once(world):
    """GIVEN a reply a poll gave, and no task=sent for it before its claim expired
    WHEN the next poll gives it again and the app asks task=sent for both copies
    THEN it is the same uuid, approved once: the citizen gets one SMS."""
    number = world.number()
    assert _smssync_sms(world, number, world.text("Saluran air tersumbat")).status_code == 200
    [first] = _poll(world).json()["payload"]["messages"]
    assert _poll(world).json()["payload"]["messages"] == []  # claimed: not given twice at once
    _expire_claims(world, "hp-smssync")
    [again] = _poll(world).json()["payload"]["messages"]
    assert (again["uuid"], again["to"]) == (first["uuid"], number)
    assert _queued(world, first["uuid"]).json() == {"message_uuids": [first["uuid"]]}
    assert _queued(world, again["uuid"]).json() == {"message_uuids": []}
    assert _poll(world).json()["payload"]["messages"] == []


def test_smssync_without_the_results_api_gives_each_reply_to_one_poll(world):
    number = world.number()
    assert _smssync_sms(world, number, world.text("Lampu jalan mati"), secret=OLD_SMSSYNC_SECRET,
                        gateway="hp-lama").status_code == 200
    [reply] = _poll(world, "hp-lama", OLD_SMSSYNC_SECRET).json()["payload"]["messages"]
    assert reply["to"] == number
    assert _poll(world, "hp-lama", OLD_SMSSYNC_SECRET).json()["payload"]["messages"] == []
    # The app's own results API on while ours is off: what a poll gave is approved.
    assert _queued(world, reply["uuid"], gateway="hp-lama").json() == {"message_uuids": [reply["uuid"]]}


def test_a_wrong_or_missing_smssync_secret_is_refused_and_nothing_is_stored(world):
    before = len(world.messages("hp-smssync"))
    for secret in ("rahasia-barito-utara-2025", "", None):
        refused = _smssync_sms(world, world.number(), world.text("Sampah menumpuk"), secret=secret)
        assert refused.status_code == 403, refused.text
        assert refused.json()["payload"]["success"] is False and refused.json()["payload"]["error"]
    assert len(world.messages("hp-smssync")) == before

    number = world.number()
    assert _smssync_sms(world, number, world.text("Air PDAM keruh"), secret=OLD_SMSSYNC_SECRET,
                        gateway="hp-lama").status_code == 200
    refused = _poll(world, "hp-lama", SMSSYNC_SECRET)  # another gateway's secret
    assert refused.status_code == 403 and "messages" not in refused.json()["payload"]
    [reply] = _poll(world, "hp-lama", OLD_SMSSYNC_SECRET).json()["payload"]["messages"]
    assert reply["to"] == number  # the refused poll claimed nothing


def test_the_same_sms_handed_over_again_and_again_files_one_report(world):
    """GIVEN SMSSync's resends of one SMS (it keeps a message "pending" until it hears success)
    WHEN the same SMS comes 5 times with its message_id, 5 times without one, and 234 times
    quickly from several connections at once
    THEN each files one report, and every resend is answered with success."""
    before = world.sms_reports()
    number, text, message_id = world.number(), world.text("Jembatan gantung putus"), str(uuid.uuid4())
    for _ in range(5):
        assert _smssync_sms(world, number, text, message_id=message_id).json()["payload"]["success"] is True
    assert world.sms_reports() == before + 1

    number, text = world.number(), world.text("Puskesmas tutup siang")
    for _ in range(5):
        assert _smssync_sms(world, number, text, message_id=None).json()["payload"]["success"] is True
    assert world.sms_reports() == before + 2

    number, text, message_id = world.number(), world.text("Banjir di Jalan Yetro Sinseng"), str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _smssync_sms(world, number, text, message_id=message_id), range(234)))
    assert collections.Counter(a.status_code for a in answers) == {200: 234}
    assert all(a.json()["payload"]["success"] is True for a in answers)
    assert world.sms_reports() == before + 3
    filed = [row for row in world.messages("hp-smssync") if row[0] == "filed"]
    assert len({tracking_id for _, tracking_id in filed}) == len(filed)


def test_an_unknown_gateway_or_another_type_is_not_found(world):
    assert _smssync_sms(world, world.number(), "BARUT x", gateway="hp-android").status_code == 404
    assert _poll(world, "tidak-ada").status_code == 404
    assert requests.post(f"{world.base}/sms/android/hp-smssync", json={}, timeout=30).status_code == 404


# -- SMS Gateway for Android -----------------------------------------------------------------------
def _event(number: str, text: str, *, event_id: str | None = None, event: str = "sms:received",
           message_id: str = "a1b2c3") -> bytes:
    """The app's webhook body (docs/features/webhooks.md), as bytes on the wire."""
    return json.dumps({
        "deviceId": "ffffffffceb0b1db0000018e937c815b", "event": event, "id": event_id or uuid.uuid4().hex[:21],
        "payload": {"messageId": message_id, "message": text, "phoneNumber": number, "sender": number,
                    "recipient": "+6281100000002", "simNumber": 1, "receivedAt": "2026-11-23T10:30:00.000+07:00"},
        "webhookId": "LreFUt-Z3sSq0JufY9uWB"}).encode("utf-8")


def _webhook(world: World, body: bytes, *, key: str = SIGNING_KEY, at: float | None = None,
             sign: bool = True) -> requests.Response:
    timestamp = str(int(time.time() if at is None else at))
    headers = {"Content-Type": "application/json", "X-Timestamp": timestamp}
    if sign:
        headers["X-Signature"] = signature(key, body, timestamp)
    return requests.post(f"{world.base}/sms/android/hp-android", data=body, headers=headers, timeout=30)


def _send_once(world: World) -> subprocess.CompletedProcess:
    return central_cli(world.url, "--sms-file", world.sms_file, "sms", "send", "--once")


def test_an_android_webhook_files_a_report_and_the_worker_sends_its_reply_once(world):
    """GIVEN the app's signed sms:received webhook
    WHEN the central takes it and the send worker runs, twice
    THEN one report is filed, its reply reaches the app's send API once, with Basic auth,
    to the sender, with the Tracking ID."""
    number = world.number()
    answer = _webhook(world, _event(number, world.text("Pohon tumbang di Jalan Ahmad Yani")))
    assert answer.status_code == 200, answer.text
    [(outcome, tracking_id)] = world.messages("hp-android")
    assert outcome == "filed"

    sent = _send_once(world)
    assert sent.returncode == 0, sent.stderr
    [reply] = world.double.texts_to(number)
    assert sms_text.grouped(tracking_id) in reply
    assert world.double.unauthorized == 0
    assert _send_once(world).returncode == 0
    assert world.double.texts_to(number) == [reply]
    assert query(world.url, "SELECT state FROM sms_outbox WHERE gateway = 'hp-android'") == [("sent",)]


@pytest.mark.parametrize("case", ["wrong key", "changed body", "no signature", "old", "future"])
def test_a_webhook_badly_signed_or_out_of_time_is_refused_and_nothing_is_stored(world, case):
    before = len(world.messages("hp-android"))
    body = _event(world.number(), world.text("Listrik padam"))
    now = time.time()
    if case == "wrong key":
        answer = _webhook(world, body, key="another-signing-key")
    elif case == "changed body":
        timestamp = str(int(now))
        signed = {"X-Timestamp": timestamp, "X-Signature": signature(SIGNING_KEY, body, timestamp)}
        answer = requests.post(f"{world.base}/sms/android/hp-android", data=body.replace(b"Listrik", b"Lustrik"),
                               headers=signed, timeout=30)
    elif case == "no signature":
        answer = _webhook(world, body, sign=False)
    else:
        answer = _webhook(world, body, at=now - 301 if case == "old" else now + 301)
    assert answer.status_code == 401, answer.text
    assert len(world.messages("hp-android")) == before


def test_the_apps_retries_of_one_event_file_one_report_and_other_events_are_left(world):
    """GIVEN the app retrying one event until it hears a 2xx (the same event id, a new timestamp)
    THEN one report; another event with the same messageId (a hash of the content, not
    unique) is another SMS; sms:sent and system:ping are answered 200 and left."""
    before = world.sms_reports()
    number, text = world.number(), world.text("Jalan berlubang di Trinsing")
    body = _event(number, text, event_id="Ey6ECgOkVVFjz3CL48B8C")
    for n in range(5):
        answer = _webhook(world, body, at=time.time() - 10 * n)
        assert answer.status_code == 200, answer.text
    assert world.sms_reports() == before + 1
    assert _webhook(world, _event(number, text, event_id="Fz7FDhPlWWGk04DM59C9D")).status_code == 200
    assert world.sms_reports() == before + 2

    stored = len(world.messages("hp-android"))
    for other in ("sms:sent", "sms:delivered", "system:ping"):
        answer = _webhook(world, _event(number, "x", event=other))
        assert (answer.status_code, answer.json()) == (200, {"taken": 0})
    assert len(world.messages("hp-android")) == stored


# -- the sender against the app's send API ---------------------------------------------------------
@pytest.fixture
def sender(tmp_path):
    double = AndroidGatewayDouble(hold_s=2.0)
    with double.running():
        settings = {"signing_key_file": _secret(tmp_path, "key", SIGNING_KEY), "url": double.url,
                    "username": USERNAME, "password_file": _secret(tmp_path, "password", PASSWORD),
                    "connect_timeout": 2, "read_timeout": 0.5}
        yield AndroidGateway("hp-android", settings), double, settings


def test_the_sender_hands_a_reply_over_once_whatever_the_answer_was(sender):
    gateway, double, _ = sender
    reply = Outgoing(1, "hp-android", "+6281299990001", "Aduan Anda diterima.")
    gateway.send(reply)
    assert [m.phone_numbers for m in double.messages] == [("+6281299990001",)]
    assert double.messages[0].body == {"id": gateway.message_id(reply), "message": reply.text,
                                       "phoneNumbers": [reply.to]}
    gateway.send(reply)  # sent again (its claim expired): the app knows the id (409)
    for n, fault in enumerate(("500_kept", "timeout"), start=2):
        double.inject(fault)
        gateway.send(Outgoing(n, "hp-android", f"+628129999000{n}", "Aduan Anda diterima."))
    assert len(double.messages) == 3  # kept once each: the lost answers were looked up


@pytest.mark.parametrize("fault, retry", [("500", True), ("429", True), ("401", True), ("400", False)])
def test_the_sender_says_whether_a_later_try_may_work(sender, fault, retry):
    gateway, double, _ = sender
    double.inject(fault)
    with pytest.raises(NotSent) as raised:
        gateway.send(Outgoing(9, "hp-android", "+6281299990009", "Aduan Anda diterima."))
    assert raised.value.retry is retry
    assert "81299990009" not in raised.value.reason and fault in raised.value.reason
    assert double.messages == []


def test_the_sender_tries_again_when_the_app_is_away_or_the_password_wrong(sender, tmp_path):
    gateway, double, settings = sender
    wrong = AndroidGateway("hp-android", {**settings, "password_file": _secret(tmp_path, "old", "kata-sandi-lama")})
    with pytest.raises(NotSent) as raised:
        wrong.send(Outgoing(3, "hp-android", "+6281299990003", "x"))
    assert raised.value.retry and "401" in raised.value.reason and double.unauthorized >= 1
    away = AndroidGateway("hp-android", {**settings, "url": f"http://127.0.0.1:{servers.free_port()}"})
    with pytest.raises(NotSent) as raised:
        away.send(Outgoing(4, "hp-android", "+6281299990004", "x"))
    assert raised.value.retry


# -- without an SMS file, and what the log never shows ---------------------------------------------
def test_without_an_sms_file_every_sms_path_is_not_found(tmp_path):
    with running_central(f"sqlite:///{tmp_path / 'central.sqlite3'}", env={"CENTRAL_SMS_FILE": ""}) as base:
        assert requests.post(f"{base}/sms/smssync/hp-smssync", data={"secret": SMSSYNC_SECRET}, timeout=30) \
            .status_code == 404
        assert requests.get(f"{base}/sms/smssync/hp-smssync", params={"task": "send"}, timeout=30).status_code == 404
        assert requests.post(f"{base}/sms/android/hp-android", data=b"{}", timeout=30).status_code == 404


def test_the_log_never_shows_a_number_a_text_a_tracking_id_or_a_secret(world):
    assert requests.get(f"{world.base}/healthz", timeout=30).status_code == 200
    deadline = time.monotonic() + 10
    while not any('"GET /healthz' in line for line in world.log) and time.monotonic() < deadline:
        time.sleep(0.05)  # the last access lines on their way through the server's pipe
    world.log.wait_for("/sms/smssync/hp-smssync?task=send&secret=[hidden]")  # polls are logged, their secret not
    log = "".join(world.log)
    assert "/sms/smssync/hp-smssync?task=send&secret=[hidden]" in log  # polls are logged, their secret not
    tracking_ids = [t for (t,) in query(world.url, "SELECT tracking_id FROM reports WHERE channel = 'sms'")]
    assert len(world.numbers) > 10 and len(tracking_ids) >= 8
    for secret in (SMSSYNC_SECRET, OLD_SMSSYNC_SECRET, SIGNING_KEY, PASSWORD):
        assert secret not in log
    for number in world.numbers:
        assert number[3:] not in log, "a sender's number is in the central's log"
    for text in world.texts:
        assert text.split()[-1] not in log, "a message's text is in the central's log"
    for tracking_id in tracking_ids:
        assert tracking_id not in log and sms_text.grouped(tracking_id) not in log
