"""The HTTP SMS gateways' protocols without HTTP (issue 16): SMS Gateway for Android's
webhook signature and events, SMSSync's fields, timestamps, uuids and answers, each read
from the payloads the apps really send (docs/SMS.md, "SMSSync and SMS Gateway for Android")."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest

from central.sms import IncomingSms, Outgoing, masked
from central.sms_android import (AndroidGateway, BadEvent, MAX_SKEW_S, read_event, received_messages,
                                 signature, signature_problem)
from central.sms_smssync import SmsSyncGateway, approved, failure, received_at, success

KEY = "Kb3xQ9vTz2LmWp8r"
NOW = dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc)
#: The app's documented sms:received event (docs/features/webhooks.md), as bytes on the wire.
RECEIVED = json.dumps({
    "deviceId": "ffffffffceb0b1db0000018e937c815b", "event": "sms:received", "id": "Ey6ECgOkVVFjz3CL48B8C",
    "payload": {"messageId": "abc123", "message": "BARUT Jalan di Lahei rusak", "phoneNumber": "6505551212",
                "simNumber": 1, "receivedAt": "2024-06-22T15:46:11.000+07:00"},
    "webhookId": "LreFUt-Z3sSq0JufY9uWB"}).encode()


def _docs_signature(secret_key: str, payload: str, timestamp: str) -> str:
    """The verification the app's documentation gives in Python, word for word in effect."""
    return hmac.new(secret_key.encode(), (payload + timestamp).encode(), hashlib.sha256).hexdigest()


# -- SMS Gateway for Android ---------------------------------------------------------------------
def test_the_signature_is_the_documented_hmac_of_body_and_timestamp():
    assert signature(KEY, RECEIVED, "1782185171") == _docs_signature(KEY, RECEIVED.decode(), "1782185171")


def test_a_signed_recent_event_passes_and_anything_else_is_refused():
    now = 1_782_185_171.0
    good = signature(KEY, RECEIVED, "1782185171")
    assert signature_problem(KEY, RECEIVED, "1782185171", good, now=now) is None
    assert signature_problem(KEY, RECEIVED, "1782185171", good.upper(), now=now + MAX_SKEW_S) is None
    assert "does not match" in signature_problem("another-key-entirely", RECEIVED, "1782185171", good, now=now)
    assert "does not match" in signature_problem(KEY, RECEIVED + b" ", "1782185171", good, now=now)
    assert "does not match" in signature_problem(KEY, RECEIVED, "1782185171", "", now=now)
    assert "does not match" in signature_problem(KEY, RECEIVED, "1782185171", "é" * 64, now=now)
    assert "Unix seconds" in signature_problem(KEY, RECEIVED, None, good, now=now)
    assert "Unix seconds" in signature_problem(KEY, RECEIVED, "1782185171.5", good, now=now)
    assert "behind" in signature_problem(KEY, RECEIVED, "1782185171", good, now=now + MAX_SKEW_S + 1)
    assert "ahead" in signature_problem(KEY, RECEIVED, "1782185171", good, now=now - MAX_SKEW_S - 1)


def test_an_sms_received_event_is_one_message_with_the_event_id_as_its_id():
    [sms] = received_messages("hp", read_event(RECEIVED), now=NOW)
    assert sms == IncomingSms(gateway="hp", message_id="Ey6ECgOkVVFjz3CL48B8C", sender="6505551212",
                              text="BARUT Jalan di Lahei rusak",
                              received_at=dt.datetime(2024, 6, 22, 8, 46, 11, tzinfo=dt.timezone.utc))


def test_sender_is_preferred_to_the_deprecated_phone_number_and_a_bad_time_is_now():
    event = json.loads(RECEIVED)
    event["payload"].update(sender="+6281234567890", recipient=None, receivedAt="kemarin")
    [sms] = received_messages("hp", read_event(json.dumps(event).encode()), now=NOW)
    assert (sms.sender, sms.received_at) == ("+6281234567890", NOW)
    event["payload"]["receivedAt"] = "2026-11-25T10:00:00+07:00"  # two days ahead: the phone's clock
    assert received_messages("hp", read_event(json.dumps(event).encode()), now=NOW)[0].received_at == NOW


def test_a_batch_gives_each_message_an_id_of_its_own_and_other_events_give_none():
    one = json.loads(RECEIVED)["payload"]
    batch = {"event": "sms:batch:received", "id": "EvB1", "payload": {"messages": [one, {**one, "message": "CEK"}]}}
    messages = received_messages("hp", read_event(json.dumps(batch).encode()), now=NOW)
    assert [(m.message_id, m.text) for m in messages] == [("EvB1/0", one["message"]), ("EvB1/1", "CEK")]
    for other in ("sms:sent", "sms:delivered", "sms:failed", "system:ping", "sms:data-received"):
        event = {"event": other, "id": "E1", "payload": {"messageId": "x", "phoneNumber": "+62811"}}
        assert received_messages("hp", read_event(json.dumps(event).encode()), now=NOW) == []


@pytest.mark.parametrize("body, problem", [
    (b"\xff", "not JSON"), (b"[]", "not a JSON object"), (b'{"id": "E", "payload": {}}', "no event"),
    (b'{"event": "sms:received", "payload": {}}', "no event id"),
    (b'{"event": "sms:received", "id": "E", "payload": []}', "no payload"),
])
def test_an_unreadable_event_says_why(body, problem):
    with pytest.raises(BadEvent, match=problem):
        read_event(body)


def test_a_received_event_without_sender_or_text_is_refused():
    event = json.loads(RECEIVED)
    del event["payload"]["phoneNumber"]
    with pytest.raises(BadEvent, match="sender"):
        received_messages("hp", read_event(json.dumps(event).encode()), now=NOW)


def _files(tmp_path, **secrets):
    paths = {}
    for key, value in secrets.items():
        path = tmp_path / key
        path.write_text(value + "\n", encoding="utf-8")
        path.chmod(0o600)
        paths[key] = str(path)
    return paths


def test_android_settings_are_checked_and_the_message_id_is_stable_and_short(tmp_path):
    files = _files(tmp_path, signing_key_file=KEY, password_file="p4ssw0rd-of-the-app")
    gateway = AndroidGateway("hp", {"url": "http://192.168.1.20:8080/", "username": "sms", **files})
    assert gateway.settings.url == "http://192.168.1.20:8080"
    assert "p4ssw0rd" not in repr(gateway.settings) and KEY not in repr(gateway.settings)
    reply = Outgoing(12345678, "hp", "+6281234567890", "Laporan diterima")
    assert gateway.message_id(reply) == gateway.message_id(reply)
    assert len(gateway.message_id(reply)) <= 36 and gateway.message_id(reply).startswith("lapor-12345678-")
    assert gateway.message_id(reply) != gateway.message_id(Outgoing(12345678, "hp", "+6281234567891", reply.text))
    for settings, problem in [({"url": "ftp://x"}, "url"), ({"url": "http://x", "colour": "red"}, "unknown key"),
                              ({"url": "http://x", "username": ""}, "username"),
                              ({"url": "http://x", "read_timeout": 0}, "read_timeout"),
                              ({"url": "http://x", "password_file": str(tmp_path / "none")}, "password_file")]:
        with pytest.raises(ValueError, match=problem):
            AndroidGateway("hp", {"username": "sms", **files, **settings})


def test_a_reason_never_quotes_a_number():
    assert masked("Invalid phone number: +62 812-3456-7890 (not E.164)") == \
        "Invalid phone number: [number] (not E.164)"
    assert masked("phoneNumbers: 081234567890 refused") == "phoneNumbers: [number] refused"


# -- SMSSync ---------------------------------------------------------------------------------------
def _smssync(tmp_path, **settings) -> SmsSyncGateway:
    return SmsSyncGateway("hp-smssync", {**_files(tmp_path, secret_file="rahasia-barito-utara"), **settings})


def test_sent_timestamp_is_milliseconds_or_seconds_and_nonsense_is_now():
    assert received_at("1795404600000", NOW) == dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc)
    assert received_at("1795404600", NOW) == dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc)
    for nonsense in (None, "", "kemarin", "-5", "12", "1795404600000000", "1895404600000"):
        assert received_at(nonsense, NOW) == NOW, nonsense


def test_an_smssync_post_is_an_incoming_sms(tmp_path):
    gateway = _smssync(tmp_path)
    fields = {"from": "+6281234567890", "message": "BARUT Jembatan putus", "message_id": "8c7b3e2a-fe4d-4a8c",
              "sent_to": "+6281100000000", "secret": "rahasia-barito-utara", "sent_timestamp": "1795404600000",
              "device_id": "1"}
    assert gateway.secret_matches(fields["secret"]) and not gateway.secret_matches("rahasia") \
        and not gateway.secret_matches(None)
    assert gateway.incoming(fields, now=NOW) == IncomingSms(
        gateway="hp-smssync", message_id="8c7b3e2a-fe4d-4a8c", sender="+6281234567890", text="BARUT Jembatan putus",
        received_at=NOW)


def test_an_smssync_reply_uuid_names_its_row_and_cannot_be_made_up(tmp_path):
    gateway = _smssync(tmp_path)
    uuid = gateway.uuid(42)
    assert gateway.outgoing_id(uuid) == 42 and gateway.uuid(42) == uuid
    assert gateway.outgoing_id(uuid.replace("lapor-42-", "lapor-43-")) is None
    assert gateway.outgoing_id(uuid[:-1] + ("0" if uuid[-1] != "0" else "1")) is None
    assert gateway.outgoing_id(None) is None and gateway.outgoing_id("42") is None
    other = SmsSyncGateway("hp-lain", {"secret_file": str(tmp_path / "secret_file")})
    assert other.outgoing_id(uuid) is None  # another gateway's reply


def test_smssync_answers_have_the_apps_shapes(tmp_path):
    gateway = _smssync(tmp_path)
    answer = gateway.task_send([Outgoing(7, "hp-smssync", "+6281234567890", "Laporan diterima")])
    assert answer == {"payload": {"task": "send", "success": True, "secret": "rahasia-barito-utara", "messages": [
        {"to": "+6281234567890", "message": "Laporan diterima", "uuid": gateway.uuid(7)}]}}
    assert success() == {"payload": {"success": True, "error": None}}
    assert failure("secret") == {"payload": {"success": False, "error": "secret"}}
    assert approved(["a"]) == {"message_uuids": ["a"]}


@pytest.mark.parametrize("settings, problem", [
    ({"results_api": "yes"}, "results_api"), ({"batch": 0}, "batch"), ({"colour": 1}, "unknown key"),
])
def test_smssync_settings_are_checked(tmp_path, settings, problem):
    with pytest.raises(ValueError, match=problem):
        _smssync(tmp_path, **settings)


def test_a_short_smssync_secret_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 12"):
        SmsSyncGateway("hp", _files(tmp_path, secret_file="pendek"))
