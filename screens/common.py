"""Widgets and helpers shared by the kiosk's screens (thin: no business logic)."""
from __future__ import annotations

import io
import logging

from kivy.core.image import Image as CoreImage
from kivy.core.window import Window
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.textinput import TextInput
from kivy.uix.vkeyboard import VKeyboard

from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.textclean import clean_input

log = logging.getLogger(__name__)

# High contrast on a light background: readable in a bright service hall.
INK = (0.08, 0.09, 0.12, 1)
PAPER = (0.96, 0.97, 0.98, 1)
PRIMARY = (0.04, 0.31, 0.61, 1)
PRIMARY_DARK = (0.02, 0.2, 0.42, 1)
ACCENT = (0.0, 0.5, 0.3, 1)
DANGER = (0.7, 0.1, 0.1, 1)
MUTED = (0.33, 0.36, 0.42, 1)
SELECTED = (0.98, 0.75, 0.1, 1)


def tr(language: str, msgid: str, **params: object) -> str:
    """Translate ``msgid`` for ``language``; kv rules call it with ``app.lang`` so a
    language switch re-evaluates every label."""
    text = gettext_for(language)(msgid)
    return text.format(**params) if params else text


def qr_texture(payload: str, box_size: int = 10):
    """A Kivy texture of a QR code (for the receipt screen)."""
    import qrcode

    qr = qrcode.QRCode(border=2, box_size=box_size, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(payload)
    qr.make(fit=True)
    img = qr.make_image(fill_color="black", back_color="white").convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="png")
    buf.seek(0)
    texture = CoreImage(buf, ext="png").texture
    texture.mag_filter = "nearest"
    return texture


class KioskKeyboard(VKeyboard):
    """Kivy's on-screen keyboard, docked at the bottom with large key labels.

    Its height is about 45% of a 1280x800 screen once scaled to the window width.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("size", (700, 200))
        super().__init__(**kwargs)
        self.font_size = 24


def ensure_visible(scroll, widget, padding: float = 56) -> None:
    """Scroll ``scroll`` just enough that ``widget`` is inside its viewport.

    Kivy's ``scroll_to`` also moves content that is already visible (and content shorter
    than the viewport), so it is called only when the widget is really out of view.
    """
    if widget is None or scroll is None or not scroll.children:
        return
    content = scroll.children[0]
    if content.height <= scroll.height:
        scroll.scroll_y = 1
        return
    _x, bottom = widget.to_window(widget.x, widget.y)
    _x, top = widget.to_window(widget.x, widget.top)
    _x, view_bottom = scroll.to_window(scroll.x, scroll.y)
    if bottom < view_bottom or top > view_bottom + scroll.height:
        scroll.scroll_to(widget, padding=padding, animate=False)


def docked_keyboard_height() -> float:
    """Height in pixels the docked on-screen keyboard covers (0 when hidden)."""
    for child in Window.children:
        if isinstance(child, VKeyboard):
            return child.height * child.scale
    return 0.0


class KioskTextInput(TextInput):
    """A text field that cleans what is typed or pasted before it is inserted.

    ``max_chars`` caps the text, so a 100,000-character paste never reaches the
    widget; ``notice`` says (as a msgid) what cleaning removed.
    """

    max_chars = NumericProperty(200)
    field = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cleaned = None  # a CleanResult describing what insert_text removed

    def take_cleaned(self):
        """What cleaning removed since the last call (or None), for the screen's notice."""
        cleaned, self.cleaned = self.cleaned, None
        return cleaned

    def insert_text(self, substring: str, from_undo: bool = False):
        room = max(0, int(self.max_chars) - len(self.text))
        result = clean_input(substring, max_len=room, multiline=self.multiline)
        if result.truncated or result.removed_unsupported or result.removed_controls:
            self.cleaned = result if self.cleaned is None else result.merged(self.cleaned)
        if not result.text:
            return None
        return super().insert_text(result.text, from_undo=from_undo)
