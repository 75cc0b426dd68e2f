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
from tests.support.kiosk_ui import start_report
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
