"""Issue 13 on the real window: under the office's reply, the citizen answers the answer
with real touches. "Masalah belum selesai" opens a short text typed on the on-screen
keyboard and kept in the outbox (the kiosk offline); a rating from 1 to 5 is one tap;
each says so in the citizen's language; after 10 working days only the closed message."""
from __future__ import annotations

import pytest
from kivy.core.window import Window

from kiosk.core.feedback import FeedbackService
from kiosk.core.status_flow import FEEDBACK_CLOSED, OBJECTION_SAVED, RATING_SAVED
from screens.common import ensure_visible
from sync_queue.outbox import Outbox
from tests.support.answered import answered_report, offline_env, open_status  # noqa: F401 - a fixture
from tests.support.kiosk_ui import T
from tests.support.text_fit import KIOSK_SIZES, assert_text_fits, picture, window_size
from tests.support.ui_driver import KioskDriver

pytestmark = pytest.mark.ui
OTHER = {"id": "en", "en": "id"}
TYPED = "Lampu masih mati"


def _show(kiosk, widget) -> None:
    """Scroll the answer so ``widget`` is in view, as the citizen's finger would."""
    ensure_visible(kiosk.screen.ids.result_scroll, widget)
    kiosk.frames(3)
    _visible(kiosk, widget)


def _in_view(kiosk, widget) -> bool:
    scroll = kiosk.screen.ids.result_scroll
    view_bottom, view_top = scroll.to_window(scroll.x, scroll.y)[1], scroll.to_window(scroll.x, scroll.top)[1]
    bottom, top = widget.to_window(widget.x, widget.y)[1], widget.to_window(widget.x, widget.top)[1]
    return view_bottom - 1 <= bottom and top <= view_top + 1


def _visible(kiosk, widget) -> None:
    """``widget`` lies inside the answer's visible part."""
    assert _in_view(kiosk, widget), f"{widget!r} not in view"


def _keyboard_top(kiosk) -> float:
    keyboard = kiosk.keyboard
    return keyboard.y + keyboard.height * keyboard.scale if keyboard is not None else 0


def _in_view_above_keyboard(kiosk, widget) -> None:
    assert widget.to_window(widget.x, widget.y)[1] >= _keyboard_top(kiosk) - 1, f"{widget!r} under the keyboard"


def _on_screen(kiosk, widget) -> bool:
    """What a citizen sees: the widget and all it lies in drawn (not transparent), a real
    size, wholly inside the window and above the keyboard."""
    node = widget
    while node is not None and node is not Window:
        if node.opacity <= 0:
            return False
        node = node.parent
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return (x1 - x0 > 8 and y1 - y0 > 8 and x0 >= -1 and x1 <= Window.width + 1 and y1 <= Window.height + 1
            and y0 >= _keyboard_top(kiosk) - 1)


def _cut_by_keyboard(kiosk) -> list:
    """The drawn texts of the answer whose lines the keyboard's top edge cuts through,
    inside the answer's visible part: half a line peeking out above the keys."""
    scroll, top = kiosk.screen.ids.result_scroll, _keyboard_top(kiosk)
    view_bottom, view_top = scroll.to_window(scroll.x, scroll.y)[1], scroll.to_window(scroll.x, scroll.top)[1]
    cut = []
    for label in scroll.walk(restrict=True):
        if not getattr(label, "text", "") or not hasattr(label, "texture_size"):
            continue
        node, drawn = label, True
        while node is not None and node is not Window:
            drawn, node = drawn and node.opacity > 0, node.parent
        bottom, upper = label.to_window(label.x, label.y)[1], label.to_window(label.x, label.top)[1]
        if drawn and label.height > 8 and bottom < top - 1 < upper and upper > view_bottom and bottom < view_top:
            cut.append(label.text[:40])
    return cut


def _keys(kiosk) -> list:
    return list(kiosk.screen.ids.keypad.children)


def _rating_row_in_view(kiosk) -> None:
    """The question and all five scores, whole and in the window, side by side: no scrolling."""
    ids = kiosk.screen.ids
    buttons = [ids[f"rate_{n}"] for n in range(1, 6)]
    node = ids.rating_question.parent
    while node is not None and node is not Window:
        assert node is not ids.result_scroll.__self__, "the rating row scrolls"
        node = node.parent
    for widget in (ids.rating_question, *buttons):
        assert _on_screen(kiosk, widget), f"{widget.text!r} not on screen at {tuple(Window.size)}"
        assert_text_fits(widget)
    lefts = [b.to_window(b.x, b.y)[0] for b in buttons]
    assert lefts == sorted(lefts) and len({round(b.to_window(b.x, b.y)[1]) for b in buttons}) == 1, "not one row"


def _entries(env):
    return [(e.kind, e.state.value) for e in Outbox(env.store.engine).entries() if e.kind != "report"]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_citizen_objects_with_a_short_text_kept_offline(kivy_window, offline_env, clock, lang):
    """GIVEN this kiosk's answered report, the kiosk offline WHEN the citizen taps "Masalah
    belum selesai", types a short text on the on-screen keyboard, switches language and
    back, and taps "Kirim keberatan" THEN the number's keypad is gone while they type (the
    field takes its room, above the keyboard) and back afterwards, the confirmation in their
    language says it will be sent, also offline, and the outbox holds one objection with
    that text."""
    tracking_id = answered_report(offline_env, clock)
    kiosk = KioskDriver(offline_env)
    try:
        open_status(kiosk, lang, tracking_id)
        screen, ids = kiosk.screen, kiosk.screen.ids
        assert screen.feedback == "open"
        assert ids.object.text == T(kiosk, "Problem not solved")
        assert ids.reply_box.y > ids.object.y > ids.result.y  # under the reply, above the timeline
        assert all(_on_screen(kiosk, key) for key in _keys(kiosk)) and _on_screen(kiosk, ids.check)
        keypad_left = ids.keypad.to_window(ids.keypad.x, ids.keypad.y)[0]
        _show(kiosk, ids.object)
        kiosk.screenshot("feedback-1-offered")
        kiosk.tap(ids.object)
        assert screen.feedback_state == "objecting"
        kiosk.focus(ids.objection)
        kiosk.type_keys(TYPED)
        assert ids.objection.text == TYPED

        # The keypad and the number folded away; the field reaches where the keypad was.
        assert not any(_on_screen(kiosk, w) for w in (*_keys(kiosk), ids.check, ids.backspace, ids.typed))
        assert not any(_on_screen(kiosk, ids[f"rate_{n}"]) for n in range(1, 6))
        field_right = ids.objection.to_window(ids.objection.right, ids.objection.y)[0]
        assert field_right > keypad_left + 100, "the text field did not take the keypad's room"
        for widget in (ids.objection_hint, ids.objection, ids.objection_actions):  # all above the keyboard
            _visible(kiosk, widget)
            _in_view_above_keyboard(kiosk, widget)
        assert _cut_by_keyboard(kiosk) == []  # no line of the timeline half hidden under the keys
        kiosk.screenshot("feedback-2-objection-typed")

        # The language switch keeps what was typed, and the screen speaks the other language.
        kiosk.tap(ids.language.ids[f"lang_{OTHER[lang]}"])
        assert kiosk.app.lang == OTHER[lang] and screen.feedback_state == "objecting"
        assert ids.objection.text == TYPED and ids.send_objection.text == T(kiosk, "Send the objection")
        kiosk.tap(ids.language.ids[f"lang_{lang}"])
        assert kiosk.app.lang == lang and ids.objection.text == TYPED

        _show(kiosk, ids.send_objection)
        kiosk.tap(ids.send_objection)
        assert screen.feedback_state == "objection_sent"
        kiosk.wait_until(lambda: kiosk.keyboard is None, what="the keyboard closed")
        kiosk.frames(3)
        assert ids.feedback_said.text == T(kiosk, OBJECTION_SAVED) and ids.feedback_said.opacity == 1
        scroll = ids.result_scroll  # every line ends left of the scroll bar ("offline" ran under it)
        bar_left = scroll.to_window(scroll.right, scroll.y)[0] - scroll.bar_width - scroll.bar_margin
        for label in (ids.reply, ids.feedback_said, ids.result):
            assert label.to_window(label.right, label.y)[0] <= bar_left + 1, f"{label.text[:30]!r} under the bar"
        _show(kiosk, ids.feedback_said)
        assert_text_fits(ids.feedback_said)
        assert ids.object.opacity == 0 and ids.object.disabled  # one objection per visit

        # The keypad is back, and takes taps again; so does the rating row.
        assert all(_on_screen(kiosk, key) for key in _keys(kiosk)) and _on_screen(kiosk, ids.check)
        _rating_row_in_view(kiosk)
        kiosk.screenshot("feedback-3-objection-sent")
        kiosk.tap(ids.backspace)
        assert screen.typed == tracking_id[:-1]

        assert _entries(offline_env) == [("objection", "pending")]
        [entry] = [e for e in Outbox(offline_env.store.engine).entries() if e.kind == "objection"]
        sent = FeedbackService(offline_env.store, clock=clock.now).payload(entry.tracking_id)
        assert sent.tracking_id == tracking_id and sent.text == TYPED
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_cancelling_the_objection_brings_the_keypad_back(kivy_window, offline_env, clock, lang):
    """GIVEN the objection's field open, the keypad folded away WHEN the citizen taps
    "Batal" THEN the keypad, the number and the rating row are back, and nothing was kept."""
    tracking_id = answered_report(offline_env, clock)
    kiosk = KioskDriver(offline_env)
    try:
        open_status(kiosk, lang, tracking_id)
        ids = kiosk.screen.ids
        _show(kiosk, ids.object)
        kiosk.tap(ids.object)
        kiosk.focus(ids.objection)
        assert not any(_on_screen(kiosk, key) for key in _keys(kiosk))
        _show(kiosk, ids.cancel_objection)
        kiosk.tap(ids.cancel_objection)
        assert kiosk.screen.feedback_state == ""
        kiosk.wait_until(lambda: kiosk.keyboard is None, what="the keyboard closed")
        kiosk.frames(3)
        assert all(_on_screen(kiosk, key) for key in _keys(kiosk)) and _on_screen(kiosk, ids.typed)
        _rating_row_in_view(kiosk)
        assert _entries(offline_env) == []
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_citizen_rates_the_answer_four(kivy_window, offline_env, clock, lang):
    """GIVEN an answered report WHEN the citizen taps "4 - Puas" in the row of five THEN
    the button stays marked, the thanks take the question's place above the row in their
    language and the outbox holds the rating."""
    tracking_id = answered_report(offline_env, clock)
    kiosk = KioskDriver(offline_env)
    try:
        open_status(kiosk, lang, tracking_id)
        ids = kiosk.screen.ids
        words = [ids[f"rate_{n}"].text for n in range(1, 6)]
        assert words[3] == "4\n" + T(kiosk, "Satisfied") and len(set(words)) == 5
        assert ids.rating_question.text == T(kiosk, "How satisfied are you with the answer?")
        _rating_row_in_view(kiosk)
        kiosk.tap(ids.rate_4)
        assert kiosk.screen.feedback_state == "rating_sent"
        kiosk.frames(3)
        assert ids.rating_question.text == T(kiosk, RATING_SAVED)
        assert T(kiosk, RATING_SAVED) not in ids.feedback_said.text  # said once, where it was tapped
        assert [ids[f"rate_{n}"].state for n in range(1, 6)] == ["normal"] * 3 + ["down", "normal"]
        _rating_row_in_view(kiosk)
        kiosk.screenshot("feedback-4-rated")
        assert _entries(offline_env) == [("rating", "pending")]
        [entry] = [e for e in Outbox(offline_env.store.engine).entries() if e.kind == "rating"]
        assert FeedbackService(offline_env.store, clock=clock.now).payload(entry.tracking_id).score == 4
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_answer_to_the_answer_fits_at_both_kiosk_sizes(kivy_window, offline_env, clock, lang):
    """At 1280x800 and 1366x768: the reply and "Masalah belum selesai" in view without
    scrolling, the five scores all on screen in one row, whole; while the objection is
    typed, no keypad, and the words, the field and its buttons above the keyboard."""
    tracking_id = answered_report(offline_env, clock)
    kiosk = KioskDriver(offline_env)
    try:
        open_status(kiosk, lang, tracking_id)
        ids = kiosk.screen.ids
        for size in KIOSK_SIZES:
            with window_size(kiosk, size):
                ids.result_scroll.scroll_y = 1
                kiosk.frames(3)
                for widget in (ids.reply, ids.object):
                    _visible(kiosk, widget)
                    assert_text_fits(widget)
                _rating_row_in_view(kiosk)
                assert all(_on_screen(kiosk, key) for key in _keys(kiosk))
                picture(kiosk, f"feedback-5-rating-{size[0]}x{size[1]}")
        kiosk.tap(ids.object)
        assert kiosk.screen.feedback_state == "objecting"
        kiosk.focus(ids.objection)
        for size in KIOSK_SIZES:
            with window_size(kiosk, size):
                # The panel is laid out again for the new size and brought above the keyboard
                # over a few frames (more when the machine is busy): wait for it, then look.
                objection = (ids.objection_hint, ids.objection, ids.cancel_objection, ids.send_objection)
                kiosk.wait_until(lambda: all(_in_view(kiosk, w) for w in objection), max_frames=120,
                                 what=f"the objection in view above the keyboard at {size}")
                assert ids.objection.focus
                assert not any(_on_screen(kiosk, key) for key in _keys(kiosk))
                # Without scrolling: the words, the field and its buttons, all above the keyboard.
                for widget in (ids.objection_hint, ids.objection, ids.cancel_objection, ids.send_objection):
                    _visible(kiosk, widget)
                    assert _on_screen(kiosk, widget)
                for widget in (ids.objection_hint, ids.cancel_objection, ids.send_objection):
                    assert_text_fits(widget)
                for widget in (ids.objection, ids.objection_actions):
                    _in_view_above_keyboard(kiosk, widget)
                picture(kiosk, f"feedback-6-objection-{size[0]}x{size[1]}")
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_after_ten_working_days_only_the_closed_message(kivy_window, offline_env, clock, lang):
    tracking_id = answered_report(offline_env, clock, days_ago=40)
    kiosk = KioskDriver(offline_env)
    try:
        open_status(kiosk, lang, tracking_id)
        ids = kiosk.screen.ids
        assert kiosk.screen.feedback == "closed"
        kiosk.frames(3)
        assert ids.feedback_said.text == T(kiosk, FEEDBACK_CLOSED)
        assert not _on_screen(kiosk, ids.object) and ids.rating_panel.disabled
        assert not any(_on_screen(kiosk, ids[f"rate_{n}"]) for n in range(1, 6))
        _show(kiosk, ids.feedback_said)
        assert_text_fits(ids.feedback_said)
        kiosk.screenshot("feedback-7-closed")
        assert _entries(offline_env) == []
    finally:
        kiosk.close()
