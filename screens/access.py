"""Access without the touch screen: the focus ring, the keypad's keys, and what is spoken.

A citizen who cannot see the screen, or cannot reach it, uses the kiosk from a keypad
with the EZ Access keys (up, down, select, back, help) or any keyboard's arrows and Enter,
and listens (``kiosk.core.speech_guide``). This module is the UI side of that:

- :func:`controls` lists what the focus ring may land on, in reading order: the buttons,
  choices and fields of the screen showing (or of the overlay on top of it), then the
  access bar's; hidden, empty and inactive ones are skipped.
- :func:`describe` and :func:`screen_lines` turn widgets into ``Line`` items to be spoken.
- :class:`FocusRing` draws a thick two-coloured frame (black outside, yellow inside: seen on
  any background, never colour alone) around the focused control, scrolls it into view,
  and says it; Enter acts on it as a tap would (through the same tap guard's settle time).
- :class:`KeypadKeys` maps keys to moves: up/left/Shift+Tab back, down/right/Tab on,
  Enter/Space select, Escape/Backspace the screen's Back, F1 or "?" help (how the keys work,
  then the screen), "+"/"-" volume, "*" or F5 says it again. The first key turns speech
  mode on, as on public kiosks with EZ Access. While a text field is being typed in, only
  Tab, Escape and the arrows that leave it belong to the ring.
"""
from __future__ import annotations

import logging
import re
import weakref

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics import Color, InstructionGroup, Line as GLine
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior, ToggleButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput

from kiosk.core.speech_guide import Kind, Line
from kiosk.kernel.i18n import msgid_for

log = logging.getLogger(__name__)

#: Kivy key codes.
UP, DOWN, RIGHT, LEFT = 273, 274, 275, 276
TAB, ENTER, NUMPAD_ENTER, SPACE, ESCAPE, BACKSPACE = 9, 13, 271, 32, 27, 8
F1, F5 = 282, 286
NUMPAD_MINUS, NUMPAD_PLUS, NUMPAD_MULTIPLY = 269, 270, 268
#: What "Back" is called on the screens that have one (the key presses that button).
BACK_MSGIDS = ("Back", "Back to start", "Back to the screen", "No, continue")
NAVIGATION_KEYS = frozenset({UP, DOWN, RIGHT, LEFT, TAB, ENTER, NUMPAD_ENTER, SPACE, ESCAPE, BACKSPACE,
                             F1, F5, NUMPAD_MINUS, NUMPAD_PLUS, NUMPAD_MULTIPLY})
NAVIGATION_CHARS = frozenset({"?", "+", "-", "*"})

_MARKUP = re.compile(r"\[/?[a-z_]+(?:=[^\]]*)?\]")
#: Arrows drawn in a button's words ("< Kembali", "Lanjut >"): not read aloud.
_ARROWS = re.compile(r"^[<>\s]+|[<>\s]+$")


#: Pictograms (the icon font's private-use code points) are not read aloud.
_PICTOGRAMS = re.compile("[\U000F0000-\U000FFFFD]")


def _plain(text: str) -> str:
    return _ARROWS.sub("", _PICTOGRAMS.sub("", _MARKUP.sub("", text or ""))).strip()


def _shown(widget, scope) -> bool:
    """On screen for a citizen: every ancestor up to ``scope`` visible and not folded."""
    node = widget
    while node is not None and node is not scope:
        if node.opacity <= 0.01 or node.width < 2 or node.height < 2:
            return False
        if getattr(node, "disabled", False) and node is widget:
            return False
        parent = node.parent
        if parent is node:
            break
        node = parent
    return True


def _in_window(widget) -> bool:
    """Part of it lies inside the window (a folded column moved off to the side is not)."""
    x, y = widget.to_window(widget.x, widget.y)
    return x + widget.width > 0 and y + widget.height > 0 and x < Window.width and y < Window.height


def is_control(widget) -> bool:
    return isinstance(widget, (ButtonBehavior, TextInput))


def controls(scope) -> list:
    """The controls of ``scope`` the focus ring may land on, in the order they were laid
    out (a kv file's order: the top bar, then the question, then its answers)."""
    found = []
    for widget in scope.walk(restrict=True):
        if widget is scope or not is_control(widget):
            continue
        if any(_descends(widget, f) for f in found):
            continue  # a control inside another control is the same control
        if not _shown(widget, scope) or not _in_window_or_scrolled(widget):
            continue
        if isinstance(widget, ButtonBehavior) and not _plain(getattr(widget, "text", "")) \
                and not hasattr(widget, "spoken_lines"):
            continue  # a button without words (a calendar's blank day)
        found.append(widget)
    return found


def _descends(widget, ancestor) -> bool:
    node = widget.parent
    while node is not None and node is not node.parent:
        if node is ancestor:
            return True
        node = node.parent
    return False


def _scroll_of(widget):
    node = widget.parent
    while node is not None and node is not node.parent:
        if isinstance(node, ScrollView):
            return node
        node = node.parent
    return None


def _in_window_or_scrolled(widget) -> bool:
    """In the window, or inside a scroll view that can bring it into view."""
    return _scroll_of(widget) is not None or _in_window(widget)


def describe(widget, language: str) -> list[Line]:
    """What a control says when the focus ring lands on it or it is tapped."""
    custom = getattr(widget, "spoken_lines", None)
    if callable(custom):
        return list(custom())
    if isinstance(widget, TextInput):
        hint = _plain(widget.hint_text)
        return [Line(hint, msgid_for(language, hint), kind=Kind.FIELD, typed=widget.text,
                     private=True)]
    title, explanation = getattr(widget, "title", None), getattr(widget, "explanation", None)
    if isinstance(title, str) and title:
        lines = [_line(title, language, widget)]
        if isinstance(explanation, str) and explanation:
            lines.append(Line(explanation, msgid_for(language, explanation)))
        return lines
    return [_line(_plain(getattr(widget, "text", "")), language, widget)]


def _line(text: str, language: str, widget) -> Line:
    msgid = msgid_for(language, text)
    if isinstance(widget, ToggleButtonBehavior) or hasattr(widget, "chosen"):
        chosen = widget.state == "down" if isinstance(widget, ToggleButtonBehavior) else bool(widget.chosen)
        return Line(text, msgid, kind=Kind.CHOICE, chosen=chosen)
    return Line(text, msgid, kind=Kind.BUTTON)


def screen_lines(scope, language: str, *, with_controls: bool) -> list[Line]:
    """The words of ``scope`` in layout order: every text shown (headings, explanations,
    errors, the review's lines), and with ``with_controls`` its buttons and answers too."""
    lines: list[Line] = []
    inside_controls: list = []
    for widget in scope.walk(restrict=True):
        if widget is scope:
            continue
        if any(_descends(widget, c) for c in inside_controls):
            continue
        if is_control(widget):
            inside_controls.append(widget)
            if with_controls and _shown(widget, scope) and _in_window_or_scrolled(widget):
                lines.extend(l for l in describe(widget, language) if l.text or l.kind is Kind.FIELD)
            continue
        if isinstance(widget, Label) and _shown(widget, scope):
            spoken = getattr(widget, "spoken_lines", None)
            if callable(spoken):
                lines.extend(spoken())
                continue
            text = _plain(widget.text)
            if text and any(ch.isalnum() for ch in text):
                msgid = msgid_for(language, text)
                lines.append(Line(text, msgid, private=msgid is None and getattr(widget, "citizen_text", False)))
    return lines


class FocusRing:
    """The keypad's focus: one control at a time, drawn on top of everything."""

    def __init__(self, *, scope, on_focus, can_act):
        self._scope = scope  # () -> (the screen or overlay, the access bar or None)
        self._on_focus = on_focus  # (widget) -> None: say it
        self._can_act = can_act  # () -> bool: the tap guard's settle time is over
        self._focused = None
        self._group = InstructionGroup()
        self._outer, self._inner = GLine(width=dp(4)), GLine(width=dp(2.5))
        for part in (Color(0, 0, 0, 1), self._outer, Color(1, 0.85, 0, 1), self._inner):
            self._group.add(part)
        self._shown = False
        self._follow = None

    @property
    def focused(self):
        return self._focused() if self._focused is not None else None

    def items(self) -> list:
        scope, bar = self._scope()
        found = controls(scope) if scope is not None else []
        if bar is not None:
            found += controls(bar)
        return found

    def clear(self) -> None:
        """A new screen: nothing is focused until the next key."""
        self._focused = None
        self._hide()

    def move(self, step: int):
        items = self.items()
        if not items:
            return None
        current = self.focused
        if current in items:
            index = (items.index(current) + step) % len(items)
        else:
            index = 0 if step > 0 else len(items) - 1
        return self.focus(items[index])

    def focus(self, widget):
        self._focused = weakref.ref(widget)
        scroll = _scroll_of(widget)
        if scroll is not None:
            scroll.scroll_to(widget, padding=dp(24), animate=False)
        self._show()
        self._on_focus(widget)
        return widget

    def activate(self) -> bool:
        """Enter: act on the focused control as a tap would. False when nothing acted."""
        widget = self.focused
        if widget is None or widget not in self.items():
            return False
        if not self._can_act():
            log.debug("select ignored: the screen has just changed")
            return False
        if isinstance(widget, TextInput):
            widget.focus = True
            return True
        if isinstance(widget, ToggleButtonBehavior) and widget.state == "down" \
                and not getattr(widget, "allow_no_selection", True):
            widget.dispatch("on_release")  # already chosen: as a tap, it stays chosen
            self._on_focus(widget)
            return True
        index = self.items().index(widget)
        widget.trigger_action(duration=0)
        Clock.schedule_once(lambda _dt: self._after_act(index), 0)
        return True

    def _after_act(self, index: int) -> None:
        """After a control acted on the same screen: it says its new state ("dipilih"); a
        screen that drew its answers again (a choice made) keeps the ring in the same place."""
        current = self.focused
        if current is None:
            return  # another screen: it is read from the top
        items = self.items()
        if current in items:
            self._on_focus(current)
        elif index < len(items):
            self.focus(items[index])

    # -- drawing ---------------------------------------------------------------------
    def _show(self) -> None:
        if not self._shown:
            Window.canvas.after.add(self._group)
            self._shown = True
            self._follow = Clock.schedule_interval(lambda _dt: self._place(), 1 / 30)
        self._place()

    def _hide(self) -> None:
        if self._shown:
            Window.canvas.after.remove(self._group)
            self._shown = False
            if self._follow is not None:
                self._follow.cancel()
                self._follow = None

    def _place(self) -> None:
        widget = self.focused
        if widget is None or widget.get_root_window() is None:
            self._hide()
            return
        x, y = widget.to_window(widget.x, widget.y)
        w, h = widget.size
        gap = dp(3)
        self._outer.rectangle = (x - gap, y - gap, w + 2 * gap, h + 2 * gap)
        self._inner.rectangle = (x - gap + dp(3.5), y - gap + dp(3.5), w + 2 * gap - dp(7), h + 2 * gap - dp(7))

    def bounds(self):
        """The ring's outer rectangle in window coordinates (tests look for it)."""
        return tuple(self._outer.rectangle) if self._shown else None


def top_overlay():
    """The overlay on top of the screens (the idle warning, a question), if one is open."""
    for child in Window.children:
        if isinstance(child, ModalView):
            return child
    return None


# -- the access bar and the root that holds it -------------------------------------------------



class AccessButton(ButtonBehavior, BoxLayout):
    """A button of the access bar: a pictogram beside its words (``text``, which the focus
    ring and speech read)."""

    text = StringProperty("")
    icon = StringProperty("")
    chosen = BooleanProperty(False)
    #: False: the pictogram alone is shown (the volume's speaker with a plus or minus);
    #: ``text`` is still what speech says.
    show_words = BooleanProperty(True)
    #: The words' font size (0: the bar's, ``C.sizes.chrome_small``); the pictogram is half as big again.
    words_size = NumericProperty(0)
    #: The height of its words as drawn, for layouts as tall as the words: a kv rule that read
    #: ``button.ids.words`` instead would keep the whole app alive for ever (Kivy's Builder
    #: holds the ``ids`` dict, and through it the button, until the rule's widget dies).
    words_height = NumericProperty(0)


class AccessBar(BoxLayout):
    """On every screen, at the bottom: "Dengarkan" (the screen, spoken), speech mode, softer
    and louder, and "Minta bantuan petugas". Folded away while the on-screen keyboard is
    docked (it would cover it)."""


class KioskRoot(BoxLayout):
    """The window's one child: the screens above the access bar. It answers the screen
    manager's ``current``, ``current_screen``, ``screens``, ``get_screen`` and
    ``has_screen``, so code that knew the manager as the root still reads the same."""

    manager = ObjectProperty(None)
    bar = ObjectProperty(None)

    def __init__(self, *, manager, bar, **kwargs):
        super().__init__(orientation="vertical", **kwargs)
        self.manager, self.bar = manager, bar
        self.add_widget(manager)
        self.add_widget(bar)

    @property
    def current(self) -> str:
        return self.manager.current

    @current.setter
    def current(self, name: str) -> None:
        self.manager.current = name

    @property
    def current_screen(self):
        return self.manager.current_screen

    @property
    def screens(self):
        return self.manager.screens

    def get_screen(self, name: str):
        return self.manager.get_screen(name)

    def has_screen(self, name: str) -> bool:
        return self.manager.has_screen(name)
