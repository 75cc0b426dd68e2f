"""Issue 13's journey, whole: a citizen files a report with real taps at kiosk A (the real
Kivy kiosk, its real outbox syncing over HTTP to a real central on 127.0.0.1); the admin
signs in with TOTP in Chromium, finds it by search, verifies and forwards it; the agency's
officer (their own login) finds it in their inbox and answers with a reply template; at
kiosk B (another store, another kiosk id, the same central) the citizen holds the receipt
to the camera, reads the answer and objects ("Masalah belum selesai", a short text typed
on the on-screen keyboard); the objection syncs and the officer sees it on the report page
and in their inbox, the report back with the agency. One Kivy window: the two kiosks run
one after the other. Pictures of each step, kiosk and pages, in both languages, go to
tests/artifacts/journey/."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from kiosk.core.status_flow import OBJECTION_SAVED
from kiosk.kernel.tracking_id import format_tracking_id, parse_tracking_id
from sync_queue.outbox import Outbox, OutboxState
from screens.common import ensure_visible
from tests.e2e.test_status_e2e import kiosk_env
from tests.support.browser import Chromium
from tests.support.central import central_cli, query, report, running_central, send
from tests.support.clock import FakeClock
from tests.support.kiosk_ui import fill_to_review, send as tap_send
from tests.support.officer_browser import Officer, choose, log_in
from tests.support.ui_driver import KioskDriver
from tests.support.webcam import webcam_frames, write_video
from tests.support.workbench import add_officer
from tests.ui.test_ui_language_everywhere import in_both, switch_to

pytestmark = pytest.mark.ui

JOURNEY = Path(__file__).resolve().parents[1] / "artifacts" / "journey"
TITLE = "Lampu jalan padam"
DESCRIPTION = "Lampu di depan pasar padam sejak minggu lalu"
TEMPLATE = "Yth. Bapak/Ibu, terima kasih atas laporan Anda. Petugas sudah memperbaiki lampu."
ADDED = " Silakan lapor lagi bila masih padam."
OBJECTION = "Lampu masih padam"
OTHER = {"id": "en", "en": "id"}


def kiosk_shot(kiosk: KioskDriver, name: str) -> Path:
    """What the kiosk's window shows now, as tests/artifacts/journey/<name>-<lang>.png."""
    target = JOURNEY / f"{name}-{kiosk.app.lang}.png"
    shutil.move(kiosk.screenshot(f"journey-{name}"), target)
    return target


def kiosk_both(kiosk: KioskDriver, name: str, *, says: dict[str, str]) -> None:
    """The screen in its language and in the other (its own switch), then back; each
    time it shows ``says`` in that language."""
    first = kiosk.app.lang
    for lang in (first, OTHER[first]):
        _switch(kiosk, lang)
        assert says[lang] in kiosk.all_text(), (says[lang], kiosk.visible_texts())
        kiosk_shot(kiosk, name)
    _switch(kiosk, first)


def _switch(kiosk: KioskDriver, lang: str) -> None:
    """Welcome's own language buttons, or the "Bahasa Indonesia | English" switch of the others."""
    if kiosk.app.lang == lang:
        return
    if kiosk.current == "welcome":
        kiosk.tap(kiosk.screen.ids[f"lang_{lang}"])
        assert kiosk.app.lang == lang
    else:
        switch_to(kiosk, lang)


def until_delivered(kiosk: KioskDriver, clock: FakeClock, what: str) -> None:
    """Frames until nothing waits in the kiosk's outbox. The kiosk's clock is the test's:
    a try that failed (a slow answer on a loaded machine) waits out its backoff on it, as
    the hall's clock would pass, instead of never being due again."""
    sync = kiosk.env.sync

    def delivered() -> bool:
        if kiosk.env.reports.count_waiting() == 0:
            return True
        due = sync.next_due()
        if due is not None and due > clock.now():
            clock.advance((due - clock.now()).total_seconds())
            sync.wake()
        return False

    kiosk.wait_until(delivered, max_frames=5000, what=what)


def _show(kiosk: KioskDriver, widget) -> None:
    """Scroll the status screen's answer so ``widget`` is in view, as a finger would."""
    ensure_visible(kiosk.screen.ids.result_scroll, widget)
    kiosk.frames(3)


def page_both(officer: Officer, name: str, *, says: dict[str, str], also=lambda: None) -> None:
    """The page in Indonesian and in English (the header's link), then Indonesian again;
    each time it shows ``says`` in that language and ``also`` holds."""
    for lang in ("id", "en"):
        if officer.browser.evaluate("document.documentElement.lang") != lang:
            officer.click(f"a[hreflang={lang}]")
        assert says[lang] in officer.text(), (lang, says[lang])
        also()
        officer.shot(f"{name}-{lang}")
    officer.click("a[hreflang=id]")


def inbox_rows(officer: Officer) -> list[str]:
    return officer.browser.evaluate("[...document.querySelectorAll('table.inbox tbody tr')].map(r => r.innerText)")


@pytest.fixture
def journey_central(tmp_path):
    """A central on SQLite with kiosks A (MT01) and B (MB01), an admin with TOTP and
    three other reports already in, so that the search has something to leave out."""
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    with running_central(url) as base:
        token_a = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        token_b = central_cli(url, "kiosk", "add", "MB01", "--location", "Kantor Kecamatan Lahei").stdout.strip()
        secret = add_officer(url, "Rina Admin", "admin", totp=True)
        send(base, token_a, *(report(title=t) for t in ("Jalan berlubang di depan pasar", "Antrean puskesmas",
                                                          "Lampu kelas sekolah rusak")))
        yield base, url, token_a, token_b, secret


def test_a_report_from_kiosk_to_answer_to_objection(kivy_window, journey_central, tmp_path):
    base, url, token_a, token_b, secret = journey_central
    JOURNEY.mkdir(parents=True, exist_ok=True)
    for old in JOURNEY.glob("*.png"):
        old.unlink()
    clock = FakeClock(dt.datetime.now(dt.timezone.utc))  # the kiosks' clock, in step with the central's

    # -- kiosk A: the citizen files the report with real taps; the outbox delivers it ----------
    env_a = kiosk_env(tmp_path / "kiosk-a", clock, "MT01", base, token_a)
    kiosk = KioskDriver(env_a)
    try:
        fill_to_review(kiosk, "id", TITLE, DESCRIPTION, screenshot=False)
        draft = kiosk.app.flow.draft
        category, agency = draft.category_code, draft.agency_code
        assert agency, "the first office offered for the category"
        kiosk_both(kiosk, "01-kiosk-a-review", says={"id": TITLE, "en": TITLE})
        tap_send(kiosk)
        assert kiosk.current == "receipt"
        tracking_id = parse_tracking_id(kiosk.screen.tracking_text)  # as the citizen reads it
        assert env_a.reports.find(tracking_id) is not None
        kiosk.wait_until(lambda: kiosk.screen.print_state != "printing", what="the receipt to print")
        assert kiosk.screen.print_state == "printed"
        kiosk_both(kiosk, "02-kiosk-a-receipt", says={"id": format_tracking_id(tracking_id),
                                                      "en": format_tracking_id(tracking_id)})
        kiosk.tap(kiosk.screen.ids.done)
        until_delivered(kiosk, clock, "the report delivered to the central")
        assert env_a.reports.find(tracking_id).outbox_state is OutboxState.SENT
        kiosk.wait_until(lambda: kiosk.app.sync_state == "online" and kiosk.app.waiting == 0, max_frames=3000,
                         what="Welcome to say online, nothing waiting")
        kiosk_both(kiosk, "03-kiosk-a-welcome-sent", says=in_both("{n} waiting to be sent", n=0))
        [receipt_png] = env_a.config.receipts_path.glob(f"{tracking_id}-*.png")
    finally:
        kiosk.close()
        env_a.close()
    assert query(url, "SELECT kiosk_code, status FROM reports WHERE tracking_id = :t", t=tracking_id) == \
        [("MT01", "received")]
    officer_name = f"Petugas {agency}"
    add_officer(url, officer_name, "agency", agency)

    with Chromium() as browser:
        # -- the admin: TOTP, search, verify, forward; a reply template for the category -------
        admin = Officer(browser, JOURNEY)
        admin.size(1366, 768)
        log_in(admin, base, "Rina Admin", secret)
        admin.type("#f-q", "lampu padam")
        admin.click("form.search > button[type=submit]")

        def only_the_citizens_report():  # not the other "Lampu", nor the other "pasar"; in either language
            found = inbox_rows(admin)
            assert len(found) == 1 and TITLE in found[0], found
            assert browser.evaluate("document.querySelector('#f-q').value") == "lampu padam"

        page_both(admin, "04-admin-search", says={"id": "Kotak masuk", "en": "Inbox"}, also=only_the_citizens_report)
        admin.click(f"a[href='/workbench/reports/{tracking_id}']")
        assert DESCRIPTION in admin.text() and "Mal Pelayanan Publik Muara Teweh" in admin.text()
        page_both(admin, "05-admin-report-received", says={"id": "Oleh sistem", "en": "By the system"})
        admin.click("button[value=verify]")
        choose(admin, "#agency-forward", agency)
        admin.type("#note-forward", "Mohon segera ditindaklanjuti")
        admin.click("button[value=forward]")
        assert "Diteruskan" in admin.text()
        page_both(admin, "06-admin-report-forwarded", says={"id": "Diteruskan", "en": "Forwarded"})
        admin.click("header nav a[href='/workbench/templates']")
        admin.click("a.button")  # Tambah templat
        admin.type("#title", "Lampu sudah diperbaiki")
        choose(admin, "#category", category)
        admin.type("#text", TEMPLATE)
        admin.click("main form button[type=submit]")
        assert "Templat sudah disimpan." in admin.text()
        admin.click("header form button")  # log out

        # -- the agency's officer: their inbox, start, answer with the template ----------------
        agency_officer = admin  # the same browser, now the agency's liaison officer
        log_in(agency_officer, base, officer_name)
        assert TITLE in agency_officer.text()
        page_both(agency_officer, "07-agency-inbox", says={"id": TITLE, "en": TITLE})
        agency_officer.click(f"a[href='/workbench/reports/{tracking_id}']")
        agency_officer.click("button[value=start]")
        choose(agency_officer, "#template", browser.evaluate("document.querySelector('#template option').value"))
        agency_officer.click(".use-template button")
        assert browser.evaluate("document.querySelector('#reply-answer').value") == TEMPLATE
        browser.evaluate("document.querySelector('#reply-answer').setSelectionRange(1e6, 1e6)")
        agency_officer.type("#reply-answer", ADDED)
        agency_officer.shot("08-agency-answer-template-id")
        agency_officer.click("button[value=answer]")
        assert TEMPLATE + ADDED in agency_officer.text()
        page_both(agency_officer, "09-agency-answered", says={"id": "Dijawab", "en": "Answered"})

        # -- kiosk B: the receipt to the camera, the answer, the objection; its outbox sends it -
        video = write_video(webcam_frames(receipt_png, 15), tmp_path / "webcam.avi")
        # The citizen comes back after the answer: the kiosks' clock catches up with the hall's.
        clock.advance(max(0.0, (dt.datetime.now(dt.timezone.utc) - clock.now()).total_seconds()))
        env_b = kiosk_env(tmp_path / "kiosk-b", clock, "MB01", base, token_b, camera_source=str(video))
        kiosk = KioskDriver(env_b)
        try:
            kiosk.tap(kiosk.screen.ids.status)
            kiosk.wait_until(lambda: kiosk.current == "status", max_frames=2000, what="the receipt to be read")
            kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the central's answer")
            assert kiosk.screen.result_kind == "found" and kiosk.screen.reply == TEMPLATE + ADDED
            assert not kiosk.screen.own_report and kiosk.screen.feedback == "open"
            kiosk_both(kiosk, "10-kiosk-b-answer", says={"id": TEMPLATE + ADDED, "en": TEMPLATE + ADDED})
            ids = kiosk.screen.ids
            _show(kiosk, ids.object)
            kiosk.tap(ids.object)
            kiosk.focus(ids.objection)
            kiosk.type_keys(OBJECTION)
            assert ids.objection.text == OBJECTION
            kiosk_both(kiosk, "11-kiosk-b-objection-typed", says=in_both("Send the objection"))
            _show(kiosk, ids.send_objection)
            kiosk.tap(ids.send_objection)
            assert kiosk.screen.feedback_state == "objection_sent"
            kiosk.frames(3)
            _show(kiosk, ids.feedback_said)
            kiosk_both(kiosk, "12-kiosk-b-objection-sent", says=in_both(OBJECTION_SAVED))
            kiosk.tap(ids.back)
            assert kiosk.current == "welcome"
            until_delivered(kiosk, clock, "the objection delivered to the central")
            assert [(e.kind, e.state, e.last_error) for e in Outbox(env_b.store.engine).entries(include_sent=True)] \
                == [("objection", OutboxState.SENT, None)]
        finally:
            kiosk.close()
            env_b.close()

        # -- the officer sees the objection: the report is theirs again --------------------------
        agency_officer.open(f"{base}/workbench/reports/{tracking_id}")
        page = agency_officer.text()
        assert "Tanggapan pelapor" in page and "Masalah belum selesai" in page and OBJECTION in page
        assert "Pelapor menyatakan masalah belum selesai" in page and "Sedang ditangani" in page
        page_both(agency_officer, "13-agency-objection", says={"id": "Oleh pelapor", "en": "By the reporter"})
        agency_officer.click("header nav a[href='/workbench/']")
        row = browser.evaluate(f"document.querySelector(\"a[href='/workbench/reports/{tracking_id}']\")"
                               ".closest('tr').innerText")
        assert "Sedang ditangani" in row, row
        page_both(agency_officer, "14-agency-inbox-reopened", says={"id": "Sedang ditangani", "en": "In progress"})
        agency_officer._collect()
        assert not agency_officer.violations, agency_officer.violations
    assert query(url, "SELECT text, kiosk_code, reopened FROM objections WHERE tracking_id = :t", t=tracking_id) == \
        [(OBJECTION, "MB01", True)]
