"""The tap guard: which touches belong to the screen the citizen sees, with no UI at all."""
from __future__ import annotations

from kiosk.core.tap_guard import REVIEW_READ_S, SETTLE_S, TapGuard
from tests.support.clock import FakeClock


def test_the_first_screen_takes_touches_at_once():
    clock = FakeClock()
    guard = TapGuard(clock.monotonic)
    assert guard.touch_began() is not None and guard.settle_left() == 0


def test_touches_right_after_a_screen_change_are_ignored():
    """GIVEN a screen that just appeared WHEN a finger comes down within SETTLE_S (the
    rest of a double tap) THEN it is ignored; from SETTLE_S on, touches count again."""
    clock = FakeClock()
    guard = TapGuard(clock.monotonic)
    guard.screen_shown()
    assert guard.touch_began() is None
    clock.advance(SETTLE_S - 0.01)
    assert guard.touch_began() is None and guard.settle_left() > 0
    clock.advance(0.01)
    assert guard.touch_began() is not None and guard.settle_left() == 0


def test_a_touch_begun_on_the_previous_screen_never_acts_on_the_next():
    clock = FakeClock()
    guard = TapGuard(clock.monotonic)
    held = guard.touch_began()
    assert guard.owns(held)
    guard.screen_shown()  # the finger is still down when the screen changes
    clock.advance(10)
    assert not guard.owns(held)
    fresh = guard.touch_began()
    assert guard.owns(fresh) and not guard.owns(None)


def test_how_long_a_screen_has_been_shown():
    clock = FakeClock()
    guard = TapGuard(clock.monotonic)
    assert guard.has_been_shown(REVIEW_READ_S)  # nothing came before the first screen
    guard.screen_shown()
    clock.advance(REVIEW_READ_S - 0.1)
    assert not guard.has_been_shown(REVIEW_READ_S)
    clock.advance(0.1)
    assert guard.has_been_shown(REVIEW_READ_S)
    guard.screen_shown()  # e.g. back from "Change": the review is read again
    assert not guard.has_been_shown(REVIEW_READ_S)
