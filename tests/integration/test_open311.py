"""Open311 GeoReport v2 on a real central over HTTP, on SQLite and PostgreSQL: every method
in JSON and in XML against the spec's shapes (element names, field names and types), its
errors (400, 403, 404 as the spec's list of code and description), the privacy rules
(confidential reports nowhere, identity never, the Tracking ID never published: a report's
``service_request_id`` is its public Open311 id), idempotency on ``client_report_id``, a
request in the same lifecycle and workbench as a kiosk's report, the issuer code, the rate
limit, and the c0013 migration.

The central runs behind a "proxy" it trusts (127.0.0.1): each request names its own
client address in X-Forwarded-For, so the public rate limit (one bucket per address) is
met only where a test means to meet it."""
from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import re
import xml.etree.ElementTree as ET

import pytest
import requests
from sqlalchemy import create_engine, inspect

from central.models import new_open311_id
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id, parse_tracking_id
from tests.support import servers
from tests.support.central import (alembic, assert_schema_matches_models, auth, central_cli, query, report,
                                   running_central, send)
from tests.support.workbench import add_officer, get_page, log_in

ISSUER = "0311"
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description", "order", "description"]
ATTRIBUTE_CODES = ["kind", "agency", "kecamatan", "anonymous", "confidential", "client_report_id"]
#: Identity given with reports in these tests: never in any Open311 answer.
SECRET_NAME, SECRET_LAST, SECRET_PHONE, SECRET_EMAIL = "Wulan", "Rahasiawati", "081377770000", "wulan@contoh.id"
FORMATS = ("json", "xml")
_ADDRESSES = itertools.count(1)
#: A report's public Open311 id: 16 lowercase hex digits (``central.models.new_open311_id``).
PUBLIC_ID = re.compile(r"^[0-9a-f]{16}$")
#: ``service_notice`` of a POST's answer: the Tracking ID, for the citizen, in Indonesian.
NOTICE = re.compile(r"^Nomor laporan: (\w{4}-\w{5}-\w{5})\. ")


@dataclasses.dataclass
class World:
    base: str
    url: str
    kiosk_token: str
    key: str  # the API key of client "fixmystreet"

    def get(self, path: str, *, address: str | None = None, **params) -> requests.Response:
        """A GET of /open311/v2/<path> from a client address of its own (or ``address``)."""
        n = next(_ADDRESSES)
        forwarded = address or f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        return requests.get(f"{self.base}/open311/v2/{path}", params=params, timeout=30,
                            headers={"X-Forwarded-For": forwarded})

    def post(self, fmt: str = "json", key: str | None = "", **fields) -> requests.Response:
        data = dict(fields)
        if key is not None:
            data["api_key"] = key or self.key
        return requests.post(f"{self.base}/open311/v2/requests.{fmt}", data=data, timeout=30)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory) -> World:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('open311') / 'central.sqlite3'}"
    else:
        url = servers.fresh_database(request.getfixturevalue("postgres_url"), "open311")
    with running_central(url, env={"CENTRAL_TRUSTED_PROXIES": "127.0.0.1"}) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh")
        assert token.returncode == 0, token.stderr
        added = central_cli(url, "open311-client", "add", "fixmystreet")
        assert added.returncode == 0, added.stderr
        yield World(base, url, token.stdout.strip(), added.stdout.strip())


def filing(**changes) -> dict:
    """A request's fields as an Open311 client posts them (identity included)."""
    fields = {"service_code": "KESEHATAN", "lat": "-0.9571", "long": "114.8942",
              "description": "Antrean di puskesmas sangat panjang.\nSudah tiga jam menunggu.",
              "first_name": SECRET_NAME, "last_name": SECRET_LAST, "phone": SECRET_PHONE, "email": SECRET_EMAIL}
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


# -- reading answers -----------------------------------------------------------------------------
def xml_of(answer: requests.Response, root: str) -> ET.Element:
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8", answer.headers["Content-Type"]
    assert answer.content.startswith(b"<?xml")
    element = ET.fromstring(answer.content)
    assert element.tag == root, element.tag
    return element


def json_of(answer: requests.Response):
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8", answer.headers["Content-Type"]
    return answer.json()


def leaves(element: ET.Element) -> dict[str, str | None]:
    """An element's children as {name: text} (each name once: the spec's plain fields)."""
    names = [child.tag for child in element]
    assert len(names) == len(set(names)), names
    return {child.tag: child.text for child in element}


def requests_in(answer: requests.Response, fmt: str) -> list[dict]:
    """The requests of a ``service_requests`` answer, in order, as {field: value}: JSON as
    it came; XML checked for its element names and read as text."""
    assert answer.status_code == 200, (answer.status_code, answer.text)
    if fmt == "json":
        found = json_of(answer)
        assert isinstance(found, list)
        return found
    root = xml_of(answer, "service_requests")
    assert all(child.tag == "request" for child in root)
    return [leaves(child) for child in root]


def errors_in(answer: requests.Response, fmt: str, status: int) -> list[str]:
    """The descriptions of an error answer, checked for the spec's form and the status."""
    assert answer.status_code == status, (answer.status_code, answer.text)
    if fmt == "json":
        found = json_of(answer)
        assert isinstance(found, list) and found
        assert all(set(e) == {"code", "description"} and e["code"] == status and isinstance(e["description"], str)
                   for e in found), found
        return [e["description"] for e in found]
    root = xml_of(answer, "errors")
    assert [child.tag for child in root] == ["error"] * len(root) and len(root) >= 1
    out = []
    for error in root:
        fields = leaves(error)
        assert set(fields) == {"code", "description"} and fields["code"] == str(status), fields
        out.append(fields["description"])
    return out


def _moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    assert moment.tzinfo is not None and re.search(r"[+-]\d\d:\d\d$", value), value  # ISO 8601 with an offset
    return moment


def check_request_json(item: dict) -> None:
    """One request of a JSON answer: the spec's fields, each of its type."""
    assert list(item) == REQUEST_FIELDS
    assert PUBLIC_ID.match(item["service_request_id"]) and item["status"] in ("open", "closed")
    for field in ("service_name", "service_code", "requested_datetime", "updated_datetime"):
        assert isinstance(item[field], str) and item[field], field
    for field in ("status_notes", "description", "agency_responsible", "service_notice", "expected_datetime",
                  "address", "address_id", "zipcode", "media_url"):
        assert item[field] is None or isinstance(item[field], str), field
    for field in ("lat", "long"):
        assert item[field] is None or isinstance(item[field], float), field
    assert _moment(item["updated_datetime"]) >= _moment(item["requested_datetime"])


def tracking_id_told(filed: dict) -> str:
    """The canonical Tracking ID a POST's answer tells its client, in ``service_notice``."""
    told = NOTICE.match(filed["service_notice"] or "")
    assert told, filed["service_notice"]
    return parse_tracking_id(told.group(1))


def file(world: World, fmt: str = "json", **fields) -> str:
    """POST a request; its service_request_id (the report's public Open311 id)."""
    [answer] = requests_in(world.post(fmt, **fields), fmt)
    return answer["service_request_id"]


def file_both(world: World, fmt: str = "json", **fields) -> tuple[str, str]:
    """POST a request; (its public id, its canonical Tracking ID as the notice tells it)."""
    [answer] = requests_in(world.post(fmt, **fields), fmt)
    return answer["service_request_id"], tracking_id_told(answer)


def public_id_of(world: World, tracking_id: str) -> str:
    """A stored report's public Open311 id, as the database holds it."""
    [(public,)] = query(world.url, "SELECT open311_id FROM reports WHERE tracking_id = :t", t=tracking_id)
    return public


def tracking_id_forms(tracking_id: str) -> list[bytes]:
    """What a Tracking ID could look like in an answer's bytes (upper-cased): canonical,
    printed, and its random part with its check symbol."""
    return [tracking_id.encode(), format_tracking_id(tracking_id).encode(), tracking_id[4:].encode()]


def shown_ids(world: World, fmt: str, **params) -> list[str]:
    return [r["service_request_id"] for r in requests_in(world.get(f"requests.{fmt}", **params), fmt)]


# -- discovery and services ----------------------------------------------------------------------
def test_discovery_names_this_endpoint_in_both_formats(world):
    as_json = json_of(world.get("discovery.json"))
    assert set(as_json) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = as_json["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"{world.base}/open311/v2/" and endpoint["type"] == "production"
    assert sorted(endpoint["formats"]) == ["application/json", "text/xml"]
    _moment(as_json["changeset"])
    root = xml_of(world.get("discovery.xml"), "discovery")
    assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
    [xml_endpoint] = root.find("endpoints")
    assert xml_endpoint.tag == "endpoint"
    assert [c.tag for c in xml_endpoint] == ["specification", "url", "changeset", "type", "formats"]
    assert [(f.tag, f.text) for f in xml_endpoint.find("formats")] == [("format", "text/xml"),
                                                                       ("format", "application/json")]
    assert xml_endpoint.findtext("url") == endpoint["url"]


def test_services_are_our_categories_in_both_formats(world):
    reference = requests.get(f"{world.base}/api/v1/reference", headers=auth(world.kiosk_token), timeout=30).json()
    codes = [c["code"] for c in reference["categories"]]
    as_json = json_of(world.get("services.json"))
    assert [s["service_code"] for s in as_json] == codes
    for service in as_json:
        assert list(service) == SERVICE_FIELDS
        assert service["metadata"] is True and service["type"] == "realtime"
        assert all(isinstance(service[f], str) for f in ("service_name", "description", "keywords", "group"))
    health = next(s for s in as_json if s["service_code"] == "KESEHATAN")
    assert health["service_name"] == "Kesehatan" and health["group"] == "Dinas Kesehatan (Dinkes)"
    assert "DINKES" in health["keywords"]
    root = xml_of(world.get("services.xml"), "services")
    assert [child.tag for child in root] == ["service"] * len(codes)
    as_xml = [leaves(child) for child in root]
    assert [list(s) for s in as_xml] == [SERVICE_FIELDS] * len(codes)
    assert [s["service_code"] for s in as_xml] == codes and {s["metadata"] for s in as_xml} == {"true"}
    assert [s["group"] for s in as_xml] == [s["group"] for s in as_json]


def test_a_service_definition_lists_its_attributes_in_both_formats(world):
    definition = json_of(world.get("services/KESEHATAN.json"))
    assert list(definition) == ["service_code", "attributes"] and definition["service_code"] == "KESEHATAN"
    attributes = definition["attributes"]
    assert [a["code"] for a in attributes] == ATTRIBUTE_CODES
    assert [a["order"] for a in attributes] == list(range(1, 7))
    for attribute in attributes:
        assert list(attribute)[:7] == ATTRIBUTE_FIELDS
        assert attribute["variable"] is True and attribute["required"] is False
        assert isinstance(attribute["description"], str) and isinstance(attribute["datatype_description"], str)
    by_code = {a["code"]: a for a in attributes}
    assert by_code["kind"]["datatype"] == "singlevaluelist"
    assert [v["key"] for v in by_code["kind"]["values"]] == ["pengaduan", "aspirasi", "permintaan_informasi"]
    assert all(set(v) == {"key", "name"} for v in by_code["agency"]["values"])
    assert "DINKES" in {v["key"] for v in by_code["agency"]["values"]}
    assert {"LAHEI", "TIDAK_TAHU"} <= {v["key"] for v in by_code["kecamatan"]["values"]}
    assert [v["key"] for v in by_code["confidential"]["values"]] == ["true", "false"]
    assert by_code["client_report_id"]["datatype"] == "string" and "values" not in by_code["client_report_id"]
    root = xml_of(world.get("services/KESEHATAN.xml"), "service_definition")
    assert [child.tag for child in root] == ["service_code", "attributes"]
    xml_attributes = list(root.find("attributes"))
    assert [a.tag for a in xml_attributes] == ["attribute"] * 6
    assert [a.findtext("code") for a in xml_attributes] == ATTRIBUTE_CODES
    kind = xml_attributes[0]
    assert [c.tag for c in kind] == [*ATTRIBUTE_FIELDS, "values"]
    assert (kind.findtext("variable"), kind.findtext("required"), kind.findtext("order")) == ("true", "false", "1")
    assert [(v.tag, [c.tag for c in v]) for v in kind.find("values")] == [("value", ["key", "name"])] * 3
    assert [v.findtext("key") for v in kind.find("values")] == ["pengaduan", "aspirasi", "permintaan_informasi"]


# -- filing a request ----------------------------------------------------------------------------
def test_a_request_becomes_a_report_in_the_same_lifecycle_and_workbench(world):
    """GIVEN a client's key WHEN it files a request THEN it gets the report's public id, a
    token, and (in ``service_notice``) one of our Tracking IDs under the central's issuer
    code; the request reads back in both formats (the spec's fields and types, never the
    identity); the officers find it in the workbench's inbox like a kiosk's report, and as
    it moves through the lifecycle the client reads ``open``, the office's reply, then
    ``closed``."""
    answer = world.post("json", **filing(**{"attribute[kind]": "aspirasi", "attribute[kecamatan]": "LAHEI",
                                            "media_url": "https://foto.contoh.id/antrean.jpg"}))
    [filed] = requests_in(answer, "json")
    assert list(filed) == ["service_request_id", "token", "service_notice", "account_id"]
    public = filed["service_request_id"]
    assert PUBLIC_ID.match(public)
    tid = tracking_id_told(filed)
    assert tid.startswith(ISSUER) and public_id_of(world, tid) == public
    assert isinstance(filed["token"], str) and filed["token"] and filed["account_id"] is None

    [shown] = requests_in(world.get(f"requests/{filed['service_request_id']}.json"), "json")
    check_request_json(shown)
    assert shown["status"] == "open" and shown["status_notes"] is None and shown["service_notice"] is None
    assert shown["service_request_id"] == public
    assert (shown["service_code"], shown["service_name"]) == ("KESEHATAN", "Kesehatan")
    assert shown["description"] == "Antrean di puskesmas sangat panjang.\nSudah tiga jam menunggu."
    assert (shown["lat"], shown["long"]) == (-0.9571, 114.8942)
    assert shown["media_url"] == "https://foto.contoh.id/antrean.jpg"
    [as_xml] = requests_in(world.get(f"requests/{public.upper()}.xml"), "xml")  # in any case
    assert list(as_xml) == REQUEST_FIELDS
    assert {k: v for k, v in as_xml.items() if k not in ("lat", "long")} == {
        k: v for k, v in shown.items() if k not in ("lat", "long")}
    assert (float(as_xml["lat"]), float(as_xml["long"])) == (-0.9571, 114.8942)
    for by_token in (requests_in(world.get(f"tokens/{filed['token']}.json"), "json"),
                     requests_in(world.get(f"tokens/{filed['token']}.xml"), "xml")):
        assert by_token == [{"service_request_id": filed["service_request_id"], "token": filed["token"]}]

    status = requests.get(f"{world.base}/api/v1/reports/{tid}/status", headers=auth(world.kiosk_token), timeout=30)
    assert status.status_code == 200 and status.json()["status"] == "received" and status.json()["kind"] == "aspirasi"

    secret = add_officer(world.url, f"admin-{tid[-4:].lower()}", "admin", totp=True)
    browser = log_in(world.base, f"admin-{tid[-4:].lower()}", secret)
    inbox = get_page(browser, world.base, "/workbench/", kiosk=ISSUER)
    assert inbox.status_code == 200 and format_tracking_id(tid) in inbox.text
    assert "Antrean di puskesmas sangat panjang." in inbox.text  # its title: the description's first line
    page = get_page(browser, world.base, f"/workbench/reports/{tid}")
    assert page.status_code == 200
    assert "Open311 · fixmystreet" in page.text and "Diajukan" in page.text
    assert "Open311 GeoReport v2" not in page.text and "Dibuat di kios" not in page.text  # no kiosk of its own
    assert f"{SECRET_NAME} {SECRET_LAST}" in page.text and SECRET_EMAIL in page.text  # not anonymous: officers see it
    _, anonymous = file_both(world, **filing(**{"attribute[anonymous]": "true"}))
    hidden = get_page(browser, world.base, f"/workbench/reports/{anonymous}")
    assert hidden.status_code == 200 and "[disembunyikan]" in hidden.text  # the workbench speaks Indonesian first
    for private in (SECRET_NAME, SECRET_LAST, SECRET_PHONE, SECRET_EMAIL):
        assert private not in hidden.text  # an anonymous reporter's identity: only through the audited "show"

    reply = "Loket tambahan dibuka mulai Senin."
    for action, *extra in (("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", reply)):
        moved = central_cli(world.url, "report", tid, action, "--actor", "Admin Rina", *extra)
        assert moved.returncode == 0, moved.stderr
    [answered] = requests_in(world.get(f"requests/{public}.json"), "json")
    assert answered["status"] == "open" and answered["status_notes"] == reply
    assert answered["agency_responsible"] == "Dinas Kesehatan (Dinkes)"
    assert _moment(answered["updated_datetime"]) > _moment(answered["requested_datetime"])
    assert central_cli(world.url, "report", tid, "close", "--actor", "Admin Rina").returncode == 0
    for fmt in FORMATS:
        [closed] = requests_in(world.get(f"requests/{public}.{fmt}"), fmt)
        assert closed["status"] == "closed" and closed["status_notes"] == reply
        assert filed["service_request_id"] in shown_ids(world, fmt, status="closed")
        assert filed["service_request_id"] not in shown_ids(world, fmt, status="open")
        assert filed["service_request_id"] in shown_ids(world, fmt, status="open,closed", service_code="KESEHATAN")
        assert filed["service_request_id"] not in shown_ids(world, fmt, service_code="PENDIDIKAN")
        for answer in (world.get(f"requests/{public}.{fmt}"), world.get(f"requests.{fmt}")):
            for private in (SECRET_NAME, SECRET_LAST, SECRET_PHONE, SECRET_EMAIL, "fixmystreet"):
                assert private not in answer.text
            assert format_tracking_id(tid).encode() not in answer.content


def test_a_post_in_xml_answers_in_xml(world):
    answer = world.post("xml", **filing(address_string="Jl. Yetro Sinseng No. 1, Muara Teweh", lat=None, long=None))
    root = xml_of(answer, "service_requests")
    [request] = list(root)
    assert request.tag == "request"
    assert [c.tag for c in request] == ["service_request_id", "token", "service_notice", "account_id"]
    tid = request.findtext("service_request_id")
    assert PUBLIC_ID.match(tid) and tracking_id_told(leaves(request)).startswith(ISSUER)
    [shown] = requests_in(world.get(f"requests/{tid}.json"), "json")
    assert shown["address"] == "Jl. Yetro Sinseng No. 1, Muara Teweh" and shown["lat"] is None


def test_the_same_client_report_id_files_one_report(world):
    """GIVEN a client that resends a request (its answer was lost) WHEN the same
    ``client_report_id`` comes again, even in the other format or with changed words THEN
    the same service_request_id, token and Tracking ID notice come back and one report
    exists; another client may use the same ID for its own request."""
    fields = filing(description="Lampu jalan mati di depan pasar.", **{"attribute[client_report_id]": "fms-4711"})
    [first] = requests_in(world.post("json", **fields), "json")
    [again] = requests_in(world.post("json", **fields), "json")
    [in_xml] = requests_in(world.post("xml", **fields), "xml")
    [changed] = requests_in(world.post("json", **{**fields, "description": "Lampu jalan mati (dikirim ulang)."}),
                            "json")
    assert first == again == changed
    assert (in_xml["service_request_id"], in_xml["token"]) == (first["service_request_id"], first["token"])
    listed = requests_in(world.get("requests.json"), "json")
    assert [r["description"] for r in listed].count("Lampu jalan mati di depan pasar.") == 1
    assert "Lampu jalan mati (dikirim ulang)." not in {r["description"] for r in listed}
    tid = tracking_id_told(first)
    assert in_xml["service_notice"] == first["service_notice"]
    assert query(world.url, "SELECT count(*) FROM intake_conflicts WHERE tracking_id = :t", t=tid) == [(1,)]

    other = central_cli(world.url, "open311-client", "add", "kota-lain").stdout.strip()
    [theirs] = requests_in(world.post("json", key=other, **fields), "json")
    assert theirs["service_request_id"] != first["service_request_id"]
    assert tracking_id_told(theirs) != tid  # each client is told only its own report's Tracking ID
    without = [file(world, **filing(description="Tanpa ID klien.")) for _ in range(2)]
    assert without[0] != without[1]  # no client_report_id: each POST is a request of its own


# -- privacy -------------------------------------------------------------------------------------
def test_confidential_reports_are_never_shown_and_identity_never(world):
    """GIVEN an anonymous, confidential report from a kiosk and one filed through Open311, and
    an anonymous report that is not confidential WHEN a client lists in every way it can and
    asks for each by its ID, in both formats THEN the confidential ones are in no list and
    their own ID answers exactly as an unknown one does; no answer holds a name, phone or
    e-mail; the public anonymous report is listed with its words."""
    kiosk_secret = report(anonymous=True, confidential=True, title="Pungli di loket", reporter_name=SECRET_NAME,
                          reporter_phone=SECRET_PHONE, description="Petugas minta uang pelicin.")
    kiosk_public = report(anonymous=True, reporter_name=SECRET_NAME, reporter_phone=SECRET_PHONE,
                          description="Toilet umum rusak.")
    assert [r["outcome"] for r in send(world.base, world.kiosk_token, kiosk_secret, kiosk_public)] == ["created"] * 2
    open311_secret, open311_secret_tid = file_both(world, **filing(
        description="Pungutan liar di kantor desa.",
        **{"attribute[anonymous]": "true", "attribute[confidential]": "TRUE"}))
    hidden = {public_id_of(world, kiosk_secret["tracking_id"]), open311_secret}
    unknown = new_open311_id()
    public = public_id_of(world, kiosk_public["tracking_id"])
    for fmt in FORMATS:
        listings = [world.get(f"requests.{fmt}"),
                    world.get(f"requests.{fmt}", status="open"),
                    world.get(f"requests.{fmt}", service_code="KESEHATAN"),
                    world.get(f"requests.{fmt}", start_date=(dt.date.today() - dt.timedelta(days=1)).isoformat()),
                    world.get(f"requests.{fmt}", service_request_id=",".join([*hidden, public]))]
        for listing in listings:
            ids = {r["service_request_id"] for r in requests_in(listing, fmt)}
            assert not ids & hidden
        assert public in {r["service_request_id"] for r in requests_in(listings[-1], fmt)}
        [shown] = requests_in(world.get(f"requests/{public}.{fmt}"), fmt)
        assert shown["description"] == "Toilet umum rusak."
        not_found = world.get(f"requests/{unknown}.{fmt}")
        assert errors_in(not_found, fmt, 404) == ["service_request_id: no such request"]
        for tid in [*hidden, format_tracking_id(kiosk_secret["tracking_id"]), format_tracking_id(open311_secret_tid)]:
            answer = world.get(f"requests/{tid}.{fmt}")
            assert (answer.status_code, answer.content) == (404, not_found.content)
        for answer in [*listings, world.get(f"requests/{public}.{fmt}")]:
            for private in (SECRET_NAME, SECRET_LAST, SECRET_PHONE, SECRET_EMAIL, "Petugas minta", "Pungutan liar"):
                assert private not in answer.text, private


def test_the_tracking_id_is_never_published(world):
    """GIVEN a kiosk's report and one filed through Open311, neither confidential WHEN a
    client reads them in every way it can, in both formats THEN no answer's bytes hold
    either Tracking ID in any form; each is listed and shown under its public id, the same
    every time and its own; asking by a Tracking ID is a 404 exactly as an unknown ID is
    (so the Open311 door tells nobody whether a Tracking ID exists); only the answer to the
    filing POST, and its resend, tells that client its Tracking ID (``service_notice``)."""
    kiosk = report(title="Lampu taman padam", description="Lampu taman kota padam sejak Senin.")
    assert [r["outcome"] for r in send(world.base, world.kiosk_token, kiosk)] == ["created"]
    kiosk_tid = kiosk["tracking_id"]
    kiosk_public = public_id_of(world, kiosk_tid)
    fields = filing(description="Saluran air tersumbat di pasar.", **{"attribute[client_report_id]": "fms-bocor"})
    [filed] = requests_in(world.post("json", **fields), "json")
    [filed_again] = requests_in(world.post("xml", **fields), "xml")
    open311_public, open311_tid = filed["service_request_id"], tracking_id_told(filed)
    assert filed_again["service_request_id"] == open311_public and filed_again["token"] == filed["token"]
    assert tracking_id_told(filed_again) == open311_tid and filed_again["service_notice"] == filed["service_notice"]
    assert format_tracking_id(open311_tid) in filed["service_notice"]
    assert public_id_of(world, open311_tid) == open311_public
    both = {kiosk_tid: kiosk_public, open311_tid: open311_public}
    for tid, public in both.items():
        assert PUBLIC_ID.match(public) and public.upper() not in (tid, format_tracking_id(tid))
    [(reports, distinct)] = query(world.url, "SELECT count(*), count(DISTINCT open311_id) FROM reports")
    assert reports == distinct  # no two reports share a public id (the unique index holds it too)

    unknown = new_open311_id()
    today = dt.date.today().isoformat()
    for fmt in FORMATS:
        answers = [world.get(f"requests.{fmt}"),
                   world.get(f"requests.{fmt}", status="open"),
                   world.get(f"requests.{fmt}", service_code="KESEHATAN"),
                   world.get(f"requests.{fmt}", start_date=today),
                   world.get(f"requests.{fmt}", service_request_id=f"{kiosk_public},{open311_public}"),
                   world.get(f"tokens/{filed['token']}.{fmt}")]
        for public in both.values():
            answers += [world.get(f"requests/{public}.{fmt}"), world.get(f"requests/{public.upper()}.{fmt}")]
        for listing in answers[:5]:
            listed = [r["service_request_id"] for r in requests_in(listing, fmt)]
            assert {kiosk_public, open311_public} <= set(listed) and len(listed) == len(set(listed))
        for public in both.values():
            for again in (requests_in(world.get(f"requests/{public}.{fmt}"), fmt),
                          requests_in(world.get(f"requests.{fmt}", service_request_id=public), fmt)):
                assert [r["service_request_id"] for r in again] == [public]  # the same id every time
        assert requests_in(answers[5], fmt) == [{"service_request_id": open311_public, "token": filed["token"]}]
        not_found = world.get(f"requests/{unknown}.{fmt}")
        assert errors_in(not_found, fmt, 404) == ["service_request_id: no such request"]
        for tid in both:
            for asked in (tid, format_tracking_id(tid), format_tracking_id(tid).lower()):
                answer = world.get(f"requests/{asked}.{fmt}")
                assert (answer.status_code, answer.content) == (404, not_found.content), asked
                answers.append(answer)
                by_filter = world.get(f"requests.{fmt}", service_request_id=asked)
                assert requests_in(by_filter, fmt) == []
                answers.append(by_filter)
        for answer in answers:
            assert answer.status_code in (200, 404), answer.status_code
            content = answer.content.upper()
            for tid in both:
                for form in tracking_id_forms(tid):
                    assert form not in content, (answer.url, form)


def test_hostile_words_are_escaped_in_both_formats(world):
    words = "<script>alert('x')</script> & <![CDATA[ ]]> \"kutip\" \u202e terbalik"
    tid = file(world, **filing(description=words))
    [as_json] = requests_in(world.get(f"requests/{tid}.json"), "json")
    [as_xml] = requests_in(world.get(f"requests/{tid}.xml"), "xml")
    assert as_json["description"] == as_xml["description"] == words
    assert b"<script>" not in world.get(f"requests/{tid}.xml").content


# -- errors --------------------------------------------------------------------------------------
BAD_REQUESTS = [
    ({"service_code": None}, "service_code is required"),
    ({"lat": None, "long": None}, "a location is required"),
    ({"long": None}, "lat and long go together"),
    ({"lat": "91"}, "lat: a number from -90 to 90"),
    ({"long": "nan"}, "long: a number from -180 to 180"),
    ({"description": " "}, "description is required"),
    ({"description": "x" * 4001}, "description: at most 4000 characters"),
    ({"description": "nul \x00 byte"}, "description: control characters"),
    ({"attribute[confidental]": "true"}, "attribute[confidental] is not an attribute"),
    ({"attribute[confidential]": "mungkin"}, "attribute[confidential]: one of true, false"),
    ({"attribute[kind]": "gosip"}, "attribute[kind]: one of pengaduan"),
    ({"attribute[agency]": "DINAS_X"}, "attribute[agency]: one of"),
    ({"attribute[client_report_id]": "x" * 65}, "attribute[client_report_id]: at most 64 characters"),
    ({"attribute[kind][]": "aspirasi"}, "takes one value"),
    ({"media_url": "javascript:alert(1)"}, "media_url: an http or https URL"),
    ({"email": "bukan-surel"}, "email: not an e-mail address"),
    ({"phone": "0" * 21}, "phone: at most 20 characters"),
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_errors_are_the_specs_list_with_the_right_status(world, fmt):
    """Each refusal: its status, and the spec's list of code and description in the format
    asked for; nothing is filed."""
    before = len(requests_in(world.get("requests.json"), "json"))
    for changes, expected in BAD_REQUESTS:
        [problem] = errors_in(world.post(fmt, **filing(**changes)), fmt, 400)
        assert problem.startswith(expected) or expected in problem, (changes, problem)
    twice = requests.post(f"{world.base}/open311/v2/requests.{fmt}", timeout=30, data=[
        *filing().items(), ("api_key", world.key), ("attribute[confidential]", "true"),
        ("attribute[confidential]", "false")])
    assert errors_in(twice, fmt, 400) == ["attribute[confidential] is given more than once"]
    as_json_body = requests.post(f"{world.base}/open311/v2/requests.{fmt}", json={**filing(), "api_key": world.key},
                                 timeout=30)
    assert errors_in(as_json_body, fmt, 400) == ["the body must be application/x-www-form-urlencoded"]
    assert errors_in(world.post(fmt, **filing(description="x" * 70_000)), fmt, 413)

    revoked = central_cli(world.url, "open311-client", "add", f"dicabut-{fmt}").stdout.strip()
    assert central_cli(world.url, "open311-client", "revoke", f"dicabut-{fmt}").returncode == 0
    for key in (None, "bukan-kunci", revoked):
        assert errors_in(world.post(fmt, key=key, **filing()), fmt, 403) == ["api_key is missing, unknown or revoked"]
    # The key is checked first: a bad key with bad fields is a 403, not a 400.
    assert errors_in(world.post(fmt, key="bukan-kunci", service_code="TIDAK_ADA"), fmt, 403)

    assert errors_in(world.post(fmt, **filing(service_code="TIDAK_ADA")), fmt, 404)
    assert errors_in(world.get(f"services/TIDAK_ADA.{fmt}"), fmt, 404)
    assert errors_in(world.get(f"requests/{new_tracking_id('MT01')}.{fmt}"), fmt, 404)
    assert errors_in(world.get(f"tokens/bukan-token.{fmt}"), fmt, 404)
    for malformed in ("MT01-00000-00000", "bukan-id", "0" * 17):  # no ID of ours: unknown, never a hint why
        assert errors_in(world.get(f"requests/{malformed}.{fmt}"), fmt, 404) == ["service_request_id: no such request"]
        assert requests_in(world.get(f"requests.{fmt}", service_request_id=malformed), fmt) == []
    for params, expected in (({"status": "selesai"}, "status: open, closed"),
                             ({"start_date": "kemarin"}, "start_date: expected an ISO 8601 date-time"),
                             ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, "spans more than 90 days"),
                             ({"start_date": "2026-03-01", "end_date": "2026-02-01"}, "end_date is before start_date")):
        [problem] = errors_in(world.get(f"requests.{fmt}", **params), fmt, 400)
        assert problem.startswith(expected) or expected in problem, (params, problem)
    assert len(requests_in(world.get("requests.json"), "json")) == before


def test_an_unknown_format_is_a_404_in_xml(world):
    for path in ("services.html", "discovery.txt", f"requests/{new_tracking_id('MT01')}.csv"):
        assert errors_in(world.get(path), "xml", 404) == ["no such format: .xml or .json"]


def test_lookups_are_limited_per_client_address(world):
    """GIVEN one client address WHEN it asks past the public page's burst (30) THEN 429 with
    Retry-After, in the spec's error form; a list of IDs counts one per ID."""
    answers = [world.get("services.json", address="192.0.2.10") for _ in range(40)]
    assert [a.status_code for a in answers[:30]] == [200] * 30  # the burst
    limited = next(a for a in answers[30:] if a.status_code != 200)  # then what refilled meanwhile, at most
    assert errors_in(limited, "json", 429) == ["too many lookups: try again later"]
    assert int(limited.headers["Retry-After"]) >= 1
    ids = ",".join(new_open311_id() for _ in range(20))
    assert world.get("requests.xml", address="192.0.2.11", service_request_id=ids).status_code == 200
    limited = world.get("requests.xml", address="192.0.2.11", service_request_id=ids)
    assert errors_in(limited, "xml", 429) and int(limited.headers["Retry-After"]) >= 1
    too_many = ",".join(new_open311_id() for _ in range(31))
    assert errors_in(world.get("requests.json", service_request_id=too_many), "json", 400) == [
        "service_request_id: at most 30 at once"]


# -- the issuer code -----------------------------------------------------------------------------
def test_the_issuer_code_is_reserved_and_no_kiosk(world):
    taken = central_cli(world.url, "kiosk", "add", ISSUER, "--location", "Kecamatan Lahei")
    assert taken.returncode == 2 and "issuer code for Open311" in taken.stderr
    assert central_cli(world.url, "kiosk", "revoke", ISSUER).returncode == 2
    fleet = central_cli(world.url, "kiosks", "--json")
    assert {k["code"] for k in json.loads(fleet.stdout)["kiosks"]} == {"MT01"}  # the kiosks, and no issuer code
    listed = central_cli(world.url, "open311-client", "list")
    assert listed.returncode == 0 and re.search(r"^fixmystreet .* active .* \d+ requests filed$", listed.stdout, re.M)


def test_a_central_whose_issuer_code_is_a_kiosks_does_not_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    """GIVEN a kiosk registered as MT02 WHEN the central is told to issue Open311 IDs under
    MT02 THEN it does not start, and says why (before it listens on anything)."""
    assert central_cli(url, "kiosk", "add", "MT02", "--location", "Kecamatan Lahei").returncode == 0
    refused = central_cli(url, "--open311-issuer", "mt02", "serve", "--port", str(servers.free_port()))
    assert refused.returncode == 2 and "MT02" in refused.stderr and "configure another one" in refused.stderr


# -- the migration -------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_c0013_makes_every_stored_report_a_kiosks_and_matches_the_models(backend, tmp_path, request):
    """GIVEN a kiosk and its reports stored before c0013 WHEN the central migrates THEN they
    are of the channel ``kiosk``, each report has a public Open311 id of its own (random,
    never its Tracking ID), the schema is the models' (a unique index on the public id) and
    the issuer code is reserved at start; down and up again works, and a report stored
    after the migration gets an id too."""
    from sqlalchemy import text

    from central import open311, service
    from central.db import Database, migrate

    url = (f"sqlite:///{tmp_path / 'central.sqlite3'}" if backend == "sqlite"
           else servers.fresh_database(request.getfixturevalue("postgres_url"), "open311_mig"))
    alembic(url, "c0012")
    at = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.timezone.utc)
    engine = create_engine(url)
    stored = [f"MT01{n:010d}" for n in range(3)]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO kiosks (code, location, token_sha256, created_at) "
                          "VALUES ('MT01', 'x', 'd', :t)"), {"t": at})
        conn.execute(text(
            "INSERT INTO reports (tracking_id, kiosk_code, body, body_sha256, kind, category_code, confidential, "
            "anonymous, status, received_at) VALUES (:tid, 'MT01', '{}', 'x', 'pengaduan', 'KESEHATAN', "
            "false, false, 'received', :t)"), [{"tid": tid, "t": at} for tid in stored])
    engine.dispose()

    def public_ids() -> dict[str, str]:
        """Each stored report's public id, checked: well-formed and its own."""
        found = dict(query(url, "SELECT tracking_id, open311_id FROM reports"))
        assert all(PUBLIC_ID.match(p) for p in found.values()) and len(set(found.values())) == len(found), found
        return found

    db = Database(url)
    try:
        migrate(db.engine)
        service.reserve_issuer(db, ISSUER, open311.CHANNEL, open311.ISSUER_LOCATION)
        assert query(url, "SELECT DISTINCT channel FROM reports") == [("kiosk",)]
        assert query(url, "SELECT code, channel FROM kiosks ORDER BY code") == [(ISSUER, "open311"), ("MT01", "kiosk")]
        first = public_ids()
        assert sorted(first) == stored
        assert {"name": "ix_reports_open311_id", "column_names": ["open311_id"], "unique": True} in [
            {k: i[k] for k in ("name", "column_names", "unique")} for i in inspect(db.engine).get_indexes("reports")]
        assert_schema_matches_models(db)
        with db.session() as session, session.begin():  # a report stored from now on draws its own
            later = service.add_report(session, "MT01", report(), at, db.calendar)
            later_tid, later_public = later.tracking_id, later.open311_id
        assert PUBLIC_ID.match(later_public) and later_public not in first.values()
        assert public_ids()[later_tid] == later_public
        stored.append(later_tid)
    finally:
        db.close()
    alembic(url, "c0012", "downgrade")
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    assert not {"channel", "open311_id"} & {c["name"] for c in inspect(engine).get_columns("reports")}
    engine.dispose()
    assert not {"open311_clients", "open311_requests"} & names
    alembic(url, "c0013")
    assert query(url, "SELECT DISTINCT channel FROM reports") == [("kiosk",)]
    again = public_ids()
    assert sorted(again) == sorted(stored)  # drawn anew: the ids before were dropped with the column
