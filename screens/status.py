"""Cek Status (local for now): type the Tracking ID on a keypad, see what the kiosk knows."""
from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.status_text import describe_local_status, keypad_symbols
from kiosk.tracking_id import TrackingIdError, parse_tracking_id
from screens.common import tr

log = logging.getLogger(__name__)


class StatusScreen(Screen):
    typed = StringProperty("")
    result = StringProperty("")
    result_kind = StringProperty("")  # "", "found", "unknown", "invalid"
    reprint_state = StringProperty("")  # "", "printing", "printed", "failed"

    def on_kv_post(self, base_widget):
        grid = self.ids.keypad
        for symbol in keypad_symbols():
            key = Factory.KeypadKey(text=symbol)
            key.bind(on_release=lambda k: self.press(k.text))
            grid.add_widget(key)

    def press(self, symbol: str) -> None:
        if len(self.typed.replace("-", "")) < 16:
            self.typed += symbol
        self.result, self.result_kind, self.reprint_state = "", "", ""

    def backspace(self) -> None:
        self.typed = self.typed[:-1]
        self.result, self.result_kind, self.reprint_state = "", "", ""

    def clear(self) -> None:
        self.typed, self.result, self.result_kind, self.reprint_state = "", "", "", ""
        self._found_id = None

    def look_up(self, tracking_id: str) -> None:
        """Show the status of a Tracking ID read from a receipt."""
        self.typed = tracking_id
        self.check()

    def check(self) -> None:
        app = App.get_running_app()
        lang = app.lang
        try:
            tracking_id = parse_tracking_id(self.typed)
        except TrackingIdError as exc:
            self.result = describe_invalid(lang, exc.code)
            self.result_kind = "invalid"
            return
        status = app.env.reports.find(tracking_id)
        if status is None:
            self.result = tr(lang, "No report with this number was found on this kiosk.")
            self.result_kind = "unknown"
            return
        self.result = describe_local_status(status, lang)
        self.result_kind = "found"
        self._found_id = tracking_id

    def reprint(self) -> None:
        """Print a copy (SALINAN) of a receipt this kiosk issued, on the printer's thread."""
        from kiosk.domain import SavedReport
        from kiosk.receipt_content import receipt_content

        app = App.get_running_app()
        tracking_id = getattr(self, "_found_id", None)
        status, draft = app.env.reports.find(tracking_id), app.env.reports.load_draft(tracking_id)
        if status is None or draft is None:
            return
        saved = SavedReport(tracking_id, status.created_at, draft, app.kiosk_config.kiosk_code)
        self.reprint_state = "printing"
        future = app.env.print_async(receipt_content(saved, app.env, app.lang, copy=True), app.gettext)
        future.add_done_callback(
            lambda f: Clock.schedule_once(lambda _dt: self._reprinted(tracking_id, f), 0))

    def _reprinted(self, tracking_id: str, future) -> None:
        if getattr(self, "_found_id", None) != tracking_id:
            return
        try:
            ok = future.result().ok
        except Exception:  # noqa: BLE001 - printing never reaches the citizen as an error
            ok = False
        self.reprint_state = "printed" if ok else "failed"

    def back(self):
        App.get_running_app().end_session()

    def reset(self):
        self.clear()


def describe_invalid(lang: str, code: str) -> str:
    if code == "empty":
        return tr(lang, "Type the number printed on your receipt.")
    if code == "length":
        return tr(lang, "A report number has 14 letters and numbers, for example MT01-14D2P-F2DBX.")
    if code == "symbol":
        return tr(lang, "This number contains a character that report numbers do not use.")
    return tr(lang, "This number is not right: a letter or number is probably mistyped. Please check it against your receipt.")
