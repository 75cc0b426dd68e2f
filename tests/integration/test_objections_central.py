"""The citizen's answer to the answer at the central, over real HTTP on a real PostgreSQL:
objections and ratings from a kiosk (once per key, whatever the retries), the public page's
forms (double-submit token, nothing of a confidential report), what officers and citizens
see, and the automatic close run by two machines at once (one close per report)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
import uuid

import pytest
import requests

from central.db import Database
from central.feedback import close_answered
from kiosk.kernel.tracking_id import format_tracking_id
from tests.support.central import auth, central_cli, query, report, running_central, send
from tests.support.workbench import add_officer, log_in

REPLY = "Puskesmas menambah loket pada pagi hari."
OBJECTION = "Antrean masih panjang, loket baru belum dibuka <script>alert(1)</script>"
ANSWERED = (("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", REPLY))


@dataclasses.dataclass
class World:
    base: str
    url: str
    token: str
    dinkes: requests.Session

    def new(self, *steps, **changes) -> str:
        body = report(**changes)
        send(self.base, self.token, body)
        for action, *extra in steps:
            result = central_cli(self.url, "report", body["tracking_id"], action, "--actor", "Budi Dinkes", *extra)
            assert result.returncode == 0, result.stderr
        return body["tracking_id"]

    def status(self, tid: str) -> str:
        return query(self.url, "SELECT status FROM reports WHERE tracking_id = :t", t=tid)[0][0]

    def feedback(self, *items: dict, token: str | None = None) -> list[dict]:
        answer = requests.post(f"{self.base}/api/v1/feedback", json={"items": list(items)},
                               headers=auth(token or self.token), timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["results"]


@pytest.fixture(scope="module")
def world(postgres_url) -> World:
    from tests.support.servers import fresh_database

    url = fresh_database(postgres_url, "objections")
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        add_officer(url, "Budi Dinkes", "agency", "DINKES")
        yield World(base, url, token, log_in(base, "Budi Dinkes"))


def objection(tid: str, text: str = OBJECTION, key: str | None = None) -> dict:
    return {"key": key or uuid.uuid4().hex, "kind": "objection", "tracking_id": tid, "text": text,
            "filed_at": dt.datetime.now(dt.timezone.utc).isoformat()}


def rating(tid: str, score: int, key: str | None = None) -> dict:
    return {"key": key or uuid.uuid4().hex, "kind": "rating", "tracking_id": tid, "score": score,
            "filed_at": dt.datetime.now(dt.timezone.utc).isoformat()}


def test_an_objection_reopens_the_report_once_whatever_the_retries(world):
    tid = world.new(*ANSWERED)
    item = objection(tid)
    assert world.feedback(item) == [{"key": item["key"], "outcome": "created", "errors": []}]
    assert world.status(tid) == "in_progress"
    # The kiosk never got the answer and sends it again, in a batch with a rating.
    again = world.feedback(item, rating(tid, 2))
    assert [r["outcome"] for r in again] == ["duplicate", "created"]
    assert query(world.url, "SELECT count(*) FROM objections WHERE tracking_id = :t", t=tid) == [(1,)]
    assert query(world.url, "SELECT count(*) FROM report_events WHERE tracking_id = :t AND status = 'objected'",
                 t=tid) == [(1,)]
    # Another text under the same key is not applied.
    assert world.feedback({**item, "text": "lain"})[0]["outcome"] == "conflict"
    # The agency has 5 working days again, and the citizen reads a line without the text.
    public = requests.get(f"{world.base}/api/v1/reports/{tid}/status", headers=auth(world.token), timeout=30).json()
    assert public["status"] == "in_progress" and public["events"][-1]["status"] == "objected"
    page = requests.get(f"{world.base}/status/{tid}", timeout=30).text
    assert "Pelapor menyatakan masalah belum selesai" in page and "Antrean masih panjang" not in page
    english = requests.get(f"{world.base}/status/{tid}?lang=en", timeout=30).text
    assert "The reporter says the problem is not solved" in english
    # The officer reads the objection (escaped) and the rating on the report page.
    officer_page = world.dinkes.get(f"{world.base}/workbench/reports/{tid}", timeout=30).text
    assert "Antrean masih panjang, loket baru belum dibuka &lt;script&gt;" in officer_page
    assert "Masalah belum selesai" in officer_page and "2/5" in officer_page and "Tidak puas" in officer_page
    assert "Pelapor menyatakan masalah belum selesai" in officer_page


def test_the_latest_rating_wins_and_nothing_is_taken_for_an_unanswered_report(world):
    tid = world.new(*ANSWERED)
    first, second = rating(tid, 1), rating(tid, 5)
    assert [r["outcome"] for r in world.feedback(first, second, first)] == ["created", "created", "duplicate"]
    assert world.status(tid) == "answered"  # a rating moves nothing
    page = world.dinkes.get(f"{world.base}/workbench/reports/{tid}", timeout=30).text
    assert "5/5" in page and "Sangat puas" in page
    open_report = world.new(("verify",))
    refused = world.feedback(objection(open_report), rating("MT0114D2PF2DBX", 3),
                             {**rating(tid, 9)}, {**objection(tid), "key": "not-a-key"})
    assert [r["outcome"] for r in refused] == ["invalid"] * 4
    assert refused[0]["errors"][0]["field"] == "tracking_id"
    assert refused[2]["errors"][0]["field"] == "score"
    assert world.status(open_report) == "verified"
    too_long = world.feedback(objection(tid, "x" * 501))[0]
    assert too_long["outcome"] == "invalid" and too_long["errors"][0]["field"] == "text"
    assert requests.post(f"{world.base}/api/v1/feedback", json={"items": [rating(tid, 3)]}, timeout=30).status_code == 401


def _form(page: str) -> str:
    return re.search(r'name="form" value="([0-9a-f]{32})"', page).group(1)


def test_the_public_page_takes_an_objection_and_a_rating_once_per_form(world):
    tid = world.new(*ANSWERED, confidential=True, title="Judul rahasia sekali")
    browser = requests.Session()
    page = browser.get(f"{world.base}/status/{format_tracking_id(tid)}", timeout=30)
    assert page.status_code == 200 and "<script" not in page.text
    # Confidential: neither the title nor the reply, with or without the forms.
    assert "Judul rahasia" not in page.text and REPLY not in page.text
    assert 'action="' + tid + '/objection"' in page.text and 'name="score" value="5"' in page.text
    form = _form(page.text)
    sent = browser.post(f"{world.base}/status/{tid}/objection", data={"form": form, "text": "Belum\x00 beres", "lang": "id"},
                        timeout=30)
    assert sent.status_code == 200 and "Keberatan Anda tercatat" in sent.text
    # The same form sent again (a double tap, the back button): still one objection.
    again = requests.post(f"{world.base}/status/{tid}/objection", data={"form": form, "text": "Belum beres", "lang": "id"},
                          cookies={"lapor_feedback": form}, timeout=30)
    assert again.status_code == 200 and "Keberatan Anda tercatat" in again.text
    assert query(world.url, "SELECT text, kiosk_code FROM objections WHERE tracking_id = :t", t=tid) == [("Belum beres", None)]
    assert world.status(tid) == "in_progress"
    # Now it may be rated, not objected to again.
    page = browser.get(f"{world.base}/status/{tid}?lang=en", timeout=30).text
    assert "/objection" not in page and "/rating" in page
    rated = browser.post(f"{world.base}/status/{tid}/rating", data={"form": _form(page), "score": "4", "lang": "en"},
                         timeout=30)
    assert "your rating has been recorded" in rated.text
    assert query(world.url, "SELECT score FROM ratings WHERE tracking_id = :t", t=tid) == [(4,)]
    # A form from elsewhere (no cookie: another site's page, a script) is refused.
    stranger = requests.post(f"{world.base}/status/{tid}/rating", data={"form": uuid.uuid4().hex, "score": "1"}, timeout=30)
    assert "This form has expired" in stranger.text or "Formulir ini sudah kedaluwarsa" in stranger.text
    assert query(world.url, "SELECT count(*) FROM ratings WHERE tracking_id = :t", t=tid) == [(1,)]


def test_two_machines_closing_at_once_close_each_report_once(world):
    tids = [world.new(*ANSWERED) for _ in range(3)]
    objected = world.new(*ANSWERED)
    world.feedback(objection(objected))
    bodies = [report() for _ in range(40)]
    send(world.base, world.token, *bodies)
    tids += _answer_many(world, [b["tracking_id"] for b in bodies])
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)  # past 10 working days whatever the holidays
    waiting = {t for (t,) in query(world.url, "SELECT tracking_id FROM reports WHERE status = 'answered'")}
    assert set(tids) <= waiting  # and the other tests' answered reports
    machines = [Database(world.url), Database(world.url)]
    start, counts = threading.Barrier(2), []

    def run(db):
        start.wait()
        counts.append(close_answered(db, later))

    threads = [threading.Thread(target=run, args=(db,)) for db in machines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for db in machines:
        db.close()
    assert sum(counts) == len(waiting), counts  # none closed twice
    closes = dict(query(world.url, "SELECT tracking_id, count(*) FROM report_events WHERE status = 'closed' "
                                   "GROUP BY tracking_id"))
    assert all(closes.get(t) == 1 for t in waiting), {t: closes.get(t) for t in waiting}
    assert world.status(objected) == "in_progress"  # objected to: not closed
    # cron again: nothing left to close
    rerun = central_cli(world.url, "close-answered", "--now", later.isoformat())
    assert rerun.returncode == 0 and rerun.stdout.strip() == "0 reports closed", rerun.stderr
    public = requests.get(f"{world.base}/status/{tids[0]}?lang=en", timeout=30).text
    assert "Closed" in public and "/objection" not in public


def test_an_objection_filed_before_the_automatic_close_still_reopens(world):
    tid = world.new(*ANSWERED)
    filed = dt.datetime.now(dt.timezone.utc)
    later = filed + dt.timedelta(days=25)  # past 10 working days; a kiosk's time may be up to 30 days ahead
    assert central_cli(world.url, "close-answered", "--now", later.isoformat()).returncode == 0
    assert world.status(tid) == "closed"
    late = {**objection(tid), "filed_at": (later + dt.timedelta(minutes=1)).isoformat()}
    on_time = {**objection(tid), "filed_at": filed.isoformat()}
    assert [r["outcome"] for r in world.feedback(late)] == ["created"]
    assert world.status(tid) == "closed"  # filed after the close: kept for the officers only
    assert [r["outcome"] for r in world.feedback(on_time)] == ["created"]
    assert world.status(tid) == "in_progress"
    assert query(world.url, "SELECT reopened FROM objections WHERE tracking_id = :t ORDER BY filed_at", t=tid) == \
        [(True,), (False,)]


def _answer_many(world: World, tids: list[str]) -> list[str]:
    """Move reports to answered through the lifecycle itself, in this process (the CLI would take a minute)."""
    from central.lifecycle import apply

    db = Database(world.url)
    try:
        for tid in tids:
            apply(db, tid, "verify", actor="Budi Dinkes")
            apply(db, tid, "forward", actor="Budi Dinkes", agency="DINKES")
            apply(db, tid, "answer", actor="Budi Dinkes", reply=REPLY)
    finally:
        db.close()
    return tids
