"""A finger on the kiosk's glass, as Kivy's touch-screen input providers hand it on.

The window's input queue gets a ``MotionEvent`` with a position in the window's 0-1
coordinates and the ``pos`` profile, like a touch from ``mtdev`` or ``hidinput``, and
dispatches it as its own main loop does (``EventLoop.post_dispatch_input``).

Kivy's ``kivy.tests.common.UnitTestTouch`` does the same, but importing that module
imports pytest and unittest (about 7 MiB): the soak benchmark's kiosk process, which
measures its own memory, must hold only what a kiosk holds.
"""
from __future__ import annotations

import itertools

from kivy.base import EventLoop
from kivy.input.motionevent import MotionEvent

_IDS = itertools.count(1)


def _relative(x: float, y: float) -> dict[str, float]:
    """Window pixels as a provider's 0-1 coordinates (``MotionEvent.depack`` scales back)."""
    window = EventLoop.window
    return {"x": x / max(1.0, window.width - 1.0), "y": y / max(1.0, window.height - 1.0)}


class Finger(MotionEvent):
    """One finger at (x, y) in window pixels: :meth:`down`, then :meth:`up` (a tap)."""

    def __init__(self, x: float, y: float):
        super().__init__("kiosk-finger", next(_IDS), _relative(x, y), is_touch=True, type_id="touch")
        self.profile = ["pos"]

    def depack(self, args):
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)

    def down(self) -> None:
        EventLoop.post_dispatch_input("begin", self)

    def up(self) -> None:
        EventLoop.post_dispatch_input("end", self)
