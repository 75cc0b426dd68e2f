"""Issue 12, "text too small for arm's length": every text a citizen can see, on every
screen and in every state, in both languages, at both kiosk screen sizes, has capital
letters at least 4.8 mm tall on the configured panel (ADA 707), measured from the
rendered letters, not read from the .kv files; the on-screen keyboard's keys are at
least 12 mm; and the millimetres follow the panel's configuration."""
from __future__ import annotations

import functools

import pytest
from kivy.core.text import Label as CoreLabel
from kivy.core.window import Window
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput

from screens.common import KEY_MIN_MM, sizes
from screens.icons import icon_font
from screens.textsize import MIN_CAP_MM, ROLES, font_px, panel_mm_per_px
from tests.support.kiosk_ui import T
from tests.support.screen_tour import tour, tour_env
from tests.support.text_fit import KIOSK_SIZES, picture, window_size
from tests.support.ui_driver import KioskDriver

pytestmark = pytest.mark.ui


@pytest.fixture
def env(tmp_path, clock):
    with tour_env(tmp_path, clock) as environment:
        yield environment


@functools.lru_cache(maxsize=None)
def cap_height_px(font_name: str, font_size: float, bold: bool) -> int:
    """How many pixel rows a capital "H" in this font inks (alpha over half), rendered by
    Kivy's own text provider as the screens draw their labels."""
    core = CoreLabel(text="H", font_name=font_name, font_size=font_size, bold=bold)
    core.refresh()
    texture = core.texture
    width, height = texture.size
    pixels = texture.pixels
    inked = 0
    for row in range(height):
        start = row * width * 4
        if any(pixels[start + 4 * col + 3] > 127 for col in range(width)):
            inked += 1
    return inked


def window_scale(widget) -> float:
    """How many window pixels one of the widget's own pixels is (a scaled keyboard: more)."""
    x0, y0 = widget.to_window(0, 0)
    x1, y1 = widget.to_window(0, 100)
    return ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 / 100


def shown(widget) -> bool:
    """On screen for a citizen: it and every ancestor opaque, a size, inside the window."""
    node = widget
    while node is not None and node is not Window:
        if getattr(node, "opacity", 1) <= 0:
            return False
        node = node.parent
    if widget.width <= 1 or widget.height <= 1 or widget.get_root_window() is None:
        return False
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return x1 > 0 and y1 > 0 and x0 < Window.width and y0 < Window.height


def texts_of(widget) -> list[str]:
    if getattr(widget, "font_name", "") == icon_font():
        return []  # a pictogram beside words, not text
    if isinstance(widget, TextInput):
        return [t for t in (widget.text, widget.hint_text) if t]
    if isinstance(widget, Label):
        return [widget.text] if widget.text.strip() else []
    return []


def on_screen_roots(kiosk) -> list:
    app = kiosk.app
    roots = [kiosk.screen]
    if not app.root.bar.disabled:
        roots.append(app.root.bar)  # the access bar, on every screen
    for overlay in (app.idle_overlay, app.confirm_leave, app.help_overlay):
        if overlay.is_open and overlay.get_root_window() is not None:
            roots.append(overlay)
    if kiosk.keyboard is not None:
        roots.append(kiosk.keyboard)
    return roots


def too_small(kiosk, stop: str, min_mm: float = MIN_CAP_MM, skip=(), heights: list | None = None) -> list[str]:
    """Every visible text at this stop whose capitals are under ``min_mm`` (4.8 mm), as a
    sentence; texts inside the widgets ``skip`` are not measured. ``heights``, if given,
    gets every measured capital height in mm."""
    mm_per_px = sizes.mm_per_px
    problems = []
    measured = 0
    skipped = {w for root in skip for w in root.walk(restrict=True)}
    for root in on_screen_roots(kiosk):
        for widget in root.walk():
            texts = texts_of(widget)
            if not texts or not shown(widget):
                continue
            measured += 1
            if widget in skipped:
                continue
            px = cap_height_px(widget.font_name, float(widget.font_size), bool(getattr(widget, "bold", False)))
            px *= window_scale(widget)
            if heights is not None:
                heights.append(px * mm_per_px)
            if px * mm_per_px < min_mm:
                problems.append(f"{stop}: {texts[0][:30]!r} capitals {px:.1f} px = {px * mm_per_px:.2f} mm "
                                f"(font_size {float(widget.font_size):.0f})")
    assert measured >= 3, f"{stop}: only {measured} texts found on screen"
    return problems


def small_keys(kiosk, stop: str) -> list[str]:
    if kiosk.keyboard is None:
        return []
    mm_per_px = sizes.mm_per_px
    sizes_px = kiosk.key_sizes()
    assert sizes_px, f"{stop}: the keyboard shows no keys"
    return [f"{stop}: key {label!r} is {w * mm_per_px:.1f} x {h * mm_per_px:.1f} mm"
            for label, (w, h) in sizes_px.items() if min(w, h) * mm_per_px < KEY_MIN_MM]


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_text_on_every_screen_is_at_least_4_8_mm(kivy_window, env, lang, size):
    """GIVEN the kiosk on a 15.6" panel at a kiosk resolution WHEN a citizen walks every
    screen and state (Welcome, the status check, each question with its keyboard, the
    review, the warnings, the receipt printed or not, the apology) THEN every text they
    can see has capitals of at least 4.8 mm, and every key is at least 12 mm."""
    kiosk = KioskDriver(env)
    problems, stops = [], []
    try:
        with window_size(kiosk, size):
            assert sizes.mm_per_px == pytest.approx(panel_mm_per_px(0, env.config.panel_diagonal_inch, size))
            for stop in tour(kiosk, env, lang):
                stops.append(stop)
                assert kiosk.app.lang == lang, f"{stop} is shown in {kiosk.app.lang}"
                problems += too_small(kiosk, stop)
                problems += small_keys(kiosk, stop)
                picture(kiosk, f"legibility-{size[0]}x{size[1]}-{stop}")
                if kiosk.keyboard is not None and size == KIOSK_SIZES[0]:  # the test window's own size
                    kiosk.screenshot(f"legibility-{size[0]}x{size[1]}-{stop}-with-keyboard")
    finally:
        kiosk.close()
    assert {"welcome", "status-found-reply", "describe-keyboard", "identity-numpad", "review",
            "receipt-print-failed", "idle-warning", "apology"} <= set(stops), stops
    assert not problems, f"{len(problems)} texts or keys too small at {size}:\n" + "\n".join(problems[:40])


def _welcome_body(kiosk):
    wanted = T(kiosk, "Report a public service that went wrong. Your report reaches the right office.")
    return next(w for w in kiosk.screen.walk() if getattr(w, "text", None) == wanted)


def _body_mm(kiosk) -> tuple[float, float]:
    label = _welcome_body(kiosk)
    capitals = cap_height_px(label.font_name, float(label.font_size), bool(label.bold))
    return float(label.font_size), capitals * sizes.mm_per_px


def test_text_sizes_follow_the_configured_panel(kivy_window, tmp_path, clock):
    """GIVEN the same window on a 15.6" panel (derived: about 0.26 mm a pixel at 1280x800)
    and on a full-HD 15.6" panel (``panel_mm_per_px = 0.18``) THEN the body text's size in
    pixels grows by the ratio of the pixel sizes, its capitals measure the body role's
    millimetres on both, and the keyboard's keys stay at least 12 mm (taller on the
    panel with the smaller pixels)."""
    measured, keys = {}, {}
    for name, extra in (("derived", ""), ("full-hd", "panel_mm_per_px = 0.18\n")):
        folder = tmp_path / name
        folder.mkdir()
        with tour_env(folder, clock, extra) as env:
            kiosk = KioskDriver(env)
            try:
                measured[name] = (*_body_mm(kiosk), sizes.mm_per_px)
                for stop in tour(kiosk, env, "id"):
                    if stop == "describe-keyboard":
                        break
                keys[name] = min(min(size) for size in kiosk.key_sizes().values()) * sizes.mm_per_px
                assert not small_keys(kiosk, f"{name} describe-keyboard")
            finally:
                kiosk.close()
    (px_derived, mm_derived, per_px_derived), (px_hd, mm_hd, per_px_hd) = measured["derived"], measured["full-hd"]
    assert per_px_hd == 0.18 and per_px_derived == pytest.approx(panel_mm_per_px(0, 15.6, tuple(Window.size)))
    assert px_hd == font_px(ROLES["body"], 0.18) and px_derived == font_px(ROLES["body"], per_px_derived)
    assert px_hd / px_derived == pytest.approx(per_px_derived / 0.18, rel=0.05)
    for capitals in (mm_derived, mm_hd):
        assert ROLES["body"] - 0.3 <= capitals <= ROLES["body"] + 0.5, measured
    assert min(keys.values()) >= KEY_MIN_MM, keys
