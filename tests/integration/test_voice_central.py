"""A recorded complaint at a real central on 127.0.0.1 (SQLite and PostgreSQL): the upload
kept once per Tracking ID and hash, every refusal a kiosk can meet, the kiosk's worker
delivering it after its report and forgetting its copy, and the officers' player on the
report page (only where the report may be read); never on the public page or status API."""
from __future__ import annotations

import hashlib
import sqlite3

import pytest
import requests

from kiosk.core import reference
from kiosk.core.domain import Draft, ReportKind
from kiosk.core.reports import ReportService
from kiosk.core.store.db import open_store
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.wire import VOICE_MAX_BYTES
from sync_queue.client import CentralClient
from sync_queue.outbox import voice_key
from sync_queue.worker import SyncWorker
from tests.support import servers
from tests.support.central import auth, central_cli, query, report, running_central, send
from tests.support.clock import FakeClock
from tests.support.spoken import recorded, speech_wav
from tests.support.workbench import CSP, add_officer, get_page, log_in


@pytest.fixture(scope="module")
def note(tmp_path_factory):
    """Real Indonesian speech (espeak-ng) recorded through the kiosk's recorder."""
    return recorded(speech_wav(tmp_path_factory.mktemp("voice") / "complaint.wav"))


def put(base: str, token: str, tid: str, body: bytes, sha256: str | None = None, **headers) -> requests.Response:
    headers = {"Content-Type": "audio/ogg", "X-Content-SHA256": sha256 or hashlib.sha256(body).hexdigest(),
               **auth(token), **headers}
    return requests.put(f"{base}/api/v1/reports/{tid}/voice", data=body, headers=headers, timeout=30)


def spoken_report(note, **changes) -> dict:
    return report(description="", voice={"sha256": note.sha256, "duration_s": note.duration_s}, **changes)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """A central on each backend with two kiosks' tokens."""
    url = (f"sqlite:///{tmp_path_factory.mktemp('voice_central') / 'central.sqlite3'}" if request.param == "sqlite"
           else servers.fresh_database(request.getfixturevalue("postgres_url"), "voice"))
    with running_central(url) as base:
        tokens = {code: central_cli(url, "kiosk", "add", code, "--location", f"Kiosk {code}").stdout.strip()
                  for code in ("MT01", "MT02")}
        yield base, url, tokens


def test_a_recording_is_kept_once_and_every_wrong_upload_is_refused_with_its_reason(world, note):
    base, url, tokens = world
    spoken = spoken_report(note)
    other = spoken_report(note)
    typed = report()
    assert [r["outcome"] for r in send(base, tokens["MT01"], spoken, other, typed)] == ["created"] * 3
    tid = spoken["tracking_id"]

    first = put(base, tokens["MT01"], tid, note.ogg)
    assert first.status_code == 200, first.text
    assert first.json()["sha256"] == note.sha256 and first.json()["size"] == len(note.ogg)
    again = put(base, tokens["MT01"], tid, note.ogg)  # the kiosk never heard the answer
    assert (again.status_code, again.json()) == (200, first.json())

    damaged = note.ogg[:-1] + bytes([note.ogg[-1] ^ 1])
    assert put(base, tokens["MT01"], other["tracking_id"], damaged, note.sha256).status_code == 400  # hash mismatch
    different = put(base, tokens["MT01"], tid, damaged)  # another recording for a report that has one
    assert different.status_code == 409 and "another recording" in different.json()["detail"]
    assert put(base, tokens["MT01"], typed["tracking_id"], note.ogg).status_code == 409  # announced none
    assert put(base, tokens["MT02"], other["tracking_id"], note.ogg).status_code == 403  # another kiosk's report
    assert put(base, tokens["MT01"], report()["tracking_id"], note.ogg).status_code == 404
    assert put(base, "wrong", other["tracking_id"], note.ogg).status_code == 401
    assert put(base, tokens["MT01"], other["tracking_id"], b"OggS" + bytes(VOICE_MAX_BYTES)).status_code == 413
    assert put(base, tokens["MT01"], other["tracking_id"], note.ogg, **{"Content-Type": "audio/wav"}).status_code == 415
    assert put(base, tokens["MT01"], other["tracking_id"], b"RIFF not an ogg").status_code == 400

    rows = query(url, "SELECT tracking_id, sha256, size FROM voice_notes")
    assert rows == [(tid, note.sha256, len(note.ogg))]  # one recording, the first, whatever came after
    stored = query(url, "SELECT content FROM voice_notes")[0][0]
    assert bytes(stored) == note.ogg

    # The recording is the description: nobody outside the workbench hears of it.
    status = requests.get(f"{base}/api/v1/reports/{tid}/status", headers=auth(tokens["MT02"]), timeout=30)
    assert status.status_code == 200 and "voice" not in status.text and note.sha256 not in status.text
    public = requests.get(f"{base}/status/{tid}", timeout=30)
    assert public.status_code == 200 and "audio" not in public.text and "/voice" not in public.text


def test_officers_who_may_read_the_report_hear_it_and_no_one_else(world, note):
    base, url, tokens = world
    spoken = spoken_report(note, agency_code="DINKES", anonymous=True, confidential=True)
    waiting = spoken_report(note)
    send(base, tokens["MT01"], spoken, waiting)
    tid = spoken["tracking_id"]
    assert put(base, tokens["MT01"], tid, note.ogg).status_code == 200
    suffix = tid[-4:].lower()
    secret = add_officer(url, f"admin-{suffix}", "admin", totp=True)
    add_officer(url, f"dinkes-{suffix}", "agency", "DINKES")
    add_officer(url, f"viewer-{suffix}", "viewer")
    admin = log_in(base, f"admin-{suffix}", secret)
    agency, viewer = log_in(base, f"dinkes-{suffix}"), log_in(base, f"viewer-{suffix}")

    page = get_page(admin, base, f"/workbench/reports/{tid}")
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
    assert "media-src 'self'" in CSP
    assert f"Rekaman suara, {round(note.duration_s)} detik" in page.text  # about 10 s of speech
    assert f'<audio controls preload="none" src="/workbench/reports/{tid}/voice' in page.text
    for browser in (admin, viewer):
        heard = browser.get(f"{base}/workbench/reports/{tid}/voice", allow_redirects=False, timeout=30)
        assert heard.status_code == 200 and heard.content == note.ogg
        assert heard.headers["Content-Type"] == "audio/ogg" and heard.headers["Cache-Control"] == "no-store"

    # Not forwarded to DINKES yet: its officer may not read the report, nor hear it.
    refused = agency.get(f"{base}/workbench/reports/{tid}/voice", allow_redirects=False, timeout=30)
    assert refused.status_code == 404 and note.ogg[:64] not in refused.content
    central_cli(url, "report", tid, "verify", "--actor", "Admin")
    central_cli(url, "report", tid, "forward", "--agency", "DINKES", "--actor", "Admin")
    assert agency.get(f"{base}/workbench/reports/{tid}/voice", timeout=30).content == note.ogg

    visitor = requests.get(f"{base}/workbench/reports/{tid}/voice", allow_redirects=False, timeout=30)
    assert visitor.status_code == 303 and visitor.headers["Location"] == "/workbench/login"

    # Announced, not arrived yet: the page says so and offers no player.
    page = get_page(admin, base, f"/workbench/reports/{waiting['tracking_id']}")
    assert "Rekaman belum tiba dari kiosk." in page.text and "<audio" not in page.text
    assert admin.get(f"{base}/workbench/reports/{waiting['tracking_id']}/voice", timeout=30).status_code == 404


def test_the_kiosks_worker_delivers_the_recording_after_its_report_once_and_forgets_it(central, token, tmp_path, note):
    """GIVEN a spoken report on a kiosk WHEN its worker runs against the central THEN the
    report goes first, then the recording, each once; the kiosk keeps the hash and length
    but no longer the recording; a resent recording changes nothing."""
    base, url, db_file = central
    clock = FakeClock()
    store = open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "secret.key")
    reference.load_seed_if_empty(store)
    try:
        service = ReportService(store, kiosk_code="MT01", clock=clock.now)
        tid = service.submit(Draft(kind=ReportKind.PENGADUAN, category_code="KESEHATAN", incident_date=clock.now().astimezone(LOCAL_TZ).date(),
                                   kecamatan_code="LAHEI", voice=note)).tracking_id
        client = CentralClient(base, token, timeout=10)
        worker = SyncWorker(store, service, client, now=clock.now, rng=lambda: 0.5, monotonic=clock.monotonic)
        assert [worker.run_once().sent for _ in range(3)] == [1, 1, 0]
        with sqlite3.connect(db_file) as con:
            assert con.execute("SELECT count(*), min(sha256), min(length(content)) FROM voice_notes "
                               "WHERE tracking_id = ?", (tid,)).fetchone() == (1, note.sha256, len(note.ogg))
            title, = con.execute("SELECT json_extract(body, '$.title') FROM reports WHERE tracking_id = ?", (tid,)).fetchone()
        assert title == "Kesehatan"
        assert service.voice_info(tid) == (note.sha256, note.duration_s, False)
        with sqlite3.connect(store.path) as con:
            assert con.execute("SELECT audio FROM voice_notes").fetchone() == (None,)
            assert dict(con.execute("SELECT kind, state FROM outbox")) == {"report": "sent", "voice": "sent"}
        assert client.put_voice(tid, note.ogg, note.sha256).sha256 == note.sha256  # a late repeat: same answer
        assert [e.tracking_id for e in service.outbox.entries(include_sent=True)] == [tid, voice_key(tid)]
    finally:
        store.close()
