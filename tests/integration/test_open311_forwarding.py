"""The Open311 destination (``central.destinations.open311_client``, issue 15) against a
second real central's GeoReport v2 endpoint, on its own SQLite database, in JSON and XML:
delivery with the target's ``service_request_id``, idempotency on our Tracking ID
(``attribute[client_report_id]``), privacy (an anonymous report's identity never reaches
the target; a confidential one is not listed there), each outcome of the network and the
target (refused connection, a wrong key, an unknown service, a lost answer through our
fault proxy, a 500 after storing, a captive portal, a 429), and the target's reply coming
back as an event. A foreign server of our own (``tests.support.open311_double``) stands
for servers that are not ours: a token-only 201 answer, a definition without our id or
``confidential`` attribute.

The adapter is pure HTTP: the tests hand it :class:`central.destinations.Outgoing` objects
built from a kiosk's report body, as the forwarding outbox does."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path

import pytest
import requests

from central.destinations import TYPES, Delivered, LookUpUnsupported, Outgoing, Refused, TryLater, Unknown
from central.destinations.open311_client import DEFAULT_ATTRIBUTE_ID, Open311Destination, description_of
from tests.support import servers
from tests.support.central import central_cli, query, report, running_central, send
from tests.support.fault_proxy import FaultProxy
from tests.support.open311_double import Open311Double

FORMATS = ("json", "xml")
NAME, PHONE, EMAIL = "Siti Aminah Rahasia", "081234567890", "siti@contoh.id"
REPLY = "Loket tambahan dibuka mulai Senin."


@dataclasses.dataclass
class Target:
    base: str
    url: str  # the target's database
    key_file: Path
    wrong_key_file: Path

    def settings(self, fmt: str, **changes) -> dict:
        return {"type": "open311", "url": f"{self.base}/open311/v2/", "api_key_file": str(self.key_file),
                "format": fmt, "connect_timeout": 5, "read_timeout": 30, **changes}

    def get(self, path: str, **params) -> requests.Response:
        """A GET from an address of the test's own (the central trusts 127.0.0.1 as a proxy),
        so the target's public rate limit is left to the adapter."""
        return requests.get(f"{self.base}/open311/v2/{path}", params=params, timeout=30,
                            headers={"X-Forwarded-For": "198.51.100.7"})

    def held(self, public_id: str) -> tuple[str, dict, bool, bool]:
        """(Tracking ID, body, anonymous, confidential) of the target's report with that public id."""
        [(tid, body, anonymous, confidential)] = query(
            self.url, "SELECT tracking_id, body, anonymous, confidential FROM reports WHERE open311_id = :p",
            p=public_id)
        return tid, json.loads(body), bool(anonymous), bool(confidential)

    def filed_under(self, our_tid: str) -> list[str]:
        """The public ids of the target's reports filed under our Tracking ID as the client's ID."""
        return [row[0] for row in query(
            self.url, "SELECT r.open311_id FROM open311_requests o JOIN reports r ON r.tracking_id = o.tracking_id "
                      "WHERE o.client_report_id = :c", c=our_tid)]


def _key_file(folder: Path, name: str, key: str) -> Path:
    path = folder / name
    path.write_text(key + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Target:
    folder = tmp_path_factory.mktemp("open311-target")
    url = f"sqlite:///{folder / 'target.sqlite3'}"
    with running_central(url, env={"CENTRAL_TRUSTED_PROXIES": "127.0.0.1"}) as base:
        added = central_cli(url, "open311-client", "add", "kabupaten-lain")
        assert added.returncode == 0, added.stderr
        yield Target(base, url, _key_file(folder, "key", added.stdout.strip()),
                     _key_file(folder, "wrong-key", "bukan-kunci-yang-benar"))


def outgoing(**changes) -> Outgoing:
    """A report as the outbox hands it over: a kiosk's body (identity included)."""
    body = report(**{"reporter_name": NAME, "reporter_phone": PHONE, "location_text": "Jl. Yetro Sinseng No. 1",
                     **changes})
    body["reporter_email"] = EMAIL
    return Outgoing(tracking_id=body["tracking_id"], body=body, kind=body["kind"], category_code=body["category_code"],
                    agency_code=body["agency_code"], kecamatan_code=body["kecamatan_code"],
                    confidential=body["confidential"], anonymous=body["anonymous"], channel="kiosk",
                    received_at=dt.datetime.now(dt.timezone.utc))


@pytest.fixture(scope="module", params=FORMATS)
def fmt(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def adapter(target, fmt) -> Open311Destination:
    return TYPES["open311"]("kota-open311", target.settings(fmt))


# -- delivery and idempotency --------------------------------------------------------------------
def test_a_report_is_delivered_with_the_targets_id_and_once_however_often_sent(target, adapter, fmt):
    """GIVEN a kiosk's report WHEN it is sent, and sent again (its answer lost, say) THEN both
    answers are Delivered with the same service_request_id, the target's public id of one
    report filed under our Tracking ID, with the reporter's identity, title and place."""
    sent = outgoing()
    first = adapter.send(sent)
    again = adapter.send(sent)
    assert isinstance(first, Delivered), first
    assert again.upstream_id == first.upstream_id and first.extra.get("token")
    assert target.filed_under(sent.tracking_id) == [first.upstream_id]
    tid, body, anonymous, confidential = target.held(first.upstream_id)
    assert not anonymous and not confidential and tid != sent.tracking_id
    assert (body["reporter_name"], body["reporter_phone"], body["reporter_email"]) == (NAME, PHONE, EMAIL)
    assert body["title"] == "Antrean puskesmas" and body["category_code"] == "KESEHATAN"
    assert body["description"] == "Antrean puskesmas\n\nAntrean di puskesmas sangat panjang."
    assert body["location_text"] == "Jl. Yetro Sinseng No. 1, Kecamatan Lahei"
    assert (body["kecamatan_code"], body["kind"]) == ("LAHEI", "pengaduan")
    assert body["open311"]["client"] == "kabupaten-lain"
    [listed] = [r for r in target.get("requests.json", service_request_id=first.upstream_id).json()]
    assert listed["service_request_id"] == first.upstream_id and listed["service_code"] == "KESEHATAN"


def test_service_codes_map_our_categories_to_theirs(target, fmt):
    """GIVEN service_codes mapping one category and a "*" default WHEN reports of both are
    sent THEN each is filed under the target's code it maps to."""
    mapped = Open311Destination("kota-open311", target.settings(
        fmt, service_codes={"KESEHATAN": "LINGKUNGAN", "*": "LAINNYA"}))
    health, school = outgoing(), outgoing(category_code="PENDIDIKAN")
    filed = [mapped.send(health), mapped.send(school)]
    assert all(isinstance(f, Delivered) for f in filed), filed
    assert [target.held(f.upstream_id)[1]["category_code"] for f in filed] == ["LINGKUNGAN", "LAINNYA"]


def test_an_anonymous_report_reaches_the_target_without_identity(target, adapter):
    sent = outgoing(anonymous=True)
    delivered = adapter.send(sent)
    assert isinstance(delivered, Delivered), delivered
    _, body, anonymous, _ = target.held(delivered.upstream_id)
    assert anonymous and body["reporter_name"] == "" and body["reporter_phone"] == ""
    assert "reporter_email" not in body
    stored = json.dumps(body)
    assert not any(private in stored for private in (*NAME.split(), PHONE, EMAIL))


def test_a_confidential_report_is_not_listed_by_the_target(target, adapter, fmt):
    """GIVEN a confidential report WHEN delivered THEN the target holds it as confidential,
    lists it nowhere, answers 404 for its id; updates() has nothing to tell."""
    delivered = adapter.send(outgoing(confidential=True, anonymous=True))
    assert isinstance(delivered, Delivered), delivered
    assert target.held(delivered.upstream_id)[3] is True
    listed = [r["service_request_id"] for r in target.get("requests.json").json()]
    assert listed and delivered.upstream_id not in listed
    assert target.get(f"requests/{delivered.upstream_id}.json").status_code == 404
    assert adapter.updates(delivered.upstream_id, None) == []


# -- what the target or the network answers ------------------------------------------------------
def test_a_target_that_is_down_is_try_later(target, fmt, tmp_path):
    down = Open311Destination("mati", target.settings(fmt, url=f"http://127.0.0.1:{servers.free_port()}/open311/v2/"))
    outcome = down.send(outgoing())
    assert isinstance(outcome, TryLater) and "connection refused" in outcome.reason, outcome
    unknown_host = Open311Destination("tak-dikenal", target.settings(fmt, url="http://open311.invalid/v2/"))
    assert isinstance(unknown_host.send(outgoing()), TryLater)


def test_a_wrong_key_is_refused_with_the_targets_reason(target, fmt):
    wrong = Open311Destination("salah-kunci", target.settings(fmt, api_key_file=str(target.wrong_key_file)))
    sent = outgoing()
    outcome = wrong.send(sent)
    assert isinstance(outcome, Refused), outcome
    assert outcome.reason == "HTTP 403: api_key is missing, unknown or revoked"
    assert target.filed_under(sent.tracking_id) == []


def test_an_unknown_service_is_refused_before_anything_is_filed(target, fmt):
    sent = outgoing()
    outcome = Open311Destination("salah-kode", target.settings(fmt, service_codes={"*": "TIDAK_ADA"})).send(sent)
    assert isinstance(outcome, Refused), outcome
    assert outcome.reason.startswith("service definition of TIDAK_ADA: HTTP 404: service_code: no such service")
    assert sent.body["description"] not in outcome.reason
    assert target.filed_under(sent.tracking_id) == []


def test_the_target_refuses_a_report_it_cannot_take_with_its_reason_never_our_words(target, adapter):
    """A 400 from the target: Refused, with its error description (which names the field)."""
    sent = outgoing(description="x" * 200, location_text="\u0007 bel")  # a control character: the target's 400
    outcome = adapter.send(sent)
    assert isinstance(outcome, Refused) and outcome.reason.startswith("HTTP 400: address_string:"), outcome
    assert "xxxx" not in outcome.reason


def test_faults_between_us_and_the_target(target, fmt):
    """GIVEN our fault proxy in front of the target WHEN the answer is lost after the target
    stored the report (held past the read timeout), or the target stores it and answers 500,
    THEN Unknown and TryLater, and the resend (the outbox's, for an idempotent destination)
    answers the same service_request_id with one report on the target; a captive portal's
    page and a 429 are TryLater (its Retry-After kept); a connection reset after sending is
    Unknown; the proxy gone is TryLater."""
    upstream = target.base.rsplit(":", 1)
    proxy = FaultProxy(("127.0.0.1", int(upstream[1])), {"pass": 1}, delay_s=5, retry_after_s=7)
    try:
        proxied = Open311Destination("lewat-proxy", target.settings(fmt, url=f"{proxy.url}/open311/v2/",
                                                                    read_timeout=1))
        assert isinstance(proxied.send(outgoing()), Delivered)  # also reads the service definition once

        for fate, outcome_type in (("delay", Unknown), ("error_after", TryLater)):
            sent = outgoing()
            proxy.set_weights({fate: 1})
            lost = proxied.send(sent)
            assert isinstance(lost, outcome_type), (fate, lost)
            proxy.set_weights({"pass": 1})
            resent = proxied.send(sent)
            assert isinstance(resent, Delivered), (fate, resent)
            assert target.filed_under(sent.tracking_id) == [resent.upstream_id], fate

        proxy.set_weights({"html_200": 1})
        portal = proxied.send(outgoing())
        assert isinstance(portal, TryLater) and "captive portal" in portal.reason, portal
        proxy.set_weights({"rate_limit": 1})
        assert proxied.send(outgoing()) == TryLater("HTTP 429", 7.0)
        proxy.set_weights({"reset": 1})
        assert isinstance(proxied.send(outgoing()), Unknown)
        assert [fate for fate, method, _, _ in proxy.seen if method == "GET"] == ["pass"]  # one definition read
    finally:
        proxy.close()
    assert isinstance(proxied.send(outgoing()), TryLater)  # nothing listens there any more


def test_look_up_resends_under_the_same_id(target, adapter):
    """After Unknown, look_up asks the target by resending (GeoReport v2 has no search by our
    ID; the idempotency key makes the resend file nothing)."""
    sent = outgoing()
    delivered = adapter.send(sent)
    assert adapter.look_up(sent) == delivered
    assert target.filed_under(sent.tracking_id) == [delivered.upstream_id]


# -- status back ---------------------------------------------------------------------------------
def test_the_targets_reply_comes_back_once(target, adapter):
    """GIVEN a delivered report WHEN the target's officers verify, forward and answer it
    THEN updates() gives one event: the reply for the citizen, no status of ours; the same
    event (same id) on the next call; once closed, a note for the officers is added and the
    reply keeps its id (never recorded twice)."""
    delivered = adapter.send(outgoing())
    assert adapter.updates(delivered.upstream_id, None) == []
    tid = target.held(delivered.upstream_id)[0]
    for action, *extra in (("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", REPLY)):
        moved = central_cli(target.url, "report", tid, action, "--actor", "Admin Rina", *extra)
        assert moved.returncode == 0, moved.stderr
    [reply] = adapter.updates(delivered.upstream_id, None)
    assert (reply.public_reply, reply.status) == (REPLY, None) and reply.at.tzinfo is not None
    assert adapter.updates(delivered.upstream_id, reply.at) == [reply]
    assert central_cli(target.url, "report", tid, "close", "--actor", "Admin Rina").returncode == 0
    again, closed = adapter.updates(delivered.upstream_id, None)
    assert again.event_id == reply.event_id and again.public_reply == REPLY
    assert closed.status is None and closed.public_reply is None and "closed" in closed.note
    assert closed.event_id != reply.event_id
    assert [e.event_id for e in adapter.updates(delivered.upstream_id, None)] == [reply.event_id, closed.event_id]


def test_updates_when_the_target_cannot_be_asked_raise(target, fmt):
    down = Open311Destination("mati", target.settings(fmt, url=f"http://127.0.0.1:{servers.free_port()}/v2/"))
    with pytest.raises(OSError):
        down.updates("0123456789abcdef", None)


# -- servers that are not ours -------------------------------------------------------------------
ID_ATTRIBUTE = {"variable": True, "code": DEFAULT_ATTRIBUTE_ID, "datatype": "string", "required": False}


@pytest.fixture
def foreign():
    servers_started = []

    def start(attributes: list[dict]) -> Open311Double:
        double = Open311Double(attributes)
        servers_started.append(double)
        return double

    yield start
    for double in servers_started:
        double.close()


def _settings(double: Open311Double, key_file: Path, **changes) -> dict:
    return {"url": double.url, "api_key_file": str(key_file), "jurisdiction_id": "kota.example", **changes}


def test_a_foreign_server_gets_only_the_attributes_it_defines_and_a_token_is_followed(foreign, target):
    """GIVEN a server whose service defines our id attribute and a ``kind`` list without
    ``aspirasi``, and answers a POST with 201 and a wrapped token WHEN a report is sent THEN
    only the id attribute goes (never an attribute it does not define, nor a value its list
    lacks), the token is asked for its request id at once: Delivered; with the id not issued
    yet: Unknown, and look_up asks the token again."""
    double = foreign([ID_ATTRIBUTE, {"code": "kind", "datatype": "singlevaluelist",
                                     "values": [{"key": "pengaduan", "name": "Keluhan"}]}])
    adapter = Open311Destination("asing", _settings(double, target.key_file))
    sent = outgoing(kind="aspirasi")
    outcome = adapter.send(sent)
    assert outcome == Delivered("9001", {"token": "tok1"})
    [posted] = double.posts()
    assert {k for k in posted if k.startswith("attribute[")} == {"attribute[client_report_id]"}
    assert posted["attribute[client_report_id]"] == sent.tracking_id and posted["jurisdiction_id"] == "kota.example"
    assert (posted["first_name"], posted["last_name"]) == ("Siti", "Aminah Rahasia")
    assert posted["description"] == description_of(sent)
    assert [p for m, p, _ in double.seen if m == "GET"] == ["/v2/services/KESEHATAN.json", "/v2/tokens/tok1.json"]

    double.pending = True
    waiting = outgoing()
    assert isinstance(adapter.send(waiting), Unknown)
    with pytest.raises(LookUpUnsupported):
        adapter.look_up(waiting)
    double.pending = False
    assert adapter.look_up(waiting) == Delivered("9002", {"token": "tok2"})


def test_a_server_without_our_id_or_confidential_attribute_gets_nothing_it_could_misuse(foreign, target):
    """GIVEN a service without our id attribute THEN an idempotent destination refuses to
    send (a resend could file twice); with ``attribute_id = ""`` it sends, is not idempotent,
    and look_up cannot find the report; a confidential report is never sent to a service
    without a ``confidential`` attribute (it would be public there)."""
    double = foreign([])
    strict = Open311Destination("asing", _settings(double, target.key_file))
    assert strict.idempotent
    refused = strict.send(outgoing())
    assert isinstance(refused, Refused) and "no attribute client_report_id" in refused.reason
    lenient = Open311Destination("asing", _settings(double, target.key_file, attribute_id=""))
    assert not lenient.idempotent
    sent = outgoing()
    assert isinstance(lenient.send(sent), Delivered)
    assert not any(k.startswith("attribute[") for k in double.posts()[0])
    with pytest.raises(LookUpUnsupported):
        lenient.look_up(sent)
    secret = lenient.send(outgoing(confidential=True))
    assert isinstance(secret, Refused) and "confidential" in secret.reason
    assert len(double.posts()) == 1


# -- settings ------------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, expected", [
    ({"url": None}, "url: required"),
    ({"url": "ftp://kota.example/"}, "url: an http or https URL"),
    ({"api_key_file": None}, "api_key_file: required"),
    ({"api_key_file": "/tidak/ada"}, "api_key_file: cannot read /tidak/ada"),
    ({"format": "csv"}, "format: \"json\" or \"xml\""),
    ({"read_timeout": 0}, "read_timeout: a number of seconds"),
    ({"connect_timeout": "5"}, "connect_timeout: a number of seconds"),
    ({"service_codes": ["KESEHATAN"]}, "service_codes: a table"),
    ({"service_codes": {"KESEHATAN": 3}}, "service_codes: a table"),
    ({"attribute_id": "id klien"}, "attribute_id: an attribute code"),
    ({"jurisdiction_id": 7}, "jurisdiction_id: expected a string"),
    ({"servce_codes": {"*": "LAINNYA"}}, "unknown key 'servce_codes'; an open311 destination has url, "),
])
def test_settings_are_checked_with_the_key_and_what_is_wrong(tmp_path, changes, expected):
    key = _key_file(tmp_path, "key", "k" * 43)
    settings = {"url": "https://kota.example/open311/v2", "api_key_file": str(key), **changes}
    with pytest.raises(ValueError) as raised:
        Open311Destination("kota", {k: v for k, v in settings.items() if v is not None})
    assert str(raised.value).startswith(expected), raised.value


def test_settings_defaults_and_an_empty_key_file(tmp_path):
    key = _key_file(tmp_path, "key", "k" * 43)
    made = Open311Destination("kota", {"type": "open311", "url": "https://kota.example/open311/v2",
                                       "api_key_file": str(key)})
    assert made.settings.url == "https://kota.example/open311/v2/" and made.settings.format == "json"
    assert made.settings.attribute_id == DEFAULT_ATTRIBUTE_ID and made.idempotent
    assert "k" * 43 not in repr(made) + repr(made.settings)
    empty = _key_file(tmp_path, "empty", "")
    with pytest.raises(ValueError, match="must hold the key alone"):
        Open311Destination("kota", {"url": "https://kota.example/", "api_key_file": str(empty)})


def test_the_default_id_attribute_is_the_one_our_server_reads():
    from central.open311 import CLIENT_REPORT_ID

    assert DEFAULT_ATTRIBUTE_ID == CLIENT_REPORT_ID


# -- through the forwarding outbox ---------------------------------------------------------------
def test_a_kiosk_report_travels_through_the_outbox_to_the_target_once(target, tmp_path):
    """GIVEN a central whose forwarding file names the target as an Open311 destination WHEN
    a kiosk's report arrives and ``python -m central forward --once`` runs, twice THEN the
    target holds it once, under our Tracking ID, and the entry is sent with the target's id."""
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    rules = tmp_path / "forwarding.toml"
    rules.write_text(f'[destinations.kota-open311]\ntype = "open311"\nurl = "{target.base}/open311/v2/"\n'
                     f'api_key_file = "{target.key_file}"\nformat = "xml"\n\n'
                     '[[routes]]\ndestination = "kota-open311"\n', encoding="utf-8")
    token = central_cli(source, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh")
    assert token.returncode == 0, token.stderr
    sent = report(reporter_name=NAME, reporter_phone=PHONE, anonymous=True)
    with running_central(source, env={"CENTRAL_FORWARDING_FILE": str(rules)}) as base:
        assert [r["outcome"] for r in send(base, token.stdout.strip(), sent)] == ["created"]
    for _ in range(2):
        ran = central_cli(source, "--forwarding-file", str(rules), "forward", "--once")
        assert ran.returncode == 0, ran.stderr
    [public_id] = target.filed_under(sent["tracking_id"])
    _, body, anonymous, _ = target.held(public_id)
    assert anonymous and body["reporter_name"] == "" and body["title"] == sent["title"]
    assert query(source, "SELECT destination, kind, state, upstream_id FROM forwarding") == [
        ("kota-open311", "open311", "sent", public_id)]
