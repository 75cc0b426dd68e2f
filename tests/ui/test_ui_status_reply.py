"""Issue 12 on the real window: the office's reply first and large on the status screen,
its buttons not clipped, an unreachable other kiosk's receipt with a next step, and the
receipt screen that stops promising to send a report once it is sent."""
from __future__ import annotations

import pytest

from kiosk.kernel.tracking_id import new_tracking_id
from tests.support.answered import REPLY, answered_report, check_number, offline_env  # noqa: F401 - a fixture
from tests.support.kiosk_ui import T, show_receipt_for_saved_report
from tests.support.text_fit import (KIOSK_SIZES, assert_fits_at_kiosk_sizes, assert_text_fits, needed_size, picture,
                                    window_size)
from tests.support.ui_driver import KioskDriver


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_reply_is_shown_first_and_large_without_scrolling(kivy_window, offline_env, clock, lang):
    """GIVEN this kiosk's report answered by the office (last known status, kiosk offline)
    WHEN the citizen checks it on the keypad THEN the reply is the first thing in the
    answer, larger than the timeline, inside the visible area without scrolling, and the
    "Print a copy of the receipt" button shows its whole text at both kiosk sizes."""
    tracking_id = answered_report(offline_env, clock)
    kiosk = KioskDriver(offline_env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        check_number(kiosk, tracking_id)
        ids = kiosk.screen.ids
        assert kiosk.screen.result_kind == "found" and kiosk.screen.reply == REPLY
        kiosk.frames(3)
        assert ids.reply.text == REPLY and ids.reply.opacity == 1 and ids.reply_box.opacity == 1
        assert ids.reply.font_size > ids.result.font_size
        assert REPLY not in ids.result.text  # not twice on the screen
        assert ids.reply_box.y > ids.result.y  # above the timeline
        scroll = ids.result_scroll
        top_of_view = scroll.to_window(scroll.x, scroll.top)[1]
        reply_top = ids.reply.to_window(ids.reply.x, ids.reply.top)[1]
        reply_bottom = ids.reply.to_window(ids.reply.x, ids.reply.y)[1]
        assert reply_top <= top_of_view + 1 and reply_bottom >= scroll.to_window(scroll.x, scroll.y)[1]
        assert_text_fits(ids.reply)
        kiosk.screenshot("31-status-reply-first")
        assert ids.reprint.opacity == 1
        assert_fits_at_kiosk_sizes(kiosk, ids.reprint, "31-status-reprint-button")
        assert_fits_at_kiosk_sizes(kiosk, ids.print_status, "31-status-print-button")
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_lapor_number_is_shown_whole_above_the_timeline(kivy_window, offline_env, clock, lang):
    """GIVEN this kiosk's answered report, which the central forwarded to LAPOR! WHEN the
    citizen checks it THEN "Nomor LAPOR!: ..." comes before the steps, in the language on
    screen, whole at both kiosk sizes."""
    tracking_id = answered_report(offline_env, clock, lapor_number="1606940")
    kiosk = KioskDriver(offline_env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        check_number(kiosk, tracking_id)
        result = kiosk.screen.ids.result
        lines = result.text.splitlines()
        number = {"id": "Nomor LAPOR!: 1606940", "en": "LAPOR! number: 1606940"}[lang]
        assert number == T(kiosk, "LAPOR! number: {number}", number="1606940") and lines.count(number) == 1
        steps = [i for i, line in enumerate(lines) if "2026: " in line]  # "19 November 2026: Diterima ..."
        assert steps and lines.index(number) < steps[0]
        for size in KIOSK_SIZES:  # the answer scrolls: every line of it is drawn, none cut
            with window_size(kiosk, size):
                width, height = needed_size(result)
                assert width <= result.width + 1 and height <= result.height + 1, (size, width, height)
                scroll = kiosk.screen.ids.result_scroll  # the answer's top line at the top of the view
                content = scroll.children[0]
                scroll.scroll_y = min(1.0, max(0.0, (result.top - scroll.height) / (content.height - scroll.height)))
                kiosk.frames(2)
                picture(kiosk, f"34-status-lapor-number-{lang}-{size[0]}x{size[1]}")
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_another_kiosks_receipt_offline_says_when_and_where(kivy_window, offline_env, lang):
    kiosk = KioskDriver(offline_env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        other = new_tracking_id("MB10")
        check_number(kiosk, other)
        assert kiosk.screen.result_kind == "offline_unknown"
        shown = kiosk.all_text()
        assert T(kiosk, "This kiosk is offline and cannot check this report right now.") in shown
        assert T(kiosk, "Please try again in about {minutes} minutes.", minutes=10) in shown
        assert f"https://lapor.example.go.id/status/{other}" in shown
        kiosk.screenshot("32-status-offline-other-kiosk")
    finally:
        kiosk.close()


def test_the_receipt_screen_says_sent_once_the_report_is_delivered(kiosk, env):
    """GIVEN the receipt screen of a report waiting to be sent WHEN the central confirms it
    THEN the sentence under the number no longer promises to send it."""
    saved = show_receipt_for_saved_report(kiosk, env)
    label = kiosk.screen.ids.delivery
    assert label.text == T(kiosk, "Your report is kept safely on this kiosk and is sent to the central office as soon "
                                  "as the network allows.")
    [claimed] = env.reports.outbox.claim(10)
    assert claimed == saved.tracking_id
    env.reports.outbox.mark_sent([claimed])
    kiosk.app.refresh_sync_status()  # what the app's 5-second indicator tick does
    kiosk.wait_until(lambda: label.text == T(kiosk, "Your report has been sent to the central office."),
                     what="the sent sentence")
    kiosk.screenshot("33-receipt-sent")
