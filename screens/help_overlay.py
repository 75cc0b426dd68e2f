""""Minta bantuan petugas": a calm, full-screen message that staff have been called.

It shows the state of the kiosk's :class:`kiosk.core.help_call.HelpCall` (what may be said
of it, how long ago it was made) and forwards the two taps: "Kembali ke layar" closes it
(the call stays) and "Petugas sudah datang" ends the call. It never ends the session; the
idle rule of the screen below still applies. Its touches go through the app's tap guard,
so the second tap of a double tap on the help button cannot answer it.
"""
from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from screens.common import Overlay, TapGuarded

#: How often the open overlay looks at the call again (its age, whether it reached the central).
REFRESH_EVERY_S = 0.5


class HelpOverlay(TapGuarded, Overlay):
    #: What may be said of the call (:class:`kiosk.core.help_call.Notice`'s value).
    notice = StringProperty("local")
    #: Whole minutes since the call.
    minutes = NumericProperty(0)
    is_open = BooleanProperty(False)
    __events__ = ("on_back", "on_arrived")
    _TOKEN = "kiosk.help"

    def __init__(self, *, guard, **kwargs):
        super().__init__(**kwargs)
        self.guard = guard
        self._call = None
        self._refresh_event = None

    def show(self, call) -> None:
        """Open over the current screen for ``call`` (a HelpCall under way)."""
        self._call = call
        self.refresh()
        if not self.is_open:
            self.is_open = True
            self.guard.screen_shown()
            self.open(animation=False)
            self._refresh_event = Clock.schedule_interval(lambda _dt: self.refresh(), REFRESH_EVERY_S)

    def refresh(self) -> None:
        """The call as it stands now; closes when it ended elsewhere."""
        call = self._call
        notice, age = (None, None) if call is None else (call.notice, call.age_s())
        if notice is None or age is None:
            self.close_now()
            return
        self.notice = notice.value
        self.minutes = int(age // 60)

    def close_now(self) -> None:
        if self._refresh_event is not None:
            self._refresh_event.cancel()
            self._refresh_event = None
        if self.is_open:
            self.is_open = False
            self.dismiss(animation=False)
            self.guard.screen_shown()  # the closing touch does not act on the screen below

    def on_back(self):
        pass

    def on_arrived(self):
        pass
