"""Receipt screen: the Tracking ID large, its QR code, and what the printer did.

Where the receipt stands is the session's :class:`kiosk.core.printer_watch.ReceiptPrinting`;
this screen shows it, sends the prints and the printer questions to the printer's
thread, and forwards the taps. When the receipt could not be printed the number stays
until the citizen says it is written down, and "print again" appears once the printer
answers that it can print.
"""
from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from kiosk.core.receipt import sms_check_lines
from kiosk.core.receipt_content import delivery_note, receipt_content
from kiosk.core.speech_guide import Kind, Line
from kiosk.kernel.i18n import N_
from kiosk.kernel.tracking_id import format_tracking_id
from screens.common import qr_texture, tr

log = logging.getLogger(__name__)

#: How often the screen looks whether a printer question is due (the due time itself is
#: the core's, on the kiosk's clock).
CHECK_TICK_S = 0.5


#: What the receipt screen says about the printing, by print state.
PRINT_STATE_WORDS = {
    "printing": N_("Your receipt is being printed..."),
    "printed": N_("Take your receipt and keep it. You need this number to check the status."),
    "failed": N_("The receipt could not be printed. Please write down this number."),
}


class TrackingIdLabel(Label):
    """The receipt's Tracking ID: spoken symbol by symbol in its groups, in the language's
    letter names (the guide's Tracking ID kind; logged as "tracking-id", never the number)."""

    def spoken_lines(self) -> list[Line]:
        return [Line(self.text, kind=Kind.TRACKING_ID)] if self.text else []


class ReceiptScreen(Screen):
    tracking_text = StringProperty("")
    print_state = StringProperty("")  # "", "printing", "printed", "failed"
    must_write_down = BooleanProperty(False)  # the number on screen is the citizen's only record
    can_print_again = BooleanProperty(False)  # failed, and the printer says it can print now
    print_again_slot = BooleanProperty(False)  # a print failed here: "print again" has its place
    qr = ObjectProperty(None, allownone=True)
    sms_when_answered = BooleanProperty(False)  # the citizen agreed to one SMS when it is answered
    sms_number = StringProperty("")  # the kabupaten's SMS number for CEK, as the receipt prints it

    _tracking_id: str | None = None
    _saved = None  # the SavedReport shown: "print again" lays it out in the language read then
    _receipt = None  # the session's ReceiptPrinting while shown
    _check_event = None

    def show(self, saved) -> None:
        """Show the saved report's ID and start printing on the printer's thread."""
        app = App.get_running_app()
        self._tracking_id = saved.tracking_id
        self._saved = saved
        self._receipt = app.session.receipt
        self.tracking_text = format_tracking_id(saved.tracking_id)
        self._content = receipt_content(saved, app.env, app.lang)
        self.qr = qr_texture(self._content.qr_text)
        self.sms_when_answered = self._content.sms_when_answered
        self.sms_number = self._content.sms_number
        self._send()
        if self._check_event is None:
            self._check_event = Clock.schedule_interval(lambda _dt: self._check_printer(), CHECK_TICK_S)

    def _send(self) -> None:
        app = App.get_running_app()
        tracking_id = self._tracking_id
        self._show_state()
        future = app.env.print_async(self._content)
        future.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: self._printed(tracking_id, f), 0))

    def _printed(self, tracking_id: str, future) -> None:
        if tracking_id != self._tracking_id:
            return  # the citizen has gone; nothing to show
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - a printer bug must not reach the citizen
            log.error("printing raised %s", type(exc).__name__)
            ok = False
        else:
            if not outcome.ok:
                log.warning("receipt not printed: %s", type(outcome.error).__name__ if outcome.error else "unknown")
            ok = outcome.ok
        app = App.get_running_app()
        app.session.receipt_printed(ok)
        if not ok:
            app.idle_overlay.dismiss_now()  # the wait starts again: no countdown over "write it down"
        self._show_state()

    def _check_printer(self) -> None:
        """While the receipt is not printed, ask the printer now and then whether it can print."""
        receipt = self._receipt
        if receipt is None or not receipt.should_ask():
            return
        tracking_id = self._tracking_id
        future = App.get_running_app().env.printer_status_async()
        future.add_done_callback(lambda f: Clock.schedule_once(lambda _dt: self._printer_answered(tracking_id, f), 0))

    def _printer_answered(self, tracking_id: str, future) -> None:
        if tracking_id != self._tracking_id or self._receipt is None:
            return
        try:
            ready = future.result().ok
        except Exception as exc:  # noqa: BLE001 - a status bug must not reach the citizen
            log.error("printer status raised %s", type(exc).__name__)
            ready = False
        self._receipt.printer_answered(ready)
        self._show_state()

    def _show_state(self) -> None:
        receipt = self._receipt
        self.print_state = receipt.state.value
        self.must_write_down = receipt.must_write_down
        self.can_print_again = receipt.can_print_again
        self.print_again_slot = receipt.failed_once

    def print_again(self) -> None:
        """"Print again": the printer is back; one receipt per tap, however many taps."""
        if self._receipt is None or not App.get_running_app().session.print_again():
            return
        log.info("receipt printed again after a failure")
        app = App.get_running_app()
        self._content = receipt_content(self._saved, app.env, app.lang)  # in the language read now
        self._send()

    def status_line(self, lang: str, state: str) -> str:
        """What the printer did, in the citizen's language (nothing before it starts)."""
        msgid = PRINT_STATE_WORDS.get(state)
        return tr(lang, msgid) if msgid else ""

    def delivery_line(self, lang: str, waiting: int, tracking_text: str) -> str:
        """Under the number: kept on this kiosk until the central confirmed the report, then
        sent (``waiting`` and ``tracking_text`` are there so that kv reads it again)."""
        if not tracking_text:
            return ""
        return tr(lang, delivery_note(App.get_running_app().env.reports, self._tracking_id))

    def sms_check_text(self, lang: str, tracking_text: str, sms_number: str) -> str:
        """How to check by SMS, as the receipt prints it; nothing without an SMS number."""
        if not (tracking_text and sms_number):
            return ""
        return "\n".join(sms_check_lines(self._tracking_id, sms_number, lambda msgid: tr(lang, msgid)))

    def switch_language(self, language: str) -> None:
        """The language switch: the number, the print state and the wait stay as they are."""
        App.get_running_app().set_language(language)

    def done(self):
        """"Done", or "I have written it down" when the receipt did not print."""
        App.get_running_app().end_session()

    def reset(self):
        if self._check_event is not None:
            self._check_event.cancel()
            self._check_event = None
        self._tracking_id = None
        self._saved = None
        self._receipt = None
        self._content = None
        self.tracking_text = ""
        self.print_state = ""
        self.must_write_down = False
        self.can_print_again = False
        self.print_again_slot = False
        self.sms_when_answered = False
        self.sms_number = ""
        self.qr = None
