"""Welcome (attract) screen: Buat Laporan, Cek Status, and the language switch."""
from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.printer_watch import WELCOME_CHECK_EVERY_S, PrinterWatch
from screens.common import tr

log = logging.getLogger(__name__)

#: How often Welcome looks whether a printer question is due (the due time is the watch's).
PRINTER_TICK_S = 0.5


class WelcomeScreen(Screen):
    #: The printer last said it cannot print: the footer tells citizens before they start.
    printer_down = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._app = app = App.get_running_app()
        self._printer = PrinterWatch(app.monotonic, every_s=WELCOME_CHECK_EVERY_S)
        event = Clock.schedule_interval(lambda _dt: self._check_printer(), PRINTER_TICK_S)
        app.bind(on_stop=lambda *_args: event.cancel())

    # -- the printer notice -------------------------------------------------------------
    def on_pre_enter(self, *_args):
        """Back on Welcome (after each citizen, a failed print too): ask the printer at once."""
        self._printer.ask_soon()

    def _check_printer(self) -> None:
        """On Welcome, at start and every minute: ask the printer, on its thread, whether it can print."""
        app = self._app
        if not app.ready or self.manager is None or self.manager.current != self.name:
            return
        if not self._printer.start():
            return
        future = app.env.printer_status_async()
        future.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: self._printer_answered(f), 0))

    def _printer_answered(self, future) -> None:
        try:
            status = future.result()
            ready, state = status.ok, status.state
        except Exception as exc:  # noqa: BLE001 - a status bug must not stop Welcome
            log.error("printer status raised %s", type(exc).__name__)
            ready, state = False, "fault"
        if self._printer.answered(ready):
            if not ready:
                log.warning("printer cannot print (%s): Welcome says so", state)
            elif self.printer_down:
                log.info("printer can print again")
        self.printer_down = not ready

    def start_report(self):
        App.get_running_app().start_filing()

    def check_status(self):
        App.get_running_app().start_status()

    def set_language(self, lang: str):
        App.get_running_app().set_language(lang)

    @staticmethod
    def sync_line(lang: str, state: str, waiting: int) -> str:
        """Like a POS's sync icon: online or offline, and how many reports wait."""
        if state == "online":
            head = tr(lang, "Online")
        elif state == "offline":
            head = tr(lang, "Offline")
        else:
            head = tr(lang, "Saved on this kiosk")
        return f"{head} · " + tr(lang, "{n} waiting to be sent", n=waiting)
