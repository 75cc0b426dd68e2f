"""A report's SMS on the workbench in a real browser (Debian's headless Chromium): the
channel, the number and the SMS conversation card of a report filed by SMS, at 1366x768
and on a phone, in both languages; the citizen's markup shows as typed; nothing of the
card lies outside the window or is cut. An admin types a reply and sends it: it shows at
once as waiting; a reply with an emoji is refused with the page's words and the text
kept. axe-core finds no serious or critical violation on the page. Pictures in
tests/artifacts/sms/."""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import uuid
from pathlib import Path

import pytest

from central import crypto, sms_config
from central.db import Database
from central.sms import IncomingSms, SmsDesk
from tests.support.axe import axe_violations
from tests.support.browser import Chromium
from tests.support.central import central_cli, query, running_central
from tests.support.officer_browser import Officer, log_in
from tests.support.workbench import add_officer

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "sms"
ADMIN, SECOND = "Rina Admin", "Sari Admin"  # a TOTP code signs in once: one admin per test
MARKUP = '<b>x</b> & "y"'
NUMBER, OTHER = "081234509876", "085712340000"
SIZES = ((1366, 768, False), (390, 844, True))


def _sms_file(folder: Path) -> str:
    path = folder / "sms.toml"
    path.write_text('keyword = "BARUT"\nissuer = "0767"\nnotify_gateway = "modem"\n[gateways.modem]\ntype = "gammu"\n',
                    encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """A central with an SMS file: a report filed by SMS with markup in its text, asked
    about by its reporter and by another number, answered (the notice refused by the
    modem), the replies sent."""
    folder = tmp_path_factory.mktemp("sms-browser")
    url = f"sqlite:///{folder / 'central.sqlite3'}"
    key, path = os.environ["CENTRAL_SECRET_KEY_FILE"], _sms_file(folder)
    with running_central(url, env={"CENTRAL_SMS_FILE": path}) as base:
        secrets = add_officer(url, ADMIN, "admin", totp=True), add_officer(url, SECOND, "admin", totp=True)
        db = Database(url)
        desk = db.sms = SmsDesk(db, crypto.load(key), sms_config.load(path), rng=random.Random(1))

        def take(text: str, number: str):
            return desk.take(IncomingSms("modem", uuid.uuid4().hex, number, text, dt.datetime.now(dt.timezone.utc)))

        try:
            tid = take(f"BARUT Jalan {MARKUP} di depan SDN 3 Muara Teweh rusak parah, lubangnya dalam dan sudah dua "
                       "motor jatuh minggu ini. Mohon segera diperbaiki sebelum musim hujan.", NUMBER).tracking_id
            take(f"CEK {tid}", NUMBER)
            take(f"CEK {tid}", OTHER)
            for step in (("verify",), ("forward", "--agency", "DPUPR"), ("answer", "--reply", "Sudah ditambal.")):
                result = central_cli(url, "--secret-key-file", key, "--sms-file", path, "report", tid, *step)
                assert result.returncode == 0, result.stderr
            for out in desk.due("modem", 50):
                if "sudah dijawab" in out.text:
                    desk.failed(out.id, "modem: the network refused the number (CMS error 21)", retry=False)
                else:
                    desk.sent(out.id)
            yield base, url, secrets, tid
        finally:
            db.close()


def _outside(officer: Officer, selector: str) -> list[str]:
    """What of ``selector`` is not wholly inside the window's width, or is cut (content
    wider than its box)."""
    return json.loads(officer.browser.evaluate(
        f"JSON.stringify([...document.querySelectorAll({json.dumps(selector)})].filter(e => {{"
        " const r = e.getBoundingClientRect();"
        " return r.width === 0 || r.left < 0 || r.right > document.documentElement.clientWidth"
        "  || e.scrollWidth > e.clientWidth + 1; })"
        ".map(e => e.outerHTML.slice(0, 80)))"))


def _page_wider_than_window(officer: Officer) -> bool:
    return officer.browser.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


CARD = "section.sms li, section.sms .sms-text, section.sms textarea, section.sms button, section.sms label, section.sms h2"


def test_the_conversation_card_fits_in_both_languages_and_shows_markup_as_typed(hall):
    base, _, secrets, tid = hall
    with Chromium() as browser:
        officer = Officer(browser, ARTIFACTS)
        officer.size(1366, 768)
        log_in(officer, base, ADMIN, secrets[0])
        for lang, words in (("id", ("Saluran\nSMS", "Percakapan SMS", "Dari nomor lain", "Gagal", "Kirim SMS")),
                            ("en", ("Channel\nSMS", "SMS conversation", "From another number", "Failed", "Send SMS"))):
            for width, height, mobile in SIZES:
                officer.size(width, height, mobile)
                officer.open(f"{base}/workbench/reports/{tid}?lang={lang}")
                text = officer.text()
                for word in words:
                    assert word in text, (lang, width, word)
                assert f"BARUT Jalan {MARKUP} di depan" in text and "+6281234509876" in text
                assert "085712340000" not in text and "+6285712340000" not in text
                assert "CMS error 21" in text
                assert _outside(officer, CARD) == [] and not _page_wider_than_window(officer)
                serious = [v for v in axe_violations(browser) if v["impact"] in ("serious", "critical")]
                assert serious == [], (lang, width, serious)
                officer.browser.evaluate("document.querySelector('section.sms').scrollIntoView()")
                officer.shot(f"card-{lang}-{width}")
        assert officer.violations == []


def test_an_admin_sends_a_reply_and_an_emoji_is_refused_with_the_text_kept(hall):
    base, url, secrets, tid = hall
    with Chromium() as browser:
        officer = Officer(browser, ARTIFACTS)
        officer.size(390, 844, True)
        log_in(officer, base, SECOND, secrets[1])
        officer.open(f"{base}/workbench/reports/{tid}?lang=id")
        officer.type("#sms-text", "Terima kasih \U0001F64F lubang akan ditambal")
        officer.click("section.sms button[type=submit]")
        text = officer.text()
        assert "tidak tampil di ponsel biasa" in text
        assert officer.browser.evaluate("document.querySelector('#sms-text').value") == \
            "Terima kasih \U0001F64F lubang akan ditambal"
        officer.shot("refused-emoji-id-390")
        assert query(url, "SELECT count(*) FROM sms_outbox WHERE tracking_id = :t AND kind = 'admin'", t=tid) == [(0,)]
        officer.browser.evaluate("document.querySelector('#sms-text').value = ''")
        officer.type("#sms-text", "Lubang di depan SDN 3 ditambal Kamis pagi. Terima kasih atas laporan Anda.")
        officer.click("section.sms button[type=submit]")
        assert officer.path() == f"/workbench/reports/{tid}"
        text = officer.text()
        assert "SMS sudah masuk antrean" in text and "balasan dari admin" in text and "Menunggu dikirim" in text
        assert _outside(officer, CARD) == [] and not _page_wider_than_window(officer)
        officer.browser.evaluate("document.querySelector('section.sms li:last-child').scrollIntoView()")
        officer.shot("replied-id-390")
        for lang in ("en", "id"):
            officer.size(1366, 768)
            officer.open(f"{base}/workbench/reports/{tid}?lang={lang}")
            officer.browser.evaluate("document.querySelector('section.sms').scrollIntoView()")
            officer.shot(f"replied-{lang}-1366")
        assert query(url, "SELECT count(*) FROM sms_outbox WHERE tracking_id = :t AND kind = 'admin'", t=tid) == [(1,)]
        assert officer.violations == []
