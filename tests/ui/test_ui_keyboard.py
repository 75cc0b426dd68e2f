"""The docked on-screen keyboard never hides what the citizen types (issue 12).

Real touches on the real window at each panel size a kiosk is sold with: the focused field,
its cursor line and the notice under it stay above the keyboard; closing the keyboard
leaves no blank band; a new session starts from the same layout.
"""
from __future__ import annotations

import pytest

from tests.support.kiosk_ui import (
    T,
    assert_above_keyboard,
    fill_category,
    go_next,
    start_report,
)
from tests.support.text_fit import window_size

pytestmark = pytest.mark.ui

#: 1280x800 and 1366x768 panels, and a full-HD one.
PANEL_SIZES = ((1280, 800), (1366, 768), (1920, 1080))


def _to_describe(kiosk, lang):
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    assert kiosk.current == "describe"


def _span(widget) -> tuple[float, float]:
    return widget.to_window(widget.x, widget.y)[1], widget.to_window(widget.x, widget.top)[1]


def _keyboard_top(kiosk) -> float:
    keyboard = kiosk.keyboard
    return keyboard.y + keyboard.height * keyboard.scale if keyboard is not None else 0.0


def tap_what_shows(kiosk, field) -> None:
    """A citizen taps the part of ``field`` they can see (above the keyboard, if open),
    without anything scrolling it into view first."""
    bottom, top = _span(field)
    bottom = max(bottom, _keyboard_top(kiosk))
    assert top - bottom > 10, f"{field.field} is not visible: {bottom:.0f}-{top:.0f}"
    x = field.to_window(field.center_x, field.y)[0]
    kiosk.settle()
    kiosk.tap_at(x, (bottom + min(top, kiosk.bar("next").parent.y)) / 2)
    kiosk.wait_until(lambda: field.focus and kiosk.keyboard is not None, what=f"{field.field} focused")
    kiosk.frames(3)


def assert_notice_and_cursor_above_keyboard(kiosk, field, notice) -> None:
    assert_above_keyboard(kiosk, field)
    band_bottom, band_top = _keyboard_top(kiosk), kiosk.bar("next").parent.y
    if notice.text:
        bottom, top = _span(notice)
        assert band_bottom - 1 <= bottom and top <= band_top + 1, (
            f"notice spans {bottom:.0f}-{top:.0f}, visible band {band_bottom:.0f}-{band_top:.0f}")
    _x, cursor_y = field.to_window(*field.cursor_pos)
    assert band_bottom <= cursor_y - field.line_height and cursor_y <= band_top, (
        f"cursor line at {cursor_y - field.line_height:.0f}-{cursor_y:.0f}, visible band {band_bottom:.0f}-{band_top:.0f}")


def assert_no_blank_band(kiosk) -> None:
    """The question starts at the top of its scroll view (nothing scrolled, or content
    taller than the view), and the view reaches the window's bottom when no keyboard shows."""
    scroll = kiosk.screen.ids.scroll
    content = scroll.children[0]
    if content.height <= scroll.height:
        assert abs(_span(content)[1] - _span(scroll)[1]) <= 1, (
            f"content top {_span(content)[1]:.0f} below the view's top {_span(scroll)[1]:.0f}: a blank band")
    if kiosk.keyboard is None:
        bar = kiosk.app.root.bar.height  # the access bar, under every screen
        assert _span(scroll)[0] <= bar + 1, f"the view ends at {_span(scroll)[0]:.0f}, above the access bar ({bar:.0f})"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_focused_field_its_cursor_and_notice_stay_above_the_keyboard(kiosk, lang):
    """GIVEN the describe step with both "please write" errors shown (the longest layout)
    WHEN, at each panel size, the citizen taps the title, then the part of the description
    they can see, types three lines, and characters are removed from what they typed
    THEN the field, its cursor line and the notice stay between the step bar and the keyboard."""
    _to_describe(kiosk, lang)
    go_next(kiosk)  # nothing typed yet: two error lines at the top push the fields down
    assert T(kiosk, "Please tell us what happened.") in kiosk.all_text()
    screen = kiosk.screen
    title, description = screen.ids.title, screen.ids.description
    for width, height in PANEL_SIZES:
        with window_size(kiosk, (width, height)):
            tap_what_shows(kiosk, title)
            kiosk.type_keys("ktp")
            assert_notice_and_cursor_above_keyboard(kiosk, title, screen.ids.title_notice)
            tap_what_shows(kiosk, description)
            assert_notice_and_cursor_above_keyboard(kiosk, description, screen.ids.description_notice)
            for line in ("saya antre", "lima jam", "di loket"):
                kiosk.type_keys(line)
                kiosk.press_key("enter")
            description.insert_text("ok \U0001F621")  # an emoji from a paste: removed, with a notice
            kiosk.frames(3)
            assert screen.description_notice, "the citizen is told a character was left out"
            assert_notice_and_cursor_above_keyboard(kiosk, description, screen.ids.description_notice)
            if (width, height) == (1280, 800):
                kiosk.screenshot(f"04-describe-keyboard-notice-{width}x{height}")
            description.text = ""
            screen.description_notice = ""
            kiosk.frames(2)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_closing_the_keyboard_leaves_no_blank_band_and_sessions_start_alike(kiosk, lang):
    """GIVEN the describe step with its errors shown, the description focused and the page
    scrolled above the keyboard WHEN the
    keyboard's own close key is tapped, or the citizen taps elsewhere THEN the page is back
    where it belongs, with no blank band; AND the next citizen's session shows the step
    exactly as the first one did."""
    _to_describe(kiosk, lang)
    go_next(kiosk)  # the two error lines make the page scroll for the description
    screen = kiosk.screen
    first_layout = _span(screen.ids.title), _span(screen.ids.description)
    for width, height in PANEL_SIZES:
        with window_size(kiosk, (width, height)):
            layout_here = _span(screen.ids.title)
            tap_what_shows(kiosk, screen.ids.description)
            kiosk.type_keys("lampu")
            kiosk.press_key(kiosk.close_key)
            kiosk.wait_until(lambda: kiosk.keyboard is None, what="the keyboard closed by its close key")
            kiosk.frames(3)
            assert not screen.ids.description.focus
            assert_no_blank_band(kiosk)
            assert _span(screen.ids.title) == layout_here

            tap_what_shows(kiosk, screen.ids.description)
            heading = next(w for w in screen.walk() if getattr(w, "text", None) == T(kiosk, "Tell us what happened"))
            kiosk.tap_at(*heading.to_window(*heading.center))  # a tap elsewhere
            kiosk.wait_until(lambda: kiosk.keyboard is None, what="the keyboard closed by a tap elsewhere")
            kiosk.frames(3)
            assert_no_blank_band(kiosk)
            assert _span(screen.ids.title) == layout_here

    tap_what_shows(kiosk, screen.ids.description)  # the citizen walks away with the keyboard open
    kiosk.app.end_session()
    kiosk.frames(3)
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    go_next(kiosk)
    assert kiosk.current == "describe" and kiosk.keyboard is None
    assert_no_blank_band(kiosk)
    assert (_span(screen.ids.title), _span(screen.ids.description)) == first_layout
    kiosk.screenshot("04-describe-next-session")


#: 12 mm on a 15.6" 1366x768 panel (about 0.25 mm per pixel): the smallest key a finger hits.
MIN_KEY_PX = 12 / 0.25
#: Keys of a US keyboard nobody needs to file a report, and that confuse a first-time typist.
NOT_ON_OUR_KEYBOARD = ("`", "[", "]", "\\", "\u21b9", "\u2b12", "~", "^", "|", "{", "}")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_our_keyboard_has_words_big_keys_one_shot_capitals_and_enter_moves_on(kiosk, lang):
    """GIVEN the describe step WHEN the citizen taps the title THEN the keyboard is ours:
    the punctuation of a report and "Rp", special keys in words, no US-only keys, every key
    at least 12 mm at each panel size; "Capitals" holds for one letter, Enter in the title
    moves to the description, and each field starts in small letters."""
    _to_describe(kiosk, lang)
    screen = kiosk.screen
    title, description = screen.ids.title, screen.ids.description
    tap_what_shows(kiosk, title)
    labels = kiosk.key_labels()
    for wanted in (*"qwertyuiopasdfghjklzxcvbnm1234567890", *".,?!-/():", "Rp",
                   T(kiosk, "Delete"), T(kiosk, "Done"), T(kiosk, "Capitals"), T(kiosk, "space"), T(kiosk, "Enter")):
        assert wanted in labels, f"no key {wanted!r} on {labels}"
    assert not set(NOT_ON_OUR_KEYBOARD) & set(labels)
    for key in kiosk.key_widgets():
        key.texture_update()
        assert key.texture_size[0] <= key.width, f"the word {key.text!r} does not fit its key"
    kiosk.screenshot("04-describe-our-keyboard")
    for size in PANEL_SIZES:
        with window_size(kiosk, size):
            for label, (width, height) in kiosk.key_sizes().items():
                assert min(width, height) >= MIN_KEY_PX, f"key {label!r} is {width:.0f}x{height:.0f} px at {size}"

    kiosk.type_keys("ktp")
    kiosk.press_key("enter")
    kiosk.frames(3)
    assert description.focus and not title.focus and kiosk.keyboard is not None, "Enter moves on to the description"
    kiosk.type_keys("x ")
    kiosk.press_key("capslock")
    kiosk.frames(2)
    assert kiosk.keyboard.layout_mode == "shift"
    kiosk.press_key("a")
    kiosk.press_key("b")
    assert description.text.endswith("x Ab"), description.text
    kiosk.press_key("Rp")
    assert description.text.endswith("x AbRp")

    kiosk.press_key("capslock")
    kiosk.frames(2)
    tap_what_shows(kiosk, title)  # "Capitals" left on in one field ...
    assert kiosk.keyboard.layout_mode == "normal" and not kiosk.keyboard.have_capslock  # ... is off in the next
    kiosk.press_key(kiosk.close_key)
    kiosk.wait_until(lambda: kiosk.keyboard is None, what="Done to close the keyboard")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_phone_field_brings_up_a_number_pad(kiosk, lang):
    """GIVEN the identity step WHEN the citizen types a name and taps Enter THEN the phone
    field takes the typing, on a number pad with big keys, and typing on it fills the field."""
    from tests.support.kiosk_ui import fill_to_identity

    start_report(kiosk, lang, screenshot=False)
    fill_to_identity(kiosk, "jalan rusak", "jalan berlubang")
    name, phone = kiosk.screen.ids.name, kiosk.screen.ids.phone
    kiosk.focus(name)
    assert "q" in kiosk.key_labels()
    kiosk.type_keys("Budi")
    kiosk.press_key("enter")  # Enter after the name moves on to the phone
    kiosk.wait_until(lambda: phone.focus and kiosk.keyboard is not None, what="the phone field focused")
    kiosk.frames(3)
    labels = kiosk.key_labels()
    assert set("0123456789+") <= set(labels) and T(kiosk, "Delete") in labels and T(kiosk, "Done") in labels
    assert not set("qwertyuiopasdfghjklzxcvbnm") & set(labels)
    for size in PANEL_SIZES:
        with window_size(kiosk, size):
            assert_above_keyboard(kiosk, phone)
            for label, (width, height) in kiosk.key_sizes().items():
                assert min(width, height) >= MIN_KEY_PX, f"key {label!r} is {width:.0f}x{height:.0f} px at {size}"
    kiosk.type_keys("0812")
    assert "0812" in phone.text.replace(" ", "")
    kiosk.screenshot("06-identity-number-pad")
