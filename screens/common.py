"""Widgets and helpers shared by the kiosk's screens (thin: no business logic)."""
from __future__ import annotations

import json
import logging
import math
import weakref
from pathlib import Path

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.event import EventDispatcher
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput
from kivy.uix.togglebutton import ToggleButton, ToggleButtonBehavior
from kivy.uix.label import Label
from kivy.uix.vkeyboard import VKeyboard
from kivy.properties import BooleanProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView
from kivy.utils import escape_markup  # noqa: F401 - kv rules: C.escape_markup

from kiosk.kernel.i18n import N_, gettext_for
from kiosk.kernel.textclean import clean_input
from screens.textsize import TextSizes
from screens.theme import Palette

log = logging.getLogger(__name__)

#: The smallest height of an on-screen keyboard key on the panel, in mm (issue 12).
KEY_MIN_MM = 12.0
#: Rows of the tallest keyboard layout (the text one; the number pad has 4).
KEY_ROWS = 5

#: The colours by role, in the theme shown now (``C.theme.ink`` in kv): screens.theme.
theme = Palette()
# A chosen answer is never told by its colour alone: it carries a check mark and a thick
# border (dp); an inactive control, grey words in a dashed outline and no fill.
CHOSEN_BORDER = 6
CHECK_WIDTH = 3


def check_mark(x: float, center_y: float, size: float) -> list[float]:
    """The points of a check mark ``size`` wide, its left end at ``x``, centred on
    ``center_y``: drawn as a thick Line (a font's check glyph may be missing)."""
    return [x, center_y, x + size * 0.36, center_y - size * 0.36, x + size, center_y + size * 0.42]


def dashed_rectangle(x: float, y: float, width: float, height: float, inset: float = 1) -> list[float]:
    """A closed rectangle as Line points, ``inset`` px inside the box (a dashed Line takes
    points, and Kivy draws dashes only on one-pixel lines: two of them make it 2 px)."""
    x0, y0, x1, y1 = x + inset, y + inset, x + width - inset, y + height - inset
    return [x0, y0, x1, y0, x1, y1, x0, y1, x0, y0]


def icon_markup(name: str, font_size: float) -> str:
    """Markup of the pictogram ``name`` (screens.icons) at ``font_size``, and a space."""
    from screens.icons import icon, icon_font

    return f"[font={icon_font()}][size={int(font_size)}]{icon(name)}[/size][/font]  "


def icon_words(name: str, words: str, font_size: float) -> str:
    """Markup of a pictogram (screens.icons) before ``words`` on one line, the pictogram a
    third bigger than the words; the words escaped (the button's ``markup`` is on)."""
    return icon_markup(name, font_size * 1.3) + escape_markup(words)


def with_icon(name: str, words: str, font_size: float, icon_size: float = 0) -> str:
    """Markup of a pictogram (screens.icons) above ``words``, the pictogram ``icon_size``
    (1.6 times the words' size if 0); the words escaped (a button's ``markup`` is on for
    the pictogram)."""
    from kivy.utils import escape_markup

    from screens.icons import icon, icon_font

    return (f"[font={icon_font()}][size={int(icon_size or font_size * 1.6)}]{icon(name)}[/size][/font]\n"
            f"{escape_markup(words)}")


def tr(language: str, msgid: str, **params: object) -> str:
    """Translate ``msgid`` for ``language``; kv rules call it with ``app.lang`` so a
    language switch re-evaluates every label."""
    text = gettext_for(language)(msgid)
    return text.format(**params) if params else text


def qr_texture(payload: str):
    """A Kivy texture of a QR code (for the receipt screen), one texel a module, kept sharp
    when the screen scales it up. Drawn from qrcode's matrix: going through a Pillow image
    and a PNG loaded all 40 of Pillow's format plugins into the kiosk on the first receipt
    (issue 17)."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(payload)
    qr.make(fit=True)
    rows = qr.get_matrix()  # True where a module is dark; the border included
    # RGBA: four bytes a texel keep every row aligned for OpenGL, whatever the code's size.
    dark, light = b"\x00\x00\x00\xff", b"\xff\xff\xff\xff"
    pixels = b"".join(dark if module else light for row in reversed(rows) for module in row)  # GL: bottom row first
    texture = Texture.create(size=(len(rows), len(rows)), colorfmt="rgba")
    texture.blit_buffer(pixels, colorfmt="rgba", bufferfmt="ubyte")
    texture.mag_filter = "nearest"
    return texture


class KeyboardDock(EventDispatcher):
    """How much of the window's bottom the docked on-screen keyboard covers, as a property
    the screens' layouts bind to (``C.dock.height`` in kv): set the moment the keyboard is
    added to or removed from the window, so no layout waits for a poll."""

    height = NumericProperty(0)


#: Font sizes in millimetres on the panel (``C.sizes.body`` in kv): screens.textsize.
sizes = TextSizes()

#: The one dock of the one window; the kv spacers under the question screens follow it.
dock = KeyboardDock()


#: Our keyboard layouts (Kivy's JSON format), beside the screens; special keys carry words
#: as msgids, translated into the citizen's language when the layout is used.
KEYBOARD_LAYOUTS = {kind: Path(__file__).resolve().parent / f"keyboard_{kind}.json" for kind in ("text", "numpad")}
#: The words on the special keys (msgids), by the key's code in the layouts.
KEY_WORDS = {
    "backspace": N_("Delete"), "capslock": N_("Capitals"), "enter": N_("Enter"),
    "escape": N_("Done"), "spacebar": N_("space"),
}


def _translated_layout(kind: str, language: str) -> dict:
    layout = json.loads(KEYBOARD_LAYOUTS[kind].read_text(encoding="utf-8"))
    for row in layout.values():
        if isinstance(row, list):
            for key in row:
                if key[2] in KEY_WORDS:
                    key[0] = tr(language, KEY_WORDS[key[2]])
    return layout


class KioskKeyboard(VKeyboard):
    """The kiosk's own on-screen keyboard, docked at the bottom: our layouts (letters,
    digits, the punctuation of a report, "Rp"; a number pad for the phone), special keys
    with words, a one-shot "Capitals" key, reset for every field.

    Scaled to the window width, it covers about 40% of a 1280x800 screen: low enough that
    a 200 px field, its notice and the step bar fit above it at 1366x768 too. Its keys are
    at least :data:`KEY_MIN_MM` tall on the panel (taller when the panel's pixels are
    small), and their words are ``sizes.button`` on the glass whatever the scale, as on any button.
    """

    #: The keyboard's own size (its coordinates; docked, it is scaled to the window's width).
    WIDTH, HEIGHT = 700, 170
    #: Every keyboard built (the window keeps one and hands it to the next field).
    _built: "weakref.WeakSet[KioskKeyboard]" = weakref.WeakSet()

    @classmethod
    def forget_fields(cls) -> None:
        """Aim no keyboard at a field any more: a released docked keyboard stays with the
        window, still aimed at the last field it served, and that field holds its screen and
        the app alive after the app stopped (``KioskApp.on_stop``)."""
        for keyboard in list(cls._built):
            keyboard.target = None
            keyboard.callback = None  # the last field's "keyboard released" (FocusBehavior): the field too

    def __init__(self, **kwargs):
        KioskKeyboard._built.add(self)
        kwargs.setdefault("size", (self.WIDTH, self.HEIGHT))
        kwargs.setdefault("margin_hint", [0.04, 0.02, 0.03, 0.02])
        super().__init__(**kwargs)
        self._fit = Clock.create_trigger(self._fit_to_panel, -1)
        self.fbind("scale", self._fit)
        sizes.fbind("mm_per_px", self._fit)
        # Every Label's kv rule follows ``body``, the keys' words included: after it (the
        # next frame), their own size again, without redrawing the keys. Large text and a
        # resized window change ``body``; the keys keep their size (12 mm at least).
        self._keep_words = Clock.create_trigger(self._key_words, -1)
        sizes.fbind("body", self._keep_words)
        self._fit_to_panel()
        self.fbind("parent", self._tell_dock)
        self.fbind("scale", self._tell_dock)
        self.fbind("height", self._tell_dock)
        self.fbind("target", self._for_field)
        self.fbind("parent", lambda _kb, parent: parent is not None and self._for_field(self, self.target))

    def _tell_dock(self, *_args) -> None:
        dock.height = self.height * self.scale if self.parent is not None else 0

    def _fit_to_panel(self, *_args) -> None:
        """Keys at least KEY_MIN_MM tall, words ``sizes.button``, on this panel at this scale."""
        scale = self.scale or 1.0
        top, _right, bottom, _left = self.margin_hint
        key_top, _kr, key_bottom, _kl = self.key_margin
        # + 1: VKeyboard rounds each key's size down to a whole pixel of its own.
        needed = (sizes.mm(KEY_MIN_MM) / scale + key_top + key_bottom + 1) * KEY_ROWS / (1 - top - bottom)
        self.height = max(self.HEIGHT, math.ceil(needed))
        font = math.ceil(sizes.chrome_button / scale)
        if font != self.font_size:
            self.font_size = font
            if self.layout in self.available_layouts:
                self.refresh(True)

    def _key_words(self, *_args) -> None:
        for key in self.children:
            if isinstance(key, Label) and key.font_size != self.font_size:
                key.font_size = self.font_size

    def refresh(self, force=False):
        """As VKeyboard's, but the keys' words stay: :meth:`draw_keys` changes them in place."""
        if force:
            self.refresh_keys_hint()
        self.refresh_keys()
        self.refresh_active_keys_layer()

    def draw_keys(self):
        """As VKeyboard's, but each key's word is the Label drawn before, changed in place.
        VKeyboard makes a Label per key (about 40) at every redraw: every field, every
        "Capitals" and every layout; a widget made and dropped so often left native memory
        behind in the soak benchmark (``benchmarks/soak.py``)."""
        from kivy.graphics import BorderImage, Color
        from kivy.resources import resource_find

        layout = self.available_layouts[self.layout]
        geometry = self.layout_geometry
        background = CoreImage(resource_find(self.background_disabled if self.disabled else self.background),
                               mipmap=True).texture
        key = CoreImage(resource_find(self.key_background_disabled_normal if self.disabled
                                      else self.key_background_normal), mipmap=True).texture
        self.background_key_layer.clear()
        with self.background_key_layer:
            Color(*self.background_color)
            BorderImage(texture=background, size=self.size, border=self.background_border)
            Color(*self.key_background_color)
            for line in range(1, layout["rows"] + 1):
                for pos, size in geometry[f"LINE_{line}"]:
                    BorderImage(texture=key, pos=pos, size=size, border=self.key_border)
        wanted = [(layout[f"{self.layout_mode}_{line}"][index][0], pos, size)
                  for line in range(1, layout["rows"] + 1)
                  for index, (pos, size) in enumerate(geometry[f"LINE_{line}"])]
        words = [w for w in reversed(self.children) if isinstance(w, Label)]
        for extra in words[len(wanted):]:
            self.remove_widget(extra)
        for index, (text, pos, size) in enumerate(wanted):
            if index < len(words):
                word = words[index]
                word.text, word.pos, word.size, word.font_name = text, pos, size, self.font_name
            else:
                self.add_widget(Label(text=text, font_size=self.font_size, pos=pos, size=size,
                                      font_name=self.font_name))
        # The kv rule of every Label binds its font size to the screens' text; a key's
        # word is drawn in the keyboard's own (scaled) coordinates.
        self._key_words()

    def use(self, kind: str, language: str) -> None:
        """Show layout ``kind`` ("text" or "numpad") labelled in ``language``."""
        name = f"kiosk-{kind}-{language}"
        if name not in self.available_layouts:
            self.available_layouts[name] = _translated_layout(kind, language)
        if self.layout != name:
            self.active_keys.clear()  # a key still held belongs to the old layout
            self.layout = name
            self._load_layout()  # now, not on the next frame: the first key tap sees it

    def _for_field(self, _keyboard, target) -> None:
        """Each field starts in small letters, on its own layout (the phone: numbers)."""
        self.have_capslock = self.have_shift = False
        self.active_keys.pop(-1, None)
        if target is None:
            return
        from kivy.app import App

        app = App.get_running_app()
        self.use(getattr(target, "keyboard_kind", "text"), getattr(app, "lang", "id"))
        self._update_layout_mode()

    def process_key_on(self, touch):
        """"Capitals" holds for one character: the next character key drops it."""
        super().process_key_on(touch)
        pressed = touch.ud.get(self.uid, {}).get("key") if touch else None
        if pressed is not None and pressed[0][1] is not None and self.have_capslock:
            self.have_capslock = False
            self.active_keys.pop(-1, None)
            self._update_layout_mode()
            self.refresh_active_keys_layer()


def ensure_visible(scroll, widget, padding: float = 56, below=None) -> None:
    """Scroll ``scroll`` just enough that ``widget`` (and ``below``, the notice under it,
    when shown; a field's own ``below`` by default) is inside its viewport; content shorter
    than the viewport goes to the top.

    Kivy's ``scroll_to`` also moves content that is already visible (and content shorter
    than the viewport), so the offset is worked out here and set only when needed.
    """
    if widget is None or scroll is None or not scroll.children:
        return
    content = scroll.children[0]
    room = content.height - scroll.height
    if room <= 0:
        scroll.scroll_y = 1
        return
    below = below if below is not None else getattr(widget, "below", None)
    parts = [widget] + ([below] if below is not None and below.height > 0 else [])
    bottom = min(content.to_widget(*p.to_window(p.x, p.y))[1] for p in parts)
    top = max(content.to_widget(*p.to_window(p.x, p.top))[1] for p in parts)
    padding = max(0.0, min(padding, (scroll.height - (top - bottom)) / 2))
    offset = scroll.scroll_y * room  # content y at the viewport's bottom
    if top + padding > offset + scroll.height:
        offset = top + padding - scroll.height
    offset = min(offset, bottom - padding)
    offset = min(max(offset, 0.0), room)
    if abs(offset - scroll.scroll_y * room) > 0.5:
        scroll.scroll_y = offset / room


class KioskToggle(ToggleButton):
    """Every toggle of the kiosk (choices, languages, ratings). Kivy 2.3's group release
    walks a copy of the group's weak references: when the garbage collector frees a button
    of the group while that walk runs (screens rebuild their choices; collection may run on
    any thread), the copy still holds the dead reference and Kivy sets ``state`` on None.
    The tap raised AttributeError and did nothing. Kivy's own ``get_widgets`` gives the
    live buttons only."""

    def _release_group(self, current):
        if self.group is None:
            return
        for widget in ToggleButtonBehavior.get_widgets(self.group):
            if widget is not current:
                widget.state = "normal"


class KioskScroll(ScrollView):
    """The scroll view of a question: whenever it changes size (the keyboard opened or
    closed, the window resized) it keeps the focused field and its notice in view, and
    content shorter than the view sits at the top, never with a blank band above it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._settle = Clock.create_trigger(self._keep_in_view, -1)
        self.fbind("height", self._settle)

    def add_widget(self, widget, *args, **kwargs):
        super().add_widget(widget, *args, **kwargs)
        widget.fbind("height", self._settle)

    def update_from_scroll(self, *largs):
        """As ScrollView's, without its leak: Kivy 2.3 binds ``bar_color`` again at every
        scroll and unbinds it once, half a second after the last, so scrolls closer together
        than that each left a binding behind (the soak benchmark: 9 a filed report)."""
        self.funbind("bar_color", self._change_bar_color)
        super().update_from_scroll(*largs)

    def _change_bar_color(self, inst, value):
        """As ScrollView's, and a fade still running stops: half a second after a scroll
        Kivy 2.3 fades the bar to the inactive colour it had then, and a theme switched
        during that fade (high contrast tapped just after a scroll) was overwritten by the
        old theme's colour when the fade ended (a grey bar on black, 3:1, in CI)."""
        Animation.stop_all(self, "_bar_color")
        self._bar_color = value

    def focused_field(self):
        return next((w for w in self.walk(restrict=True) if isinstance(w, KioskTextInput) and w.focus), None)

    def _keep_in_view(self, *_args) -> None:
        field = self.focused_field()
        if field is not None:
            ensure_visible(self, field, padding=dp(12), below=field.below)
        elif self.children and self.children[0].height <= self.height:
            self.scroll_y = 1

    def reset(self) -> None:
        """Back to the top, as a new citizen's session starts."""
        self.scroll_y = 1


class KioskTextInput(TextInput):
    """A text field that cleans what is typed or pasted before it is inserted.

    ``max_chars`` caps the text, so a 100,000-character paste never reaches the
    widget; ``notice`` says (as a msgid) what cleaning removed.
    """

    max_chars = NumericProperty(200)
    field = StringProperty("")
    #: The notice shown under the field: kept in view with it above the keyboard.
    below = ObjectProperty(None, allownone=True)
    #: Which on-screen keyboard the field brings up: "text" or "numpad" (the phone).
    keyboard_kind = StringProperty("text")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cleaned = None  # a CleanResult describing what insert_text removed
        self._reveal = Clock.create_trigger(self.reveal, -1)
        self._viewport_at = (0, 0)
        self._viewport = Clock.create_trigger(self._adjust_viewport_now, -1)
        self.fbind("focus", self._reveal)
        self.fbind("below", self._follow_below)
        self.fbind("text", self._forget_history)

    def _adjust_viewport(self, cc, cr):
        """Keep the cursor in view, before the next frame, with a trigger of this field's
        own. Kivy 2.3 decorates ``TextInput._adjust_viewport`` with ``kivy.clock.triggered``,
        which keeps the arguments of the last call in the function itself, for the life of
        the process: the last field typed in, and through it its whole screen, could never
        be freed when the kiosk drops a citizen's screens (``KioskApp.release_screens``); and
        of two fields moved in one frame, only the second was adjusted."""
        self._viewport_at = (cc, cr)
        self._viewport()

    def _adjust_viewport_now(self, _dt) -> None:
        TextInput._adjust_viewport.__wrapped__(self, *self._viewport_at)

    def _forget_history(self, _field, text: str) -> None:
        """An emptied field forgets its undo history too. Kivy's TextInput keeps every
        insert for Ctrl+Z until ``reset_undo``, so a field cleared at the end of a session
        still held what the citizen typed (a name, a phone, a complaint): the next one
        could bring it back with Ctrl+Z on a keyboard, and every session's typing stayed
        in memory (the soak: about 2 KB a citizen, for good)."""
        if not text:
            self.reset_undo()

    def _follow_below(self, _field, below) -> None:
        if below is not None:
            below.fbind("height", self._reveal)

    def on_text_validate(self) -> None:
        """Enter in a one-line field moves on to the next field of the question (the last
        one closes the keyboard); in the description, Enter starts a new line."""
        question = self
        while question.parent is not None and not isinstance(question, KioskScroll):
            question = question.parent
        fields = [w for w in question.walk(restrict=True) if isinstance(w, KioskTextInput)]
        later = fields[fields.index(self) + 1:] if self in fields else []
        if later:  # once the Enter key press is over: the next field may bring another layout
            Clock.schedule_once(lambda _dt: setattr(later[0], "focus", True), 0)
        else:
            self.focus = False

    def reveal(self, *_args) -> None:
        """Scroll the enclosing question so this field and its notice are above the keyboard."""
        if not self.focus:
            return
        parent = self.parent
        while parent is not None and not isinstance(parent, KioskScroll):
            parent = parent.parent
        if parent is not None:
            ensure_visible(parent, self, padding=dp(12), below=self.below)

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


class LanguageSwitch(BoxLayout):
    """"Bahasa Indonesia | English", small, for the top bar of any screen: ``on_language``
    carries the tapped language; the screen switches and keeps everything shown."""

    __events__ = ("on_language",)

    def on_language(self, language: str):
        pass


class TapGuarded:
    """Passes on only the touches the app's :class:`~kiosk.core.tap_guard.TapGuard` lets
    through: one that began before what this widget shows became current, or within the
    guard's settle time after, reaches nothing under the finger. Mixed into the screen
    manager and the overlays; ``guard`` and ``_TOKEN`` (its key in ``touch.ud``) are set
    by the class that mixes it in."""

    _TOKEN = "kiosk.guarded"

    def on_touch_down(self, touch):
        token = touch.ud[self._TOKEN] = self.guard.touch_began()
        if token is None:
            return True  # swallowed: nothing under the finger acts
        return super().on_touch_down(touch)

    def on_touch_move(self, touch):
        if not self.guard.owns(touch.ud.get(self._TOKEN)):
            return True
        return super().on_touch_move(touch)

    def on_touch_up(self, touch):
        if not self.guard.owns(touch.ud.get(self._TOKEN)):
            return True
        return super().on_touch_up(touch)


class Overlay(ModalView):
    """A ModalView the app keeps and opens again and again (the idle warning, the help
    call, the question before discarding a report). Kivy 2.3's ``ModalView.open`` binds
    the view's centre and size to its ``_align_center`` at every opening and never unbinds
    them: each opening left two bindings behind, all run at every later resize (the soak
    benchmark: two a citizen who walked away, found as ``kivy._event.BoundCallback``
    growing). They are unbound as the view leaves the window."""

    def _real_remove_widget(self):
        was_open = self._is_open
        super()._real_remove_widget()
        if was_open:
            self.funbind("center", self._align_center)
            self.funbind("size", self._align_center)


class ConfirmOverlay(TapGuarded, Overlay):
    """A plain question over the screen with two big answers ("Ya, buang" / "Tidak,
    lanjutkan"), low on the screen and far from the top bar, so the second tap of a
    double tap on Back cannot answer it. Its touches go through the app's tap guard as
    a new screen's do."""

    question = StringProperty("")
    yes_text = StringProperty("")
    no_text = StringProperty("")
    is_open = BooleanProperty(False)
    __events__ = ("on_yes", "on_no")
    _TOKEN = "kiosk.confirm"

    def __init__(self, *, guard, **kwargs):
        super().__init__(**kwargs)
        self.guard = guard

    def ask(self) -> None:
        if not self.is_open:
            self.is_open = True
            self.guard.screen_shown()
            self.open(animation=False)

    def close_now(self) -> None:
        if self.is_open:
            self.is_open = False
            self.dismiss(animation=False)
            self.guard.screen_shown()  # the answering touch does not act on the screen below

    def answer(self, yes: bool) -> None:
        self.close_now()
        self.dispatch("on_yes" if yes else "on_no")


    def on_yes(self):
        pass

    def on_no(self):
        pass
