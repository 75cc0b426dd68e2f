"""The central service, run for real: ``python -m central serve`` in a subprocess on
127.0.0.1 with its own SQLite database, kiosks registered through its CLI."""
from __future__ import annotations

import uuid

import pytest
import requests

from kiosk.kernel.tracking_id import new_tracking_id
from tests.support.central import central_cli as _cli
from tests.support.central import running_central
from tests.support.central import auth, query, report, send


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def central(request, tmp_path_factory):
    """The same tests on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('central') / 'central.sqlite3'}"
    else:
        from tests.support.servers import fresh_database

        url = fresh_database(request.getfixturevalue("postgres_url"), "central")
    with running_central(url) as base:
        yield base, url, None



def test_token_is_stored_only_as_a_digest(central, token):
    _, url, _ = central
    stored = [row[0] for row in query(url, "SELECT token_sha256 FROM kiosks")]
    assert stored and token not in stored and all(len(s) == 64 for s in stored)


def test_wrong_missing_or_revoked_token_gets_401(central, token):
    base, url, _ = central
    for headers in ({}, auth("not-a-token"), {"Authorization": token}):
        assert requests.post(f"{base}/api/v1/reports", json={"reports": [report()]}, headers=headers, timeout=30).status_code == 401
    other = _cli(url, "kiosk", "add", "MT02", "--location", "Kecamatan Lahei").stdout.strip()
    assert requests.get(f"{base}/api/v1/reference", headers=auth(other), timeout=30).status_code == 200
    assert _cli(url, "kiosk", "revoke", "MT02").returncode == 0
    assert requests.get(f"{base}/api/v1/reference", headers=auth(other), timeout=30).status_code == 401


def test_registering_a_kiosk_twice_is_refused(central, token):
    _, url, _ = central
    again = _cli(url, "kiosk", "add", "MT01", "--location", "elsewhere")
    assert again.returncode == 2 and "already registered" in again.stderr


def test_tracking_id_is_the_idempotency_key(central, token):
    base, url, _ = central
    first = report()
    [created] = send(base, token, first)
    assert created["outcome"] == "created"
    [again] = send(base, token, first)
    assert again["outcome"] == "duplicate" and again["received_at"] == created["received_at"]
    [conflict] = send(base, token, dict(first, title="Judul lain"))
    assert conflict["outcome"] == "conflict"
    tid = first["tracking_id"]
    assert query(url, "SELECT count(*) FROM reports WHERE tracking_id = :t", t=tid) == [(1,)]
    assert query(url, "SELECT count(*) FROM intake_conflicts WHERE tracking_id = :t", t=tid) == [(1,)]
    [(body,)] = query(url, "SELECT body FROM reports WHERE tracking_id = :t", t=tid)
    assert "Antrean puskesmas" in body and "Judul lain" not in body  # never silently overwritten


def test_validation_errors_name_the_field(central, token):
    base, _, _ = central
    results = send(base, token, report(title=""), report(kind="gossip"), report(tracking_id="MT01-XXXXX-XXXXX"),
                   report(tracking_id=new_tracking_id("MT09")), report())
    assert [r["outcome"] for r in results] == ["invalid"] * 4 + ["created"]
    assert results[0]["errors"][0]["field"] == "title"
    assert results[1]["errors"][0]["field"] == "kind"
    assert results[2]["errors"][0]["field"] == "tracking_id"
    assert "belongs to kiosk MT09" in results[3]["errors"][0]["problem"]


def test_a_batch_of_three_hundred(central, token):
    base, _, _ = central
    batch = [report() for _ in range(300)]
    results = send(base, token, *batch)
    assert [r["outcome"] for r in results] == ["created"] * 300
    assert [r["tracking_id"] for r in results] == [b["tracking_id"] for b in batch]


def test_reference_data_with_etag(central, token):
    base, _, _ = central
    first = requests.get(f"{base}/api/v1/reference", headers=auth(token), timeout=30)
    assert first.status_code == 200 and len(first.json()["kecamatan"]) == 9
    etag = first.headers["ETag"]
    again = requests.get(f"{base}/api/v1/reference", headers={**auth(token), "If-None-Match": etag}, timeout=30)
    assert again.status_code == 304 and again.content == b""


def test_status_never_shows_identity_or_confidential_content(central, token):
    base, _, _ = central
    public, secret = report(), report(confidential=True, title="Kepala dinas minta uang")
    send(base, token, public, secret)
    shown = requests.get(f"{base}/api/v1/reports/{public['tracking_id']}/status", headers=auth(token), timeout=30)
    assert shown.status_code == 200 and shown.json()["status"] == "received"
    assert shown.json()["title"] == "Antrean puskesmas"
    hidden = requests.get(f"{base}/api/v1/reports/{secret['tracking_id']}/status", headers=auth(token), timeout=30)
    assert hidden.json()["title"] is None
    for response in (shown, hidden):
        for private in ("Siti Aminah", "081234567890", "Kepala dinas", "sangat panjang"):
            assert private not in response.text
    unknown = requests.get(f"{base}/api/v1/reports/{new_tracking_id('MT01')}/status", headers=auth(token), timeout=30)
    assert unknown.status_code == 404 and unknown.json() == {"detail": "not found"}
    typo = requests.get(f"{base}/api/v1/reports/MT01-00000-00000/status", headers=auth(token), timeout=30)
    assert typo.status_code == 400


def test_openapi_schema_is_served(central):
    base, _, _ = central
    schema = requests.get(f"{base}/openapi.json", timeout=30).json()
    assert {"/api/v1/reports", "/api/v1/reference", "/api/v1/reports/{tracking_id}/status"} <= set(schema["paths"])


def test_health_check_answers_without_a_token(central):
    base, _, _ = central
    answer = requests.get(f"{base}/healthz", timeout=30)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def move(url: str, tracking_id: str, action: str, *extra: str):
    return _cli(url, "report", tracking_id, action, "--actor", "Petugas Rina", *extra)


def test_lifecycle_through_the_officer_cli(central, token):
    """received -> verified -> forwarded -> in progress -> answered -> closed, each step
    with time and actor; the citizen's view shows the agency and the reply, never the note."""
    base, url, _ = central
    body = report()
    send(base, token, body)
    tid = body["tracking_id"]
    steps = [("verify",), ("forward", "--agency", "DINKES"), ("start",),
             ("answer", "--reply", "Jadwal loket ditambah mulai Senin.", "--note", "internal: ditelepon kepala puskesmas"),
             ("close",)]
    for action, *extra in steps:
        result = move(url, tid, action, *extra)
        assert result.returncode == 0, result.stderr
    status = requests.get(f"{base}/api/v1/reports/{tid}/status", headers=auth(token), timeout=30).json()
    assert status["status"] == "closed" and status["agency_code"] == "DINKES"
    assert [e["status"] for e in status["events"]] == ["received", "verified", "forwarded", "in_progress", "answered", "closed"]
    assert status["events"][4]["public_reply"] == "Jadwal loket ditambah mulai Senin."
    text_ = str(status)
    assert "internal" not in text_ and "Petugas Rina" not in text_


def test_wrong_transitions_are_refused_with_a_reason(central, token):
    base, url, _ = central
    body = report()
    send(base, token, body)
    tid = body["tracking_id"]
    closing = move(url, tid, "close")
    assert closing.returncode == 2 and "cannot close a report that is received" in closing.stderr
    assert "needs --agency" in move(url, tid, "forward").stderr
    assert "needs --reply" in move(url, tid, "reject").stderr
    assert move(url, tid, "reject", "--reply", "Bukan kewenangan; silakan hubungi BPJS.").returncode == 0
    assert move(url, "MT01-00000-00000", "verify").returncode == 2


def test_officer_api_moves_reports_and_reroutes(central, token):
    """No Wrong Door: a report forwarded to the wrong agency is rerouted to another."""
    base, url, _ = central
    officer = _cli(url, "officer", "add", f"rina-{uuid.uuid4().hex[:6]}").stdout.strip()
    body = report()
    send(base, token, body)
    tid = body["tracking_id"]

    def act(**payload):
        return requests.post(f"{base}/api/v1/officer/reports/{tid}/actions", json=payload,
                             headers=auth(officer), timeout=30)

    assert act(action="verify").json()["status"] == "verified"
    assert act(action="forward", agency="DISDIK").json()["status"] == "forwarded"
    assert act(action="reroute", agency="DINKES", note="bukan kewenangan Disdik").json()["status"] == "rerouted"
    assert act(action="close").status_code == 409
    assert requests.post(f"{base}/api/v1/officer/reports/{tid}/actions", json={"action": "verify"},
                         headers=auth(token), timeout=30).status_code == 401  # a kiosk token is not an officer's
    status = requests.get(f"{base}/api/v1/reports/{tid}/status", headers=auth(token), timeout=30).json()
    assert status["agency_code"] == "DINKES" and status["status"] == "rerouted"


def test_the_same_report_sent_concurrently_is_stored_once(central, token):
    """Several requests racing with one Tracking ID (a retry overtaking the original):
    one is created, the others are duplicates with the same result."""
    from concurrent.futures import ThreadPoolExecutor

    base, url, _ = central
    body = report()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: send(base, token, body)[0], range(8)))
    outcomes = sorted(r["outcome"] for r in results)
    assert outcomes == ["created"] + ["duplicate"] * 7
    assert len({r["received_at"] for r in results}) == 1
    assert query(url, "SELECT count(*) FROM reports WHERE tracking_id = :t", t=body["tracking_id"]) == [(1,)]


# -- the schema says what the central really answers ------------------------------------------
#: Every operation and every status it can answer. 304: reference data unchanged; 400: a
#: malformed Tracking ID; 401: token; 404: unknown report; 409: a wrong lifecycle step;
#: 413: a body past the cap; 422: a body or query outside the contract; 429: too many
#: status lookups; 503: no database.
ANSWERS = {
    ("get", "/healthz"): {"200", "503"},
    ("post", "/api/v1/reports"): {"200", "400", "401", "413", "422"},
    ("post", "/api/v1/feedback"): {"200", "400", "401", "413", "422"},
    ("get", "/api/v1/reference"): {"200", "304", "401"},
    ("get", "/api/v1/reports/{tracking_id}/status"): {"200", "400", "401", "404", "429"},
    # A recorded complaint: 403 another kiosk's report, 409 another recording, 415 not audio/ogg.
    ("put", "/api/v1/reports/{tracking_id}/voice"): {"200", "400", "401", "403", "404", "409", "413", "415"},
    ("post", "/api/v1/heartbeat"): {"200", "400", "401", "413", "422"},
    ("get", "/api/v1/fleet"): {"200", "401", "422"},
    ("post", "/api/v1/officer/reports/{tracking_id}/actions"): {"200", "400", "401", "403", "404", "409", "413", "422"},
    ("get", "/status/{tracking_id}"): {"200", "303", "404", "429"},  # 303: the "type it again" form
}


def documented(schema: dict, method: str, path: str, status: int) -> dict:
    return schema["paths"][path][method]["responses"][str(status)]


def test_openapi_lists_every_answer_each_route_gives(central):
    """GIVEN the running central WHEN a client (or a fuzzer) reads /openapi.json THEN each
    operation lists exactly the statuses it answers, each error with a JSON model, the
    headers a client needs (Retry-After, WWW-Authenticate, ETag), and the bearer token."""
    base, _, _ = central
    schema = requests.get(f"{base}/openapi.json", timeout=30).json()
    listed = {(method, path): set(op["responses"]) for path, ops in schema["paths"].items() for method, op in ops.items()}
    assert listed == ANSWERS
    for (method, path), statuses in ANSWERS.items():
        for status in statuses - {"200", "303", "304"}:  # no body: a redirect, not modified
            content = documented(schema, method, path, int(status)).get("content", {})
            if path.startswith("/status/") and status == "404":
                assert "text/html" in content  # the public page says "not found" as a page
            else:
                ref = content["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in schema["components"]["schemas"], (method, path, status)
        if "401" in statuses:
            assert "WWW-Authenticate" in documented(schema, method, path, 401)["headers"]
            assert op_security(schema, method, path)
        if "429" in statuses:
            assert "Retry-After" in documented(schema, method, path, 429)["headers"]
    assert "ETag" in documented(schema, "get", "/api/v1/reference", 304)["headers"]
    assert "ETag" in documented(schema, "get", "/api/v1/reference", 200)["headers"]
    assert {"KioskToken", "OfficerToken"} <= set(schema["components"]["securitySchemes"])


def op_security(schema: dict, method: str, path: str) -> list:
    return schema["paths"][path][method].get("security", [])


def test_each_error_answer_has_the_documented_body_and_headers(central, token):
    """GIVEN the running central WHEN a request provokes 400 (a malformed ID, a body that
    is not JSON), 401, 404, 409, 422, 429 (and
    the 304 of unchanged reference data) THEN the answer has that status, its body parses as
    the model /openapi.json names for it, field for field, and the documented headers are there."""
    from central.deps import InvalidRequest
    from kiosk.kernel.wire import Problem

    base, url, _ = central
    schema = requests.get(f"{base}/openapi.json", timeout=30).json()
    models = {"Problem": Problem, "InvalidRequest": InvalidRequest}
    officer = _cli(url, "officer", "add", f"rina-{uuid.uuid4().hex[:6]}").stdout.strip()
    body = report()
    send(base, token, body)
    status_path = "/api/v1/reports/{tracking_id}/status"
    actions_path = "/api/v1/officer/reports/{tracking_id}/actions"

    def check(answer: requests.Response, method: str, path: str, status: int) -> dict:
        assert answer.status_code == status, (path, answer.status_code, answer.text)
        doc = documented(schema, method, path, status)
        for header in doc.get("headers", {}):
            assert header in answer.headers, (path, status, header)
        if "content" not in doc:
            assert answer.content == b""
            return {}
        model = models[doc["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
        parsed = model.model_validate(answer.json())
        assert parsed.model_dump(mode="json", exclude_unset=True) == answer.json(), (path, status)
        return answer.json()

    typo = check(requests.get(f"{base}/api/v1/reports/MT01-00000-00000/status", headers=auth(token), timeout=30),
                 "get", status_path, 400)
    assert typo["detail"]["field"] == "tracking_id"
    check(requests.post(f"{base}/api/v1/reports", json={"reports": [report()]}, timeout=30), "post", "/api/v1/reports", 401)
    check(requests.get(f"{base}/api/v1/fleet", headers=auth(token), timeout=30), "get", "/api/v1/fleet", 401)
    unknown = check(requests.get(f"{base}/api/v1/reports/{new_tracking_id('MT01')}/status", headers=auth(token), timeout=30),
                    "get", status_path, 404)
    assert unknown == {"detail": "not found"}
    check(requests.post(f"{base}/api/v1/officer/reports/{new_tracking_id('MT01')}/actions", json={"action": "verify"},
                        headers=auth(officer), timeout=30), "post", actions_path, 404)
    wrong = check(requests.post(f"{base}/api/v1/officer/reports/{body['tracking_id']}/actions", json={"action": "close"},
                                headers=auth(officer), timeout=30), "post", actions_path, 409)
    assert "cannot close a report that is received" in wrong["detail"]
    check(requests.post(f"{base}/api/v1/reports", json={"reports": []}, headers=auth(token), timeout=30),
          "post", "/api/v1/reports", 422)
    for path in ("/api/v1/reports", "/api/v1/heartbeat"):  # bytes that are not UTF-8 (found by schemathesis)
        check(requests.post(f"{base}{path}", data=b"\x13\xff\xfe^\x80", timeout=30,
                            headers={**auth(token), "Content-Type": "application/json"}), "post", path, 400)
    check(requests.get(f"{base}/api/v1/fleet?max_queue=-1", headers=auth(officer), timeout=30), "get", "/api/v1/fleet", 422)
    etag = requests.get(f"{base}/api/v1/reference", headers=auth(token), timeout=30).headers["ETag"]
    check(requests.get(f"{base}/api/v1/reference", headers={**auth(token), "If-None-Match": etag}, timeout=30),
          "get", "/api/v1/reference", 304)
    for _ in range(40):  # the public page allows a burst of 30 lookups per client
        answer = requests.get(f"{base}/status/{new_tracking_id('MT01')}", timeout=30)
        if answer.status_code != 404:
            break
    limited = check(answer, "get", "/status/{tracking_id}", 429)
    assert limited == {"detail": "too many status lookups"} and int(answer.headers["Retry-After"]) >= 1


def test_a_report_may_be_written_in_every_language_the_kiosk_speaks():
    """The contract's languages are the kiosk's (kiosk.kernel.i18n), so no citizen's
    report is refused for the language the kiosk offered."""
    import typing

    from kiosk.kernel.i18n import LANGUAGES
    from kiosk.kernel.wire import Language

    assert set(typing.get_args(Language)) == set(LANGUAGES)


def test_control_characters_are_refused_field_by_field_and_spare_the_neighbours(central, token):
    """GIVEN a batch where some reports hold a NUL, an escape or a lone surrogate (PostgreSQL
    cannot store NUL: this was a 500 for the whole batch) WHEN it is sent THEN each such
    report is ``invalid`` naming its field, the good ones beside them are created, and a
    description keeps its line breaks; the same on SQLite and PostgreSQL."""
    base, url, _ = central
    bad = {"category_code": "KESEHATAN\x00", "agency_code": "DINKES\x00", "title": "Antrean\ud800",
           "reporter_name": "Siti\x1b[2J", "description": "Panjang\x00 sekali"}
    good = [report(), report(description="Antrean panjang.\nSetiap pagi.\r\n\tLoket satu.")]
    results = send(base, token, good[0], *[report(**{field: value}) for field, value in bad.items()], good[1])
    assert [r["outcome"] for r in results] == ["created"] + ["invalid"] * len(bad) + ["created"]
    for field, result in zip(bad, results[1:-1]):
        assert [e["field"] for e in result["errors"]] == [field]
        assert field == "title" or "U+00" in result["errors"][0]["problem"]  # a surrogate is no unicode string at all
    [(description,)] = query(url, "SELECT body FROM reports WHERE tracking_id = :t", t=good[1]["tracking_id"])
    assert "Setiap pagi" in description


def test_an_officer_text_with_a_control_character_is_a_422(central, token):
    base, url, _ = central
    officer = _cli(url, "officer", "add", f"rina-{uuid.uuid4().hex[:6]}").stdout.strip()
    body = report()
    send(base, token, body)
    actions = f"{base}/api/v1/officer/reports/{body['tracking_id']}/actions"
    for payload in ({"action": "verify", "note": "ok\x00"}, {"action": "reject", "reply": "tidak\x00"},
                    {"action": "forward", "agency": "DINKES\x00"}, {"action": "ver\x00ify"}):
        answer = requests.post(actions, json=payload, headers=auth(officer), timeout=30)
        assert answer.status_code == 422, (payload, answer.text)
    multi_line = {"action": "verify", "note": "baris satu\nbaris dua"}
    assert requests.post(actions, json=multi_line, headers=auth(officer), timeout=30).json()["status"] == "verified"


def test_created_at_must_be_a_time_some_kiosk_clock_could_show(central, token):
    """Year 1 and year 9999 are refused; a kiosk clock a few days ahead is not."""
    import datetime as dt

    base, _, _ = central
    now = dt.datetime.now(dt.timezone.utc)
    refused = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "2019-12-31T23:59:59+00:00",
               (now + dt.timedelta(days=31)).isoformat()]
    taken = ["2020-01-01T00:00:00+00:00", (now + dt.timedelta(days=3)).isoformat()]
    results = send(base, token, *[report(created_at=value) for value in refused + taken])
    assert [r["outcome"] for r in results] == ["invalid"] * len(refused) + ["created"] * len(taken)
    for result in results[:len(refused)]:
        assert result["errors"][0]["field"] == "created_at" and "clock" in result["errors"][0]["problem"]


# -- issue 12: agencies the central does not know are refused; a quiet CLI; the demo -------
def test_unknown_agencies_are_refused_by_the_cli_and_the_officer_api(central, token):
    """GIVEN a verified report WHEN an officer forwards it to "pupr" or "nonexistent" THEN
    the CLI exits 2 naming the codes it knows and the API answers 409 with the same reason;
    the report stays where it was, so no citizen reads "the office responsible" for nobody.
    A known code in lower case is the same agency."""
    base, url, _ = central
    officer = _cli(url, "officer", "add", f"rina-{uuid.uuid4().hex[:6]}").stdout.strip()
    body = report()
    send(base, token, body)
    tid = body["tracking_id"]
    assert move(url, tid, "verify").returncode == 0
    for code in ("pupr", "nonexistent"):
        refused = move(url, tid, "forward", "--agency", code)
        assert refused.returncode == 2 and f"unknown agency '{code}'" in refused.stderr and "DPUPR" in refused.stderr
        answer = requests.post(f"{base}/api/v1/officer/reports/{tid}/actions", json={"action": "forward", "agency": code},
                               headers=auth(officer), timeout=30)
        assert answer.status_code == 409 and f"unknown agency '{code}'" in answer.json()["detail"]
    status = requests.get(f"{base}/api/v1/reports/{tid}/status", headers=auth(token), timeout=30).json()
    assert status["status"] == "verified" and status["agency_code"] is None
    assert move(url, tid, "forward", "--agency", "dpupr").returncode == 0
    status = requests.get(f"{base}/api/v1/reports/{tid}/status", headers=auth(token), timeout=30).json()
    assert status["status"] == "forwarded" and status["agency_code"] == "DPUPR"


def test_the_central_cli_does_not_print_alembics_lines(tmp_path):
    """A first command migrates the database with one line of ours; later ones say nothing
    but their answer."""
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    first = _cli(url, "kiosks")
    assert first.returncode == 0 and "alembic" not in first.stderr
    assert first.stderr.count("schema upgraded") == 1
    again = _cli(url, "kiosks")
    assert again.returncode == 0 and again.stderr == "" and "no kiosks registered" in again.stdout


def test_the_demo_kiosk_points_its_receipts_at_the_central_status_page(tmp_path):
    from central.demo import kiosk_config
    from kiosk.runtime.config import load_config

    path = tmp_path / "kiosk.toml"
    path.write_text(kiosk_config(tmp_path, "http://127.0.0.1:8123", "tok"), encoding="utf-8")
    config = load_config(path, environ={})
    assert config.status_base_url == "http://127.0.0.1:8123/status" and config.central_url == "http://127.0.0.1:8123"
