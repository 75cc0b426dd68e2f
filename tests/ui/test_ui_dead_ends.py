"""Issue 12, "dead ends and lost drafts", with real touches on the real window, in both
languages: a kecamatan nobody knows, Back that asks, the language on every filing screen,
labels above the fields, the status screen's idle warning and the date calendar."""
from __future__ import annotations

import datetime as dt

import pytest
from kivy.metrics import mm

from kiosk.core import reference
from tests.support.kiosk_ui import (
    T, answer_privacy, fill_category, go_next, start_report, type_into, wait_overlay,
)

pytestmark = pytest.mark.ui
OTHER = {"id": "en", "en": "id"}


def to_when_where(kiosk, lang):
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    type_into(kiosk, kiosk.screen.ids.title, "jalan rusak")
    type_into(kiosk, kiosk.screen.ids.description, "jalan di depan sekolah rusak berat")
    go_next(kiosk)
    assert kiosk.current == "when_where"


def button(kiosk, grid, text):
    return next(b for b in kiosk.screen.ids[grid].children if b.text == text)


def confirm_shown(kiosk) -> bool:
    overlay = kiosk.app.confirm_leave
    return overlay.is_open and overlay.get_root_window() is not None


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("code", [reference.KECAMATAN_UNKNOWN, reference.KECAMATAN_OUTSIDE])
def test_citizen_who_does_not_know_the_kecamatan_can_send(kiosk, env, lang, code):
    """GIVEN the when-and-where step WHEN the citizen taps "Tidak tahu" (or "Di luar
    Barito Utara") THEN Next goes on, the review says so, and the report is kept with
    that code."""
    to_when_where(kiosk, lang)
    label = {reference.KECAMATAN_UNKNOWN: T(kiosk, "Don't know"),
             reference.KECAMATAN_OUTSIDE: T(kiosk, "Outside Barito Utara")}[code]
    choice = button(kiosk, "kecamatan", label)
    kiosk.scroll_into_view(choice)
    kiosk.tap(choice)
    kiosk.screenshot(f"05-when-where-{code.lower()}")
    go_next(kiosk)
    assert kiosk.current == "identity"
    answer_privacy(kiosk, anonymous=False, confidential=False)
    go_next(kiosk)
    assert kiosk.current == "review" and label in kiosk.all_text()
    go_next(kiosk)  # Send
    assert kiosk.current == "receipt"
    assert kiosk.app.session.receipt is not None and env.reports.count_waiting() == 1


@pytest.mark.parametrize("lang", ["id", "en"])
def test_back_on_the_first_question_asks_before_throwing_anything_away(kiosk, lang):
    """GIVEN a kind chosen WHEN the citizen goes back to step 1 and taps Back (twice, fast)
    THEN "Discard this report?" asks, the second tap answers nothing; "No, continue" keeps
    the draft; "Yes, discard" goes to Welcome, still in the citizen's language."""
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    assert kiosk.current == "category"
    kiosk.tap(kiosk.bar("back"))
    assert kiosk.current == "kind"
    back = kiosk.bar("back")
    kiosk.tap(back)
    x, y = back.to_window(*back.center)
    kiosk.tap_at(x, y)  # a double tap's second touch
    assert confirm_shown(kiosk) and kiosk.current == "kind" and kiosk.app.flow is not None
    texts = [w.text for w in kiosk.app.confirm_leave.walk() if hasattr(w, "text")]
    assert T(kiosk, "Discard this report?") in texts
    kiosk.screenshot("02-confirm-discard")

    kiosk.tap(kiosk.app.confirm_leave.ids.no)
    assert not confirm_shown(kiosk) and kiosk.current == "kind" and kiosk.app.flow.draft.kind is not None

    kiosk.tap(kiosk.bar("back"))
    kiosk.tap(kiosk.app.confirm_leave.ids.yes)
    assert kiosk.current == "welcome" and kiosk.app.flow is None and kiosk.app.lang == lang
    kiosk.screenshot("02-welcome-after-discard")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_back_with_nothing_entered_just_leaves(kiosk, lang):
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.bar("back"))
    assert kiosk.current == "welcome" and not confirm_shown(kiosk) and kiosk.app.lang == lang


@pytest.mark.parametrize("lang", ["id", "en"])
def test_language_switches_on_a_filing_screen_and_nothing_is_lost(kiosk, lang):
    """GIVEN a title typed on step 3 WHEN the citizen taps the other language in the top
    bar THEN the screen speaks it, the title and the step stay; leaving the report goes
    to a Welcome in that language, until the session ends."""
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    type_into(kiosk, kiosk.screen.ids.title, "antrean panjang")
    other = OTHER[lang]
    switch = kiosk.bar("language")
    kiosk.tap(switch.ids[f"lang_{other}"])
    assert kiosk.app.lang == other and kiosk.current == "describe"
    assert kiosk.screen.ids.title.text.lower() == "antrean panjang"
    assert kiosk.app.flow.draft.language == other
    assert T(kiosk, "Tell us what happened") in kiosk.all_text()
    assert T(kiosk, "Step {n} of {total}", n=4, total=6) in kiosk.all_text()
    kiosk.screenshot("03-describe-switched")

    for _ in range(3):  # the agency, the category, the kind
        kiosk.tap(kiosk.bar("back"))
    assert kiosk.current == "kind"
    kiosk.tap(kiosk.bar("back"))
    kiosk.tap(kiosk.app.confirm_leave.ids.yes)
    assert kiosk.current == "welcome" and kiosk.app.lang == other
    assert kiosk.screen.ids[f"lang_{other}"].state == "down"
    kiosk.app.end_session()  # the idle watch ran out: the next citizen's default
    assert kiosk.app.lang == kiosk.app.default_lang


@pytest.mark.parametrize("lang", ["id", "en"])
def test_name_and_phone_keep_their_labels_and_a_fixed_phone_loses_its_message(kiosk, lang):
    to_when_where(kiosk, lang)
    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    go_next(kiosk)
    assert kiosk.current == "identity"
    type_into(kiosk, kiosk.screen.ids.name, "budi")
    type_into(kiosk, kiosk.screen.ids.phone, "0812")
    shown = kiosk.all_text()
    assert T(kiosk, "Name") in shown and T(kiosk, "Phone number") in shown  # above the fields, while typing
    answer_privacy(kiosk, anonymous=False, confidential=False)
    go_next(kiosk)
    message = T(kiosk, "A phone number has only digits, for example 0812 3456 7890.")
    assert kiosk.current == "identity" and kiosk.screen.phone_error == message
    kiosk.screenshot("06-identity-phone-wrong")
    type_into(kiosk, kiosk.screen.ids.phone, "3456789")
    assert kiosk.screen.phone_error == "" and message not in kiosk.all_text()
    kiosk.screenshot("06-identity-phone-fixed")
    go_next(kiosk)
    assert kiosk.current == "review"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_idle_warning_on_the_status_screen_says_the_screen_closes(kiosk, clock, env, lang):
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    kiosk.tap(kiosk.screen.ids.status)
    assert kiosk.current == "status"
    clock.advance(env.config.idle_timeout_s + 0.5)
    wait_overlay(kiosk, True)
    seconds = int(kiosk.app.idle_overlay.seconds)
    shown = kiosk.all_text()
    assert T(kiosk, "For your privacy, this screen will close in {seconds} seconds.", seconds=seconds) in shown
    assert T(kiosk, "For your privacy, this report will be erased in {seconds} seconds.", seconds=seconds) not in shown
    kiosk.screenshot("14-status-idle-warning")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_three_weeks_ago_is_two_taps_on_the_calendar(kiosk, env, lang):
    """GIVEN the when-and-where step WHEN the citizen taps the day three weeks ago THEN
    that is the date (one tap, or two across a month); days after today cannot be
    chosen; the days are at least 12 mm; the calendar goes back three months, no more."""
    to_when_where(kiosk, lang)
    today = env.today()
    wanted = today - dt.timedelta(days=21)
    if wanted.month != today.month:
        kiosk.tap(kiosk.screen.ids.earlier_month)
    day = next(b for b in kiosk.screen.ids.days.children if getattr(b, "date", None) == wanted)
    assert day.height >= mm(12) and day.width >= mm(12)
    kiosk.scroll_into_view(day)
    kiosk.tap(day)
    assert kiosk.app.flow.draft.incident_date == wanted
    kiosk.screenshot("05-when-where-calendar")

    if wanted.month != today.month:
        kiosk.tap(kiosk.screen.ids.later_month)
    future = [b for b in kiosk.screen.ids.days.children if getattr(b, "date", today) > today]
    assert future and all(b.disabled for b in future)
    kiosk.scroll_into_view(future[0])
    kiosk.tap(future[0])
    assert kiosk.app.flow.draft.incident_date == wanted
    for _ in range(5):
        if not kiosk.screen.ids.earlier_month.disabled:
            kiosk.scroll_into_view(kiosk.screen.ids.earlier_month)
            kiosk.tap(kiosk.screen.ids.earlier_month)
    assert kiosk.app.flow.calendar_month == kiosk.app.flow.calendar_first_month
