"""Issue 12, "every state readable without colour": measured from pictures of the real
window, on every citizen screen, in both languages, at both kiosk sizes.

Every visible text is at least 4.5:1 against what it sits on (WCAG 1.4.3); the outline of
every control (buttons, choices, fields, the language buttons, the keyboard's keys) and
every scroll bar at least 3:1 against the page (WCAG 1.4.11). A chosen answer shows a
check mark and a thicker border, seen in greyscale. The pictures are saved under
tests/artifacts/<lang>/contrast/.
"""
from __future__ import annotations

import numpy as np
import pytest
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput

from tests.support.contrast import (
    OUTLINE_MIN, TEXT_MIN, frame, luminance_image, outline_contrast, text_contrast, text_rect, visible_rect,
    window_rect,
)
from tests.support.kiosk_ui import start_report
from tests.support.screen_tour import tour, tour_env
from tests.support.text_fit import KIOSK_SIZES, window_size

pytestmark = pytest.mark.ui


@pytest.fixture
def env(tmp_path, clock):
    with tour_env(tmp_path, clock) as environment:
        yield environment


def _shown_roots(kiosk):
    """What the citizen sees at once: an open overlay covers the screen; the docked
    keyboard sits on it."""
    app = kiosk.app
    overlays = [o for o in (app.idle_overlay, getattr(app, "confirm_leave", None), getattr(app, "help_overlay", None))
                if o is not None and o.is_open and o.get_root_window() is not None]
    roots = overlays[-1:] or [kiosk.screen]
    keyboard = kiosk.keyboard
    return roots, keyboard


def _name(widget) -> str:
    text = getattr(widget, "text", "") or getattr(widget, "hint_text", "") or ""
    return f"{type(widget).__name__} {text.strip()[:40]!r}"


def _same(a, b) -> bool:
    return all(abs(p - q) <= 1.5 for p, q in zip(a, b))


def measure(kiosk, where: str, text_min: float = TEXT_MIN, texts: list | None = None) -> tuple[list[str], int]:
    """What falls short on the window as shown now (one line per text or control), and
    how many texts and outlines were measured; texts need ``text_min``:1 (high contrast: 7).
    ``texts``, if given, gets every text's measured ratio."""
    image, _path = frame(kiosk, where)
    lum = luminance_image(image)  # once per frame, for every outline
    roots, keyboard = _shown_roots(kiosk)
    covers = [window_rect(keyboard)] if keyboard is not None else []
    widgets = [w for root in roots for w in root.walk(restrict=False)]
    short, measured = [], []

    def check_text(widget, rect, covered=covers):
        shown = visible_rect(widget, rect, covered)
        if shown is None or shown[3] - shown[1] < 10:
            return
        ratio = text_contrast(image, shown)
        measured.append(ratio)
        if texts is not None and ratio is not None:
            texts.append(ratio)
        if ratio is not None and ratio < text_min:
            short.append(f"{where}: text of {_name(widget)} is {ratio:.2f}:1 (needs {text_min}:1)")

    def check_outline(widget, rect, covered=covers):
        shown = visible_rect(widget, rect, covered)
        if shown is None or not _same(shown, rect):
            return  # partly scrolled away or under the keyboard: its outline is not all shown
        ratio = outline_contrast(lum, rect)
        measured.append(ratio)
        if ratio is not None and ratio < OUTLINE_MIN:
            short.append(f"{where}: outline of {_name(widget)} is {ratio:.2f}:1 (needs {OUTLINE_MIN}:1)")

    for widget in widgets:
        if isinstance(widget, Label) and widget.text.strip() and widget.texture is not None:
            check_text(widget, text_rect(widget))
        if isinstance(widget, TextInput):
            if widget.text or widget.hint_text:
                left, top, right, bottom = widget.padding
                x0, y0, x1, y1 = window_rect(widget)
                check_text(widget, (x0 + left, y0 + bottom, x1 - right, y1 - top))
            check_outline(widget, window_rect(widget))
        if isinstance(widget, Button):
            check_outline(widget, window_rect(widget))
        if isinstance(widget, ScrollView) and widget.children and widget.children[0].height > widget.height + 1:
            check_outline(widget, _scroll_bar_rect(widget))
    if keyboard is not None:
        for key in kiosk.key_widgets():
            rect = window_rect(key)
            check_text(key, text_rect(key), ())
            check_outline(key, rect, ())
    return short, sum(ratio is not None for ratio in measured)


def _scroll_bar_rect(scroll):
    """Where the scroll view draws its vertical bar, in window coordinates."""
    bottom_hint, height_hint = scroll.vbar
    x1 = scroll.right - scroll.bar_margin
    x0 = x1 - scroll.bar_width
    y0 = scroll.y + scroll.height * bottom_hint
    y1 = y0 + scroll.height * height_hint
    xa, ya = scroll.parent.to_window(x0, y0) if scroll.parent else (x0, y0)
    xb, yb = scroll.parent.to_window(x1, y1) if scroll.parent else (x1, y1)
    return xa, ya, xb, yb


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_text_and_outline_on_every_screen_has_contrast(kiosk, env, lang):
    """GIVEN every citizen screen and state (the screen tour) WHEN it is drawn at 1280x800
    and 1366x768 THEN every visible text measures at least 4.5:1 against its background,
    and every control's outline and every scroll bar at least 3:1 against the page."""
    short, counts = [], {}
    for stop in tour(kiosk, env, lang):
        for size in KIOSK_SIZES:
            with window_size(kiosk, size):
                found, counts[f"{stop}-{size[0]}x{size[1]}"] = measure(kiosk, f"{stop}-{size[0]}x{size[1]}")
                short += found
    assert {"kind-1280x800", "describe-keyboard-1366x768", "receipt-print-failed-1280x800"} <= set(counts), counts
    assert all(count >= 4 for count in counts.values()), f"screens where little was measured: {counts}"
    assert not short, "\n".join(short)


# -- a chosen answer without colour ---------------------------------------------------------
def _grey_box(kiosk, widget, name):
    """The widget's pixels in greyscale (relative luminance), rows top-down."""
    image, _path = frame(kiosk, name)
    lum = luminance_image(image)
    x0, y0, x1, y1 = (round(v) for v in window_rect(widget))
    height = lum.shape[0]
    return lum[height - y1:height - y0, x0:x1]


def _check_mark_pixels(box, corner: bool = False) -> int:
    """Dark pixels where the check mark goes, the border left out: the left of a choice,
    or the top left corner of a small one (a day, Yes and No), above its word."""
    height, _width = box.shape
    part = box[6:21, 6:30] if corner else box[8:height - 8, 8:40]
    return int((part < 0.12).sum())


def _border_thickness(box) -> int:
    """How many pixels deep the dark line along the edges is (the median over the sides)."""
    height, width = box.shape

    def depth(line) -> int:
        dark = line < 0.12
        return int(np.argmin(dark)) if not dark.all() else len(dark)

    middle_rows, middle_cols = height // 2, width // 2
    # The left side is skipped: the check mark sits near it.
    sides = [box[middle_rows, ::-1][:12], box[:, middle_cols][:12], box[::-1, middle_cols][:12]]
    return int(np.median([depth(side) for side in sides]))


def _recognisable(kiosk, choice, name, corner: bool = False) -> None:
    """Tap ``choice``; a step that moves on by itself is left again with Back, where the
    choice is shown as chosen."""
    screen, text = kiosk.current, choice.text
    before = _grey_box(kiosk, choice, f"{name}-not-chosen")
    kiosk.tap(choice)
    if kiosk.current != screen:
        kiosk.tap(kiosk.bar("back"))
        assert kiosk.current == screen
        choice = next(w for w in kiosk.screen.walk() if isinstance(w, Button) and w.text == text)
        kiosk.scroll_into_view(choice)
    kiosk.frames(3)
    _assert_looks_chosen(before, _grey_box(kiosk, choice, f"{name}-chosen"), name, corner)


def _assert_looks_chosen(before, after, name, corner: bool = False) -> None:
    """``after`` (greyscale) shows a check mark and a border twice as thick as ``before``."""
    assert _check_mark_pixels(before, corner) == 0, f"a {name} not chosen shows no check mark"
    assert _check_mark_pixels(after, corner) >= (20 if corner else 60), \
        f"the chosen {name} shows no check mark in greyscale"
    thin, thick = _border_thickness(before), _border_thickness(after)
    assert thick >= 5 and thick >= thin + 2, f"the chosen {name}'s border is {thick} px, not chosen {thin} px"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_chosen_answer_is_recognisable_without_colour(kiosk, env, lang):
    """GIVEN a kind, then a category, not yet chosen WHEN the citizen taps it THEN, in
    greyscale, the choice now shows a check mark at its left and a border at least 5 px
    thick, twice as thick as before or more (colour alone does not carry the state)."""
    start_report(kiosk, lang, screenshot=False)
    kinds = kiosk.screen.ids.choices.children[::-1]
    kind = kinds[0]
    _recognisable(kiosk, kind, "kind")
    kiosk.tap(kiosk.bar("next"))
    assert kiosk.current != "kind"
    choice = next(w for w in kiosk.screen.walk() if isinstance(w, Button) and getattr(w, "group", None)
                  and w.state == "normal")
    kiosk.scroll_into_view(choice)
    _recognisable(kiosk, choice, kiosk.current)


def test_a_chosen_day_and_a_yes_are_recognisable_without_colour(kiosk, env):
    """GIVEN the calendar with today chosen, and a yes/no question WHEN compared in
    greyscale with a day not chosen, and with Yes before it is tapped THEN the chosen day
    and the chosen Yes show a check mark and a thick border."""
    seen = []
    for stop in tour(kiosk, env, "id"):
        if stop == "when_where-calendar":
            days = [d for d in kiosk.screen.ids.days.children if getattr(d, "date", None) is not None]
            chosen = next(d for d in days if d.chosen)
            kiosk.scroll_into_view(chosen)  # today's row may sit below the fold, above the access bar
            kiosk.frames(2)
            other = next(d for d in days if not d.chosen and not d.disabled
                         and visible_rect(d, window_rect(d)) == window_rect(d))
            _assert_looks_chosen(_grey_box(kiosk, other, "day-not-chosen"), _grey_box(kiosk, chosen, "day-chosen"),
                                 "day", corner=True)
            seen.append(stop)
        if stop == "identity":
            _recognisable(kiosk, kiosk.screen.ids.anonymous.ids.yes, "yes", corner=True)
            seen.append(stop)
            break
    assert seen == ["when_where-calendar", "identity"]


def _fill_and_dashes(kiosk, button, name) -> tuple[float, int]:
    """In greyscale: how far the button's inside is from the band around it (0: no fill),
    and how many times its top edge turns from line to gap (0: a solid line)."""
    image, _path = frame(kiosk, name)
    lum = luminance_image(image)
    height = lum.shape[0]
    x0, y0, x1, y1 = (round(v) for v in window_rect(button))
    around = np.median(lum[height - y1 - 4:height - y1 - 1, x0 + 8:x1 - 8])
    inside = lum[height - y1 + 8:height - y0 - 8, x0 + 8:x0 + 24]  # beside the word, not on it
    edge = lum[height - y1:height - y1 + 3, x0 + 8:x1 - 8].min(axis=0) < around - 0.3
    return abs(float(np.median(inside)) - float(around)), int(np.count_nonzero(edge[1:] & ~edge[:-1]))


def test_an_inactive_button_differs_from_an_active_one_by_more_than_colour(kiosk, env):
    """GIVEN the review just shown (Send waits until the citizen has seen it) WHEN Send is
    compared, in greyscale, with Send once it takes taps THEN the inactive one has no fill
    (the bar shows through) and a dashed outline, the active one a fill and a solid edge;
    both have readable words and an outline of 3:1 (measured on every screen above)."""
    from kiosk.core.tap_guard import REVIEW_READ_S

    for stop in tour(kiosk, env, "id"):
        if stop == "review":
            break
    send = kiosk.screen.ids.send
    assert send.disabled, "Send takes taps before the review was seen"
    fill, dashes = _fill_and_dashes(kiosk, send, "send-inactive")
    assert fill < 0.02 and dashes >= 8, f"inactive Send: fill {fill:.2f}, {dashes} dashes"
    kiosk.advance_clock(REVIEW_READ_S)
    kiosk.wait_until(lambda: not send.disabled, what="Send to take taps")
    kiosk.frames(3)
    fill, dashes = _fill_and_dashes(kiosk, send, "send-active")
    assert fill > 0.3 and dashes == 0, f"active Send: fill {fill:.2f}, {dashes} dashes"


def test_a_scroll_bar_fading_when_high_contrast_is_tapped_takes_the_new_colours(kiosk, env):
    """GIVEN the categories in large text (they scroll), just scrolled, its bar
    fading to the inactive colour half a second later WHEN the citizen taps "Kontras
    tinggi" during the fade THEN, once it has settled, the bar shows high contrast's
    inactive colour and measures 3:1 against the black page (it kept the old theme's grey,
    3.00:1, on Welcome in a CI run)."""
    from screens.common import theme

    from screens.common import KioskScroll

    start_report(kiosk, "id", screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])  # the first kind: on to the categories
    kiosk.tap(kiosk.bar("next"))
    assert kiosk.current == "category"
    kiosk.tap(kiosk.app.root.bar.ids.large_text)
    scroll = next(w for w in kiosk.screen.walk() if isinstance(w, KioskScroll))
    kiosk.wait_until(lambda: scroll.children[0].height > scroll.height + 1, what="the choices to scroll")
    scroll.scroll_y = 0.5  # as a finger's drag ends
    kiosk.frames(2)
    assert list(scroll._bar_color) == list(scroll.bar_color)  # noqa: SLF001 - what the bar is drawn in
    fading = lambda: list(scroll._bar_color) != list(scroll.bar_color)  # noqa: E731, SLF001
    for _ in range(120):  # about four seconds at the kiosk's frame rate
        if fading():
            break
        kiosk.frames(1, paced=True)  # the fade follows the wall clock, as on the kiosk
    assert fading(), "the bar never faded"

    contrast = kiosk.app.root.bar.ids.high_contrast
    kiosk.tap_at(*contrast.to_window(*contrast.center))  # at once, as a citizen does: the tap guard is long past
    assert theme.high_contrast
    settled = lambda: list(scroll._bar_color) == list(theme.muted)  # noqa: E731, SLF001
    for _ in range(60):  # past the half-second fade
        kiosk.frames(1, paced=True)
    assert settled(), f"the bar is drawn in {list(scroll._bar_color)}, high contrast's muted is {list(theme.muted)}"  # noqa: SLF001
    short, _count = measure(kiosk, "category-bar-after-contrast")
    assert not [line for line in short if "KioskScroll" in line], short
