"""Issue 13 on the real window: under the office's reply, the citizen answers the answer
with real touches. "Masalah belum selesai" opens a short text typed on the on-screen
keyboard and kept in the outbox (the kiosk offline); a rating from 1 to 5 is one tap;
each says so in the citizen's language; after 10 working days only the closed message."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core.feedback import FeedbackService
from kiosk.core.status_flow import FEEDBACK_CLOSED, OBJECTION_SAVED, RATING_SAVED
from kiosk.core.status_lookup import remember_remote_status
from screens.common import ensure_visible
from sync_queue.outbox import Outbox
from tests.support.kiosk_ui import T, saved_report, type_on_keypad
from tests.support.text_fit import KIOSK_SIZES, assert_text_fits, picture, window_size
from tests.support.ui_driver import KioskDriver
from tests.ui.test_ui_status_reply import REPLY, _answered

pytestmark = pytest.mark.ui
OTHER = {"id": "en", "en": "id"}
TYPED = "Lampu masih mati"


@pytest.fixture
def offline_env(tmp_path, clock):
    """A kiosk (MT01) whose central never answers: the objection and the rating wait in its outbox."""
    from kiosk.runtime.config import load_config
    from kiosk.runtime.env import build_env

    path = tmp_path / "kiosk.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\ncentral_url = "http://127.0.0.1:9"\n'
                    'central_token = "t"\n', encoding="utf-8")
    env = build_env(load_config(path, environ={}), now=clock.now, monotonic=clock.monotonic)
    yield env
    env.close()


def _answered_report(env, clock, *, days_ago: int | None = None) -> str:
    """This kiosk's report, answered by the office (its last known status: the kiosk is offline)."""
    tracking_id = saved_report(env)
    status = _answered(tracking_id, REPLY)
    if days_ago is not None:  # the answer given long ago: the 10 working days are over
        shift = clock.now() - dt.timedelta(days=days_ago) - status.events[-1].at
        status = status.model_copy(update={
            "received_at": status.received_at + shift,
            "events": [e.model_copy(update={"at": e.at + shift}) for e in status.events]})
    remember_remote_status(env.store, tracking_id, status, clock.now())
    return tracking_id


def _open_status(kiosk, lang: str, tracking_id: str) -> None:
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    kiosk.tap(kiosk.screen.ids.status)
    assert kiosk.current == "status"
    type_on_keypad(kiosk, tracking_id)
    kiosk.tap(kiosk.screen.ids.check)
    kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the lookup")
    assert kiosk.screen.result_kind == "found" and kiosk.screen.reply == REPLY


def _show(kiosk, widget) -> None:
    """Scroll the answer so ``widget`` is in view, as the citizen's finger would."""
    ensure_visible(kiosk.screen.ids.result_scroll, widget)
    kiosk.frames(3)
    _visible(kiosk, widget)


def _visible(kiosk, widget) -> None:
    """``widget`` lies inside the answer's visible part."""
    scroll = kiosk.screen.ids.result_scroll
    view_bottom, view_top = scroll.to_window(scroll.x, scroll.y)[1], scroll.to_window(scroll.x, scroll.top)[1]
    bottom, top = widget.to_window(widget.x, widget.y)[1], widget.to_window(widget.x, widget.top)[1]
    assert view_bottom - 1 <= bottom and top <= view_top + 1, f"{widget!r} not in view"


def _in_view_above_keyboard(kiosk, widget) -> None:
    keyboard = kiosk.keyboard
    keyboard_top = keyboard.y + keyboard.height * keyboard.scale
    assert widget.to_window(widget.x, widget.y)[1] >= keyboard_top - 1, f"{widget!r} under the keyboard"


def _entries(env):
    return [(e.kind, e.state.value) for e in Outbox(env.store.engine).entries() if e.kind != "report"]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_citizen_objects_with_a_short_text_kept_offline(kivy_window, offline_env, clock, lang):
    """GIVEN this kiosk's answered report, the kiosk offline WHEN the citizen taps "Masalah
    belum selesai", types a short text on the on-screen keyboard, switches language and
    back, and taps "Kirim keberatan" THEN the confirmation in their language says it will
    be sent, also offline, and the outbox holds one objection with that text."""
    tracking_id = _answered_report(offline_env, clock)
    kiosk = KioskDriver(offline_env)
    try:
        _open_status(kiosk, lang, tracking_id)
        screen, ids = kiosk.screen, kiosk.screen.ids
        assert screen.feedback == "open"
        assert ids.object.text == T(kiosk, "Problem not solved")
        assert ids.reply_box.y > ids.object.y > ids.result.y  # under the reply, above the timeline
        _show(kiosk, ids.object)
        kiosk.screenshot("feedback-1-offered")
        kiosk.tap(ids.object)
        assert screen.feedback_state == "objecting"
        kiosk.focus(ids.objection)
        kiosk.type_keys(TYPED)
        assert ids.objection.text == TYPED
        for widget in (ids.objection_hint, ids.objection, ids.objection_actions):  # all above the keyboard
            _visible(kiosk, widget)
            _in_view_above_keyboard(kiosk, widget)
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
        kiosk.frames(3)
        assert ids.feedback_said.text == T(kiosk, OBJECTION_SAVED) and ids.feedback_said.opacity == 1
        _show(kiosk, ids.feedback_said)
        assert_text_fits(ids.feedback_said)
        assert ids.object.opacity == 0 and ids.object.disabled  # one objection per visit
        kiosk.screenshot("feedback-3-objection-sent")

        assert _entries(offline_env) == [("objection", "pending")]
        [entry] = [e for e in Outbox(offline_env.store.engine).entries() if e.kind == "objection"]
        sent = FeedbackService(offline_env.store, clock=clock.now).payload(entry.tracking_id)
        assert sent.tracking_id == tracking_id and sent.text == TYPED
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_citizen_rates_the_answer_four(kivy_window, offline_env, clock, lang):
    """GIVEN an answered report WHEN the citizen taps "4 - Puas" THEN the button stays
    marked, the thanks are said in their language and the outbox holds the rating."""
    tracking_id = _answered_report(offline_env, clock)
    kiosk = KioskDriver(offline_env)
    try:
        _open_status(kiosk, lang, tracking_id)
        ids = kiosk.screen.ids
        words = [ids[f"rate_{n}"].text for n in range(1, 6)]
        assert words[3] == "4  \u2013  " + T(kiosk, "Satisfied") and len(set(words)) == 5
        _show(kiosk, ids.rate_4)
        kiosk.tap(ids.rate_4)
        assert kiosk.screen.feedback_state == "rating_sent"
        kiosk.frames(3)
        assert ids.feedback_said.text == T(kiosk, RATING_SAVED)
        _show(kiosk, ids.feedback_said)
        assert [ids[f"rate_{n}"].state for n in range(1, 6)] == ["normal"] * 3 + ["down", "normal"]
        kiosk.screenshot("feedback-4-rated")
        assert _entries(offline_env) == [("rating", "pending")]
        [entry] = [e for e in Outbox(offline_env.store.engine).entries() if e.kind == "rating"]
        assert FeedbackService(offline_env.store, clock=clock.now).payload(entry.tracking_id).score == 4
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_answer_to_the_answer_fits_at_both_kiosk_sizes(kivy_window, offline_env, clock, lang):
    """Every new word on the status screen shows whole at 1280x800 and 1366x768, and the
    objection's field and buttons stay above the keyboard."""
    tracking_id = _answered_report(offline_env, clock)
    kiosk = KioskDriver(offline_env)
    try:
        _open_status(kiosk, lang, tracking_id)
        ids = kiosk.screen.ids
        offered = [ids.object, ids.rating_question] + [ids[f"rate_{n}"] for n in range(1, 6)]
        for size in KIOSK_SIZES:
            with window_size(kiosk, size):
                for widget in offered:
                    _show(kiosk, widget)
                    assert_text_fits(widget)
                picture(kiosk, f"feedback-5-rating-{size[0]}x{size[1]}")
        _show(kiosk, ids.object)
        kiosk.tap(ids.object)
        assert kiosk.screen.feedback_state == "objecting"
        kiosk.focus(ids.objection)
        for size in KIOSK_SIZES:
            with window_size(kiosk, size):
                kiosk.frames(5)
                # Without scrolling: the words, the field and its buttons, all above the keyboard.
                for widget in (ids.objection_hint, ids.objection, ids.cancel_objection, ids.send_objection):
                    _visible(kiosk, widget)
                for widget in (ids.objection_hint, ids.cancel_objection, ids.send_objection):
                    assert_text_fits(widget)
                for widget in (ids.objection, ids.objection_actions):
                    _in_view_above_keyboard(kiosk, widget)
                picture(kiosk, f"feedback-6-objection-{size[0]}x{size[1]}")
    finally:
        kiosk.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_after_ten_working_days_only_the_closed_message(kivy_window, offline_env, clock, lang):
    tracking_id = _answered_report(offline_env, clock, days_ago=40)
    kiosk = KioskDriver(offline_env)
    try:
        _open_status(kiosk, lang, tracking_id)
        ids = kiosk.screen.ids
        assert kiosk.screen.feedback == "closed"
        kiosk.frames(3)
        assert ids.feedback_said.text == T(kiosk, FEEDBACK_CLOSED)
        assert ids.object.opacity == 0 and ids.rating_panel.opacity == 0 and ids.rating_panel.disabled
        _show(kiosk, ids.feedback_said)
        assert_text_fits(ids.feedback_said)
        kiosk.screenshot("feedback-7-closed")
        assert _entries(offline_env) == []
    finally:
        kiosk.close()
