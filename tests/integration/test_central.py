"""The central service, run for real: ``python -m central serve`` in a subprocess on
127.0.0.1 with its own SQLite database, kiosks registered through its CLI."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

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
