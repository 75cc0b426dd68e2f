"""A report's SMS on the workbench (issue 16, docs/SMS.md; ``central.sms_workbench``),
against a real central with an SMS file and a secret key, its whole log kept: the channel
and the sender's number; the SMS conversation card in both languages (the citizen's text
escaped); an admin's reply by SMS queued once however often its form is posted, with one
audit line; agency officers and viewers see what their role allows and no form; forged,
agency and viewer POSTs refused; a reply too long, with an emoji, to a number that sent
STOP, or to a purged number refused in the page's language with the text kept; no number
or text in the central's log.

The SMS desk runs in this process, as a gateway adapter runs it (``SmsDesk.take``,
``due``, ``sent``, ``failed``); reports are moved with the real ``python -m central
report`` (with the SMS file, so an answer queues its notice)."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import html
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from markupsafe import escape

from central import crypto, sms_config
from central.db import Database
from central.sms import IncomingSms, SmsDesk
from tests.support import servers
from tests.support.central import central_cli, query, report, send
from tests.support.servers import ROOT
from tests.support.sms import a_number, sms_file
from tests.support.workbench import add_officer, csrf_of, get_page, log_in, post_form

ADMIN, AGENCY, VIEWER = "Rina Admin", "Budi Dinkes", "Wati Pimpinan"
#: What the citizen typed after the keyword: markup and quotes that must show as typed.
MARKUP = '<b>x</b> & "y"'
_FORM_ID = re.compile(r'name="sms_form" value="([0-9a-f]{32})"')
_TEXTAREA = re.compile(r'<textarea id="sms-text"[^>]*>(.*?)</textarea>', re.S)


@dataclasses.dataclass
class World:
    base: str
    url: str
    key: str
    file: str
    token: str
    desk: SmsDesk
    log: list[str]
    browsers: dict[str, requests.Session]
    numbers: list[str] = dataclasses.field(default_factory=list)
    texts: list[str] = dataclasses.field(default_factory=list)

    def take(self, text: str, number: str, gateway: str = "modem"):
        self.numbers.append(number)
        self.texts.append(text)
        return self.desk.take(IncomingSms(gateway, uuid.uuid4().hex, number, text, dt.datetime.now(dt.timezone.utc)))

    def move(self, tid: str, *steps: tuple[str, ...]) -> None:
        for step in steps:
            result = central_cli(self.url, "--secret-key-file", self.key, "--sms-file", self.file, "report", tid, *step)
            assert result.returncode == 0, result.stderr

    def page(self, who: str, tid: str, lang: str) -> requests.Response:
        return get_page(self.browsers[who], self.base, f"/workbench/reports/{tid}", lang=lang)

    def reply(self, who: str, tid: str, text: str, page: str | None = None, **extra) -> requests.Response:
        """The reply form of ``page`` (else of the page as now shown) posted with ``text``."""
        page = page if page is not None else self.page(who, tid, "id").text
        form = {"csrf": csrf_of(page), "sms_form": _FORM_ID.search(page).group(1), "sms_text": text, **extra}
        return post_form(self.browsers[who], self.base, f"/workbench/reports/{tid}/sms", **form)

    def admin_sms(self, tid: str) -> list[tuple]:
        return query(self.url, "SELECT id, gateway, state, to_sealed, text_sealed FROM sms_outbox "
                               "WHERE tracking_id = :t AND kind = 'admin' ORDER BY id", t=tid)

    def send_due(self, fail: set[int] = frozenset()) -> None:
        """The modem takes what is due: those in ``fail`` refused for good, the rest sent."""
        for out in self.desk.due("modem", 500):
            if out.id in fail:
                self.desk.failed(out.id, "the modem refused the number", retry=False)
            else:
                self.desk.sent(out.id)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("sms-workbench")
    url = f"sqlite:///{folder / 'central.sqlite3'}"
    # The session's key: the CLI seals TOTP with it.
    key, path = os.environ["CENTRAL_SECRET_KEY_FILE"], sms_file(folder, per_number_per_hour=50)
    with servers.central_keeping_its_log(url, {"CENTRAL_SMS_FILE": path, "CENTRAL_SECRET_KEY_FILE": key}) as (base, log):
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik").stdout.strip()
        secret = add_officer(url, ADMIN, "admin", totp=True)
        add_officer(url, AGENCY, "agency", "DINKES")
        add_officer(url, VIEWER, "viewer")
        db = Database(url)
        db.sms = SmsDesk(db, crypto.load(key), sms_config.load(path), rng=random.Random(1))
        browsers = {ADMIN: log_in(base, ADMIN, secret), AGENCY: log_in(base, AGENCY), VIEWER: log_in(base, VIEWER)}
        try:
            yield World(base, url, key, path, token, db.sms, log, browsers)
        finally:
            db.close()


@pytest.fixture(scope="module")
def conversation(world):
    """A report filed by SMS (text with markup), its reply sent; a CEK from the reporter and
    one from another number; forwarded to DINKES and answered (the notice refused by the
    modem for good). Returns (Tracking ID, the reporter's number, the other number)."""
    number, other = a_number(), a_number()
    tid = world.take(f"BARUT Jalan {MARKUP} rusak dekat Puskesmas Lemo", number).tracking_id
    world.send_due()
    world.take(f"CEK {tid}", number)
    world.take(f"cek {tid.lower()}", other)
    world.move(tid, ("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", "Jalan sudah ditambal"))
    [(notice,)] = query(world.url, "SELECT id FROM sms_outbox WHERE dedupe_key = :k", k=f"answered:{tid}")
    world.send_due(fail={notice})
    return tid, number, other


def _plain(number: str) -> str:
    return "+62" + number[1:]


# -- what the page shows ----------------------------------------------------------------------------
@pytest.mark.parametrize("lang, words", [
    ("id", {"channel": "<dt>Saluran</dt><dd>SMS</dd>", "number": "Nomor SMS", "card": "Percakapan SMS",
            "own_in": "Dari nomor pelapor", "other_in": "Dari nomor lain", "own_out": "Ke nomor pelapor",
            "other_out": "Ke nomor lain", "filed": "mengirim laporan", "reply": "balasan otomatis",
            "notice": "pemberitahuan jawaban", "sent": "Terkirim", "failed": "Gagal", "reason": "Alasan terakhir",
            "form": "Balas lewat SMS"}),
    ("en", {"channel": "<dt>Channel</dt><dd>SMS</dd>", "number": "SMS number", "card": "SMS conversation",
            "own_in": "From the reporter&#39;s number", "other_in": "From another number",
            "own_out": "To the reporter&#39;s number", "other_out": "To another number", "filed": "filed the report",
            "reply": "automatic reply", "notice": "notice of the answer", "sent": "Sent", "failed": "Failed",
            "reason": "Last reason", "form": "Reply by SMS"}),
])
def test_the_admin_sees_the_channel_the_number_and_the_conversation(world, conversation, lang, words):
    """GIVEN a report filed by SMS, asked about by its reporter and by another number, and
    answered WHEN an admin opens it THEN the page says SMS and the number, and the card
    shows every SMS in time order with its direction, kind and state; the citizen's markup
    is escaped; the reply form is there."""
    tid, number, other = conversation
    page = world.page(ADMIN, tid, lang)
    assert page.status_code == 200
    text = page.text
    for key in ("channel", "number", "card", "own_in", "other_in", "own_out", "other_out", "filed", "reply", "notice",
                "sent", "failed", "reason", "form"):
        assert words[key] in text, key
    assert _plain(number) in text and _plain(other) not in text and other[1:] not in text
    assert str(escape(f"BARUT Jalan {MARKUP} rusak")) in text and MARKUP not in text
    card = text[text.index('class="card sms"'):]
    lines = re.findall(r'<li class="sms-(in|out)">', card)
    # filed, its reply; CEK, its reply; the other's CEK, its reply (to the other number); the notice
    assert lines == ["in", "out", "in", "out", "in", "out", "out"]
    assert card.index(f"CEK {tid}") < card.index(f"cek {tid.lower()}")
    assert "the modem refused the number" in card
    assert f'action="/workbench/reports/{tid}/sms"' in text and _FORM_ID.search(text)


@pytest.mark.parametrize("who", [AGENCY, VIEWER])
def test_an_agency_officer_and_a_viewer_read_the_conversation_without_a_form(world, conversation, who):
    """GIVEN the answered report with DINKES WHEN its agency's officer or a viewer opens it
    THEN they read the conversation and the number (the reporter is not anonymous: their
    identity is not hidden from these roles), and there is no reply form."""
    tid, number, _ = conversation
    text = world.page(who, tid, "id").text
    assert "Percakapan SMS" in text and f"CEK {tid}" in text and _plain(number) in text
    assert "/sms\"" not in text and 'name="sms_form"' not in text and "Balas lewat SMS" not in text


def test_an_agency_officer_sees_nothing_of_a_report_not_with_their_agency(world):
    tid = world.take("BARUT Lampu jalan padam di Muara Teweh", a_number()).tracking_id
    assert world.page(AGENCY, tid, "id").status_code == 404
    assert "Percakapan SMS" in world.page(VIEWER, tid, "id").text


def test_a_kiosk_report_shows_its_answer_notice_and_no_reply_form(world):
    """GIVEN a kiosk report whose citizen gave a phone and agreed WHEN it is answered THEN
    the card shows the notice to the reporter's number; it was not filed by SMS, so no
    "SMS number" and no reply form."""
    phone = a_number()
    body = report(reporter_phone=phone, sms_consent=True, agency_code="DINKES")
    assert send(world.base, world.token, body)[0]["outcome"] == "created"
    world.move(body["tracking_id"], ("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", "Selesai"))
    text = world.page(ADMIN, body["tracking_id"], "id").text
    assert "Percakapan SMS" in text and "Ke nomor pelapor" in text and "pemberitahuan jawaban" in text
    assert "Nomor SMS" not in text and 'name="sms_form"' not in text
    plain = report(reporter_phone="")
    send(world.base, world.token, plain)
    assert "Percakapan SMS" not in world.page(ADMIN, plain["tracking_id"], "id").text


# -- an admin's reply -------------------------------------------------------------------------------
def test_the_admins_reply_is_queued_once_with_one_audit_line(world):
    """GIVEN an SMS report WHEN the admin posts a reply, and the same form again (a double
    tap) THEN one SMS waits, to the reporter's number, through the gateway the report came
    through; one audit line, with neither number nor text; the page shows it waiting at
    once, then sent once the gateway took it."""
    number = a_number()
    tid = world.take("BARUT Air PDAM keruh sejak tiga hari", number, gateway="hp").tracking_id
    page = world.page(ADMIN, tid, "id").text
    typed = "Petugas PDAM datang besok pagi ke rumah Anda. Mohon siapkan nomor pelanggan."
    first = world.reply(ADMIN, tid, typed, page)
    second = world.reply(ADMIN, tid, typed, page)
    assert first.status_code == 303 and first.headers["Location"].endswith("done=sms_queued")
    assert second.status_code == 303 and second.headers["Location"].endswith("done=sms_repeat")
    [(row_id, gateway, state, to_sealed, text_sealed)] = world.admin_sms(tid)
    assert (gateway, state) == ("hp", "pending")
    assert world.desk.box.open(to_sealed) == _plain(number) and world.desk.box.open(text_sealed) == typed
    audit = query(world.url, "SELECT officer_name, event, detail FROM audit_log WHERE tracking_id = :t "
                             "AND event = 'sms_admin_reply'", t=tid)
    assert audit == [(ADMIN, "sms_admin_reply", "gateway hp")]
    shown = get_page(world.browsers[ADMIN], world.base, f"/workbench/reports/{tid}", done="sms_repeat").text
    assert "SMS ini sudah masuk antrean sebelumnya" in shown
    card = shown[shown.index('class="card sms"'):]
    assert typed in card and "balasan dari admin" in card and "Menunggu dikirim" in card
    for out in world.desk.due("hp", 500):
        world.desk.sent(out.id)
    assert world.admin_sms(tid)[0][2] == "sent"
    after = world.page(ADMIN, tid, "en").text
    assert "reply by an administrator" in after and re.search(r"Sent</span> \d{4}-\d\d-\d\d \d\d:\d\d WIB", after)
    world.texts.append(typed)


def test_forged_agency_and_viewer_posts_are_refused_and_change_nothing(world, conversation):
    tid = conversation[0]
    page = world.page(ADMIN, tid, "id").text
    forged = post_form(world.browsers[ADMIN], world.base, f"/workbench/reports/{tid}/sms",
                       sms_form=_FORM_ID.search(page).group(1), sms_text="Balasan palsu")
    assert forged.status_code == 403
    for who in (AGENCY, VIEWER):
        seen = world.page(who, tid, "id").text
        refused = post_form(world.browsers[who], world.base, f"/workbench/reports/{tid}/sms", csrf=csrf_of(seen),
                            sms_form=uuid.uuid4().hex, sms_text="Balasan dari instansi")
        assert refused.status_code == 403, who
    assert world.admin_sms(tid) == []
    assert query(world.url, "SELECT count(*) FROM audit_log WHERE tracking_id = :t AND event = 'sms_admin_reply'",
                 t=tid) == [(0,)]


@pytest.mark.parametrize("lang, typed, words", [
    ("id", "Mohon maaf atas keterlambatan. " * 6, "SMS terlalu panjang: paling banyak 160 karakter"),
    ("en", "Mohon maaf atas keterlambatan. " * 6, "The SMS is too long: at most 160 characters"),
    ("id", "[Info] " * 23, "SMS terlalu panjang"),  # 161 characters, the brackets counting two each
    ("id", "Terima kasih \U0001F64F laporan Anda kami proses", "tidak tampil di ponsel biasa"),
    ("en", "Terima kasih \u201cBapak\u201d, laporan Anda kami proses", "a basic phone may not show"),
    ("id", "   ", "Silakan tulis SMS-nya."),
])
def test_a_reply_that_is_no_single_gsm7_sms_is_refused_with_the_text_kept(world, conversation, lang, typed, words):
    tid = conversation[0]
    page = world.page(ADMIN, tid, lang).text
    answer = world.reply(ADMIN, tid, typed, page)
    assert answer.status_code == 400 and words in answer.text, answer.text[:600]
    assert html.unescape(_TEXTAREA.search(answer.text).group(1)) == typed
    assert world.admin_sms(tid) == []


def test_no_reply_to_a_number_that_sent_stop(world):
    number = a_number()
    tid = world.take("BARUT Sampah menumpuk di pasar", number).tracking_id
    page = world.page(ADMIN, tid, "id").text  # the form, shown before the STOP came
    assert world.take("STOP", number).outcome == "stopped"
    assert "Nomor ini sudah mengirim STOP" in world.page(ADMIN, tid, "id").text
    assert 'name="sms_form"' not in world.page(ADMIN, tid, "id").text
    refused = world.reply(ADMIN, tid, "Sampah sudah diangkut.", page)
    assert refused.status_code == 400 and "Nomor ini sudah mengirim STOP" in refused.text
    assert world.admin_sms(tid) == []


def test_a_purged_number_is_not_shown_and_gets_no_reply(world):
    """GIVEN a report filed by SMS and rejected WHEN the retention purge ran 91 days later
    THEN the page says the number and the texts were deleted, shows no form, and a reply
    posted with the form shown before is refused. (Last: the purge clears every old
    message of this module.)"""
    number = a_number()
    tid = world.take("BARUT Iklan rokok dekat sekolah dasar", number).tracking_id
    world.send_due()
    page = world.page(ADMIN, tid, "en").text
    world.move(tid, ("reject", "--reply", "Bukan kewenangan daerah"))
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=91)).isoformat()
    result = central_cli(world.url, "--secret-key-file", world.key, "--sms-file", world.file, "sms", "purge",
                         "--now", later)
    assert result.returncode == 0, result.stderr
    text = world.page(ADMIN, tid, "id").text
    assert "<dt>Nomor SMS</dt>" in text and "Dihapus setelah masa simpan" in text and _plain(number) not in text
    assert "Teks dihapus setelah masa simpan" in text and "Iklan rokok" in text  # the report's description stays
    assert "Nomor ini sudah dihapus setelah masa simpan" in text and 'name="sms_form"' not in text
    refused = world.reply(ADMIN, tid, "Laporan Anda ditolak.", page)
    assert refused.status_code == 400
    assert "Nomor ini sudah dihapus setelah masa simpan: SMS tidak dapat dikirim ke nomor ini. Tidak ada yang dikirim." \
        in refused.text
    assert world.admin_sms(tid) == []


def test_the_log_shows_no_number_and_no_text(world):
    assert requests.get(f"{world.base}/healthz", timeout=30).status_code == 200
    deadline = time.monotonic() + 10
    while not any('"GET /healthz' in line for line in world.log) and time.monotonic() < deadline:
        time.sleep(0.05)  # the last lines on their way through the server's pipe
    world.log.wait_for("/sms HTTP")
    log = "".join(world.log)
    assert "/sms HTTP" in log  # the replies were posted to this central
    assert len(world.numbers) > 5
    for number in world.numbers:
        assert number[1:] not in log, "a number is in the central's log"
    for text in world.texts:
        for word in re.findall(r"\b[A-Za-z][a-z]{5,}\b", text):
            assert word not in log, f"a message's word is in the central's log: {word}"
