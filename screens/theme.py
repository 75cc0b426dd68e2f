"""The screens' colours, by role, in two themes: the normal one, dark text on a light page
for a bright service hall, and high contrast, light text on black, for a citizen who
reads poorly or in glare (issue 14).

A colour is named for what it does, not for its hue, because the same hue does
different things: the normal theme's blue fills a button and also writes the words of a
white one. High contrast turns the page black, so the fill stays a bright colour under
black words and the words on a black control turn bright. kv rules bind to
``C.theme.<role>``, so a switch repaints every screen at once.

Normal: every text at least 4.5:1 against what it sits on, every outline 3:1 (WCAG 1.4.3,
1.4.11). High contrast: every text at least 7:1 (WCAG 1.4.6). Both measured from
pictures of every screen by tests/ui/test_ui_contrast.py and test_ui_large_text.py.
"""
from __future__ import annotations

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, ColorProperty

#: role -> (normal, high contrast), RGBA.
ROLES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    # The page, and the band of the top and access bars.
    "page": ((0.96, 0.97, 0.98, 1), (0, 0, 0, 1)),
    "bar": ((0.88, 0.91, 0.95, 1), (0.12, 0.12, 0.12, 1)),
    # Behind the office's reply on the status screen.
    "panel": ((0.93, 0.95, 0.98, 1), (0.1, 0.1, 0.1, 1)),
    # Text and lines on the page or on a control.
    "ink": ((0.08, 0.09, 0.12, 1), (1, 1, 1, 1)),
    "muted": ((0.33, 0.36, 0.42, 1), (0.82, 0.82, 0.82, 1)),
    "primary_ink": ((0.04, 0.31, 0.61, 1), (1, 0.87, 0.2, 1)),
    "primary_dark_ink": ((0.02, 0.2, 0.42, 1), (1, 0.87, 0.2, 1)),
    "accent_ink": ((0.0, 0.45, 0.27, 1), (0.55, 0.95, 0.55, 1)),
    "danger_ink": ((0.7, 0.1, 0.1, 1), (1, 0.62, 0.62, 1)),
    "selected_line": ((0.98, 0.75, 0.1, 1), (1, 0.87, 0.2, 1)),
    # Fills: a control (a choice, a field, a key), pressed, chosen.
    "control": ((1, 1, 1, 1), (0, 0, 0, 1)),
    "pressed": ((0.85, 0.88, 0.92, 1), (0.3, 0.3, 0.3, 1)),
    "selected": ((0.98, 0.75, 0.1, 1), (0.12, 0.16, 0.5, 1)),
    # Fills of the main buttons, with ``fill_text`` words on them (not "on_fill": Kivy
    # takes a name starting with "on_" for an event, and binds no property to it).
    "primary": ((0.04, 0.31, 0.61, 1), (1, 0.87, 0.2, 1)),
    "primary_dark": ((0.02, 0.2, 0.42, 1), (1, 1, 1, 1)),
    "accent": ((0.0, 0.45, 0.27, 1), (0.55, 0.95, 0.55, 1)),
    "danger": ((0.7, 0.1, 0.1, 1), (1, 0.62, 0.62, 1)),
    "muted_fill": ((0.33, 0.36, 0.42, 1), (0.82, 0.82, 0.82, 1)),
    "fill_text": ((1, 1, 1, 1), (0, 0, 0, 1)),
    # The on-screen keyboard's tray: Kivy's own dark image (no tint), or in high contrast a
    # plain grey around black keys (screens/common.kv, KioskKeyboard).
    "tray": ((1, 1, 1, 1), (0.55, 0.55, 0.55, 1)),
    # Nothing drawn: an inactive control has no fill, only its dashed outline.
    "none": ((0, 0, 0, 0), (0, 0, 0, 0)),
}


class Palette(EventDispatcher):
    """The colour of every role in the theme now shown (``high_contrast`` switches)."""

    high_contrast = BooleanProperty(False)
    page = ColorProperty(list(ROLES["page"][0]))
    bar = ColorProperty(list(ROLES["bar"][0]))
    panel = ColorProperty(list(ROLES["panel"][0]))
    ink = ColorProperty(list(ROLES["ink"][0]))
    muted = ColorProperty(list(ROLES["muted"][0]))
    primary_ink = ColorProperty(list(ROLES["primary_ink"][0]))
    primary_dark_ink = ColorProperty(list(ROLES["primary_dark_ink"][0]))
    accent_ink = ColorProperty(list(ROLES["accent_ink"][0]))
    danger_ink = ColorProperty(list(ROLES["danger_ink"][0]))
    selected_line = ColorProperty(list(ROLES["selected_line"][0]))
    control = ColorProperty(list(ROLES["control"][0]))
    pressed = ColorProperty(list(ROLES["pressed"][0]))
    selected = ColorProperty(list(ROLES["selected"][0]))
    primary = ColorProperty(list(ROLES["primary"][0]))
    primary_dark = ColorProperty(list(ROLES["primary_dark"][0]))
    accent = ColorProperty(list(ROLES["accent"][0]))
    danger = ColorProperty(list(ROLES["danger"][0]))
    muted_fill = ColorProperty(list(ROLES["muted_fill"][0]))
    fill_text = ColorProperty(list(ROLES["fill_text"][0]))
    tray = ColorProperty(list(ROLES["tray"][0]))
    none = ColorProperty(list(ROLES["none"][0]))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fbind("high_contrast", self._apply)
        self._apply()

    def _apply(self, *_args) -> None:
        which = 1 if self.high_contrast else 0
        for role, colours in ROLES.items():
            setattr(self, role, colours[which])

