"""Cek Status: type the Tracking ID on a keypad (or arrive from the scan screen) and see
where the report stands: from the central office when online, else what this kiosk knows.

The screen shows :class:`kiosk.core.status_flow.StatusLookup`'s state and forwards taps;
the lookup runs on the environment's bounded background runner, printing on the
printer's thread, and both come back to the UI thread through Kivy's ``Clock``.
"""
from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.status_flow import LookupTicket, StatusLookup
from kiosk.core.status_text import keypad_symbols
from kiosk.runtime.background import Refused

log = logging.getLogger(__name__)


class StatusScreen(Screen):
    typed = StringProperty("")
    result = StringProperty("")
    result_kind = StringProperty("")  # "", "checking", "found", "unknown", "offline_unknown", "invalid"
    reprint_state = StringProperty("")  # "", "printing", "printed", "failed"
    own_report = BooleanProperty(False)  # issued by this kiosk: its receipt can be reprinted
    reply = StringProperty("")  # the office's newest reply: shown first, large
    reply_heading = StringProperty("")  # who answered, and when

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lookup = StatusLookup(monotonic=App.get_running_app().monotonic)

    def on_kv_post(self, base_widget):
        grid = self.ids.keypad
        for symbol in keypad_symbols():
            key = Factory.KeypadKey(text=symbol)
            key.bind(on_release=lambda k: self.press(k.text))
            grid.add_widget(key)

    def _show(self) -> None:
        """Copy the flow's state to the properties the kv rules bind to."""
        lookup = self.lookup
        self.typed = lookup.typed
        self.result = lookup.result(App.get_running_app().gettext)
        self.result_kind = lookup.kind
        self.reprint_state = lookup.print_state
        self.own_report = lookup.own_report
        answer = lookup.answer
        self.reply = answer.reply if answer is not None else ""
        self.reply_heading = answer.reply_heading if answer is not None else ""

    # -- the keypad -----------------------------------------------------------------------
    def press(self, symbol: str) -> None:
        self.lookup.press(symbol)
        self._show()

    def backspace(self) -> None:
        self.lookup.backspace()
        self._show()

    def clear(self) -> None:
        self.lookup.clear()
        self._show()

    def reset(self) -> None:
        """The session ended: forget the number, and the next citizen starts unslowed."""
        self.lookup.reset()
        self._show()

    # -- checking -------------------------------------------------------------------------
    def look_up(self, tracking_id: str) -> None:
        """Show the status of a Tracking ID read from a receipt."""
        self._check(tracking_id)

    def check(self) -> None:
        self._check(None)

    def _check(self, typed: str | None) -> None:
        ticket = self.lookup.check(typed)
        self._show()
        if ticket is None:
            return
        from kiosk.core.status_lookup import look_up

        app = App.get_running_app()
        env, lang = app.env, app.lang
        job = env.background.submit(lambda: look_up(ticket.tracking_id, env=env, language=lang))
        if isinstance(job, Refused):
            log.warning("status lookup refused: %s", job.reason)
            self.lookup.failed(ticket)
            self._show()
            return
        job.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: self._answered(ticket, f), 0))

    def _answered(self, ticket: LookupTicket, future) -> None:
        try:
            answer = future.result()
        except Exception as exc:  # noqa: BLE001 - a lookup bug must not reach the citizen
            log.error("status lookup failed: %s", type(exc).__name__)
            applied = self.lookup.failed(ticket)
        else:
            applied = self.lookup.answered(ticket, answer)
        if applied:
            self._tell_in(App.get_running_app().lang)  # the language may have changed meanwhile
            self._show()

    # -- the language ---------------------------------------------------------------------
    def switch_language(self, language: str) -> None:
        """The top bar's language switch: the number typed and the answer stay, the answer
        told again in the new language (from what the lookup found: no new lookup)."""
        app = App.get_running_app()
        if language == app.lang:
            return
        app.set_language(language)
        self._tell_in(language)
        self._show()

    def _tell_in(self, language: str) -> None:
        answer = self.lookup.answer
        if answer is None or answer.facts is None or answer.language == language:
            return
        from kiosk.core.status_lookup import describe

        self.lookup.retell(describe(answer.facts, env=App.get_running_app().env, language=language))

    # -- printing -------------------------------------------------------------------------
    def reprint(self) -> None:
        """Print a copy (SALINAN) of a receipt this kiosk issued, on the printer's thread."""
        app = App.get_running_app()
        tracking_id = self.lookup.tracking_id
        if tracking_id is None:
            return
        content = app.env.reports.reprint(tracking_id, config=app.kiosk_config, language=app.lang)
        if content is None:
            return
        self._print(content)

    def print_status(self) -> None:
        """Print what the screen shows about any report (a status slip, not a receipt)."""
        app = App.get_running_app()
        config = app.kiosk_config
        content = self.lookup.status_slip(institution=config.institution_name, kiosk_location=config.kiosk_location,
                                          now=app.env.now(), language=app.lang)
        if content is None:
            return
        self._print(content)

    def _print(self, content) -> None:
        app = App.get_running_app()
        tracking_id = self.lookup.printing()
        self._show()
        future = app.env.print_async(content, app.gettext)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: self._printed(tracking_id, f), 0))

    def _printed(self, tracking_id: str, future) -> None:
        try:
            ok = future.result().ok
        except Exception:  # noqa: BLE001 - printing never reaches the citizen as an error
            ok = False
        if self.lookup.printed(tracking_id, ok):
            self._show()

    def back(self):
        App.get_running_app().back_to_welcome()  # still in the citizen's language
