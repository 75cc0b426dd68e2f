"""Issue 12, "the language can be switched on every screen without losing anything": the
status screen (keypad, every kind of answer, the office's reply), the scan screen, the
receipt (printed, not printed, "Print again") and the apology screen each carry the same
"Bahasa Indonesia | English" switch at the top right. Real taps, both directions: the
screen speaks the other language and keeps what the citizen typed, was told or holds;
the next citizen starts in the kiosk's default language again."""
from __future__ import annotations

import pytest
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

from devices.escpos_sim import parse_escpos
from kiosk.core.domain import Draft, ReportKind
from kiosk.core.receipt_content import receipt_content
from devices.printer.network import NetworkPrinter
from kiosk.core.printer_watch import FAILED_RECEIPT_CHECK_EVERY_S
from kiosk.core.status_text import group_typed
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id
from screens.common import LanguageSwitch, tr
from tests.support.kiosk_ui import (
    T, assert_print_failed_shows_the_number, fill_to_review, first_category, first_kecamatan, go_next, mistype,
    saved_report, show_receipt_for_saved_report, type_on_keypad, wait_overlay,
)
from tests.support.printer_sims import TcpPrinterSimulator
from tests.support.text_fit import KIOSK_SIZES, assert_text_fits, picture, window_size
from tests.support.ui_driver import KioskDriver
from tests.support.webcam import webcam_frames, write_video
from tests.ui.test_ui_receipt import blocked_printer, print_again_shown
from tests.ui.test_ui_scan import _env_with_camera
from tests.support.answered import REPLY, answered_report, offline_env  # noqa: F401 - a fixture

pytestmark = pytest.mark.ui
OTHER = {"id": "en", "en": "id"}


def in_both(msgid: str, **params) -> dict[str, str]:
    return {lang: tr(lang, msgid, **params) for lang in ("id", "en")}


def switch(kiosk):
    return next(w for w in kiosk.screen.walk() if isinstance(w, LanguageSwitch))


def switch_to(kiosk, lang: str) -> None:
    """Tap "Bahasa Indonesia" or "English" on the screen's own switch."""
    kiosk.tap(switch(kiosk).ids[f"lang_{lang}"])
    assert kiosk.app.lang == lang


def says(kiosk, msgid: str, **params) -> None:
    """The screen shows ``msgid`` in the kiosk's language, and not in the other one."""
    shown = kiosk.visible_texts()
    words = in_both(msgid, **params)
    assert any(words[kiosk.app.lang] in text for text in shown), f"{words[kiosk.app.lang]!r} not in {shown}"
    other = words[OTHER[kiosk.app.lang]]
    if other != words[kiosk.app.lang]:
        assert not any(other in text for text in shown), f"{other!r} still shown"


def window_rect(widget) -> tuple[float, float, float, float]:
    """``widget``'s part on screen (inside any scroll view around it): x0, y0, x1, y1."""
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    parent = widget.parent
    while parent is not None and parent is not parent.parent:
        if isinstance(parent, ScrollView):
            px0, py0 = parent.to_window(parent.x, parent.y)
            px1, py1 = parent.to_window(parent.right, parent.top)
            x0, y0, x1, y1 = max(x0, px0), max(y0, py0), min(x1, px1), min(y1, py1)
        parent = parent.parent
    return x0, y0, x1, y1


def overlap(a, b) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def welcome_buttons(kiosk) -> dict[tuple[int, int], list]:
    """Where Welcome's "Create a report" and "Check status" sit at each kiosk size."""
    assert kiosk.current == "welcome"
    where = {}
    for size in KIOSK_SIZES:
        with window_size(kiosk, size):
            where[size] = [window_rect(kiosk.screen.ids[name]) for name in ("start", "status")]
    return where


def assert_switch_in_its_corner(kiosk, name: str, *neighbours, away_from=None) -> None:
    """At each kiosk size: the switch sits top right, 12 dp from the edges (as on every
    citizen screen); no other text is under it; its words and ``neighbours`` are whole;
    it is not where Welcome's big buttons were (``away_from``). A picture of each."""
    language = switch(kiosk)
    mine = set(language.walk())
    for size in KIOSK_SIZES:
        with window_size(kiosk, size):
            x0, y0, x1, y1 = rect = window_rect(language)
            assert abs(x1 - (Window.width - dp(12))) <= 1 and abs(y1 - (Window.height - dp(12))) <= 1, (
                f"switch at {rect} in a {size} window")
            for widget in kiosk.screen.walk():
                if widget in mine or not isinstance(widget, Label) or not widget.text or widget.opacity == 0:
                    continue
                assert not overlap(rect, window_rect(widget)), f"{widget.text[:30]!r} lies under the switch at {size}"
            for widget in (language.ids.lang_id, language.ids.lang_en, *neighbours):
                assert_text_fits(widget)
            for button in (away_from or {}).get(size, ()):
                assert not overlap(rect, button), f"the switch sits where a Welcome button was at {size}"
            picture(kiosk, f"{name}-{size[0]}x{size[1]}")


def ends_in_the_default_language(kiosk, clock, env) -> None:
    """Nobody touches the kiosk: the idle warning runs out and Welcome speaks the default."""
    clock.advance(env.config.idle_timeout_s + 0.5)
    wait_overlay(kiosk, True)
    clock.advance(env.config.idle_warning_s + 0.5)
    kiosk.wait_until(lambda: kiosk.current == "welcome" and not kiosk.app.idle_overlay.is_open,
                     what="the session's end")
    assert kiosk.app.lang == kiosk.app.default_lang == env.config.language
    assert kiosk.screen.ids[f"lang_{kiosk.app.default_lang}"].state == "down"


# -- the status screen ------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["id", "en"])
def test_status_keypad_and_the_reply_stay_through_switches(kivy_window, offline_env, clock, lang):
    """GIVEN this kiosk's report with the office's reply (kiosk offline: the last known
    status) WHEN the citizen switches language while typing its number, and again once the
    answer is shown THEN the typed number stays, the answer is told again in the other
    language without a new lookup, the reply stays first; Back keeps the language, and
    the next citizen gets the default one."""
    tracking_id = answered_report(offline_env, clock)
    kiosk = KioskDriver(offline_env)
    try:
        other = OTHER[lang]
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        buttons = welcome_buttons(kiosk)
        kiosk.tap(kiosk.screen.ids.status)
        assert kiosk.current == "status"
        type_on_keypad(kiosk, tracking_id[:7])

        switch_to(kiosk, other)
        ids = kiosk.screen.ids
        assert kiosk.current == "status" and ids.typed.text == group_typed(tracking_id[:7])
        says(kiosk, "Type the report number from your receipt:")
        says(kiosk, "Check the status of a report")
        assert ids.check.text.endswith(T(kiosk, "Check")) and ids.backspace.text.endswith(T(kiosk, "Delete"))
        kiosk.screenshot("40-status-keypad-switched")
        assert_switch_in_its_corner(kiosk, "40-status-keypad-switch", ids.title, ids.back, away_from=buttons)

        switch_to(kiosk, lang)  # and back
        says(kiosk, "Type the report number from your receipt:")
        type_on_keypad(kiosk, tracking_id[7:])
        kiosk.tap(ids.check)
        kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the lookup")
        assert kiosk.screen.result_kind == "found" and ids.reply.text == REPLY
        says(kiosk, "It is waiting to be sent to the central office; this happens by itself when the network is available.")
        facts = kiosk.screen.lookup.answer.facts

        switch_to(kiosk, other)
        says(kiosk, "It is waiting to be sent to the central office; this happens by itself when the network is available.")
        assert kiosk.screen.result_kind == "found"  # told again, not looked up again:
        assert kiosk.screen.lookup.answer.facts is facts and kiosk.screen.lookup.answer.language == other
        assert ids.reply.text == REPLY and ids.reply.opacity == 1 and ids.reply_box.y > ids.result.y
        assert ids.reply_heading.text.startswith(T(kiosk, "Reply") + " \u2014 ")
        assert ids.typed.text == group_typed(tracking_id) and format_tracking_id(tracking_id) in ids.result.text
        assert ids.print_status.text == T(kiosk, "Print this status")
        assert ids.reprint.text == T(kiosk, "Print a copy of the receipt")
        kiosk.screenshot("41-status-reply-switched")
        assert_switch_in_its_corner(kiosk, "41-status-reply-switch", ids.reply, ids.print_status, ids.reprint)

        kiosk.tap(ids.back)
        assert kiosk.current == "welcome" and kiosk.app.lang == other  # back: still the citizen's language
        assert kiosk.screen.ids[f"lang_{other}"].state == "down"
        assert kiosk.app.root.get_screen("status").typed == ""  # what was looked up is forgotten
        ends_in_the_default_language(kiosk, clock, offline_env)
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_answers_that_found_nothing_switch_too(kivy_window, offline_env, lang):
    """GIVEN another kiosk's receipt checked while offline, then a mistyped number WHEN the
    citizen switches language THEN each answer (what to do next, where else to look) is in
    the other language and the number stays."""
    kiosk = KioskDriver(offline_env)
    try:
        other = OTHER[lang]
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        kiosk.tap(kiosk.screen.ids.status)
        elsewhere = new_tracking_id("MB10")
        type_on_keypad(kiosk, elsewhere)
        kiosk.tap(kiosk.screen.ids.check)
        kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the lookup")
        assert kiosk.screen.result_kind == "offline_unknown"
        says(kiosk, "This kiosk is offline and cannot check this report right now.")

        switch_to(kiosk, other)
        assert kiosk.screen.result_kind == "offline_unknown" and kiosk.screen.typed == elsewhere
        says(kiosk, "This kiosk is offline and cannot check this report right now.")
        says(kiosk, "Please try again in about {minutes} minutes.", minutes=10)
        says(kiosk, "You can also check it on a phone or computer at:")
        assert f"https://lapor.example.go.id/status/{elsewhere}" in kiosk.all_text()
        kiosk.screenshot("42-status-offline-switched")

        kiosk.screen.clear()
        mistyped = mistype(saved_report(offline_env))
        type_on_keypad(kiosk, mistyped)
        kiosk.tap(kiosk.screen.ids.check)
        assert kiosk.screen.result_kind == "invalid"
        mistyped_words = ("This number is not right: a letter or number is probably mistyped. "
                          "Please check it against your receipt.")
        says(kiosk, mistyped_words)
        switch_to(kiosk, lang)
        assert kiosk.screen.result_kind == "invalid" and kiosk.screen.typed == mistyped
        says(kiosk, mistyped_words)
        kiosk.screenshot("42-status-mistyped-switched")
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_not_found_on_a_kiosk_without_central_switches(kiosk, env, lang):
    """GIVEN a number of this kiosk that it never issued WHEN the citizen switches language
    THEN "not found on this kiosk" is said in the other language, the number stays."""
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    kiosk.tap(kiosk.screen.ids.status)
    unknown = new_tracking_id("MT01")
    type_on_keypad(kiosk, unknown)
    kiosk.tap(kiosk.screen.ids.check)
    kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the lookup")
    assert kiosk.screen.result_kind == "unknown"
    switch_to(kiosk, OTHER[lang])
    assert kiosk.screen.result_kind == "unknown" and kiosk.screen.typed == unknown
    says(kiosk, "No report with this number was found on this kiosk.")
    kiosk.screenshot("42-status-unknown-switched")


# -- the scan screen ---------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["id", "en"])
def test_scan_screen_switches_and_the_camera_reads_on(kivy_window, tmp_path, clock, lang):
    """GIVEN the scan screen with the camera running WHEN the citizen switches language
    THEN the instruction is in the other language, the same camera reader goes on sending
    frames, and the receipt held up afterwards is read and its status shown in that language."""
    video = tmp_path / "webcam.avi"
    env = _env_with_camera(tmp_path, clock, str(video))
    saved = env.reports.submit(Draft(
        kind=ReportKind.PENGADUAN, category_code=first_category(env), title="Lampu jalan padam",
        description="Lampu jalan di depan pasar padam.", incident_date=env.today(),
        kecamatan_code=first_kecamatan(env)))
    printed = env.print_async(receipt_content(saved, env, "id")).result()
    kiosk = None
    try:
        frames = webcam_frames(printed.path.with_suffix(".png"), 20)
        empty_hall = [(frames[0] * 0 + 90).astype(frames[0].dtype)] * 90  # six seconds before it is held up
        write_video(empty_hall + frames, video)
        kiosk = KioskDriver(env)
        other = OTHER[lang]
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        kiosk.tap(kiosk.screen.ids.status)
        assert kiosk.current == "scan"
        kiosk.wait_until(lambda: kiosk.screen.preview is not None, what="the live preview")
        reader = kiosk.screen._reader

        switch_to(kiosk, other)
        assert kiosk.current == "scan" and kiosk.screen._reader is reader
        says(kiosk, "Hold the QR code on your receipt up to the camera.")
        assert kiosk.screen.ids.type_instead.text == T(kiosk, "Type the report number instead")
        assert reader.running  # the camera was not restarted
        kiosk.screenshot("43-scan-switched")

        kiosk.wait_until(lambda: kiosk.current == "status", max_frames=3000, what="the receipt to be read")
        kiosk.wait_until(lambda: kiosk.screen.result_kind != "checking", what="the lookup")
        assert kiosk.screen.result_kind == "found" and kiosk.app.lang == other
        says(kiosk, "It is waiting to be sent to the central office; this happens by itself when the network is available.")
        assert format_tracking_id(saved.tracking_id) in kiosk.all_text()
        kiosk.screenshot("43-status-after-scan-switched")
    finally:
        if kiosk is not None:
            kiosk.close()
        env.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_scan_screen_without_a_camera_switches_and_its_switch_fits(kivy_window, tmp_path, clock, lang):
    """GIVEN the scan screen saying the camera is not available WHEN the citizen switches
    language THEN it says so in the other language, the switch sits top right away from
    where Welcome's buttons were, and every word of it and its neighbours is shown."""
    env = _env_with_camera(tmp_path, clock, "/dev/video99")
    kiosk = KioskDriver(env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        buttons = welcome_buttons(kiosk)
        kiosk.tap(kiosk.screen.ids.status)
        kiosk.wait_until(lambda: kiosk.screen.message == "no_camera", what="the camera failure")
        switch_to(kiosk, OTHER[lang])
        says(kiosk, "The camera is not available. Please type the report number.")
        ids = kiosk.screen.ids
        kiosk.screenshot("43-scan-no-camera-switched")
        assert_switch_in_its_corner(kiosk, "43-scan-switch", ids.title, ids.message, ids.type_instead, away_from=buttons)
        kiosk.tap(ids.type_instead)
        assert kiosk.current == "status" and kiosk.app.lang == OTHER[lang]
        says(kiosk, "Type the report number from your receipt:")
    finally:
        kiosk.close()
        env.close()


# -- the receipt screen ---------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["id", "en"])
def test_printed_receipt_switches_and_its_countdown_goes_on(kiosk, clock, env, lang):
    """GIVEN a printed receipt WHEN the citizen switches language THEN the number and "take
    your receipt" stay, in the other language; the receipt's wait still ends in a countdown
    in that language, and the next citizen starts in the default language."""
    kiosk.app.lang = lang
    saved = show_receipt_for_saved_report(kiosk, env)
    kiosk.wait_until(lambda: kiosk.screen.print_state == "printed", what="printing")
    other = OTHER[lang]
    switch_to(kiosk, other)
    ids = kiosk.screen.ids
    assert kiosk.current == "receipt" and kiosk.screen.print_state == "printed"
    assert ids.tracking.text == format_tracking_id(saved.tracking_id)
    says(kiosk, "Your report has been saved")
    says(kiosk, "Take your receipt and keep it. You need this number to check the status.")
    assert ids.done.text == T(kiosk, "Done")
    kiosk.screenshot("44-receipt-switched")
    assert_switch_in_its_corner(kiosk, "44-receipt-switch", ids.heading, ids.print_status)

    clock.advance(env.config.receipt_timeout_s + 0.5)  # counted from the switch, the last touch
    wait_overlay(kiosk, True)
    seconds = int(kiosk.app.idle_overlay.seconds)
    assert T(kiosk, "Your report is saved. For your privacy, this screen will close in {seconds} seconds.",
             seconds=seconds) in kiosk.all_text()
    clock.advance(env.config.idle_warning_s + 0.5)
    kiosk.wait_until(lambda: kiosk.current == "welcome", what="back to Welcome")
    assert kiosk.app.lang == kiosk.app.default_lang


@pytest.mark.parametrize("lang", ["id", "en"])
def test_unprinted_receipt_switches_and_still_waits_for_written_down(kiosk, clock, env, lang):
    """GIVEN a receipt that could not be printed WHEN the citizen switches language (both
    ways) THEN the number stays with "write it down" in the language shown, nothing counts
    down, and only "I have written it down" leaves, to a Welcome in the default language."""
    env.printer = blocked_printer(env)
    kiosk.app.lang = lang
    saved = show_receipt_for_saved_report(kiosk, env)
    assert_print_failed_shows_the_number(kiosk, env, saved)
    for now in (OTHER[lang], lang, OTHER[lang]):
        switch_to(kiosk, now)
        assert kiosk.screen.print_state == "failed" and kiosk.screen.must_write_down
        assert_print_failed_shows_the_number(kiosk, env, saved)
        says(kiosk, "The receipt could not be printed. Please write down this number.")
        assert kiosk.screen.ids.done.text == T(kiosk, "I have written it down")
    kiosk.screenshot("45-receipt-write-down-switched")
    assert_switch_in_its_corner(kiosk, "45-receipt-write-down-switch", kiosk.screen.ids.heading,
                                kiosk.screen.ids.print_status, kiosk.screen.ids.done)

    config = env.config
    clock.advance(config.receipt_timeout_s + config.idle_timeout_s + config.idle_warning_s + 1)
    kiosk.frames(10)
    assert kiosk.current == "receipt" and not kiosk.app.idle_overlay.is_open
    assert format_tracking_id(saved.tracking_id) in kiosk.all_text()

    kiosk.tap(kiosk.screen.ids.done)
    assert kiosk.current == "welcome" and kiosk.app.lang == kiosk.app.default_lang
    assert kiosk.screen.ids[f"lang_{kiosk.app.default_lang}"].state == "down"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_print_again_after_a_switch_prints_in_the_language_shown(kiosk, clock, env, lang):
    """GIVEN a receipt that failed for lack of paper, paper back and "Print again" shown
    WHEN the citizen switches language THEN "Print again" stays, in that language, and the
    receipt it prints is in that language too."""
    sim = TcpPrinterSimulator(state="paper_out")
    env.printer = NetworkPrinter("127.0.0.1", sim.port, timeout=0.5)
    try:
        kiosk.app.lang = lang
        saved = show_receipt_for_saved_report(kiosk, env)
        assert_print_failed_shows_the_number(kiosk, env, saved)
        sim.state = "online"
        clock.advance(FAILED_RECEIPT_CHECK_EVERY_S)
        kiosk.wait_until(lambda: print_again_shown(kiosk), what="Print again")

        other = OTHER[lang]
        switch_to(kiosk, other)
        assert print_again_shown(kiosk) and kiosk.screen.print_state == "failed"
        says(kiosk, "Print again")
        kiosk.screenshot("46-receipt-print-again-switched")
        assert_switch_in_its_corner(kiosk, "46-receipt-print-again-switch", kiosk.screen.ids.print_again,
                                    kiosk.screen.ids.done)

        before = len(sim.jobs)
        kiosk.tap(kiosk.screen.ids.print_again)
        kiosk.wait_until(lambda: kiosk.screen.print_state == "printed", what="the receipt printed again")
        [receipt] = [job for job in sim.wait_for_jobs(before + 1)[before:] if len(job) > 100]
        text = parse_escpos(receipt).text
        assert tr(other, "Keep this receipt") in text and tr(lang, "Keep this receipt") not in text
        says(kiosk, "Take your receipt and keep it. You need this number to check the status.")
    finally:
        sim.close()


# -- the apology screen ------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["id", "en"])
def test_apology_screen_switches_and_the_draft_goes_on_in_that_language(kiosk, env, lang):
    """GIVEN a bug while sending shows the apology WHEN the citizen switches language THEN
    it apologises in the other language, "Continue my report" brings back the review with
    everything typed, and the report goes in the language chosen last."""
    fill_to_review(kiosk, lang, "sampah menumpuk", "sampah tidak diangkut seminggu", screenshot=False)
    real_submit = env.reports.submit

    def broken_submit(draft):
        raise RuntimeError("simulated bug")

    env.reports.submit = broken_submit
    try:
        go_next(kiosk)
        kiosk.frames(3)
        assert kiosk.current == "apology"
    finally:
        env.reports.submit = real_submit
    other = OTHER[lang]
    switch_to(kiosk, other)
    says(kiosk, "Sorry, something went wrong.")
    says(kiosk, "What you typed is still here. You can continue, or start again.")
    assert kiosk.screen.ids.resume.text == T(kiosk, "Continue my report")
    assert kiosk.screen.ids.restart.text == T(kiosk, "Back to start")
    kiosk.screenshot("47-apology-switched")
    ids = kiosk.screen.ids
    assert_switch_in_its_corner(kiosk, "47-apology-switch", ids.resume, ids.restart)

    kiosk.tap(ids.resume)
    assert kiosk.current == "review" and kiosk.app.lang == other
    assert kiosk.app.flow.draft.title.lower() == "sampah menumpuk" and kiosk.app.flow.draft.language == other
    says(kiosk, "Check your report")
    go_next(kiosk)  # Send
    assert kiosk.current == "receipt"
    kiosk.tap(kiosk.screen.ids.done)
    assert kiosk.current == "welcome" and kiosk.app.lang == kiosk.app.default_lang


# -- the keyboard across a switch ----------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_switch_with_capitals_on_leaves_the_keyboard_in_small_letters_and_the_new_language(kiosk, lang):
    """GIVEN "Capitals" left on while typing the title WHEN the citizen switches language in
    the top bar and goes on typing THEN the title stays, the keyboard's words are in the
    new language and it types small letters again (capitals are reset for every field)."""
    from tests.ui.test_ui_keyboard import _to_describe, tap_what_shows

    _to_describe(kiosk, lang)
    title, description = kiosk.screen.ids.title, kiosk.screen.ids.description
    tap_what_shows(kiosk, title)
    kiosk.type_keys("ktp")
    kiosk.press_key("capslock")
    kiosk.frames(2)
    assert kiosk.keyboard.layout_mode == "shift"

    other = OTHER[lang]
    kiosk.tap(kiosk.bar("language").ids[f"lang_{other}"])
    assert kiosk.app.lang == other and title.text == "ktp"
    tap_what_shows(kiosk, description)
    labels = kiosk.key_labels()
    for msgid in ("Delete", "Capitals", "space"):
        assert tr(other, msgid) in labels and tr(lang, msgid) not in labels, (msgid, labels)
    assert kiosk.keyboard.layout_mode == "normal" and not kiosk.keyboard.have_capslock
    kiosk.type_keys("antre")
    assert description.text == "antre" and title.text == "ktp"
    kiosk.screenshot("48-describe-keyboard-switched")
