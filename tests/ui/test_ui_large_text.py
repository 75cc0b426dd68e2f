"""Issue 14, "read at any size, in any light": "Huruf besar" (every text half as big again)
and "Kontras tinggi" (light text on black) from the access bar, on every citizen screen
and state, in both languages, at 1280x800 and 1366x768.

Measured from what the window shows, not from the .kv numbers: every label's whole text
fits its widget (laid out again at the label's width, in its font); every button and
field can be reached (inside the window, or inside a scroll view that brings it in);
every text has capitals of at least 1.5 x 4.8 mm (the access bar, which keeps its size
so that its buttons stay where the citizen found them, and the on-screen keyboard, at
least 12 mm a key already, excepted); every text is at least 7:1 against what it sits
on (WCAG 1.4.6) and every outline 3:1. The pictures are saved as
tests/artifacts/<lang>/contrast/large-contrast-<stop>-<size>.png.
"""
from __future__ import annotations

import pytest
from kivy.core.window import Window
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput

from screens.common import sizes, theme
from screens.icons import icon_font
from screens.textsize import LARGE_TEXT_SCALE, MIN_CAP_MM
from tests.support.screen_tour import tour, tour_env
from tests.support.text_fit import KIOSK_SIZES, needed_size, window_size
from tests.support.ui_driver import ARTIFACTS
from tests.ui.test_ui_contrast import measure
from tests.ui.test_ui_legibility import on_screen_roots, shown, too_small

pytestmark = pytest.mark.ui

#: WCAG 1.4.6 (enhanced contrast): what "Kontras tinggi" promises for every text.
HIGH_CONTRAST_TEXT_MIN = 7.0


@pytest.fixture
def env(tmp_path, clock):
    with tour_env(tmp_path, clock) as environment:
        yield environment


def _in_scroll_view(widget) -> bool:
    node = widget.parent
    while node is not None and node is not node.parent and node is not Window:
        if isinstance(node, ScrollView):
            return True
        node = node.parent
    return False


def _rect(widget) -> tuple[float, float, float, float]:
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def frame_of_the_screen(kiosk) -> list:
    """What keeps its size in large text (screens.textsize, ``chrome_*``): the access bar,
    the top bar (Back, the step or title, the language, Next), the status keypad's column
    (its keys are already as large as the column allows), the row of five ratings, the
    calendar's day names over their columns, and the on-screen keyboard."""
    from screens.common import LanguageSwitch
    from screens.filing import StepBar

    kept = [kiosk.app.root.bar]
    kept += [w for w in kiosk.screen.walk()
             if isinstance(w, (StepBar, LanguageSwitch)) or type(w).__name__ in ("NavButton", "KeypadKey", "LangButton", "RatingButton", "WeekdayName")]
    if kiosk.keyboard is not None:
        kept.append(kiosk.keyboard)  # its keys are at least 12 mm; their words the button size
    if kiosk.current in ("status", "scan"):
        kept += [kiosk.screen.ids[name] for name in ("title", "instruction", "typed") if name in kiosk.screen.ids]
    return kept


def hidden_or_clipped(kiosk, where: str) -> list[str]:
    """Every shown label whose text does not fit it, every field too low for a line of its
    text (two for a long one), and every button or field a citizen cannot reach: outside
    the area it is given and in no scroll view that brings it in."""
    problems = []
    keyboard = kiosk.keyboard
    if keyboard is not None:  # its keys are sized by the keyboard (tests/ui/test_ui_legibility.py); their words fit
        for key in kiosk.key_widgets():
            width, height = needed_size(key)
            if width > key.width + 1 or height > key.height + 1:
                problems.append(f"{where}: the key {key.text!r} needs {width}x{height} px, it is "
                                f"{key.width:.0f}x{key.height:.0f}")
    for root in on_screen_roots(kiosk):
        if root is keyboard:
            continue
        area = _rect(root) if root is not kiosk.screen else _rect(kiosk.app.root.manager)
        for widget in root.walk():
            if not shown(widget):
                continue
            if isinstance(widget, Label) and widget.text.strip() and widget.font_name != icon_font():
                width, height = needed_size(widget)
                if width > widget.width + 1 or height > widget.height + 1:
                    problems.append(f"{where}: {widget.text[:40]!r} needs {width}x{height} px, "
                                    f"its {type(widget).__name__} is {widget.width:.0f}x{widget.height:.0f}")
            if isinstance(widget, TextInput):
                lines = 1 if not widget.multiline else 2
                needed = widget.line_height * lines + widget.padding[1] + widget.padding[3]
                if needed > widget.height + 1:
                    problems.append(f"{where}: {lines} line(s) of the field {widget.hint_text[:30]!r} need "
                                    f"{needed:.0f} px, it is {widget.height:.0f}")
            if isinstance(widget, (Button, TextInput)) and not _in_scroll_view(widget):
                x0, y0, x1, y1 = _rect(widget)
                if x0 < area[0] - 1 or y0 < area[1] - 1 or x1 > area[2] + 1 or y1 > area[3] + 1:
                    problems.append(f"{where}: {type(widget).__name__} {getattr(widget, 'text', '')[:30]!r} "
                                    f"at {tuple(round(v) for v in (x0, y0, x1, y1))} leaves its area "
                                    f"{tuple(round(v) for v in area)}")
    return problems


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_screen_in_large_text_and_high_contrast(kiosk, env, lang):
    """GIVEN each citizen of the screen tour turning on "Huruf besar" and "Kontras tinggi"
    on the access bar (real taps) WHEN every screen and state is drawn at 1280x800 and
    1366x768 THEN no label is clipped, no button or field is out of reach, every text
    (the access bar and the keyboard's keys excepted) has capitals of at least 7.2 mm, and
    every text measures 7:1 against its background and every outline 3:1."""
    problems, counts, stops, table = [], {}, [], []
    app = kiosk.app
    for stop in tour(kiosk, env, lang, large_text=True, high_contrast=True):
        stops.append(stop)
        assert app.large_text and app.high_contrast, f"{stop}: the citizen's choice was lost"
        assert sizes.scale == LARGE_TEXT_SCALE and theme.high_contrast and tuple(Window.clearcolor) == (0, 0, 0, 1)
        for size in KIOSK_SIZES:
            with window_size(kiosk, size):
                where = f"{stop}-{size[0]}x{size[1]}"
                heights, ratios = [], []
                problems += hidden_or_clipped(kiosk, where)
                problems += too_small(kiosk, where, MIN_CAP_MM * LARGE_TEXT_SCALE, skip=frame_of_the_screen(kiosk),
                                      heights=heights)
                found, counts[where] = measure(kiosk, f"large-contrast-{where}", HIGH_CONTRAST_TEXT_MIN, ratios)
                problems += found
                table.append(f"| {stop} | {size[0]}x{size[1]} | {len(ratios)} | {min(ratios):.1f}:1 | "
                             f"{min(heights):.1f} mm |" if ratios and heights else f"| {stop} | {size[0]}x{size[1]} | - | - | - |")
    assert {"welcome", "status-found-reply", "describe-keyboard", "identity-numpad", "review",
            "receipt-print-failed", "idle-warning", "apology", "help-call"} <= set(stops), stops
    assert all(count >= 4 for count in counts.values()), f"screens where little was measured: {counts}"
    (ARTIFACTS / lang / "large-contrast-measured.md").write_text(
        f"# Large text and high contrast, {lang}: measured from the pictures\n\n"
        "By tests/ui/test_ui_large_text.py, on every stop of the screen tour. Capitals are\n"
        "measured outside the frame that keeps its size (the access bar, the top bar, the\n"
        "status keypad, the ratings, the calendar's day names, the keyboard). Goals: 7:1, 7.2 mm.\n\n"
        "| stop | window | texts measured | lowest text contrast | smallest capitals (outside the frame) |\n"
        "|---|---|---|---|---|\n" + "\n".join(table) + "\n", encoding="utf-8")
    report = ARTIFACTS / lang / "large-contrast-problems.txt"
    report.write_text("\n".join(problems) + "\n", encoding="utf-8")
    assert not problems, f"{len(problems)} problems (all in {report}):\n" + "\n".join(problems[:60])


def test_large_text_and_high_contrast_last_one_citizen(kiosk, env):
    """GIVEN a citizen who turned on large text and high contrast (the two buttons are
    pictograms alone: speech and the focus ring name them, with their state) WHEN the
    session ends (nobody touches the kiosk) THEN the next citizen meets the normal size
    and colours, and the access bar shows both off."""
    from screens import access

    app = kiosk.app
    normal_body = sizes.body
    kiosk.tap(app.root.bar.ids.large_text)
    kiosk.tap(app.root.bar.ids.high_contrast)
    assert app.root.bar.ids.large_text.chosen and app.root.bar.ids.high_contrast.chosen
    for name, words in (("large_text", "Huruf besar"), ("high_contrast", "Kontras tinggi")):
        (line,) = access.describe(app.root.bar.ids[name], "id")
        assert (line.text, line.chosen) == (words, True)
        assert app.root.bar.ids[name].uid in {w.uid for w in app.ring.items()}, f"the focus ring cannot reach {words}"
    assert sizes.body >= normal_body * LARGE_TEXT_SCALE - 1 and theme.high_contrast
    kiosk.tap(kiosk.screen.ids.start)
    kiosk.advance_clock(env.config.idle_timeout_s + 0.5)
    kiosk.wait_until(lambda: app.idle_overlay.is_open, what="the idle warning")
    kiosk.advance_clock(env.config.idle_warning_s + 0.5)
    kiosk.wait_until(lambda: kiosk.current == "welcome" and not app.idle_overlay.is_open, what="the session's end")
    assert sizes.body == normal_body and not theme.high_contrast
    assert not app.root.bar.ids.large_text.chosen and not app.root.bar.ids.high_contrast.chosen
    assert tuple(Window.clearcolor) != (0, 0, 0, 1)
