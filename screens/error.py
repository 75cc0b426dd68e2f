"""The apology screen: shown instead of a crash; the draft is kept when it can be."""
from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen


class ApologyScreen(Screen):
    can_resume = BooleanProperty(False)

    def prepare(self, *, can_resume: bool) -> None:
        self.can_resume = can_resume

    def switch_language(self, language: str) -> None:
        """The language switch: the draft kept for "Continue my report" stays."""
        App.get_running_app().set_language(language)

    def resume(self):
        App.get_running_app().resume_after_apology()

    def restart(self):
        App.get_running_app().leave_flow()  # asks first when a report would be thrown away

    def reset(self):
        self.can_resume = False
