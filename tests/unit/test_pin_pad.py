"""The admin screen's PIN pad, with no UI: digits, backspace, submit through the real guard."""
from __future__ import annotations

import pytest

from kiosk.core import pin
from kiosk.core.pin import PinGuard, PinPad
from kiosk.kernel.i18n import gettext_for

PIN = "246810"
EN = gettext_for("en")


@pytest.fixture(scope="module")
def pin_hash() -> str:
    return pin.hash_pin(PIN)


@pytest.fixture
def guard(tmp_path, clock, pin_hash) -> PinGuard:
    return PinGuard(pin_hash, tmp_path / "admin-lock.json", clock.now)


def _type(pad: PinPad, digits: str) -> None:
    for digit in digits:
        pad.press(digit)


def test_digits_show_as_dots_and_stop_at_twelve():
    pad = PinPad()
    _type(pad, "1234567890123")
    assert pad.shown == "\u25cf" * 12
    pad.backspace()
    assert pad.shown == "\u25cf" * 11
    with pytest.raises(ValueError):
        pad.press("A")


def test_right_pin_opens_and_the_digits_are_forgotten(guard):
    pad = PinPad()
    _type(pad, "12")
    pad.backspace()
    pad.backspace()
    _type(pad, PIN)
    assert pad.submit(guard)
    assert pad.shown == "" and pad.message is None


def test_wrong_pins_say_how_many_tries_are_left_then_lock(guard, clock):
    """GIVEN the real guard WHEN wrong PINs are typed THEN each says how many tries are
    left, the fifth locks for 5 minutes (the right PIN waits it out too), after which the
    right PIN opens."""
    pad = PinPad()
    _type(pad, "111111")
    assert not pad.submit(guard)
    assert pad.message.render(EN) == "Wrong PIN. 4 tries left before the admin screen locks."
    assert pad.shown == ""
    _type(pad, "2")
    assert pad.message is None  # typing again clears the message
    pad.clear()
    for _ in range(pin.MAX_TRIES - 1):
        _type(pad, "111111")
        pad.submit(guard)
    locked = "Too many wrong PINs. The admin screen is locked for 5 minutes."
    assert pad.message.render(EN) == locked
    assert pad.message.render(gettext_for("id")) != locked  # a msgid, in the screen's language
    _type(pad, PIN)
    assert not pad.submit(guard) and pad.message.render(EN) == locked
    clock.advance(pin.FIRST_LOCK_S + 1)
    _type(pad, PIN)
    assert pad.submit(guard)
