"""The public status page the receipt's QR code opens, and the limit on guessing."""
from __future__ import annotations

import datetime as dt

import requests

from central.ratelimit import RateLimiter
from kiosk.kernel.timeline import add_working_days
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id
from tests.support.central import central_cli
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


def test_rate_limiter_refills_with_time():
    now = [0.0]
    limiter = RateLimiter(per_minute=30, burst=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == 2.0  # one token every 2 s
    assert limiter.take("b") == 0  # per client
    now[0] += 2
    assert limiter.take("a") == 0


def test_working_days_skip_weekends():
    friday = dt.date(2026, 11, 20)
    assert add_working_days(friday, 3) == dt.date(2026, 11, 25)
    assert add_working_days(friday, 5) == dt.date(2026, 11, 27)
