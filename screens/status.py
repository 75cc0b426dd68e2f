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
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.core.feedback import FeedbackService, local_today
from kiosk.core.status_flow import NOT_SAVED, LookupTicket, StatusLookup
from kiosk.core.status_text import keypad_symbols
from kiosk.runtime.background import Refused
from screens.common import ensure_visible

log = logging.getLogger(__name__)


class FoldingBox(BoxLayout):
    """A part of the screen shown or folded away (no height, invisible, inactive). Folded,
    its children keep their own heights, so they must not take touches either: Kivy lets
    a disabled widget swallow a touch on it, and they would lie over what is shown."""

    shown = BooleanProperty(True)

    def on_touch_down(self, touch):
        return super().on_touch_down(touch) if self.shown else False

    def on_touch_move(self, touch):
        return super().on_touch_move(touch) if self.shown else False

    def on_touch_up(self, touch):
        return super().on_touch_up(touch) if self.shown else False


class FoldingColumn(FoldingBox):
    """A column folded to no width (the number's keypad while the objection is typed), so
    the columns beside it take the room; ``width_hint``: its share of the row when shown."""

    width_hint = NumericProperty(0.5)


class StatusScreen(Screen):
    typed = StringProperty("")
    result = StringProperty("")
    result_kind = StringProperty("")  # "", "checking", "found", "unknown", "offline_unknown", "invalid"
    reprint_state = StringProperty("")  # "", "printing", "printed", "failed"
    own_report = BooleanProperty(False)  # issued by this kiosk: its receipt can be reprinted
    reply = StringProperty("")  # the office's newest reply: shown first, large
    reply_heading = StringProperty("")  # who answered, and when
    #: The answer to the answer (``StatusLookup.feedback``): "", "open" or "closed"; its
    #: step ("", "objecting", "objection_sent", "rating_sent"); whether an objection was
    #: kept; and what the kiosk says about it, in the citizen's language.
    feedback = StringProperty("")
    feedback_state = StringProperty("")
    objected = BooleanProperty(False)
    feedback_said = StringProperty("")
    feedback_failed = BooleanProperty(False)

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
        self.feedback, self.feedback_state, self.objected = lookup.feedback, lookup.feedback_state, lookup.objected
        said = lookup.feedback_message
        self.feedback_said = said.render(App.get_running_app().gettext) if said is not None else ""
        self.feedback_failed = said is not None and said.msgid == NOT_SAVED
        for score, button in self._rating_buttons():
            button.state = "down" if score == lookup.rated else "normal"
        if self.feedback_state != "objecting":
            field = self.ids.objection
            field.focus = False
            field.text = ""

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
        self._show()  # also empties the objection's field

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
            app = App.get_running_app()
            self._tell_in(app.lang)  # the language may have changed meanwhile
            self.lookup.offer_feedback(local_today(app.env.now()))
            self._show()

    # -- the answer to the answer -----------------------------------------------------------
    def _feedback_service(self) -> FeedbackService:
        env = App.get_running_app().env
        return FeedbackService(env.store, clock=env.now)

    def _rating_buttons(self):
        return [(score, self.ids[f"rate_{score}"]) for score in range(1, 6)]

    def begin_objection(self) -> None:
        """"Masalah belum selesai": the short text field opens, with the keyboard."""
        if self.lookup.begin_objection():
            self._show()
            Clock.schedule_once(self._focus_objection, 0)  # once the panel is laid out

    def _focus_objection(self, _dt) -> None:
        self._objection_in_view()
        self.ids.objection.focus = True

    def keyboard_moved(self) -> None:
        """The docked keyboard opened or closed: keep the objection's words, field and
        buttons in view above it (their lower part, when they do not all fit)."""
        if self.feedback_state == "objecting":
            Clock.schedule_once(lambda _dt: self._objection_in_view(), 0)

    def _objection_in_view(self) -> None:
        ids = self.ids
        ensure_visible(ids.result_scroll, ids.objection_hint, padding=0, below=ids.objection_actions)

    def cancel_objection(self) -> None:
        self.lookup.cancel_objection()
        self._show()

    def send_objection(self) -> None:
        """Keep the objection in the outbox (sent when the network allows) and say so."""
        if self.lookup.send_objection(self._feedback_service(), self.ids.objection.text):
            App.get_running_app().outbox_filled()
        self._show()
        self._bring_into_view(self.ids.feedback_said)

    def rate(self, score: int) -> None:
        """One tap on a score from 1 to 5 keeps it; the tapped button stays marked and the
        thanks take the question's place above the row."""
        if self.lookup.rate(self._feedback_service(), score):
            App.get_running_app().outbox_filled()
        self._show()
        if self.feedback_state != "rating_sent":  # not kept: said above, under the reply
            self._bring_into_view(self.ids.feedback_said)

    def _bring_into_view(self, widget) -> None:
        Clock.schedule_once(lambda _dt: ensure_visible(self.ids.result_scroll, widget), 0)

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
        future = app.env.print_async(content)
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
