"""The kiosk without touching the screen: a keypad's keys and the voice (issue 14).

Key events go through the real window (``Window.dispatch('on_key_down')``, as SDL2 hands
them to Kivy); what the kiosk says is what it handed to its one audio player (the session's
``app.speech.said``) and what the player wrote to its file sink (the WAV and its .jsonl log).
"""
from __future__ import annotations

import json

import pytest
from kivy.core.window import Window

from kiosk.core.speech_guide import CHOICES, CHOSEN, MORE_TIME, SPEECH_ON
from kiosk.core.tap_guard import REVIEW_READ_S
from kiosk.kernel.spoken import GROUP_SEPARATOR, spoken_tracking_id
from kiosk.runtime.speech import audio_file
from screens import access
from screens.common import tr

pytestmark = pytest.mark.ui


def key(kiosk, code: int, codepoint: str | None = None, *, shift: bool = False) -> None:
    """One key pressed and released, as SDL2 hands it to the window."""
    Window.dispatch("on_key_down", code, 0, codepoint, ["shift"] if shift else [])
    Window.dispatch("on_key_up", code, 0)
    kiosk.frames(1)


def labels(kiosk) -> list[str]:
    return [said.label for said in kiosk.app.speech.said]


def texts(kiosk) -> str:
    return "\n".join(said.text for said in kiosk.app.speech.said)


def same(a, b) -> bool:
    """The same widget (``ids`` hold weak proxies)."""
    return a is not None and b is not None and a.uid == b.uid


def focus_on(kiosk, widget, *, max_presses: int = 120):
    """Down until the ring is on ``widget`` (as a citizen listening would)."""
    for _ in range(max_presses):
        if same(kiosk.app.ring.focused, widget):
            return widget
        key(kiosk, access.DOWN)
    raise AssertionError(f"the ring never reached {widget!r}: {[w for w in kiosk.app.ring.items()]}")


def select(kiosk, widget) -> None:
    """Down to ``widget``, then Enter (after the screen's settle time, as a person takes)."""
    focus_on(kiosk, widget)
    kiosk.settle()
    key(kiosk, access.ENTER)


def speech_on(kiosk) -> None:
    key(kiosk, access.DOWN)  # the first key: speech mode, and how the keys work
    assert kiosk.app.speech_mode
    assert labels(kiosk)[-1] == SPEECH_ON


def wait_announced(kiosk, msgid: str) -> None:
    kiosk.wait_until(lambda: msgid in labels(kiosk),
                     what=lambda: f"{msgid!r} spoken; said {[s.text for s in kiosk.app.speech.said[-12:]]}; "
                                  f"now {[l.text[:20] for l in access.screen_lines(kiosk.screen, 'id', with_controls=False)]}")


def journal(env) -> list[dict]:
    path = audio_file(env.config)
    log = path.with_suffix(path.suffix + ".jsonl")
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_the_first_key_starts_speech_and_the_ring_names_each_control(kiosk):
    speech_on(kiosk)
    welcome = kiosk.screen
    focus_on(kiosk, welcome.ids.start)
    # The ring: drawn around "Buat Laporan", outside its edges.
    x, y = welcome.ids.start.to_window(*welcome.ids.start.pos)
    rx, ry, rw, rh = kiosk.app.ring.bounds()
    assert rx < x and ry < y and rx + rw > x + welcome.ids.start.width and ry + rh > y + welcome.ids.start.height
    assert labels(kiosk)[-1] == "Create a report"
    assert texts(kiosk).splitlines()[-1] == "Buat Laporan"
    kiosk.screenshot("keypad-welcome-ring")
    # The language buttons say which one is chosen.
    focus_on(kiosk, welcome.ids.lang_id)
    assert labels(kiosk)[-2:] == ["text", CHOSEN]
    # Up goes back the way it came.
    key(kiosk, access.UP)
    assert not same(kiosk.app.ring.focused, welcome.ids.lang_id)


def test_a_whole_report_filed_by_keys_alone_with_the_spoken_sequence(kiosk, env):
    speech_on(kiosk)
    select(kiosk, kiosk.screen.ids.start)
    assert kiosk.current == "kind"
    wait_announced(kiosk, "What would you like to send?")
    assert CHOICES in labels(kiosk)  # "3 choices. Press the down key to hear them."
    select(kiosk, kiosk.screen.ids.choices.children[-1])  # a kind goes on by itself
    assert kiosk.current == "category"
    wait_announced(kiosk, "What is it about?")
    category = kiosk.screen.ids.categories.children[-1]
    assert "[font=" in category.text  # its pictogram before its name ...
    focus_on(kiosk, category)
    assert "\U000f0dab" not in texts(kiosk) and kiosk.app.speech.said[-2].text.startswith("Kependudukan")  # ... never read
    select(kiosk, category)
    kiosk.wait_until(lambda: CHOSEN in labels(kiosk)[-3:], what=lambda: f"chosen said: {labels(kiosk)[-8:]}")
    assert kiosk.app.flow.draft.category_code
    select(kiosk, kiosk.bar("next"))
    assert kiosk.current == "agency"
    select(kiosk, kiosk.screen.ids.unknown)
    select(kiosk, kiosk.bar("next"))
    assert kiosk.current == "describe"
    # A field: Enter opens it, the keyboard's letters type, Escape leaves it.
    for field, words in ((kiosk.screen.ids.title, "Jalan rusak"),
                         (kiosk.screen.ids.description, "Lubang besar di depan pasar")):
        select(kiosk, field)
        assert field.focus
        Window.dispatch("on_textinput", words)
        kiosk.frames(1)
        assert field.text == words
        key(kiosk, access.ESCAPE)
        assert not field.focus and same(kiosk.app.ring.focused, field)
    select(kiosk, kiosk.bar("next"))
    assert kiosk.current == "when_where", kiosk.all_text()
    select(kiosk, kiosk.screen.ids.kecamatan.children[-1])
    select(kiosk, kiosk.bar("next"))
    assert kiosk.current == "identity"
    for name in ("anonymous", "confidential"):
        select(kiosk, kiosk.screen.ids[name].ids.no)
    select(kiosk, kiosk.bar("next"))
    assert kiosk.current == "review"
    wait_announced(kiosk, "Check your report, then tap Send")
    kiosk.advance_clock(REVIEW_READ_S)
    kiosk.wait_until(lambda: not kiosk.screen.ids.send.disabled, what="Send to take a key")
    select(kiosk, kiosk.screen.ids.send)
    kiosk.wait_until(lambda: kiosk.current == "receipt", what="the receipt")
    tracking_id = kiosk.screen.tracking_text
    # The receipt's number is said symbol by symbol, in its groups.
    groups = spoken_tracking_id(tracking_id, "id").rstrip(".").split(GROUP_SEPARATOR)  # "em, te, nol, satu", ...
    kiosk.wait_until(lambda: all(group in texts(kiosk) for group in groups), max_frames=300,
                     what=lambda: f"the Tracking ID spelled out: {tracking_id} {[s.text for s in kiosk.app.speech.said[-12:]]}")
    spelled = [s for s in kiosk.app.speech.said if groups[0] in s.text]
    assert spelled and all(s.label == "tracking-id" for s in spelled), spelled  # the log never holds the number
    kiosk.screenshot("keypad-receipt")
    said_before = len(kiosk.app.speech.said)
    key(kiosk, access.NUMPAD_MULTIPLY)  # say it again
    assert kiosk.app.speech.said[said_before:] == [] and kiosk.app.env.player is not None


def test_speech_is_cut_by_navigation_and_the_volume_returns_after_the_session(kiosk, env):
    speech_on(kiosk)
    player = kiosk.app.env.player
    start = player.volume
    key(kiosk, access.NUMPAD_PLUS, "+")
    key(kiosk, access.NUMPAD_PLUS, "+")
    assert player.volume == start + 2 * env.config.audio_volume_step
    assert labels(kiosk)[-1] == "Volume {percent} percent"
    # "Dengarkan" reads the whole of Welcome; going on cuts it short.
    kiosk.tap(kiosk.app.root.bar.ids.listen)
    kiosk.wait_until(lambda: any(not e.get("cut") and e.get("label") for e in journal(env)) or player.sink.sounding.is_set(),
                     what="Welcome being read")
    select(kiosk, kiosk.screen.ids.start)
    assert kiosk.current == "kind"
    assert player.wait_idle(30)
    assert any(entry["cut"] for entry in journal(env)), journal(env)
    kiosk.app.end_session()
    assert player.volume == start
    assert not kiosk.app.speech_mode  # no headset: the next citizen starts without it


def test_speech_mode_gives_more_time_and_says_the_warning(kiosk, env):
    config = env.config
    speech_on(kiosk)
    select(kiosk, kiosk.screen.ids.start)
    assert kiosk.current == "kind"
    kiosk.advance_clock(config.idle_timeout_s + 1)
    kiosk.frames(3)
    assert not kiosk.app.idle_overlay.is_open  # a listener is given longer
    kiosk.advance_clock(config.idle_timeout_s * (config.speech_idle_factor - 1))
    kiosk.wait_until(lambda: kiosk.app.idle_overlay.is_open, what="the idle warning")
    kiosk.wait_until(lambda: MORE_TIME in labels(kiosk), what="the warning spoken")
    key(kiosk, access.DOWN)  # any key: more time
    kiosk.frames(2)
    assert not kiosk.app.idle_overlay.is_open and kiosk.current == "kind"


def test_status_lookup_by_keys(kiosk, env):
    from tests.support.kiosk_ui import saved_report

    tracking_id = saved_report(env)
    speech_on(kiosk)
    select(kiosk, kiosk.screen.ids.status)
    assert kiosk.current == "status"
    keypad = {k.text: k for k in kiosk.screen.ids.keypad.children}
    for symbol in tracking_id.replace("-", ""):
        select(kiosk, keypad[symbol])
    select(kiosk, kiosk.screen.ids.check)
    kiosk.wait_until(lambda: kiosk.screen.ids.result.text, what="the answer")
    key(kiosk, access.F1)
    assert tr("id", "Check the status of a report") in texts(kiosk)


def test_the_bar_calls_staff_and_the_kiosk_waits_longer_for_them(kiosk, env):
    from screens.kiosk_app import STAFF_CALL_PATIENCE

    kiosk.tap(kiosk.screen.ids.start)
    assert kiosk.current == "kind"
    kiosk.tap(kiosk.app.root.bar.ids.call_staff)
    kiosk.wait_until(lambda: kiosk.app.help_overlay.is_open, what="the help overlay")
    kiosk.screenshot("help-call-from-bar")
    kiosk.advance_clock(env.config.idle_timeout_s * 2)
    kiosk.frames(3)
    assert not kiosk.app.idle_overlay.is_open  # a citizen waiting for staff is not gone
    kiosk.advance_clock(env.config.idle_timeout_s * (STAFF_CALL_PATIENCE - 2) + 1)
    kiosk.wait_until(lambda: kiosk.app.idle_overlay.is_open, what="the idle warning at last")


def test_the_access_bar_folds_away_under_the_keyboard_and_speaks_its_buttons(kiosk):
    from tests.support.kiosk_ui import fill_category

    bar = kiosk.app.root.bar
    kiosk.tap(kiosk.screen.ids.start)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    assert bar.height > 0
    kiosk.focus(kiosk.screen.ids.title)
    kiosk.wait_until(lambda: bar.height == 0 and bar.disabled, what="the bar folded under the keyboard")
    kiosk.screen.ids.title.focus = False
    kiosk.wait_until(lambda: bar.height > 0, what="the bar back")
    kiosk.tap(bar.ids.speech_mode)
    assert kiosk.app.speech_mode and labels(kiosk)[-1] == SPEECH_ON
    kiosk.tap(bar.ids.louder)  # in voice guidance a tap is named, then acts
    assert labels(kiosk)[-1] == "Volume {percent} percent"
