"""KioskApp: screens, the frame rate, the hidden admin gesture and the safety net.

The App holds only what ties the screens together: the citizen's session (its flow, its
language, the idle watch, the receipt's timeout) is :class:`kiosk.core.session.CitizenSession`,
questions and validation are :class:`kiosk.core.flow.FilingFlow`, storage the
environment's services. The session methods here forward to it and move the screens.
"""
from __future__ import annotations

import gc
import logging
import time
import traceback

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.cache import Cache
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.runtime import watchdog
from kiosk.core.session import CitizenSession, SessionEvent
from kiosk.core.tap_guard import TapGuard
from kiosk.kernel.i18n import gettext_for
from screens.display import ACTIVE_FPS, KV_DIR
from screens.common import ConfirmOverlay, KioskKeyboard, KioskScroll, TapGuarded, sizes, theme
from screens.textsize import LARGE_TEXT_SCALE
from screens import access
from kiosk.core.speech_guide import SpeechGuide

log = logging.getLogger(__name__)

#: Seconds without a touch before the frame rate drops to the configured idle rate.
THROTTLE_AFTER_S = 3.0
SYNC_STATUS_EVERY_S = 5.0
#: How often the printer's housekeeping runs (the file printer's receipt retention).
PRINTER_TIDY_EVERY_S = 3600.0
FIRST_KV_FILES = ("common.kv", "access.kv", "welcome.kv", "idle.kv", "help.kv")
LATER_KV_FILES = ("filing.kv", "receipt.kv", "status.kv", "error.kv", "scan.kv", "admin.kv")
#: While staff are called, the idle time and its countdown are this many times longer (a
#: citizen waits without touching anything; 60 s become 5 minutes before the warning).
STAFF_CALL_PATIENCE = 5.0
#: Seconds after a session ends before the screens it built are dropped and the heap they
#: used goes back to the system (Welcome is drawn first; a new citizen by then keeps them).
RELEASE_AFTER_S = 1.0
#: The hidden way to the admin screen: this many taps in Welcome's top-left corner ...
ADMIN_TAPS, ADMIN_TAPS_WITHIN_S, ADMIN_CORNER = 5, 4.0, 0.12  # ... within 4 s, in 12% of each side


def _scan_screen():
    from screens.scan import ScanScreen

    return ScanScreen(name="scan")


def _admin_screen():
    from screens.admin import AdminScreen

    return AdminScreen(name="admin")


def _load_kv(names) -> None:
    for name in names:
        path = str(KV_DIR / name)
        if path not in Builder.files:  # rules are global: once per process
            Builder.load_file(path)


class GuardedScreens(TapGuarded, ScreenManager):
    """The screens, passing on only the touches that belong to the one showing.

    A touch that began on the previous screen, or within the guard's settle time after
    the change, reaches no widget: the second tap of a double tap on "Create a report"
    cannot choose a kind, nor a triple tap on Next skip the identity questions. Every
    change of ``current`` tells the guard; :class:`TapGuard` decides."""

    _TOKEN = "kiosk.screen"  # the guard's token in ``touch.ud``

    def __init__(self, *, guard: TapGuard, **kwargs):
        super().__init__(**kwargs)
        self.guard = guard
        self.bind(current=lambda *_: guard.screen_shown())



class _SafetyNet(ExceptionHandler):
    """Turns an unexpected exception into the apology screen instead of a crash."""

    def __init__(self, app: "KioskApp"):
        self.app = app

    def handle_exception(self, exception):
        # The type and where it came from, never the message: it may quote citizen text.
        frames = "".join(traceback.format_tb(exception.__traceback__))
        log.error("unexpected %s\n%s", type(exception).__name__, frames)
        try:
            self.app.show_apology()
        except Exception:  # noqa: BLE001 - the net must never tear
            log.exception("apology screen failed")
        return ExceptionManager.PASS


class KioskApp(App):
    """The kiosk's Kivy application for one :class:`kiosk.runtime.env.KioskEnv`."""

    lang = StringProperty("id")
    default_lang = StringProperty("id")  # each new citizen's language (the admin screen may change it)
    title = "SP4N LAPOR! Kiosk"
    use_kivy_settings = False

    ready = BooleanProperty(False)
    out_of_service = BooleanProperty(False)
    no_room = BooleanProperty(False)  # disk full or below min_free_disk_mb: no new report (Welcome says so)
    waiting = NumericProperty(0)
    sync_state = StringProperty("none")  # none (no central configured), unknown, online, offline
    staff_called = BooleanProperty(False)  # a help call is under way ("Minta bantuan petugas")
    #: Speech mode: each screen, each focused or tapped control is spoken (kiosk.core.speech_guide).
    speech_mode = BooleanProperty(False)
    #: "Huruf besar" and "Kontras tinggi" on the access bar, for this citizen only.
    large_text = BooleanProperty(False)
    high_contrast = BooleanProperty(False)

    def __init__(self, *, kiosk_config, env_factory, monotonic=time.monotonic, **kwargs):
        super().__init__(**kwargs)
        self.kiosk_config = kiosk_config
        self.env = None  # opened right after the first frame: Welcome needs only the config
        self._env_factory = env_factory
        self._monotonic = monotonic
        from kiosk.runtime.admin import default_language

        language = default_language(kiosk_config)
        self.session = CitizenSession(
            monotonic=monotonic, idle_after=kiosk_config.idle_timeout_s, warn_for=kiosk_config.idle_warning_s,
            receipt_timeout_s=kiosk_config.receipt_timeout_s, default_language=language)
        self.default_lang = self.lang = language
        self._corner_taps: list[float] = []
        #: Which touches belong to the screen showing (the review's Send asks it too).
        self.tap_guard = TapGuard(monotonic)
        self.exit_code = 0
        self._leaving = False
        self._last_activity = monotonic()
        self._safety_net = _SafetyNet(self)
        #: What the kiosk says (the player is made at the first word: an idle kiosk loads no voice).
        self.speech = SpeechGuide(lambda: self.env.player if self.env is not None else None, language=language)
        self.ring = access.FocusRing(scope=self._focus_scope, on_focus=self._say_focused,
                                     can_act=lambda: self.tap_guard.settle_left() == 0)
        self._announce_event = None
        self._release_event = None  # dropping the last citizen's screens (release_screens)
        #: How many times the screens were dropped and their memory returned (tests, the soak).
        self.releases = 0
        self._overlay = None  # the overlay on top of the screens, if any (screens.access.top_overlay)

    # -- lifecycle ------------------------------------------------------------------
    def load_kv(self, filename=None):  # our kv files live beside the screens
        return True

    def build(self):
        """Only what the first frame needs: Welcome and the idle overlay."""
        from screens import idle_overlay, welcome
        from screens.text_surfaces import drop_rendered_text_surfaces

        drop_rendered_text_surfaces()  # before the first label renders
        _load_kv(FIRST_KV_FILES)
        # Module-wide, like the window: a previous app in this process may have left them.
        sizes.scale, theme.high_contrast = 1.0, False
        Window.clearcolor = theme.page
        Window.set_vkeyboard_class(KioskKeyboard)
        # Text sizes in mm on this panel, before any widget binds to them.
        sizes.configure(mm_per_px=self.kiosk_config.panel_mm_per_px,
                        diagonal_inch=self.kiosk_config.panel_diagonal_inch, resolution=tuple(Window.size))
        Window.bind(size=self._follow_panel)
        manager = GuardedScreens(guard=self.tap_guard, transition=NoTransition())
        manager.add_widget(welcome.WelcomeScreen(name="welcome"))
        self.manager = manager
        root = access.KioskRoot(manager=manager, bar=access.AccessBar())
        manager.bind(current=lambda *_: self._shown_changed())
        self.idle_overlay = idle_overlay.IdleOverlay()
        self.idle_overlay.bind(on_continue=lambda *_: self.touch())
        self.confirm_leave = ConfirmOverlay(guard=self.tap_guard)
        self.confirm_leave.bind(on_yes=lambda *_: self.discard_report())
        from screens.help_overlay import HelpOverlay

        self.help_overlay = HelpOverlay(guard=self.tap_guard)
        self.help_overlay.bind(on_back=lambda *_: self.help_overlay.close_now(),
                               on_arrived=lambda *_: self.end_help_call("staff arrived"))
        Window.bind(on_touch_down=self._on_activity, on_key_down=self._on_activity)
        # Bound after the activity watch: a key is activity first, then maybe a move.
        Window.bind(on_key_down=self._on_key, on_touch_up=self._spoken_tap, children=self._overlays_changed)
        if self.kiosk_config.lockdown:
            Window.bind(on_request_close=self._refuse_close)
        ExceptionManager.add_handler(self._safety_net)
        self._tick_event = Clock.schedule_interval(self._tick, 0.25)
        return root

    def on_start(self):
        def after_first_frame(*_args):
            Window.unbind(on_flip=after_first_frame)
            watchdog.start_on_ui_clock(self, Clock.schedule_interval)  # systemd: READY=1, then pings from this loop
            Clock.schedule_once(lambda _dt: self.finish_start(), 0)

        Window.bind(on_flip=after_first_frame)

    def finish_start(self) -> None:
        """Open the store and build the other screens, once Welcome is on screen."""
        if self.ready or self.out_of_service:
            return
        from kiosk.core.store.db import StoreError

        try:
            self.env = self.env or self._env_factory()
        except StoreError as exc:
            log.error("kiosk cannot take reports: %s", exc)
            self.out_of_service = True
            return
        from screens import error, filing, receipt, status

        _load_kv(LATER_KV_FILES)
        # Screens are built the first time they are shown: an idle kiosk holds only Welcome.
        self._factories = {cls.step.value: cls for cls in filing.STEP_SCREENS}
        self._factories.update(
            receipt=lambda: receipt.ReceiptScreen(name="receipt"),
            status=lambda: status.StatusScreen(name="status"),
            scan=_scan_screen,  # OpenCV is loaded only on a kiosk that uses its camera
            apology=lambda: error.ApologyScreen(name="apology"),
            admin=_admin_screen,
        )
        self.ready = True
        if self.kiosk_config.headset_jack:
            from devices.headset import JackWatch

            self._jack = JackWatch(self.kiosk_config.headset_jack,
                                   lambda plugged: Clock.schedule_once(lambda _dt: self.headset_changed(plugged), 0))
            self._jack.start()
        if self.env.sync is not None:
            # While someone uses the kiosk, a backlog goes gently (small batches, pauses).
            self.env.sync.citizen_present = lambda: self.session.watched
            self.env.sync.start()
        self._sync_event = Clock.schedule_interval(lambda _dt: self.refresh_sync_status(), SYNC_STATUS_EVERY_S)
        self.refresh_sync_status()
        # Receipts past their retention go even when nothing is printed for days.
        self._tidy_event = Clock.schedule_interval(lambda _dt: self.env.tidy_printer(), PRINTER_TIDY_EVERY_S)

    def refresh_sync_status(self) -> None:
        """The POS-style indicator on Welcome: online or offline, and how many wait. Online
        only while the sync thread runs and the central itself answered last (not a
        captive portal or a proxy's page)."""
        sync = self.env.sync
        self.sync_state = "none" if sync is None else sync.connection
        self.waiting = self.env.reports.count_waiting()
        self.check_room()

    def screen(self, name: str):
        """The screen called ``name``, built on first use."""
        if not self.root.has_screen(name):
            self.manager.add_widget(self._factories[name]())
        return self.root.get_screen(name)

    def show(self, name: str):
        screen = self.screen(name)
        self.root.current = name
        return screen

    def on_stop(self):
        for event in (getattr(self, "_sync_event", None), getattr(self, "_tidy_event", None), self._release_event):
            if event is not None:
                event.cancel()
        ExceptionManager.remove_handler(self._safety_net)
        if self.root is not None and self.root.has_screen("scan"):
            self.root.get_screen("scan").reset()  # a camera still reading ends with the app (its process too)
        Window.unbind(on_touch_down=self._on_activity, on_key_down=self._on_activity)
        Window.unbind(on_key_down=self._on_key, on_touch_up=self._spoken_tap, children=self._overlays_changed)
        self.ring.clear()
        self.speech.stop()
        if getattr(self, "_jack", None) is not None:
            self._jack.stop()
        Window.unbind(on_request_close=self._refuse_close)
        Window.unbind(size=self._follow_panel)
        self.large_text = self.high_contrast = False
        Window.release_all_keyboards()
        KioskKeyboard.forget_fields()

    @staticmethod
    def _follow_panel(_window, size) -> None:
        sizes.follow(tuple(size))

    def monotonic(self) -> float:
        """The kiosk's monotonic clock (a test's controllable one under test)."""
        return self._monotonic()

    # -- language ---------------------------------------------------------------------
    def gettext(self, msgid: str) -> str:
        return gettext_for(self.lang)(msgid)

    def set_language(self, lang: str) -> None:
        self.lang = lang

    def on_lang(self, _app, lang: str) -> None:
        """``lang`` is what the kv rules bind to; the session owns the citizen's language."""
        self.session.set_language(lang)
        self.speech.language = lang

    def on_default_lang(self, _app, lang: str) -> None:
        self.session.set_default_language(lang)

    @property
    def flow(self):
        """The citizen's report under way (None between citizens)."""
        return self.session.flow

    @property
    def idle(self):
        """The session's idle watch."""
        return self.session.idle

    # -- the citizen session ---------------------------------------------------------------
    def check_room(self) -> bool:
        """Whether a report can be kept now; while not, Welcome offers no filing."""
        problem = self.env.reports.room_problem()
        if problem and not self.no_room:
            log.warning("kiosk takes no reports: %s", problem)
        elif self.no_room and not problem:
            log.info("room again: kiosk takes reports")
        self.no_room = bool(problem)
        return not problem

    def start_filing(self) -> None:
        self.finish_start()
        if not self.ready or not self.check_room():
            return
        self.session.start_filing(self.env.today)
        self.show_step()

    def start_status(self) -> None:
        self.finish_start()
        if not self.ready:
            return
        self.session.start_visit()
        self.show("scan" if self.kiosk_config.camera_source else "status")

    def show_status_of(self, tracking_id: str | None) -> None:
        """The status screen, looking up ``tracking_id`` (read from a receipt) if given."""
        screen = self.show("status")
        if tracking_id:
            screen.look_up(tracking_id)

    def show_step(self) -> None:
        """Show the screen of the flow's current step (refreshed on entering it)."""
        name = self.flow.step.value
        if self.root.current == name:
            self.screen(name).refresh()  # staying (e.g. a missing answer): no on_pre_enter
        else:
            self.show(name)

    def leave_flow(self) -> None:
        """The citizen leaves the report (Back on the first question, "Back to start" on
        the apology screen): asked first when something was entered; nothing else."""
        if not self.session.must_confirm_leaving:
            self.discard_report()
            return
        self._unfocus_all()  # the docked keyboard must not cover the question
        confirm = self.confirm_leave
        confirm.question = self.gettext("Discard this report?")
        confirm.yes_text = self.gettext("Yes, discard")
        confirm.no_text = self.gettext("No, continue")
        confirm.ask()

    def discard_report(self) -> None:
        """Throw the draft away and go to Welcome, still in the citizen's language (their
        session goes on until they leave the kiosk alone)."""
        self.confirm_leave.close_now()
        self._unfocus_all()
        self.session.leave_filing()
        self._reset_screens()
        self.root.current = "welcome"
        self._release_soon()

    def back_to_welcome(self) -> None:
        """Back from the status or scan screen: Welcome in the citizen's language (what was
        looked up is forgotten; the session ends when the kiosk is left alone, or "Done")."""
        self.discard_report()

    def submitted(self, saved) -> None:
        """The report is durably saved: show the receipt and print it."""
        self.session.submitted()
        self.screen("receipt").show(saved)
        self.show("receipt")
        self.outbox_filled()

    def outbox_filled(self) -> None:
        """Something was just kept in the outbox (a report, an objection, a rating): the
        sync worker tries at once instead of at its next poll."""
        if self.env.sync is not None:
            self.env.sync.wake()
        self.refresh_sync_status()

    def _reset_screens(self) -> None:
        """Every screen forgets what the citizen typed or saw."""
        for screen in self.root.screens:
            reset = getattr(screen, "reset", None)
            if reset:
                reset()

    def end_session(self) -> None:
        """Forget the citizen: draft, typed text, language, a call for staff; back to Welcome."""
        self.idle_overlay.dismiss_now()
        self.confirm_leave.close_now()
        self.end_help_call("session ended")
        self._unfocus_all()
        self.session.end()
        self.speech.end_session()  # silence, the default volume; speech mode only with a headset
        self.speech_mode = self.speech.mode
        self.large_text = self.high_contrast = False
        self._reset_screens()
        self.lang = self.session.language
        self.root.current = "welcome"
        self._release_soon()

    def _release_soon(self) -> None:
        if self._release_event is not None:
            self._release_event.cancel()
        self._release_event = Clock.schedule_once(lambda _dt: self.release_screens(), RELEASE_AFTER_S)

    def release_screens(self) -> None:
        """Between citizens: drop every screen but Welcome (each is built again when next
        shown, in 5-30 ms) and give the memory they held back to the system. A kiosk that
        kept every screen it had shown held them, their kv bindings and their textures for
        weeks, and the heap they freed stayed resident (issue 17: about 20 MiB at Welcome
        after each filing, ``benchmarks/soak.py``); nothing a citizen typed or saw stays
        in a widget either. After a session's end, and after Back to Welcome (a draft
        discarded, a status looked up). Only on Welcome: a citizen who has started again
        keeps the screens."""
        self._release_event = None
        if self.root is None or self.root.current != "welcome" or not self.ready:
            return
        self.env.forget_receipt()  # a receipt's layout child started for a review never sent
        KioskKeyboard.forget_fields()  # the docked keyboard still aims at the last field: its screen
        for screen in [s for s in self.manager.screens if s.name != "welcome"]:
            self.manager.remove_widget(screen)
        # The transition keeps the last screen it took out (not allowed None): a new one keeps none.
        self.manager.transition = NoTransition()
        # Kivy's text inputs keep every line they drew (a texture) and every width they
        # measured for a minute, in caches keyed by the text itself: what a citizen typed
        # goes with their screens, not a minute after.
        Cache.remove("textinput.label")
        Cache.remove("textinput.width")
        gc.collect()  # screens hold reference cycles (kv rules, bindings)
        Clock.schedule_once(self._collect_late, 0.2)

    def _collect_late(self, _dt) -> None:
        # What the frames since let go of: widgets that the screens' pending clock events
        # and layout triggers still held at the first collection (tens of thousands of
        # objects), which would otherwise wait for Python's rare full collection.
        gc.collect()
        # A dead widget's textures and buffers are deleted when the window next draws, and
        # Welcome, unchanged, would not draw until the next citizen: draw once, then trim.
        Window.canvas.ask_update()
        Clock.schedule_once(self._return_heap, 0.2)

    def _return_heap(self, _dt) -> None:
        from kiosk.runtime.memory import return_free_heap

        return_free_heap()
        self.releases += 1

    def _unfocus_all(self) -> None:
        """Drop focus from every field, which also hides the on-screen keyboard."""
        for screen in self.root.screens:
            for widget in screen.walk():
                if getattr(widget, "focus", False):
                    widget.focus = False
        Window.release_all_keyboards()
        # Every session starts from the same layout: each question back at its top.
        for screen in self.root.screens:
            for widget in screen.walk():
                if isinstance(widget, KioskScroll):
                    widget.reset()

    # -- "Minta bantuan petugas" ---------------------------------------------------------------
    @property
    def help_call(self):
        """The kiosk's help call (:class:`kiosk.core.help_call.HelpCall`): the environment's,
        which the heartbeat carries; a local one while the store cannot be opened."""
        if self.env is not None:
            return self.env.help_call
        if getattr(self, "_local_help_call", None) is None:
            from kiosk.core.help_call import HelpCall

            self._local_help_call = HelpCall(self._monotonic)
        return self._local_help_call

    def call_staff(self) -> None:
        """The citizen asks for staff, on any screen: the call starts (or goes on, keeping its
        time) and the calm overlay says what was done. The session is left as it is."""
        self.finish_start()
        for widget in self.root.current_screen.walk():  # the docked keyboard must not cover it
            if getattr(widget, "focus", False):
                widget.focus = False
        Window.release_all_keyboards()
        call = self.help_call
        call.call()
        self.staff_called = call.active
        self.help_overlay.show(call)

    def end_help_call(self, why: str) -> None:
        """Staff have arrived, or the session ended: the call ends and the overlay closes."""
        self.help_overlay.close_now()
        self.help_call.end(why)
        self.staff_called = False

    def show_apology(self) -> None:
        self.idle_overlay.dismiss_now()
        if not self.ready:
            return
        self.screen("apology").prepare(can_resume=self.session.can_resume)
        self.show("apology")
        self.session.keep_watching()

    def resume_after_apology(self) -> None:
        if self.session.can_resume:
            self.show_step()
        else:
            self.end_session()

    # -- activity, idle and frame rate ----------------------------------------------------
    def _on_activity(self, _window=None, touch=None, *args):
        self.touch()
        if hasattr(touch, "pos") and self.root is not None and self.root.current == "welcome":
            self._corner_tap(touch.pos)
        return False  # let the touch reach the widgets

    # -- lockdown and the admin screen ----------------------------------------------------
    def _corner_tap(self, pos) -> None:
        x, y = pos
        if x > Window.width * ADMIN_CORNER or y < Window.height * (1 - ADMIN_CORNER):
            self._corner_taps.clear()
            return
        now = self._monotonic()
        self._corner_taps = [t for t in self._corner_taps if now - t <= ADMIN_TAPS_WITHIN_S] + [now]
        if len(self._corner_taps) >= ADMIN_TAPS:
            self._corner_taps.clear()
            Clock.schedule_once(lambda _dt: self.open_admin(), 0)  # after this touch is handled

    def open_admin(self) -> None:
        """The PIN pad of the admin screen; nothing at all when no admin PIN is configured."""
        self.finish_start()
        if not self.ready or not self.kiosk_config.admin_pin_hash:
            log.info("admin gesture ignored: %s", "no admin PIN configured" if self.ready else "kiosk not ready")
            return
        self.session.start_visit()
        self.screen("admin").reset()
        self.show("admin")

    def open_settings(self, *_args) -> bool:
        """Kivy opens its settings panel on F1; a kiosk has none (its settings are the admin screen's)."""
        return False

    def _refuse_close(self, *_args, **_kwargs) -> bool:
        """Lockdown: Escape, Alt+F4 and the window manager cannot close the kiosk."""
        if not self._leaving:
            log.info("close request refused (lockdown)")
        return not self._leaving

    def request_exit(self, code: int) -> None:
        """Leave the app (admin screen: restart or shut down); ``kiosk run`` exits with ``code``."""
        log.info("kiosk exiting with code %d", code)
        self._leaving, self.exit_code = True, code
        self.stop()

    def touch(self) -> None:
        self.session.touch()
        self._last_activity = self._monotonic()
        Clock._max_fps = ACTIVE_FPS  # noqa: SLF001 - Kivy reads it every frame
        if self.idle_overlay.is_open:
            self.idle_overlay.dismiss_now()
            self.tap_guard.screen_shown()  # the touch that closed it does not act on the screen below

    def _tick(self, _dt) -> None:
        now = self._monotonic()
        # Only an idle kiosk slows down: a citizen holding a receipt up to the camera
        # touches nothing, and must not wait for a slow frame to see the answer.
        watched = self.session.watched
        if not watched and now - self._last_activity > THROTTLE_AFTER_S:
            Clock._max_fps = self.kiosk_config.idle_fps  # noqa: SLF001
        elif watched:
            Clock._max_fps = ACTIVE_FPS  # noqa: SLF001
        event = self.session.poll()
        if event is SessionEvent.WARN:
            if not self.idle_overlay.is_open:
                self._unfocus_all()  # the docked keyboard must not cover the warning
                self.speech.idle_warning()
            self.idle_overlay.show(self.session.seconds_left())
        elif event is SessionEvent.END:
            self.end_session()

    # -- speech and the keypad (screens.access, kiosk.core.speech_guide) ---------------------
    def on_speech_mode(self, _app, _on: bool) -> None:
        self._update_patience()

    def on_staff_called(self, _app, _called: bool) -> None:
        self._update_patience()

    def on_large_text(self, _app, on: bool) -> None:
        sizes.scale = LARGE_TEXT_SCALE if on else 1.0

    def on_high_contrast(self, _app, on: bool) -> None:
        theme.high_contrast = on
        Window.clearcolor = theme.page

    def _update_patience(self) -> None:
        """The idle watch waits longer for a citizen who listens (``speech_idle_factor``)
        and for one waiting for staff (:data:`STAFF_CALL_PATIENCE`): neither is gone."""
        patience = self.kiosk_config.speech_idle_factor if self.speech_mode else 1.0
        if self.staff_called:
            patience = max(patience, STAFF_CALL_PATIENCE)
        self.session.idle.patience = patience

    def headset_changed(self, plugged: bool) -> None:
        """A headset plugged: speech mode (the card mutes its speaker by itself: private
        listening). Unplugged: speech mode stays until this citizen's session ends."""
        self.speech.headset_changed(plugged)
        self.speech_mode = self.speech.mode

    def set_speech_mode(self, on: bool) -> None:
        """The access bar's "Mode suara", Welcome's button, a headset, the first keypad key."""
        self.speech.set_mode(on)
        self.speech_mode = self.speech.mode

    def listen(self) -> None:
        """"Dengarkan": the screen (or the overlay on it), spoken from the top."""
        scope, _bar = self._focus_scope()
        self.speech.listen(access.screen_lines(scope, self.lang, with_controls=True))

    def change_volume(self, step: int) -> None:
        self.speech.volume(step)

    def _focus_scope(self):
        """What the focus ring moves over: the overlay on top, else the screen and the bar."""
        overlay = access.top_overlay()
        if overlay is not None:
            return overlay, None
        root = self.root
        return (self.manager.current_screen if self.root is not None else None), \
            (root.bar if isinstance(root, access.KioskRoot) and not root.bar.disabled else None)

    def _say_focused(self, widget) -> None:
        self.speech.focused(access.describe(widget, self.lang))

    def _shown_changed(self) -> None:
        """Another screen or overlay: the ring starts again, speech stops, and in speech
        mode the new one is read once it is laid out."""
        self.ring.clear()
        self.speech.stop()
        if self._announce_event is not None:
            self._announce_event.cancel()
        # Two frames on: the new screen has been laid out (its answers drawn, its sizes known).
        self._announce_event = Clock.schedule_once(lambda _dt: self._announce_next_frame(), 0)

    def _announce_next_frame(self) -> None:
        self._announce_event = Clock.schedule_once(lambda _dt: self._announce(), 0)

    def _overlays_changed(self, *_args) -> None:
        """An overlay opened or closed (the docked keyboard coming and going is not one)."""
        overlay = access.top_overlay()
        if overlay is not self._overlay:
            self._overlay = overlay
            self._shown_changed()

    def _announce(self) -> None:
        self._announce_event = None
        scope, _bar = self._focus_scope()
        if scope is None:
            return
        choices = sum(1 for w in access.controls(scope)
                      if access.describe(w, self.lang)[0].kind.value == "choice")
        self.speech.screen_shown(access.screen_lines(scope, self.lang, with_controls=False), choices=choices)

    def _spoken_tap(self, _window, touch) -> bool:
        """Speech mode: a tapped control says what it is (before it acts)."""
        if not self.speech.mode or self.root is None:
            return False
        for widget in self.ring.items():
            wx, wy = widget.to_widget(*touch.pos)
            if widget.collide_point(wx, wy):
                lines = access.describe(widget, self.lang)
                if lines:
                    self.speech.tapped(lines[0])
                break
        return False

    def _on_key(self, _window, key, _scancode=None, codepoint=None, modifiers=(), *_args) -> bool:
        """The keypad: see screens.access for the keys."""
        if self.root is None or self._typing():
            return False
        ours = key in access.NAVIGATION_KEYS or codepoint in access.NAVIGATION_CHARS
        if not ours:
            return False
        if self.idle_overlay.is_open:
            self.touch()  # any key is "more time", and only that
            return True
        self.touch()  # a key is activity, as a touch (the activity watch does not see a key we take)
        if not self.speech.mode:
            self.set_speech_mode(True)  # the first key: speech on, and how the keys work
            return True
        shift = "shift" in (modifiers or ())
        if key in (access.DOWN, access.RIGHT) or (key == access.TAB and not shift):
            self.ring.move(1)
        elif key in (access.UP, access.LEFT) or key == access.TAB:
            self.ring.move(-1)
        elif key in (access.ENTER, access.NUMPAD_ENTER, access.SPACE):
            if self.ring.focused is None:
                self.ring.move(1)
            else:
                self.ring.activate()
        elif key in (access.ESCAPE, access.BACKSPACE):
            self._press_back()
        elif key == access.F1 or codepoint == "?":
            self.speech.listen([self.speech.help_line()])
            scope, _bar = self._focus_scope()
            self.speech.listen_more(access.screen_lines(scope, self.lang, with_controls=True))
        elif key == access.NUMPAD_PLUS or codepoint == "+":
            self.change_volume(1)
        elif key == access.NUMPAD_MINUS or codepoint == "-":
            self.change_volume(-1)
        elif key in (access.NUMPAD_MULTIPLY, access.F5) or codepoint == "*":
            self.speech.repeat()
        return True

    def _typing(self) -> bool:
        """A text field has the keyboard: its keys are the citizen's words."""
        scope, _bar = self._focus_scope()
        return scope is not None and any(getattr(w, "focus", False) and isinstance(w, access.TextInput)
                                         for w in scope.walk(restrict=True))

    def _press_back(self) -> None:
        for widget in self.ring.items():
            line = access.describe(widget, self.lang)[0]
            if line.msgid in access.BACK_MSGIDS:
                self.ring.focus(widget)
                self.ring.activate()
                return
