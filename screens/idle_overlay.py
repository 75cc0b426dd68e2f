"""Full-screen idle warning with a countdown and a big "Continue" button."""
from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from screens.common import Overlay


class IdleOverlay(Overlay):
    seconds = NumericProperty(0)
    is_open = BooleanProperty(False)
    saved = BooleanProperty(False)  # over the receipt: the report is kept, only the screen closes
    #: What goes away (:meth:`kiosk.core.session.CitizenSession.warning_subject`): "report"
    #: (an unsaved draft is erased), "saved" (the receipt) or "screen" (a status check: only
    #: the screen closes, nothing of the citizen's is lost).
    subject = StringProperty("report")
    __events__ = ("on_continue",)

    def show(self, seconds_left: int) -> None:
        self.seconds = seconds_left
        if not self.is_open:
            self.subject = App.get_running_app().session.warning_subject()
            self.saved = self.subject == "saved"
            self.is_open = True
            self.open(animation=False)

    def dismiss_now(self) -> None:
        if self.is_open:
            self.is_open = False
            self.dismiss(animation=False)

    def on_continue(self):
        pass
