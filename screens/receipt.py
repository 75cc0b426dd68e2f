"""Receipt screen: the Tracking ID large, its QR code, and what the printer did."""
from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.receipt_content import receipt_content
from kiosk.kernel.tracking_id import format_tracking_id
from screens.common import qr_texture, tr

log = logging.getLogger(__name__)


class ReceiptScreen(Screen):
    tracking_text = StringProperty("")
    print_state = StringProperty("")  # "", "printing", "printed", "failed"
    qr = ObjectProperty(None, allownone=True)

    def show(self, saved) -> None:
        """Show the saved report's ID and start printing on the printer's thread."""
        app = App.get_running_app()
        self._tracking_id = saved.tracking_id
        self.tracking_text = format_tracking_id(saved.tracking_id)
        content = receipt_content(saved, app.env, app.lang)
        self.qr = qr_texture(content.qr_text)
        self.print_state = "printing"
        future = app.env.print_async(content, app.gettext)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: self._printed(saved.tracking_id, f), 0))

    def _printed(self, tracking_id: str, future) -> None:
        if tracking_id != getattr(self, "_tracking_id", None):
            return  # the citizen has gone; nothing to show
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - a printer bug must not reach the citizen
            log.error("printing raised %s", type(exc).__name__)
            self.print_state = "failed"
            return
        if not outcome.ok:
            log.warning("receipt not printed: %s", type(outcome.error).__name__ if outcome.error else "unknown")
        self.print_state = "printed" if outcome.ok else "failed"

    def status_line(self, lang: str, state: str) -> str:
        if state == "printing":
            return tr(lang, "Your receipt is being printed...")
        if state == "printed":
            return tr(lang, "Take your receipt and keep it. You need this number to check the status.")
        if state == "failed":
            return tr(lang, "The receipt could not be printed. Please write down this number.")
        return ""

    def done(self):
        App.get_running_app().end_session()

    def reset(self):
        self._tracking_id = None
        self.tracking_text = ""
        self.print_state = ""
        self.qr = None
