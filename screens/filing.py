"""The filing screens: one question per screen, a thin view over :class:`FilingFlow`."""
from __future__ import annotations

import datetime as dt
import logging
import math

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from kiosk.core import reference
from kiosk.core.domain import DESCRIPTION_MAX, PRIVACY_QUESTIONS, ReportKind, VoiceNote
from kiosk.core.flow import Step
from kiosk.core.tap_guard import REVIEW_READ_S
from kiosk.core.labels import KIND_EXPLANATIONS, KIND_LABELS
from kiosk.kernel.durations import duration_words
from kiosk.kernel.i18n import long_date, month_year, weekday_names
from screens.icons import CATEGORY_ICONS, KIND_ICONS, OTHER_CATEGORY
from screens.common import icon_markup, tr

log = logging.getLogger(__name__)


class StepBar(BoxLayout):
    """Back, "Step 2 of 5", Next: at the top, so the docked keyboard never hides them.

    ``has_next`` False (the review) leaves an empty place where Next is on the other
    steps: Send sits elsewhere, so a repeated tap on Next's spot cannot send."""

    progress = StringProperty("")
    next_text = StringProperty("")
    has_next = BooleanProperty(True)
    __events__ = ("on_back", "on_next", "on_language")

    def on_has_next(self, _bar, has_next: bool) -> None:
        button = self.ids.next
        if not has_next and button.parent is self:
            index = self.children.index(button)
            self.remove_widget(button)
            self.add_widget(Widget(size_hint=(None, 1), width=button.width), index=index)

    def on_back(self):
        pass

    def on_next(self):
        pass

    def on_language(self, language: str):
        pass


def refill(box, kinds: list, make) -> list:
    """The children of ``box`` for ``kinds`` (one key per child, in the order shown), taken
    from the ones made before and made (``make(kind)``) only when none is spare; the caller
    sets what each shows. A widget made and dropped every time a screen is shown leaves
    native memory behind (its text textures and the GL driver's buffers are freed but the
    pages stay with the process: the soak benchmark saw the kind step add 3 MiB each time
    it was shown); one built once and changed in place costs nothing more."""
    shown = box.children[::-1]
    if [w.pool_kind for w in shown] == list(kinds):
        return shown
    spare = box.__dict__.setdefault("pool_spare", {})
    for widget in shown:
        spare.setdefault(widget.pool_kind, []).append(widget)
    box.clear_widgets()
    for kind in kinds:
        widget = spare.get(kind, []).pop() if spare.get(kind) else make(kind)
        widget.pool_kind = kind
        box.add_widget(widget)
    return box.children[::-1]


class StepScreen(Screen):
    """Shared behaviour of the question screens."""

    step: Step
    #: Fields whose message the screen shows beside their own question, not at the top.
    inline_fields: tuple[str, ...] = ()
    progress = StringProperty("")
    error_text = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(name=self.step.value, **kwargs)
        for bar in self.walk():
            if isinstance(bar, StepBar):
                bar.bind(on_language=lambda _bar, language: self.switch_language(language))

    @property
    def app(self):
        return App.get_running_app()

    @property
    def flow(self):
        return self.app.flow

    def tr(self, msgid: str, **params) -> str:
        return tr(self.app.lang, msgid, **params)

    def on_pre_enter(self, *args):
        self.refresh()

    def on_leave(self, *args):
        Window.release_all_keyboards()

    def refresh(self) -> None:
        """Show the flow's state: progress, errors, and the screen's own fields."""
        flow = self.flow
        if flow is None:
            return
        number = flow.question_number
        self.progress = (
            self.tr("Step {n} of {total}", n=number, total=flow.question_count) if number else self.tr("Check your report")
        )
        self.error_text = "\n".join(
            e.message.render(self.app.gettext) for e in flow.errors if e.field not in self.inline_fields)
        self.show_state()

    def show_state(self) -> None:
        """Screen-specific: copy the draft into the widgets."""

    def collect(self) -> None:
        """Screen-specific: copy the widgets into the flow before moving."""

    def go_back(self) -> None:
        self.collect()
        if self.flow.back():
            self.app.show_step()
        else:
            self.app.leave_flow()  # asks first when something was entered

    def switch_language(self, language: str) -> None:
        """The top bar's language switch: everything entered stays, in the new language."""
        if self.flow is None or language == self.app.lang:
            return
        self.app.set_language(language)
        self.refresh()

    def go_next(self) -> None:
        self.collect()
        self.flow.next()
        self.app.show_step()

    def reset(self) -> None:
        """Forget everything shown (the session ended)."""
        self.error_text = ""


class KindScreen(StepScreen):
    step = Step.KIND

    def show_state(self):
        kinds = list(ReportKind)
        for kind, btn in zip(kinds, refill(self.ids.choices, [None] * len(kinds), self._make_choice)):
            btn.state = "down" if self.flow.draft.kind is kind else "normal"
            btn.title = self.tr(KIND_LABELS[kind])
            btn.explanation = self.tr(KIND_EXPLANATIONS[kind])
            btn.icon = KIND_ICONS.get(kind.value, "")
            btn.kind = kind

    def _make_choice(self, _kind):
        btn = Factory.KindChoice()
        btn.bind(on_release=self._chosen)
        return btn

    def _chosen(self, btn):
        self.flow.choose_kind(btn.kind)
        self.app.show_step()


class CategoryScreen(StepScreen):
    step = Step.CATEGORY

    def show_state(self):
        store, lang, draft = self.app.env.store, self.app.lang, self.flow.draft
        choices = reference.categories(store, lang)
        for choice, btn in zip(choices, refill(self.ids.categories, [None] * len(choices), self._make_choice)):
            # The category's pictogram before its name: recognised without reading.
            icon = CATEGORY_ICONS.get(choice.code, OTHER_CATEGORY)
            btn.text = icon_markup(icon, btn.font_size * 1.3) + escape_markup(choice.label)
            btn.state = "down" if draft.category_code == choice.code else "normal"
            btn.code = choice.code

    def _make_choice(self, _kind):
        btn = Factory.ChoiceButton(group="category", markup=True)
        btn.bind(on_release=lambda b: self._category(b.code))
        return btn

    def _category(self, code):
        self.flow.choose_category(code)
        self.error_text = ""


class AgencyScreen(StepScreen):
    """Which office should handle it: "I don't know" and the question fixed at the top,
    the offices below in a scroll view, those that usually handle the chosen category
    first under their own label. Nothing is chosen until the citizen taps."""

    step = Step.AGENCY
    usual_text = StringProperty("")
    other_text = StringProperty("")

    def on_pre_enter(self, *args):
        super().on_pre_enter(*args)
        self.ids.scroll.scroll_y = 1  # the usual offices in view first, whatever came before

    def show_state(self):
        store, lang, draft = self.app.env.store, self.app.lang, self.flow.draft
        choices = reference.agency_choices(store, lang, draft.category_code)
        usual = [c for c in choices if c.usual]
        category = next((c.label for c in reference.categories(store, lang) if c.code == draft.category_code), "")
        self.usual_text = self.tr('Usually handles "{category}"', category=category) if usual else ""
        self.other_text = self.tr("Other offices") if usual else ""
        self.ids.unknown.state = "down" if draft.agency_answered and draft.agency_code is None else "normal"
        for grid, group in ((self.ids.usual, usual), (self.ids.agencies, [c for c in choices if not c.usual])):
            for choice, btn in zip(group, refill(grid, [None] * len(group), self._make_choice)):
                btn.text = choice.label
                btn.state = "down" if draft.agency_answered and draft.agency_code == choice.code else "normal"
                btn.code = choice.code

    def _make_choice(self, _kind):
        btn = Factory.AgencyChoice()
        btn.bind(on_release=lambda b: self.choose(b.code))
        return btn

    def choose(self, code: str | None) -> None:
        """A tap on an office, or on "I don't know" (``None``)."""
        if self.flow is None:
            return
        self.flow.choose_agency(code)
        self.error_text = ""
        for btn in [self.ids.unknown, *self.ids.usual.children, *self.ids.agencies.children]:
            chosen = btn is self.ids.unknown if code is None else getattr(btn, "code", None) == code
            btn.state = "down" if chosen else "normal"

    def reset(self):
        super().reset()
        self.ids.unknown.state = "normal"
        refill(self.ids.usual, [], None)
        refill(self.ids.agencies, [], None)
        self.usual_text = self.other_text = ""


class MicPart(BoxLayout):
    """One state's part of the recording controls (``filing.kv``). Hidden, its widgets
    leave the tree: no room, no touch, no text to read, nothing for the focus ring."""

    shown = BooleanProperty(False)

    def on_kv_post(self, base_widget):
        self._parts = list(reversed(self.children))  # in the order of the kv file
        self.on_shown(self, self.shown)

    def on_shown(self, _part, shown: bool) -> None:
        parts = getattr(self, "_parts", None)
        if parts is None:
            return
        if shown and not self.children:
            for widget in parts:
                self.add_widget(widget)
        elif not shown and self.children:
            self.clear_widgets()


def _clock_words(seconds: float, *, up: bool = False) -> str:
    """Seconds as a clock shows them: "2:35"; the time spoken counts whole seconds, the
    time left rounds ``up`` (the two always add up to the limit)."""
    whole = math.ceil(seconds - 1e-6) if up else int(seconds + 1e-6)
    minutes, rest = divmod(max(0, whole), 60)
    return f"{minutes}:{rest:02d}"


class DescribeScreen(StepScreen):
    """What happened: typed, or, with a microphone configured, told in the citizen's own
    voice ("Rekam suara"). The recorder (``devices.microphone.Recorder``) runs on its own
    thread; while it records this screen reads its snapshot every 0.1 s (time, countdown,
    level). A finished recording goes into the flow, which then needs no typed description."""

    step = Step.DESCRIBE
    counter = StringProperty("")
    title_notice = StringProperty("")
    description_notice = StringProperty("")
    #: A microphone is configured (``microphone_source``): the recording controls show.
    mic_available = BooleanProperty(False)
    #: ``idle`` (offer to record), ``recording``, ``done`` (the flow holds a recording).
    mic_state = StringProperty("idle")
    mic_elapsed = StringProperty("")
    mic_left = StringProperty("")
    mic_level = NumericProperty(0.0)
    mic_done = StringProperty("")
    mic_problem = StringProperty("")
    #: How often the screen reads the recorder while it records.
    MIC_POLL_S = 0.1

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._recorder = None
        self._mic_poll = None
        self._next_mark = 0  # spoken countdown marks said so far (voice guidance)
        self._mic_problem_msgid: str | None = None
        self._played = False  # the player plays this screen's recording (stopped on leaving)

    def show_state(self):
        draft = self.flow.draft
        self.ids.title.text = draft.title
        self.ids.description.text = draft.description
        self._update_counter()
        self.title_notice = self._notice("title")
        self.description_notice = self._notice("description")
        self.mic_available = bool(self.app.env.config.microphone_source.strip())
        if self.mic_state != "recording":
            self.mic_state = "done" if draft.voice is not None else "idle"
        self._show_mic_words()

    # -- the spoken complaint ------------------------------------------------------------------
    def _show_mic_words(self) -> None:
        voice = self.flow.draft.voice if self.flow is not None else None
        self.mic_done = self.tr("Your complaint is recorded: {duration}. You may go on, or type as well.",
                                duration=duration_words(voice.duration_s, self.app.gettext)) if voice else ""
        self.mic_problem = self.tr(self._mic_problem_msgid) if self._mic_problem_msgid else ""

    def _make_recorder(self):
        from devices.microphone import Recorder

        config = self.app.env.config
        return Recorder(config.microphone_source, limit_s=config.microphone_limit_s,
                        bitrate_kbps=config.microphone_bitrate_kbps)

    def record(self) -> None:
        """"Rekam suara" / "Rekam ulang": start a new recording (the one before is dropped)."""
        if self.flow is None or not self.mic_available or self.mic_state == "recording":
            return
        self._stop_playback()
        if self._recorder is None:
            self._recorder = self._make_recorder()
        if not self._recorder.start():
            return
        self.flow.clear_voice()
        self.app.speech.recording_started()  # the kiosk's own voice is not part of the complaint
        self._next_mark = 0  # the countdown's spoken marks still to come (kiosk.core.speech_guide)
        self._mic_problem_msgid = None
        self.mic_state = "recording"
        self.mic_elapsed, self.mic_left, self.mic_level = "", "", 0.0
        self._show_mic_words()
        self._poll_mic(0)
        self._mic_poll = Clock.schedule_interval(self._poll_mic, self.MIC_POLL_S)

    def stop_recording(self) -> None:
        """"Berhenti": the recording ends (the next poll takes it into the flow)."""
        if self._recorder is not None:
            self._recorder.stop()

    def _poll_mic(self, _dt) -> None:
        from devices.microphone import MicState

        if self._recorder is None:
            return
        snap = self._recorder.snapshot()
        if snap.state is MicState.RECORDING:
            self.app.session.touch()  # speaking is using the kiosk: no idle warning meanwhile
            self.mic_elapsed = self.tr("Recording: {elapsed}", elapsed=_clock_words(snap.elapsed_s))
            self.mic_left = self.tr("{left} left", left=_clock_words(snap.remaining_s, up=True))
            self.mic_level = snap.level
            self._say_countdown(snap.remaining_s)
            return
        self._end_poll()
        recording = self._recorder.recording if snap.state is MicState.DONE else None
        if recording is not None and self.flow is not None:
            self.flow.set_voice(VoiceNote(ogg=recording.ogg_opus, sha256=recording.sha256,
                                          duration_s=recording.duration_s))
        else:
            self._mic_problem_msgid = snap.message  # None: stopped before any sound
        self.mic_state, self.mic_level = "idle", 0.0
        self.refresh()  # "done" with the recording in the flow; its messages about typing gone

    def _say_countdown(self, remaining_s: float) -> None:
        """Voice guidance says "60 seconds left", then 30, then 10, once each."""
        from kiosk.core.speech_guide import COUNTDOWN_MARKS

        marks = [m for m in COUNTDOWN_MARKS if remaining_s <= m]
        if len(marks) > self._next_mark:
            self._next_mark = len(marks)
            self.app.speech.countdown(marks[-1])

    def _end_poll(self) -> None:
        if self._mic_poll is not None:
            self._mic_poll.cancel()
            self._mic_poll = None

    def play_back(self) -> None:
        """"Putar": the citizen hears what they said, through the kiosk's one player."""
        recording = self._recorder.recording if self._recorder is not None else None
        voice = self.flow.draft.voice if self.flow is not None else None
        if recording is None or voice is None or recording.sha256 != voice.sha256:
            return
        player = self.app.env.player
        player.stop()
        player.play_pcm(recording.pcm, label="recorded complaint")
        self._played = True

    def _stop_playback(self) -> None:
        if self._played and self.app.env is not None:
            self.app.env.player.stop()
            self._played = False

    def delete_recording(self) -> None:
        """"Hapus": the recording is gone; the typed description is needed again."""
        self._stop_playback()
        if self._recorder is not None:
            self._recorder.discard()
        if self.flow is not None:
            self.flow.clear_voice()
        self.mic_state = "idle"
        self._show_mic_words()

    def _finish_recording(self) -> None:
        """Next or Back while recording: the recording ends and is kept, as with Stop."""
        if self.mic_state == "recording" and self._recorder is not None:
            self._recorder.stop()
            self._recorder.wait(2.0)  # one 100 ms chunk at most: the reader checks between chunks
            self._poll_mic(0)

    def collect(self):
        self._finish_recording()
        self._stop_playback()

    def _notice(self, field: str) -> str:
        return " ".join(m.render(self.app.gettext) for m in self.flow.notices.get(field, []))

    def _update_counter(self):
        self.counter = self.tr("{count} of {limit} characters", count=len(self.ids.description.text), limit=DESCRIPTION_MAX)

    def text_changed(self, field: str, widget):
        """Each edit goes through the flow's cleaning; the widget shows the result."""
        if self.flow is None:
            return
        cleaned = self.flow.set_text(field, widget.text, cleaned_before=widget.take_cleaned())
        if cleaned != widget.text:
            widget.text = cleaned
        setattr(self, f"{field}_notice", self._notice(field))
        if field == "description":
            self._update_counter()

    def reset(self):
        super().reset()
        for key in ("title", "description"):
            self.ids[key].text = ""
        self.title_notice = self.description_notice = ""
        self._end_poll()
        if self._recorder is not None:  # the next citizen never hears this one
            self._recorder.discard()
            self._recorder.close()
            self._recorder = None
        self._mic_problem_msgid = None
        self.mic_state, self.mic_elapsed, self.mic_left, self.mic_level = "idle", "", "", 0.0
        self.mic_done = self.mic_problem = ""


class WhenWhereScreen(StepScreen):
    step = Step.WHEN_WHERE
    date_text = StringProperty("")
    date_error = StringProperty("")
    month_text = StringProperty("")
    can_earlier = BooleanProperty(False)
    can_later = BooleanProperty(False)

    def show_state(self):
        draft = self.flow.draft
        self._show_date()
        choices = reference.kecamatan_choices(self.app.env.store, self.app.lang)
        for choice, btn in zip(choices, refill(self.ids.kecamatan, [None] * len(choices), self._make_kecamatan)):
            btn.text = choice.label
            btn.state = "down" if draft.kecamatan_code == choice.code else "normal"
            btn.code = choice.code
        self.ids.location.text = draft.location_text

    def _show_date(self):
        """The chosen date in words, and the calendar's month (the flow says which days count)."""
        flow = self.flow
        date = flow.draft.incident_date
        self.date_text = long_date(date, self.app.lang) if date else ""
        self.month_text = month_year(flow.calendar_month, self.app.lang)
        self.can_earlier, self.can_later = flow.can_turn_calendar(-1), flow.can_turn_calendar(1)
        names = weekday_names(self.app.lang)
        for weekday, label in enumerate(refill(self.ids.weekdays, [None] * 7, lambda _k: Factory.WeekdayName())):
            label.text = names[weekday]  # Monday first, as the grid
        days = [day for week in flow.calendar_weeks() for day in week]
        for day, btn in zip(days, refill(self.ids.days, ["blank" if d is None else "day" for d in days], self._make_day)):
            if day is not None:
                btn.text, btn.disabled = str(day.date.day), not day.selectable
                btn.chosen = day.chosen
                btn.date = day.date

    def _make_kecamatan(self, _kind):
        btn = Factory.ChoiceButton(group="kecamatan")
        btn.bind(on_release=lambda b: self._kecamatan(b.code))
        return btn

    def _make_day(self, kind: str):
        if kind == "blank":
            return Widget(size_hint_y=None, height=dp(64))
        btn = Factory.CalendarDay()
        btn.bind(on_release=lambda b: self.choose_day(b.date))
        return btn

    def _kecamatan(self, code):
        self.flow.choose_kecamatan(code)
        self.error_text = ""

    def choose_day(self, day: dt.date):
        """A tap on a day of the calendar."""
        errors = self.flow.choose_day(day)
        self.date_error = errors[0].message.render(self.app.gettext) if errors else ""
        self._show_date()

    def turn_month(self, months: int):
        self.flow.turn_calendar(months)
        self._show_date()

    def set_today(self, offset_days: int = 0):
        self.flow.set_date(self.app.env.today() - dt.timedelta(days=offset_days))
        self.date_error = ""
        self._show_date()

    def text_changed(self, widget):
        if self.flow is None:
            return
        cleaned = self.flow.set_text("location_text", widget.text)
        if cleaned != widget.text:
            widget.text = cleaned

    def reset(self):
        super().reset()
        self.ids.location.text = ""
        self.date_error = ""


class PrivacyQuestion(BoxLayout):
    """A yes/no question with what "yes" means; neither answer is chosen until tapped.

    ``answer`` is "yes", "no" or "" (unanswered); ``on_choice`` carries the tapped one."""

    question = StringProperty("")
    consequence = StringProperty("")
    answer = StringProperty("")
    error = StringProperty("")
    __events__ = ("on_choice",)

    def on_choice(self, yes: bool):
        pass


class IdentityScreen(StepScreen):
    step = Step.IDENTITY
    inline_fields = PRIVACY_QUESTIONS + ("reporter_phone",)
    phone_error = StringProperty("")
    #: The flow offers "send me an SMS when it is answered" (a phone typed, not anonymous).
    sms_offered = BooleanProperty(False)

    def show_state(self):
        draft = self.flow.draft
        self.ids.name.text = draft.reporter_name
        self.ids.phone.text = draft.reporter_phone
        self._show_phone_error()
        self._show_privacy()
        self._show_sms()

    def _show_sms(self) -> None:
        """The SMS toggle as the flow has it: offered or not, on or off."""
        self.sms_offered = self.flow.sms_offered
        self.ids.sms.state = "down" if self.flow.draft.sms_consent else "normal"

    def choose_sms(self, agreed: bool) -> None:
        """A tap on the SMS toggle: the flow records it, the toggle shows what it kept."""
        if self.flow is not None:
            self.flow.set_sms_consent(agreed)
            self._show_sms()

    def _show_phone_error(self) -> None:
        message = self.flow.error_for("reporter_phone")
        self.phone_error = message.render(self.app.gettext) if message else ""

    def _show_privacy(self) -> None:
        draft = self.flow.draft
        for name in PRIVACY_QUESTIONS:
            answer = draft.privacy_answer(name)
            question = self.ids[name]
            question.answer = "" if answer is None else ("yes" if answer else "no")
            message = self.flow.error_for(name)
            question.error = message.render(self.app.gettext) if message else ""

    def answer(self, name: str, yes: bool) -> None:
        """A tap on Yes or No: the flow records the answer, the screen shows it."""
        if self.flow is not None:
            self.flow.set_flag(name, yes)
            self._show_privacy()
            self._show_sms()  # "anonymous" takes the SMS away, and gives its offer back

    def text_changed(self, field: str, widget):
        """Each edit goes to the flow, which checks a field with a message again: the
        phone's message goes as soon as the number is right."""
        if self.flow is None:
            return
        cleaned = self.flow.set_text(field, widget.text)
        if cleaned != widget.text:
            widget.text = cleaned
        self._show_phone_error()
        self._show_sms()  # a number typed offers the SMS; the number emptied takes it back

    def reset(self):
        super().reset()
        self.ids.name.text = self.ids.phone.text = ""
        self.phone_error = ""
        self.sms_offered = False
        self.ids.sms.state = "normal"
        for name in PRIVACY_QUESTIONS:
            self.ids[name].answer = self.ids[name].error = ""


class ReviewScreen(StepScreen):
    """Every answer, each with Change, and Send: a large button at the bottom of the page,
    far from where Next sat on the step before, that takes a tap only once the review
    has been in view for :data:`REVIEW_READ_S` (a double tap on Next cannot send). Beside
    Send, always in view, the two privacy answers the report goes with."""

    step = Step.REVIEW
    save_error = StringProperty("")
    send_ready = BooleanProperty(False)
    privacy_text = StringProperty("")
    _read_event = None

    def on_pre_enter(self, *args):
        super().on_pre_enter(*args)
        self.send_ready = False
        self._read_event = Clock.schedule_interval(self._check_read, 0.1)
        self.app.env.prepare_receipt()  # its layout's child, while the citizen reads

    def on_leave(self, *args):
        super().on_leave(*args)
        if self._read_event is not None:
            self._read_event.cancel()
        self.send_ready = False

    def _check_read(self, _dt=None) -> bool:
        self.send_ready = self.app.tap_guard.has_been_shown(REVIEW_READ_S)
        return not self.send_ready  # once ready, the check stops

    def show_state(self):
        from kiosk.core.review import privacy_lines, review_rows

        self.privacy_text = "\n".join(privacy_lines(self.flow.draft, self.app.gettext))
        rows = review_rows(self.flow.draft, self.app.env.store, self.app.lang)
        for row, item in zip(rows, refill(self.ids.rows, [None] * len(rows), self._make_row)):
            item.label, item.value = row.label, row.value
            item.step = row.step

    def _make_row(self, _kind):
        item = Factory.ReviewRow()
        item.bind(on_edit=lambda w: self._edit(w.step))
        return item

    def _edit(self, step: Step):
        self.flow.edit(step)
        self.app.show_step()

    def send(self):
        """ "Send": save durably, then the receipt. A storage fault keeps the draft."""
        from kiosk.core.store.db import CannotKeepReports, StoreError

        if not self.app.tap_guard.has_been_shown(REVIEW_READ_S):
            log.info("send ignored: the review was shown only %.1f s ago", self.app.tap_guard.shown_for())
            return
        try:
            saved = self.flow.submit(self.app.env.reports.submit)
        except CannotKeepReports:
            log.error("report not saved: no room to keep it; draft kept on screen")
            self.app.no_room = True  # Welcome offers no filing until there is room again
            self.save_error = self.tr("This kiosk's storage is full, so your report could not be saved and no receipt "
                                      "was printed. Your answers are still here: please ask the staff at the counter.")
            return
        except StoreError:
            log.error("report could not be saved (storage fault); draft kept on screen")
            self.save_error = self.tr("Your report could not be saved just now. Nothing is lost: please try again.")
            return
        if saved is None:
            self.app.show_step()
            return
        self.save_error = ""
        self.app.submitted(saved)

    def reset(self):
        super().reset()
        refill(self.ids.rows, [], None)
        self.save_error = self.privacy_text = ""


class ReviewRow(BoxLayout):
    label = StringProperty("")
    value = StringProperty("")
    __events__ = ("on_edit",)

    def on_edit(self):
        pass


STEP_SCREENS = (KindScreen, CategoryScreen, AgencyScreen, DescribeScreen, WhenWhereScreen, IdentityScreen,
                ReviewScreen)
