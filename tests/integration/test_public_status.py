"""The public status page the receipt's QR code opens, and the limit on guessing."""
from __future__ import annotations


import json

import pytest
import requests

from central.ratelimit import RateLimiter
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id
from tests.support.central import central_cli, running_central
from tests.support.central import report, send


def move(url, tid, action, *extra):
    result = central_cli(url, "report", tid, action, "--actor", "Petugas Rina", *extra)
    assert result.returncode == 0, result.stderr


def test_public_page_timeline_in_both_languages_and_privacy(central, token):
    base, url, _ = central
    body = report(reporter_name="Siti Aminah", reporter_phone="081299998888")
    secret = report(confidential=True, title="Kepala dinas minta uang", reporter_name="Budi Santoso")
    send(base, token, body, secret)
    tid = body["tracking_id"]
    move(url, tid, "verify")
    move(url, tid, "forward", "--agency", "DINKES")
    move(url, tid, "answer", "--reply", "Loket tambahan dibuka mulai Senin.", "--note", "catatan internal rahasia")
    page_id = requests.get(f"{base}/status/{tid}", timeout=30)
    page_en = requests.get(f"{base}/status/{tid}?lang=en", timeout=30)
    assert page_id.status_code == page_en.status_code == 200
    assert format_tracking_id(tid) in page_id.text
    assert "Diteruskan ke Dinas Kesehatan" in page_id.text and "Dijawab oleh Dinas Kesehatan" in page_id.text
    assert "Forwarded to Health Office" in page_en.text and "Answered by Health Office" in page_en.text
    assert "Loket tambahan dibuka mulai Senin." in page_id.text
    assert "10 hari kerja" in page_id.text and "10 working days" in page_en.text
    assert "<script" not in page_id.text.lower()
    for private in ("Siti Aminah", "081299998888", "catatan internal", "Petugas Rina"):
        assert private not in page_id.text and private not in page_en.text
    hidden = requests.get(f"{base}/status/{secret['tracking_id']}", timeout=30)
    assert "Kepala dinas" not in hidden.text and "Budi Santoso" not in hidden.text
    assert "Laporan rahasia" in hidden.text


def test_unknown_and_mistyped_ids_get_plain_answers(central):
    base, _, _ = central
    unknown = requests.get(f"{base}/status/{new_tracking_id('MT01')}", timeout=30)
    assert unknown.status_code == 404 and "tidak ditemukan" in unknown.text
    typo = requests.get(f"{base}/status/MT01-00000-00000", timeout=30)
    assert typo.status_code == 404 and "salah ketik" in typo.text


def test_guessing_is_rate_limited(central):
    base, _, _ = central
    answers = [requests.get(f"{base}/status/{new_tracking_id('MT01')}", timeout=30) for _ in range(40)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and int(limited[0].headers["Retry-After"]) >= 1
    assert len(answers) - len(limited) <= 30 + 2  # the burst, and what refills while we ask


def test_rate_limiter_refills_with_time(tmp_path):
    """The buckets live in the database (central/ratelimit.py): two limiters on one database,
    as two workers have them, count against the same bucket."""
    from central.db import Database, migrate

    db = Database(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    migrate(db.engine)
    now = [1_800_000_000.0]
    limiter, other_worker = (RateLimiter(db, "public", per_minute=30, burst=3, clock=lambda: now[0]) for _ in range(2))
    assert [limiter.take("a"), other_worker.take("a"), limiter.take("a")] == [0, 0, 0]
    assert other_worker.take("a") == 2.0  # one token every 2 s
    assert limiter.take("b") == 0  # per client
    now[0] += 2
    assert other_worker.take("a") == 0
    assert limiter.take("a") == 2.0
    db.close()


def test_a_bucket_taken_in_the_callers_transaction_goes_with_it(tmp_path):
    """GIVEN a bucket with one token left WHEN it is taken in a transaction that rolls back
    THEN the token is still there; taken in one that commits, it is gone (the SMS desk takes
    a message's buckets in the transaction that stores the message)."""
    from central.db import Database, migrate

    db = Database(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    migrate(db.engine)
    limiter = RateLimiter(db, "smsnum", per_minute=1, burst=2, clock=lambda: 1_800_000_000.0)
    assert limiter.take("n") == 0
    with db.engine.connect() as conn:
        with conn.begin() as transaction:
            assert limiter.take("n", connection=conn) == 0
            transaction.rollback()
        with conn.begin():
            assert limiter.take("n", connection=conn) == 0
    assert limiter.take("n") == 60.0
    db.close()


# -- hostile paths: the page never reflects them, and says what the browser may do ----------
@pytest.fixture(scope="module")
def own_url(tmp_path_factory):
    """The database URL of :func:`own_central`."""
    return f"sqlite:///{tmp_path_factory.mktemp('central-edges') / 'central.sqlite3'}"


@pytest.fixture(scope="module")
def own_central(own_url):
    """A central of these tests alone (the tests above spend this address's lookups);
    yields (base URL, a kiosk token)."""
    with running_central(own_url) as base:
        yield base, central_cli(own_url, "kiosk", "add", "MT01", "--location", "Muara Teweh").stdout.strip()


#: (A "/", even as %2F, ends the path segment: no route, a JSON 404 that quotes nothing.)
HOSTILE_PATHS = ("javascript%3Aalert%28document.domain%29%3C%21--", "https%3Aevil.example",
                 "%5C%5Cevil.example", "%22%3E%3Cscript%3Ealert(1)%3C")


def test_every_html_answer_carries_the_security_headers(own_central):
    base, token = own_central
    body = report()
    send(base, token, body)
    for path in (body["tracking_id"], new_tracking_id("MT01"), "MT01-00000-00000", *HOSTILE_PATHS):
        answer = requests.get(f"{base}/status/{path}", timeout=30)
        assert answer.headers["Content-Type"].startswith("text/html"), path
        policy = answer.headers["Content-Security-Policy"]
        # form-action 'self' (was 'none', issue 12): the "type it again" form goes only to this service.
        for rule in ("default-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"):
            assert rule in policy
        assert "script-src" not in policy and "unsafe-inline" not in policy
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_a_hostile_path_is_never_written_into_the_page(own_central):
    """GIVEN a path that is no Tracking ID (a javascript: URL, another site) WHEN the page
    answers THEN nothing of it is in the page: the language link only changes the query."""
    base, _ = own_central
    for path in HOSTILE_PATHS:
        page = requests.get(f"{base}/status/{path}", timeout=30)
        assert page.status_code == 404 and "salah ketik" in page.text
        assert "javascript" not in page.text and "evil" not in page.text and "alert" not in page.text
        assert 'href="?lang=en"' in page.text


def test_the_language_link_stays_on_the_central_in_a_real_browser(own_central):
    """GIVEN the reflected-XSS path of the security test, and a real report's page WHEN
    headless Chromium clicks "English" THEN no script runs (no dialog), the browser lands on
    the same page of the central in English, and the page's own style is allowed by its CSP."""
    from tests.support.browser import Chromium

    base, token = own_central
    body = report()
    send(base, token, body)
    pages = {f"{base}/status/{HOSTILE_PATHS[0]}": f"{base}/status/{HOSTILE_PATHS[0]}?lang=en",
             f"{base}/status/{format_tracking_id(body['tracking_id'])}": f"{base}/status/{body['tracking_id']}?lang=en"}
    with Chromium() as browser:
        for start, expected in pages.items():
            browser.open(start)
            assert browser.evaluate("document.querySelector('a').href") == expected
            assert browser.evaluate("getComputedStyle(document.querySelector('h1')).color") == "rgb(10, 79, 156)"
            box = json.loads(browser.evaluate("JSON.stringify(document.querySelector('a').getBoundingClientRect())"))
            browser.events.clear()
            browser.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            landed = browser.wait_for(lambda e: e.get("method") in ("Page.frameNavigated", "Page.javascriptDialogOpening"))
            assert landed["method"] == "Page.frameNavigated", landed
            assert landed["params"]["frame"]["url"] == expected
            browser.wait_for(lambda e: e.get("method") == "Page.loadEventFired")
            assert "English" not in browser.evaluate("document.body.innerText")  # now the link offers Indonesian
            violations = [e for e in browser.events if e.get("method") == "Log.entryAdded"
                          and "Content Security Policy" in e["params"]["entry"].get("text", "")]
            assert not violations, violations


# -- issue 12: a confidential report's reply, and a wrong number is no dead end -------------
def test_a_confidential_reports_reply_is_not_on_the_web_page(own_central, own_url):
    """GIVEN a confidential report answered with a reply that quotes it WHEN its web page is
    opened THEN the reply is not there, and the page says where to read it (a kiosk)."""
    base, token = own_central
    url = own_url
    secret = report(confidential=True, title="Kepala dinas minta uang")
    send(base, token, secret)
    tid = secret["tracking_id"]
    for action, *extra in (("verify",), ("forward", "--agency", "DINKES"),
                           ("answer", "--reply", "Soal kepala dinas yang minta uang: sudah diperiksa."),):
        move(url, tid, action, *extra)
    page_id = requests.get(f"{base}/status/{tid}", timeout=30)
    page_en = requests.get(f"{base}/status/{tid}?lang=en", timeout=30)
    assert page_id.status_code == page_en.status_code == 200
    assert "kepala dinas" not in page_id.text.lower() and "kepala dinas" not in page_en.text.lower()
    assert "Dijawab oleh Dinas Kesehatan" in page_id.text
    assert "anjungan LAPOR! mana pun" in page_id.text and "any LAPOR! kiosk" in page_en.text
    assert "rahasia" in page_id.text


def test_a_wrong_number_page_offers_to_type_it_again(own_central):
    """GIVEN an unknown and a mistyped number WHEN their pages are opened THEN each has a
    plain GET form (no script) to type the number again, which leads to that number's page
    in the same language; what a hostile path held is never put into it."""
    base, token = own_central
    body = report()
    send(base, token, body)
    unknown = new_tracking_id("MT01")
    page = requests.get(f"{base}/status/{unknown}?lang=en", timeout=30)
    assert page.status_code == 404
    assert '<form method="get">' in page.text and 'name="id"' in page.text and "<script" not in page.text
    assert f'value="{format_tracking_id(unknown)}"' in page.text and 'name="lang" value="en"' in page.text
    typed = format_tracking_id(body["tracking_id"]).lower()
    moved = requests.get(f"{base}/status/{unknown}", params={"id": typed, "lang": "en"}, timeout=30,
                         allow_redirects=False)
    assert moved.status_code == 303 and moved.headers["Location"] == f"{body['tracking_id']}?lang=en"
    landed = requests.get(f"{base}/status/{unknown}", params={"id": typed, "lang": "en"}, timeout=30)
    assert landed.status_code == 200 and landed.url == f"{base}/status/{body['tracking_id']}?lang=en"
    assert "Received by the central office" in landed.text
    again = requests.get(f"{base}/status/{unknown}", params={"id": "MT01-00000-00000"}, timeout=30)
    assert again.status_code == 404 and "salah ketik" in again.text and '<form method="get">' in again.text
    hostile = requests.get(f"{base}/status/{HOSTILE_PATHS[0]}", timeout=30)
    assert '<form method="get">' in hostile.text and "javascript" not in hostile.text


def test_the_form_works_in_a_real_browser_under_the_csp(own_central):
    """GIVEN a mistyped number's page in headless Chromium WHEN the right number is typed in
    its form and sent THEN the browser lands on that report's page, with no CSP violation."""
    from tests.support.browser import Chromium

    base, token = own_central
    body = report()
    send(base, token, body)
    with Chromium() as browser:
        browser.open(f"{base}/status/MT01-00000-00000?lang=en")
        browser.evaluate(f"document.getElementById('id').value = '{format_tracking_id(body['tracking_id'])}'")
        box = json.loads(browser.evaluate("JSON.stringify(document.querySelector('button').getBoundingClientRect())"))
        browser.events.clear()
        browser.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        browser.wait_for(lambda e: e.get("method") == "Page.frameNavigated"
                         and e["params"]["frame"]["url"] == f"{base}/status/{body['tracking_id']}?lang=en")
        browser.wait_for(lambda e: e.get("method") == "Page.loadEventFired")
        assert "Received by the central office" in browser.evaluate("document.body.innerText")
        violations = [e for e in browser.events if e.get("method") == "Log.entryAdded"
                      and "Content Security Policy" in e["params"]["entry"].get("text", "")]
        assert not violations, violations
