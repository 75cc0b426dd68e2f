"""Text sizes in millimetres on the panel, not in pixels.

A citizen reads the kiosk from arm's length; what matters is how tall the letters are on
the glass. ADA 2010 §703.2.5 / §707.7.1 and the accessibility notes in
``shared/reference`` ask for capital letters at least 4.8 mm tall. The panel's size is
configured (``panel_mm_per_px``, or ``panel_diagonal_inch`` with the screen's
resolution), and every text role below is a capital height in mm, turned into Kivy's
``font_size`` (pixels) for the window as it is now. kv rules bind to ``C.sizes.<role>``,
so a window resized at run time (a test at 1366x768) gets the same millimetres.
"""
from __future__ import annotations

import math

from kivy.event import EventDispatcher
from kivy.properties import NumericProperty

#: Capital height / font size of Roboto, Kivy's font (capHeight 1456 / unitsPerEm 2048).
#: tests/ui/test_ui_legibility.py measures the rendered "H", so a wrong number fails there.
CAP_HEIGHT_RATIO = 1456 / 2048
#: The smallest capital height any citizen-facing text may have on the glass.
MIN_CAP_MM = 4.8
MM_PER_INCH = 25.4
#: "Huruf besar" on the access bar: every text role half as big again (issue 14).
LARGE_TEXT_SCALE = 1.5

#: Text roles, as capital heights in mm. ``small`` is the floor (4.8 mm and a margin for
#: rounding to whole pixels); nothing citizen-facing is smaller.
ROLES: dict[str, float] = {
    "small": 5.0,     # notes, footers, the language switch, calendar day names
    "body": 5.2,      # explanations, review lines, status text
    "choice": 5.3,    # the answers of a question
    "input": 5.4,     # what the citizen types
    "button": 5.8,    # buttons and the step bar
    "heading": 7.4,   # each screen's question or title
    "large": 9.0,     # what a screen is for: the reply, the printer notice
    "title": 11.0,    # Welcome's title, the receipt's "Report saved"
    "number": 14.0,   # the Tracking ID on the receipt screen
}


def panel_mm_per_px(mm_per_px: float, diagonal_inch: float, resolution: tuple[int, int]) -> float:
    """Millimetres per pixel: as configured, else from the panel's diagonal and the
    screen's resolution (the window fills the panel on a kiosk)."""
    if mm_per_px > 0:
        return mm_per_px
    width, height = resolution
    return diagonal_inch * MM_PER_INCH / math.hypot(max(1, width), max(1, height))


def font_px(cap_mm: float, mm_per_px: float) -> float:
    """Kivy's ``font_size`` (pixels) whose capitals are ``cap_mm`` tall on the panel."""
    return math.ceil(cap_mm / mm_per_px / CAP_HEIGHT_RATIO)


def mm_px(mm: float, mm_per_px: float) -> float:
    """``mm`` on the panel in pixels (sizes of controls: keys, touch targets)."""
    return mm / mm_per_px


class TextSizes(EventDispatcher):
    """The font sizes (pixels) of every text role for the panel as it is now."""

    mm_per_px = NumericProperty(MM_PER_INCH * 15.6 / math.hypot(1366, 768))
    #: 1, or :data:`LARGE_TEXT_SCALE` while a citizen asked for large text.
    scale = NumericProperty(1.0)
    small = NumericProperty(0)
    body = NumericProperty(0)
    choice = NumericProperty(0)
    input = NumericProperty(0)
    button = NumericProperty(0)
    heading = NumericProperty(0)
    large = NumericProperty(0)
    title = NumericProperty(0)
    number = NumericProperty(0)
    #: ``chrome_<role>``: the role's size whatever the scale, for the frame of every screen
    #: (the access bar; the top bar: Back, the step, the language, Next; the status
    #: keypad's column), whose buttons stay on one row and where the citizen found them,
    #: "Huruf besar" among them; and for what is already large (Welcome's title, the
    #: Tracking ID on the receipt screen).
    chrome_small = NumericProperty(0)
    chrome_body = NumericProperty(0)
    chrome_choice = NumericProperty(0)
    chrome_input = NumericProperty(0)
    chrome_button = NumericProperty(0)
    chrome_heading = NumericProperty(0)
    chrome_large = NumericProperty(0)
    chrome_title = NumericProperty(0)
    chrome_number = NumericProperty(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._configured = (0.0, 15.6)
        self.fbind("mm_per_px", self._resize)
        self.fbind("scale", self._resize)
        self._resize()

    def configure(self, *, mm_per_px: float, diagonal_inch: float, resolution: tuple[int, int]) -> None:
        """The panel from the kiosk's config; ``follow(resolution)`` when the window changes."""
        self._configured = (mm_per_px, diagonal_inch)
        self.follow(resolution)

    def follow(self, resolution: tuple[int, int]) -> None:
        self.mm_per_px = panel_mm_per_px(*self._configured, resolution)

    def mm(self, value: float) -> float:
        """``value`` millimetres on the panel, in pixels."""
        return mm_px(value, self.mm_per_px)

    def _resize(self, *_args) -> None:
        # ``body`` first: the kv rule of every Label binds its font size to ``body``, and a
        # label of another role binds to its own as well; whichever changes last wins, so
        # a ``small`` label followed ``body`` after every resize until this order.
        for role in sorted(ROLES, key=lambda name: name != "body"):
            setattr(self, role, font_px(ROLES[role] * self.scale, self.mm_per_px))
        for role in ROLES:
            chrome = f"chrome_{role}"
            setattr(self, chrome, font_px(ROLES[role], self.mm_per_px))
            self.property(chrome).dispatch(self)  # unchanged by the scale, it must still win over body
