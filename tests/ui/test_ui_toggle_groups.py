"""A tap on a toggle (a language, a choice, a score) must work even when the garbage
collector frees another button of its group during the tap.

Kivy 2.3 releases a group by walking a copy of its weak references; a button collected
during that walk (screens rebuild their choices, and collection may run on any thread)
leaves a dead reference in the copy, and Kivy sets ``state`` on None: the tap raised
AttributeError and did nothing (seen as a flaky "KeyError: 'status'" after a language
tap). The test puts that state, a dead reference, into the real group before a real tap.
"""
from __future__ import annotations

import gc
import weakref

import pytest
from kivy.uix.togglebutton import ToggleButtonBehavior

from screens.common import KioskToggle

pytestmark = pytest.mark.ui


def _dead_reference() -> weakref.ref:
    button = KioskToggle()
    dead = weakref.ref(button)
    del button
    gc.collect()
    assert dead() is None
    return dead


@pytest.mark.parametrize("group, button", [("lang", "lang_en"), ("lang", "lang_id")])
def test_a_language_tap_works_with_a_collected_button_in_its_group(kiosk, group, button):
    """GIVEN Welcome, and a button of the language group freed mid-walk WHEN the citizen
    taps a language THEN the kiosk speaks it, and nothing was raised."""
    groups = ToggleButtonBehavior._ToggleButtonBehavior__groups
    groups[group].append(_dead_reference())
    kiosk.tap(kiosk.screen.ids[button])
    assert kiosk.app.lang == button.removeprefix("lang_")
    assert kiosk.screen.ids[button].state == "down"
    other = "lang_id" if button == "lang_en" else "lang_en"
    assert kiosk.screen.ids[other].state == "normal"
    assert kiosk.current == "welcome"


def test_every_toggle_rule_of_the_kiosk_builds_a_kiosk_toggle(kiosk):
    """No kv rule of the kiosk builds on a bare Kivy ToggleButton (which has the fault)."""
    from kivy.factory import Factory

    rules = {name: entry["baseclasses"] for name, entry in Factory.classes.items() if entry.get("baseclasses")}
    toggles = {name for name, bases in rules.items() if "Toggle" in bases}
    assert {"LangButton", "ChoiceButton", "KindChoice", "RatingButton"} <= toggles
    assert {name: rules[name] for name in toggles if rules[name] != "KioskToggle"} == {}
