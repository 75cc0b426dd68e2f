"""Drive the real Kivy kiosk with real touch events, frame by frame, headless.

The window is Kivy's own (SDL2 on an offscreen EGL surface when there is no display);
touches go through Kivy's input pipeline (:class:`tests.support.finger.Finger`), keys through the docked
on-screen keyboard's own key geometry.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from kivy.base import EventLoop, ExceptionManager
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.vkeyboard import VKeyboard

from tests.support.finger import Finger

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


class UiTimeout(AssertionError):
    pass


def forget_kv_app() -> None:
    """Make kv's ``app`` (``kivy.lang.parser.global_idmap["app"]``) look the running app up
    again. It forgets an app when the app stops, but a rule evaluated after that (a layout
    in the frames that remove a stopped app) looks the stopping app up again and keeps it:
    the next app's rules would then read that app's language and settings (in CI's single
    test process, 19 tests after the printer faults saw Indonesian after a switch to English)."""
    from kivy.lang.parser import global_idmap

    object.__setattr__(global_idmap["app"], "_obj", None)


class KioskDriver:
    """One running KioskApp on the shared test window."""

    def __init__(self, env, *, env_factory=None):
        from screens.app import build_app

        self.env = env
        self.app = build_app(env.config, env_factory=env_factory or (lambda: env), monotonic=env.monotonic)
        forget_kv_app()  # the app just made is the running one: kv's `app` finds it
        self.app._run_prepare()  # build() and attach the root to the window, as run() does
        self.wait_until(lambda: self.app.ready or self.app.out_of_service, what="the screens behind Welcome")
        self.frames(2)

    # -- time -------------------------------------------------------------------------
    def frames(self, count: int = 1, *, paced: bool = False) -> None:
        """Run ``count`` iterations of Kivy's main loop, exceptions handled as it does;
        without the frame rate's pause (laying out and drawing waits for nobody) unless
        ``paced``: frames at the kiosk's rate, as long as a real screen shows them."""
        for _ in range(count):
            self._one_frame(paced=paced)

    @staticmethod
    def _guarded(step: Callable[[], None]) -> None:
        """Run ``step`` as Kivy's main loop runs its work: exceptions go to the ExceptionManager."""
        try:
            step()
        except BaseException as exc:  # as kivy.base.EventLoopBase.mainloop does
            if ExceptionManager.handle_exception(exc) == ExceptionManager.RAISE:
                raise

    def _one_frame(self, *, paced: bool = True) -> None:
        if paced:  # as on the kiosk: the clock holds the frame rate, background work gets its time
            self._guarded(lambda: (EventLoop.idle(), EventLoop.window.mainloop()))
            return
        # Kivy's clock would first sleep to hold the app's frame rate cap (Clock._max_fps).
        # What the app sets during the frame (its idle throttle) stays, for the tests that check it.
        cap = Clock._max_fps  # noqa: SLF001
        Clock._max_fps = 0  # noqa: SLF001
        try:
            self._guarded(lambda: (EventLoop.idle(), EventLoop.window.mainloop()))
        finally:
            if Clock._max_fps == 0:  # noqa: SLF001 - the app did not change it
                Clock._max_fps = cap  # noqa: SLF001

    def advance_clock(self, seconds: float) -> None:
        """Let ``seconds`` pass on the kiosk's clock (the test's FakeClock)."""
        clock = getattr(self.env.monotonic, "__self__", None)
        assert hasattr(clock, "advance"), "the kiosk under test needs a test clock (tests.support.clock.FakeClock)"
        clock.advance(seconds)

    def settle(self) -> None:
        """A citizen looks at a screen that just appeared before touching it: the clock
        moves past the kiosk's tap guard (kiosk.core.tap_guard), which ignores touches
        right after a screen change. ``tap_at`` does not wait: a double tap is two."""
        left = self.app.tap_guard.settle_left()
        if left:
            self.advance_clock(left)

    def wait_until(self, predicate: Callable[[], bool], *, max_frames: int = 600, what="condition") -> None:
        """Pump frames until ``predicate`` holds (synchronisation, not a sleep)."""
        for _ in range(max_frames):
            if predicate():
                return
            self._one_frame()
        if not predicate():
            raise UiTimeout(f"timed out waiting for {what() if callable(what) else what}")

    # -- what is shown ------------------------------------------------------------------
    @property
    def screen(self):
        return self.app.root.current_screen

    @property
    def current(self) -> str:
        return self.app.root.current

    def visible_texts(self) -> list[str]:
        """Every label text on the current screen and any open overlay."""
        roots = [self.screen]
        if self.app.idle_overlay.is_open:
            roots.append(self.app.idle_overlay)
        texts = []
        for root in roots:
            for widget in root.walk():
                text = getattr(widget, "text", None)
                if isinstance(text, str) and text and widget.opacity > 0:
                    texts.append(text)
        return texts

    def all_text(self) -> str:
        return "\n".join(self.visible_texts())

    def screenshot(self, name: str) -> Path:
        """Save what the window shows to tests/artifacts/<lang>/<name>.png."""
        self.frames(2)
        target = ARTIFACTS / self.app.lang / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        written = Window.screenshot(name=str(target.with_name(f"{name}-tmp.png")))
        shutil.move(written, target)
        return target

    # -- touching ------------------------------------------------------------------------
    def tap(self, widget) -> None:
        """A citizen's tap: once the screen has settled, a finger down and up at the
        widget's centre, through Kivy's input queue."""
        self.settle()
        assert widget.get_root_window() is not None, f"{widget!r} is not on screen"
        x, y = widget.to_window(*widget.center)
        assert 0 <= x <= Window.width and 0 <= y <= Window.height, f"{widget!r} is off screen at {(x, y)}"
        self.tap_at(x, y)

    def tap_at(self, x: float, y: float) -> None:
        finger = Finger(x, y)
        self._guarded(finger.down)
        self.frames(1)
        self._guarded(finger.up)
        self.frames(2)

    def tap_text(self, text: str, root=None) -> None:
        """Tap the (unique, visible) button whose label is ``text``."""
        root = root or (self.app.idle_overlay if self.app.idle_overlay.is_open else self.screen)
        matches = [w for w in root.walk() if getattr(w, "text", None) == text and hasattr(w, "trigger_action")]
        assert matches, f"no button {text!r} on {self.current}; texts: {self.visible_texts()}"
        assert len(matches) == 1, f"{len(matches)} buttons {text!r}"
        self.scroll_into_view(matches[0])
        self.tap(matches[0])

    def scroll_into_view(self, widget) -> None:
        scroll = self.screen.ids.get("scroll") if hasattr(self.screen, "ids") else None
        if scroll is not None and widget in list(scroll.walk()):
            from screens.common import ensure_visible

            ensure_visible(scroll, widget)
            self.frames(3)

    def bar(self, which: str):
        """The step bar's "back" or "next" button on the current screen."""
        from screens.filing import StepBar

        bar = next(w for w in self.screen.walk() if isinstance(w, StepBar))
        return bar.ids[which]

    # -- the on-screen keyboard ----------------------------------------------------------------
    @property
    def keyboard(self) -> VKeyboard | None:
        return next((c for c in Window.children if isinstance(c, VKeyboard)), None)

    def focus(self, text_input) -> None:
        self.scroll_into_view(text_input)
        self.tap(text_input)
        self.wait_until(
            lambda: self.keyboard is not None and text_input.focus,
            what=lambda: f"keyboard for {text_input.field} (focus={text_input.focus}, keyboard={self.keyboard}, "
            f"at={text_input.to_window(*text_input.center)})",
        )
        self.frames(5)

    def _key_center(self, vk: VKeyboard, wanted: str, mode: str):
        layout = vk.available_layouts[vk.layout]
        for line in range(1, layout["rows"] + 1):
            for index, key in enumerate(layout[f"{mode}_{line}"]):
                if key[1] == wanted or key[2] == wanted:
                    (x, y), (w, h) = vk.layout_geometry[f"LINE_{line}"][index]
                    return vk.to_window(x + w / 2, y + h / 2, initial=False)  # through the scatter
        return None

    def press_key(self, wanted: str) -> None:
        """Press one key of the docked keyboard; a capital is "Capitals" then the letter
        ("Capitals" holds for one character)."""
        vk = self.keyboard
        assert vk is not None, "the on-screen keyboard is not shown"
        mode = vk.layout_mode
        pos = self._key_center(vk, wanted, mode)
        if pos is None:
            other = "shift" if mode == "normal" else "normal"
            assert self._key_center(vk, wanted, other) is not None, f"no key {wanted!r}"
            self.tap_at(*self._key_center(vk, "capslock", mode))
            self.frames(1)
            self.tap_at(*self._key_center(vk, wanted, vk.layout_mode))
            if vk.layout_mode != mode:  # a keyboard whose shift does not drop by itself
                self.tap_at(*self._key_center(vk, "capslock", vk.layout_mode))
            return
        self.tap_at(*pos)

    def key_widgets(self) -> list:
        """The label widgets the keyboard draws on its keys (one per key, key-sized)."""
        from kivy.uix.label import Label

        vk = self.keyboard
        assert vk is not None, "the on-screen keyboard is not shown"
        return [k for k in vk.children if isinstance(k, Label)]

    def key_sizes(self) -> dict[str, tuple[float, float]]:
        """The size in window pixels of each key the keyboard draws, by its label."""
        scale = self.keyboard.scale
        return {k.text: (k.width * scale, k.height * scale) for k in self.key_widgets()}

    def key_labels(self) -> list[str]:
        """Every label the keyboard shows, in its current mode."""
        return list(self.key_sizes())

    @property
    def close_key(self) -> str:
        """The key that closes the keyboard (Kivy's "escape" code)."""
        return "escape"

    def type_keys(self, text: str) -> None:
        for char in text:
            self.press_key(" " if char == " " else char)

    def close(self) -> None:
        app = self.app
        app.end_session()
        app.dispatch("on_stop")  # also clears kv's cached `app` proxy
        app._tick_event.cancel()
        Window.release_all_keyboards()
        Window.remove_widget(app.root)
        # Nothing of this app may go on drawing under the next test's (a canvas left in the
        # window's, e.g. by drawing it into an image, made later screenshots show two apps).
        assert Window.canvas.indexof(app.root.canvas) == -1 and app.root.canvas not in Window.canvas.children, \
            "the app's canvas is still in the window's"
        self.frames(2)
        from kivy.app import App

        App._running_app = None
