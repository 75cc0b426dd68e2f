"""Double and triple taps on every button that changes the screen, on the real Kivy window.

Older citizens tap twice, or three times, to be sure. Each tap here is a real touch
through Kivy's input queue, 0.15 s after the one before on the kiosk's clock (a quick
double tap); the first tap of a burst comes once the screen has settled, as a citizen's
would. The kiosk must act on the first only: nothing is chosen or sent that the citizen
did not see.
"""
from __future__ import annotations

import pytest
from kivy.core.window import Window

from kiosk.core.tap_guard import REVIEW_READ_S
from tests.support.kiosk_ui import (
    T,
    agency_buttons,
    answer_privacy,
    fill_category,
    go_next,
    start_report,
    type_into,
    wait_overlay,
)
from tests.support.text_fit import assert_fits_at_kiosk_sizes, picture, window_size

pytestmark = pytest.mark.ui

#: Seconds between the taps of a quick double or triple tap.
BETWEEN_TAPS_S = 0.15


def burst(kiosk, widget, taps: int) -> tuple[float, float]:
    """``taps`` quick taps on the spot where ``widget`` is at the first; returns the spot."""
    kiosk.settle()
    x, y = widget.to_window(*widget.center)
    for tap in range(taps):
        if tap:
            kiosk.advance_clock(BETWEEN_TAPS_S)
        kiosk.tap_at(x, y)
    return x, y


def lands_on(kiosk, spot, widgets) -> bool:
    """Whether a touch at ``spot`` would land on one of ``widgets`` of the current screen."""
    return any(w.collide_point(*w.to_widget(*spot)) for w in widgets)


def to_describe(kiosk, lang):
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    assert kiosk.current == "describe"


def to_when_where(kiosk, lang):
    to_describe(kiosk, lang)
    type_into(kiosk, kiosk.screen.ids.title, "lampu jalan mati")
    type_into(kiosk, kiosk.screen.ids.description, "lampu di depan pasar mati")
    go_next(kiosk)
    assert kiosk.current == "when_where"


def to_identity(kiosk, lang):
    to_when_where(kiosk, lang)
    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    go_next(kiosk)
    assert kiosk.current == "identity"


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("taps", [2, 3])
def test_taps_on_create_a_report_choose_no_kind(kiosk, lang, taps):
    """GIVEN Welcome WHEN "Create a report" is tapped two or three times quickly THEN the
    kind question is shown with no kind chosen (seen: the second tap chose the kind under
    the finger and skipped step 1); a tap after the screen settled still chooses."""
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    burst(kiosk, kiosk.screen.ids.start, taps)
    assert kiosk.current == "kind"
    assert kiosk.app.flow.draft.kind is None
    assert all(c.state == "normal" for c in kiosk.screen.ids.choices.children)
    assert T(kiosk, "Step {n} of {total}", n=1, total=6) in kiosk.all_text()

    kiosk.tap(kiosk.screen.ids.choices.children[-1])  # the citizen, having seen the screen
    assert kiosk.current == "category" and kiosk.app.flow.draft.kind is not None


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_tap_that_lands_on_a_kind_right_after_the_screen_appears_is_ignored(kiosk, lang):
    """The finding itself, whatever Welcome's layout: a second finger on a kind 0.15 s
    after "Create a report" chooses nothing."""
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    kiosk.tap(kiosk.screen.ids.start)
    assert kiosk.current == "kind"
    kiosk.advance_clock(BETWEEN_TAPS_S)
    kind = kiosk.screen.ids.choices.children[-1]
    kiosk.tap_at(*kind.to_window(*kind.center))
    assert kiosk.current == "kind" and kiosk.app.flow.draft.kind is None


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("taps", [2, 3])
def test_taps_on_check_status_type_nothing(kiosk, lang, taps):
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    burst(kiosk, kiosk.screen.ids.status, taps)
    assert kiosk.current == "status"
    assert kiosk.screen.typed == "" and kiosk.screen.result_kind == ""
    burst(kiosk, kiosk.screen.ids.back, taps)  # Back, twice or three times: Welcome, nothing started
    assert kiosk.current == "welcome" and kiosk.app.flow is None


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("taps", [2, 3])
def test_taps_on_next_at_the_category_choose_no_office(kiosk, lang, taps):
    """GIVEN a category chosen WHEN its Next is tapped two or three times quickly THEN the
    agency step shows with no office chosen and no message (the extra taps neither
    pressed its Next nor chose anything); its Next, tapped the same way once an office is
    chosen, moves one step; its Back, one step back, the office kept."""
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    kiosk.tap(kiosk.screen.ids.categories.children[-1])
    burst(kiosk, kiosk.bar("next"), taps)
    assert kiosk.current == "agency"
    assert not kiosk.app.flow.draft.agency_answered and not kiosk.app.flow.errors
    assert kiosk.screen.error_text == ""
    assert all(b.state == "normal" for b in agency_buttons(kiosk))

    burst(kiosk, kiosk.screen.ids.unknown, taps)  # "I don't know", tapped as firmly
    assert kiosk.current == "agency" and kiosk.screen.ids.unknown.state == "down"
    burst(kiosk, kiosk.bar("next"), taps)
    assert kiosk.current == "describe" and kiosk.screen.error_text == "" and not kiosk.app.flow.errors
    kiosk.tap(kiosk.bar("back"))
    burst(kiosk, kiosk.bar("back"), taps)
    assert kiosk.current == "category"
    assert kiosk.app.flow.draft.agency_answered and kiosk.app.flow.draft.agency_code is None


@pytest.mark.parametrize("lang", ["id", "en"])
def test_taps_on_each_next_move_one_step(kiosk, env, lang):
    """GIVEN each question answered WHEN its Next is tapped three times quickly THEN the
    next question shows, untouched: no message (the extra taps did not press its Next),
    and at the identity step neither question answered and nothing sent (seen: a triple
    tap on Next at step 4 sent the report with Anonymous and Confidential both "no")."""
    to_describe(kiosk, lang)
    type_into(kiosk, kiosk.screen.ids.title, "lampu jalan mati")
    type_into(kiosk, kiosk.screen.ids.description, "lampu di depan pasar mati")
    burst(kiosk, kiosk.bar("next"), 3)
    assert kiosk.current == "when_where" and kiosk.screen.error_text == ""

    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    burst(kiosk, kiosk.bar("next"), 3)
    assert kiosk.current == "identity"
    assert kiosk.screen.error_text == "" and not kiosk.app.flow.errors
    for name in ("anonymous", "confidential"):
        assert kiosk.app.flow.draft.privacy_answer(name) is None
        assert kiosk.screen.ids[name].answer == ""
    shown = kiosk.all_text()
    assert T(kiosk, "Hide your name from the office?") in shown
    assert T(kiosk, "Keep the report's content private?") in shown
    assert env.reports.count_waiting() == 0
    kiosk.screenshot("06-identity-unanswered")

    burst(kiosk, kiosk.bar("next"), 3)  # the questions still unanswered
    assert kiosk.current == "identity" and env.reports.count_waiting() == 0
    assert kiosk.screen.ids.anonymous.error == T(kiosk, "Please answer Yes or No: hide your name from the office?")
    assert kiosk.screen.ids.confidential.error == T(kiosk, "Please answer Yes or No: keep the report's content private?")
    kiosk.screenshot("06-identity-must-answer")

    answer_privacy(kiosk, anonymous=True, confidential=True)
    assert kiosk.screen.ids.anonymous.error == kiosk.screen.ids.confidential.error == ""
    spot = burst(kiosk, kiosk.bar("next"), 3)
    assert kiosk.current == "review" and env.reports.count_waiting() == 0
    assert not lands_on(kiosk, spot, [kiosk.screen.ids.send]), "Send must not sit where Next was"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_taps_on_back_go_back_one_step(kiosk, lang):
    to_when_where(kiosk, lang)
    burst(kiosk, kiosk.bar("back"), 2)
    assert kiosk.current == "describe"
    burst(kiosk, kiosk.bar("back"), 3)
    assert kiosk.current == "agency"
    assert kiosk.app.flow.draft.title  # nothing typed was lost on the way
    burst(kiosk, kiosk.bar("back"), 2)
    assert kiosk.current == "category" and kiosk.app.flow.draft.agency_answered


@pytest.mark.parametrize("lang,anonymous,confidential", [("id", True, False), ("en", False, True)])
def test_send_only_after_the_review_was_seen_and_with_the_answers_given(kiosk, env, lang, anonymous, confidential):
    """GIVEN both questions answered and the review just shown WHEN Send is tapped twice
    within REVIEW_READ_S of arriving THEN nothing is sent; once the review has been in
    view that long, a double tap on Send sends one report, carrying exactly the answers
    given, and the receipt stays up (the second tap did not end the session)."""
    to_identity(kiosk, lang)
    answer_privacy(kiosk, anonymous=anonymous, confidential=confidential)
    go_next(kiosk)
    assert kiosk.current == "review"
    shown = kiosk.all_text()
    for line in (T(kiosk, "Anonymous: yes") if anonymous else T(kiosk, "Anonymous: no"),
                 T(kiosk, "Confidential: yes") if confidential else T(kiosk, "Confidential: no")):
        assert line in kiosk.screen.privacy_text and line in shown
    send = kiosk.screen.ids.send
    assert send.disabled
    kiosk.screenshot("07-review-just-arrived")
    burst(kiosk, send, 2)
    assert kiosk.current == "review" and env.reports.count_waiting() == 0

    kiosk.advance_clock(REVIEW_READ_S)
    kiosk.wait_until(lambda: not send.disabled, what="Send to take taps")
    kiosk.screenshot("07-review-ready")
    burst(kiosk, send, 2)
    assert kiosk.current == "receipt"
    assert env.reports.count_waiting() == 1
    tracking_id = kiosk.app.flow.saved.tracking_id
    kept = env.reports.load_draft(tracking_id)
    assert (kept.anonymous, kept.confidential) == (anonymous, confidential)

    done = kiosk.screen.ids.done
    kiosk.wait_until(lambda: done.get_root_window() is not None and not done.disabled, what="the receipt's Done")
    burst(kiosk, done, 3)
    assert kiosk.current == "welcome" and kiosk.app.flow is None
    assert env.reports.count_waiting() == 1


def test_the_tap_that_closes_the_idle_warning_acts_on_nothing_below(kiosk, clock, env):
    """GIVEN the idle warning over a question WHEN the citizen taps it where Next sits
    below THEN the warning closes and the question stays as it was (the tap did not
    also press Next and show messages for what is not typed yet)."""
    to_describe(kiosk, "id")
    clock.advance(env.config.idle_timeout_s + 0.5)
    wait_overlay(kiosk, True)
    below = kiosk.bar("next")
    kiosk.tap_at(*below.to_window(*below.center))
    wait_overlay(kiosk, False)
    assert kiosk.current == "describe"
    assert kiosk.screen.error_text == "" and not kiosk.app.flow.errors


def rect(widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


@pytest.mark.parametrize("lang", ["id", "en"])
def test_send_sits_far_from_next_at_kiosk_sizes(kiosk, lang):
    """At 1280x800 and 1366x768 the review's Send shares no point with the identity
    step's Next (where a repeated tap would land), and the answers beside Send are
    shown whole."""
    from screens.filing import StepBar

    to_identity(kiosk, lang)
    answer_privacy(kiosk, anonymous=False, confidential=False)
    identity = kiosk.screen
    next_button = next(w for w in identity.walk() if isinstance(w, StepBar)).ids.next
    go_next(kiosk)
    send = kiosk.screen.ids.send
    for size in ((1280, 800), (1366, 768)):
        with window_size(kiosk, size):
            identity.size = Window.size  # not showing, so laid out at this size by hand
            kiosk.frames(3)
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = rect(next_button), rect(send)
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (
                f"Send {rect(send)} overlaps Next {rect(next_button)} at {size}")
            picture(kiosk, f"07-review-{size[0]}x{size[1]}")
    assert_fits_at_kiosk_sizes(kiosk, kiosk.screen.ids.privacy, "07-review-privacy")
