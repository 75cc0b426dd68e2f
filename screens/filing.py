"""The filing screens: one question per screen, a thin view over :class:`FilingFlow`."""
from __future__ import annotations

import datetime as dt
import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.core import reference
from kiosk.core.domain import DESCRIPTION_MAX, PRIVACY_QUESTIONS, ReportKind
from kiosk.core.flow import Step
from kiosk.core.tap_guard import REVIEW_READ_S
from kiosk.core.labels import KIND_EXPLANATIONS, KIND_LABELS
from kiosk.kernel.i18n import long_date
from screens.common import tr

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
        box = self.ids.choices
        box.clear_widgets()
        for kind in ReportKind:
            btn = Factory.KindChoice(state="down" if self.flow.draft.kind is kind else "normal")
            btn.title = self.tr(KIND_LABELS[kind])
            btn.explanation = self.tr(KIND_EXPLANATIONS[kind])
            btn.kind = kind
            btn.bind(on_release=self._chosen)
            box.add_widget(btn)

    def _chosen(self, btn):
        self.flow.choose_kind(btn.kind)
        self.app.show_step()


class CategoryScreen(StepScreen):
    step = Step.CATEGORY

    def show_state(self):
        store, lang, draft = self.app.env.store, self.app.lang, self.flow.draft
        grid = self.ids.categories
        grid.clear_widgets()
        for choice in reference.categories(store, lang):
            btn = Factory.ChoiceButton(text=choice.label, group="category")
            btn.state = "down" if draft.category_code == choice.code else "normal"
            btn.code = choice.code
            btn.bind(on_release=lambda b: self._category(b.code))
            grid.add_widget(btn)

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
            grid.clear_widgets()
            for choice in group:
                btn = Factory.AgencyChoice(text=choice.label)
                btn.state = "down" if draft.agency_answered and draft.agency_code == choice.code else "normal"
                btn.code = choice.code
                btn.bind(on_release=lambda b: self.choose(b.code))
                grid.add_widget(btn)

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
        self.ids.usual.clear_widgets()
        self.ids.agencies.clear_widgets()
        self.usual_text = self.other_text = ""


class DescribeScreen(StepScreen):
    step = Step.DESCRIBE
    counter = StringProperty("")
    title_notice = StringProperty("")
    description_notice = StringProperty("")

    def show_state(self):
        draft = self.flow.draft
        self.ids.title.text = draft.title
        self.ids.description.text = draft.description
        self._update_counter()
        self.title_notice = self._notice("title")
        self.description_notice = self._notice("description")

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
        grid = self.ids.kecamatan
        grid.clear_widgets()
        for choice in reference.kecamatan_choices(self.app.env.store, self.app.lang):
            btn = Factory.ChoiceButton(text=choice.label, group="kecamatan")
            btn.state = "down" if draft.kecamatan_code == choice.code else "normal"
            btn.code = choice.code
            btn.bind(on_release=lambda b: self._kecamatan(b.code))
            grid.add_widget(btn)
        self.ids.location.text = draft.location_text

    def _show_date(self):
        """The chosen date in words, and the calendar's month (the flow says which days count)."""
        from babel.dates import format_date, get_day_names

        flow, locale = self.flow, ("id" if self.app.lang == "id" else "en")
        date = flow.draft.incident_date
        self.date_text = long_date(date, self.app.lang) if date else ""
        self.month_text = format_date(flow.calendar_month, "LLLL y", locale=locale)
        self.can_earlier, self.can_later = flow.can_turn_calendar(-1), flow.can_turn_calendar(1)
        names = get_day_names("abbreviated", locale=locale)
        header = self.ids.weekdays
        header.clear_widgets()
        for weekday in range(7):  # Monday first, as the grid
            header.add_widget(Factory.WeekdayName(text=names[weekday], color=(0.33, 0.36, 0.42, 1)))
        days = self.ids.days
        days.clear_widgets()
        for week in flow.calendar_weeks():
            for day in week:
                if day is None:
                    days.add_widget(Widget(size_hint_y=None, height=dp(64)))
                    continue
                btn = Factory.CalendarDay(text=str(day.date.day), disabled=not day.selectable)
                btn.chosen = day.chosen
                btn.date = day.date
                btn.bind(on_release=lambda b: self.choose_day(b.date))
                days.add_widget(btn)

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

    def show_state(self):
        draft = self.flow.draft
        self.ids.name.text = draft.reporter_name
        self.ids.phone.text = draft.reporter_phone
        self._show_phone_error()
        self._show_privacy()

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

    def text_changed(self, field: str, widget):
        """Each edit goes to the flow, which checks a field with a message again: the
        phone's message goes as soon as the number is right."""
        if self.flow is None:
            return
        cleaned = self.flow.set_text(field, widget.text)
        if cleaned != widget.text:
            widget.text = cleaned
        self._show_phone_error()

    def reset(self):
        super().reset()
        self.ids.name.text = self.ids.phone.text = ""
        self.phone_error = ""
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
        box = self.ids.rows
        box.clear_widgets()
        for row in review_rows(self.flow.draft, self.app.env.store, self.app.lang):
            item = Factory.ReviewRow(label=row.label, value=row.value)
            item.step = row.step
            item.bind(on_edit=lambda w: self._edit(w.step))
            box.add_widget(item)

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
        self.ids.rows.clear_widgets()
        self.save_error = self.privacy_text = ""


class ReviewRow(BoxLayout):
    label = StringProperty("")
    value = StringProperty("")
    __events__ = ("on_edit",)

    def on_edit(self):
        pass


STEP_SCREENS = (KindScreen, CategoryScreen, AgencyScreen, DescribeScreen, WhenWhereScreen, IdentityScreen,
                ReviewScreen)
