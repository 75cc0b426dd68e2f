"""A kiosk app that has stopped leaves nothing behind in the process.

Kivy's Builder keeps each kv binding in a module-wide table until the widget it belongs to
dies; a rule that binds to an object that is no proxy (``other.ids.words``: the ``ids``
dict itself) holds its widget, and through it the whole app, alive for ever. Every stopped
app then went on following the shared text sizes and colours: each window resize, language
switch or large-text tap re-laid out every app ever built. In the test process (one app per
test) the UI tests grew slower and larger until CI's time ran out; on a kiosk, any screen
built again per session would leak the same way.
"""
from __future__ import annotations

import gc
import weakref

import pytest
from kivy.base import EventLoop

from screens import common as C
from tests.support.kiosk_ui import start_report, wait_overlay
from tests.support.ui_driver import KioskDriver

pytestmark = pytest.mark.ui

SHARED = ((C.sizes, "body"), (C.sizes, "chrome_small"), (C.theme, "ink"), (C.dock, "height"))


def _observers() -> dict[str, int]:
    return {f"{type(owner).__name__}.{name}": len(owner.get_property_observers(name)) for owner, name in SHARED}


def _use_and_stop(env) -> weakref.ref:
    """A citizen starts a report in large text and high contrast, then the app is stopped as
    the kiosk stops it."""
    kiosk = KioskDriver(env)
    try:
        start_report(kiosk, "en", screenshot=False)
        kiosk.tap(kiosk.app.root.bar.ids.large_text)  # every text role re-dispatched
        kiosk.tap(kiosk.app.root.bar.ids.high_contrast)
        return weakref.ref(kiosk.app)
    finally:
        kiosk.close()


def _settle(frames: int = 120) -> None:
    """Let what Kivy still had scheduled for stopped apps run (a scroll view fades its bar
    half a second after it last moved, for half a second more), at the kiosk's frame rate:
    2 s; then collect."""
    for _ in range(frames):
        EventLoop.idle()
    gc.collect()


def test_stopped_apps_do_not_pile_up_nor_keep_following_the_shared_sizes_and_colours(kivy_window, env):
    """GIVEN kiosk apps used and stopped one after another (as each UI test does) THEN no
    stopped app but the last is still alive, and the shared text sizes, colours and keyboard
    dock are followed by no more widgets after the fourth app than after the second."""
    stopped = [_use_and_stop(env), _use_and_stop(env)]
    _settle()
    after_two = _observers()
    stopped += [_use_and_stop(env), _use_and_stop(env)]
    _settle()
    alive = [n for n, app in enumerate(stopped[:-1], 1) if app() is not None]
    assert not alive, f"stopped kiosk apps still alive: {alive} of {len(stopped)}"
    assert _observers() == after_two  # nothing of the stopped apps follows them


def _followers(overlay) -> int:
    """How many handlers follow the overlay's centre and size."""
    return sum(len(overlay.get_property_observers(name)) for name in ("center", "size"))


def test_overlays_opened_again_and_again_leave_no_bindings_behind(kiosk, clock, env):
    """GIVEN a citizen halfway through a report WHEN the idle warning comes and "Continue"
    is tapped, staff are called and come, and Back on the first question asks
    "Discard this report?" and is answered "No", four times over THEN each overlay's
    centre and size are followed by as many handlers as after the first time (Kivy 2.3's
    ModalView left two more at every opening: a kiosk's idle warning alone, two a citizen
    who walks away, for weeks)."""
    app = kiosk.app
    start_report(kiosk, "id", screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    kiosk.tap(kiosk.bar("back"))
    assert kiosk.current == "kind" and app.flow is not None

    def once() -> None:
        clock.advance(env.config.idle_timeout_s + 0.5)
        wait_overlay(kiosk, True)
        kiosk.tap(app.idle_overlay.ids.continue_button)
        wait_overlay(kiosk, False)
        app.call_staff()  # the help button on every screen
        kiosk.frames(2)
        kiosk.tap(app.help_overlay.ids.arrived)  # "Petugas sudah datang": the call ends, the idle watch is as before
        assert not app.help_overlay.is_open and not app.staff_called
        kiosk.tap(kiosk.bar("back"))
        assert app.confirm_leave.is_open
        kiosk.tap(app.confirm_leave.ids.no)
        assert not app.confirm_leave.is_open and kiosk.current == "kind"

    overlays = {"idle warning": app.idle_overlay, "help call": app.help_overlay, "discard question": app.confirm_leave}
    once()
    first = {name: _followers(overlay) for name, overlay in overlays.items()}
    for _ in range(3):
        once()
    assert {name: _followers(overlay) for name, overlay in overlays.items()} == first


def _file_and_take_the_receipt(kiosk, title: str) -> dict[str, weakref.ref]:
    """A citizen files a report on the on-screen keyboard and taps Done on the receipt;
    weak references to every screen they were shown."""
    from tests.support.kiosk_ui import fill_to_review, send

    fill_to_review(kiosk, "id", title, "Antrean panjang sejak pagi di loket dua", screenshot=False)
    send(kiosk)
    kiosk.wait_until(lambda: kiosk.current == "receipt", what="the receipt")
    receipt = kiosk.screen
    kiosk.wait_until(lambda: receipt.print_state != "printing", what="printing")
    seen = {screen.name: weakref.ref(screen) for screen in kiosk.app.root.screens}
    kiosk.tap(receipt.ids.done)
    assert kiosk.current == "welcome"
    return seen


def test_a_citizen_s_screens_are_dropped_and_freed_once_they_have_left(kiosk):
    """GIVEN a citizen who filed a report and took the receipt WHEN the kiosk has been on
    Welcome for a moment THEN every screen they were shown is gone from the kiosk and freed
    (nothing they typed stays in a widget; their memory goes back), and the next citizen
    files on screens built anew, empty."""
    app = kiosk.app
    seen = _file_and_take_the_receipt(kiosk, "Loket dua tutup")
    assert {"kind", "describe", "identity", "review", "receipt"} <= set(seen)
    kiosk.wait_until(lambda: app.releases == 1, what="the screens released")
    assert app.manager.screen_names == ["welcome"]
    # Freed by the kiosk itself: not left for Python's rare full collection (they were,
    # held by the screens' pending clock events at the kiosk's first collection).
    assert [name for name, ref in seen.items() if ref() is not None and name != "welcome"] == []
    assert "Loket dua tutup" not in kiosk.all_text()
    # Nor in Kivy's caches of the lines a text input drew and the widths it measured, whose
    # keys are the text (they kept it a minute, past the next citizen's arrival).
    from kivy.cache import Cache

    cached = [key for category in ("textinput.label", "textinput.width") for key in Cache._objects.get(category, {})]
    assert [key for key in cached if "Loket" in key or "Antrean" in key] == []

    kiosk.tap(kiosk.screen.ids.start)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    from tests.support.kiosk_ui import fill_category

    fill_category(kiosk)
    assert kiosk.current == "describe" and kiosk.screen.ids.title.text == "" and kiosk.screen.ids.description.text == ""
    assert kiosk.screen is not seen["describe"]()


def test_a_citizen_who_starts_at_once_keeps_the_screens(kiosk):
    """GIVEN a report just taken WHEN the next citizen taps Start before the kiosk has let
    go of the screens THEN nothing is dropped under them: the screens stay until that
    citizen's session ends too."""
    app = kiosk.app
    _file_and_take_the_receipt(kiosk, "Loket dua tutup")
    kiosk.tap(kiosk.screen.ids.start)
    kind = kiosk.screen
    assert kiosk.current == "kind"
    assert app._release_event is not None  # noqa: SLF001 - the release the session's end asked for
    kiosk.wait_until(lambda: app._release_event is None, what="the moment the screens would go")  # noqa: SLF001
    kiosk.frames(3)
    assert app.releases == 0 and kiosk.screen is kind and app.root.has_screen("receipt")


def _layout_children() -> list:
    """The kiosk's receipt-layout children still running (kiosk.core.receipt)."""
    import psutil

    found = []
    for child in psutil.Process().children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and (
                    "kiosk.core.receipt" in child.cmdline() or "receipt-layout" in child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_the_receipt_s_layout_child_starts_on_the_review_and_nothing_waits_at_welcome(kiosk):
    """GIVEN a citizen on the review WHEN they send, take the receipt, and the next one
    walks away from the review THEN each review started one layout child (python-escpos
    loads there, never in the kiosk), the first laid the receipt out, and at Welcome no
    child is left: between citizens the kiosk holds only itself."""
    from tests.support.kiosk_ui import fill_to_review, send

    app = kiosk.app
    fill_to_review(kiosk, "id", "Loket dua tutup", "Antrean panjang sejak pagi di loket dua", screenshot=False)
    kiosk.wait_until(lambda: len(_layout_children()) == 1, what="the layout child started on the review")
    started = _layout_children()[0]
    send(kiosk)
    kiosk.wait_until(lambda: kiosk.current == "receipt", what="the receipt")
    receipt = kiosk.screen
    kiosk.wait_until(lambda: receipt.print_state != "printing", what="printing")
    assert receipt.print_state == "printed"
    assert not started.is_running() or started.status() == "zombie"  # it laid this receipt out and ended
    kiosk.tap(receipt.ids.done)
    kiosk.wait_until(lambda: app.releases == 1, what="the screens released")

    fill_to_review(kiosk, "id", "Loket tiga tutup", "Tidak ada petugas di loket tiga sejak pagi", screenshot=False)
    kiosk.wait_until(lambda: len(_layout_children()) == 1, what="the next review's layout child")
    config = kiosk.env.config
    kiosk.advance_clock(config.idle_timeout_s + 1)
    kiosk.wait_until(lambda: app.idle_overlay.is_open, what="the idle warning")
    kiosk.advance_clock(config.idle_warning_s + 1)
    kiosk.wait_until(lambda: kiosk.current == "welcome" and app.releases == 2, what="the session's end and release")
    kiosk.wait_until(lambda: _layout_children() == [], what="the unused layout child gone")
