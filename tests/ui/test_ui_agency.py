"""Issue 12: category and agency are two questions, one per screen, on the real Kivy window.

The agency step keeps its question and "I don't know" at the top, outside the scroll view;
below, the offices that usually handle the chosen category come first, each name spelled
out with its abbreviation after. The office is an answer the citizen gives: Next waits
for one, and "I don't know" sends the report with no agency (No Wrong Door).
"""
from __future__ import annotations

import re

import pytest
from kivy.core.window import Window

from kiosk.core import reference
from kiosk.core.flow import Step
from kiosk.core.tap_guard import REVIEW_READ_S
from kiosk.kernel.tracking_id import parse_tracking_id
from tests.support.kiosk_ui import (
    T, agency_buttons, answer_privacy, go_next, send, start_report, type_into,
)
from tests.support.text_fit import KIOSK_SIZES, assert_text_fits, picture, window_size

pytestmark = pytest.mark.ui

#: A category whose usual office has one of the longest names.
PERMITS = "PERIZINAN"
PERMIT_OFFICE = {"id": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu (DPMPTSP)",
                 "en": "Investment and One-Stop Integrated Services Office (DPMPTSP)"}


def to_agency(kiosk, lang, category: str = PERMITS):
    """Welcome -> the agency step with the first kind and ``category`` chosen."""
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    choose_category(kiosk, category)
    go_next(kiosk)
    assert kiosk.current == "agency"


def choose_category(kiosk, code: str):
    assert kiosk.current == "category"
    button = next(b for b in kiosk.screen.ids.categories.children if b.code == code)
    kiosk.scroll_into_view(button)
    kiosk.tap(button)


def window_rect(widget) -> tuple[float, float, float, float]:
    x0, y0 = widget.to_window(widget.x, widget.y)
    return x0, y0, x0 + widget.width, y0 + widget.height


def inside(inner, outer) -> bool:
    return inner[0] >= outer[0] - 1 and inner[1] >= outer[1] - 1 and inner[2] <= outer[2] + 1 and inner[3] <= outer[3] + 1


@pytest.mark.parametrize("lang", ["id", "en"])
def test_question_and_dont_know_stay_in_view_with_the_usual_office_first(kiosk, env, lang):
    """GIVEN "Permits" chosen WHEN the agency step shows, at 1280x800 and 1366x768 THEN
    the question and "I don't know" are on screen and stay where they are when the list is
    scrolled to its end; the first office after "I don't know" is the one that usually
    handles permits, under "Usually handles ...", its name spelled out and visible without
    scrolling; every office is named in words, not a bare abbreviation."""
    to_agency(kiosk, lang)
    screen = kiosk.screen
    ids = screen.ids
    assert T(kiosk, "Step {n} of {total}", n=3, total=6) in kiosk.all_text()
    buttons = agency_buttons(kiosk)
    assert buttons[0] is ids.unknown and ids.unknown.text == T(kiosk, "I don't know (the central office will route it)")
    first = buttons[1]
    assert (first.code, first.text) == ("DPMPTSP", PERMIT_OFFICE[lang])
    permits = next(c.label for c in reference.categories(env.store, lang) if c.code == PERMITS)
    assert ids.usual_label.text == T(kiosk, 'Usually handles "{category}"', category=permits)
    assert ids.other_label.text == T(kiosk, "Other offices")
    assert {b.text for b in buttons[1:]} == {a.label for a in reference.agencies(env.store, lang)}
    for button in buttons[1:]:  # words, the abbreviation only in brackets after them
        words = re.sub(r"\([^)]*\)", " ", button.text).split()
        assert len(words) >= 2 and not any(w.isupper() and len(w) > 1 for w in words), button.text
    assert not any(b.state == "down" for b in buttons), "nothing is chosen before the citizen taps"
    in_scroll = set(ids.scroll.walk())
    assert ids.heading not in in_scroll and ids.unknown not in in_scroll

    for size in KIOSK_SIZES:
        with window_size(kiosk, size):
            window = (0, 0, Window.width, Window.height)
            fixed = [ids.heading, ids.unknown]
            for widget in fixed:
                assert inside(window_rect(widget), window), f"{widget.text!r} is not fully on screen at {size}"
            assert window_rect(ids.unknown)[3] <= window_rect(ids.heading)[1] + 1  # the question above the answer
            assert_text_fits(ids.heading)
            assert_text_fits(ids.unknown)
            assert_text_fits(first)
            assert inside(window_rect(first), window_rect(ids.scroll)), f"the usual office is scrolled away at {size}"
            picture(kiosk, f"03-agency-{size[0]}x{size[1]}")
            before = [window_rect(w) for w in fixed]
            ids.scroll.scroll_y = 0  # the list at its end: the last office in view
            kiosk.frames(3)
            assert inside(window_rect(buttons[-1]), window_rect(ids.scroll))
            assert [window_rect(w) for w in fixed] == before, f"the question or 'I don't know' moved at {size}"
            picture(kiosk, f"03-agency-scrolled-{size[0]}x{size[1]}")
            ids.scroll.scroll_y = 1
            kiosk.frames(2)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_next_without_an_office_asks_for_one_and_dont_know_sends_no_agency(kiosk, env, lang):
    """GIVEN the agency step, nothing chosen WHEN Next THEN the step stays and says, in the
    citizen's language, to choose an office or "I don't know"; WHEN "I don't know" THEN
    the message goes, the review says so under "Office", and the saved report carries no
    agency."""
    to_agency(kiosk, lang)
    go_next(kiosk)
    assert kiosk.current == "agency"
    message = T(kiosk, "Please choose an office, or \"I don't know\" if you are not sure.")
    assert kiosk.screen.ids.error.text == message and message in kiosk.all_text()
    assert window_rect(kiosk.screen.ids.error)[1] >= 0  # shown above the list, never scrolled away
    kiosk.screenshot("03-agency-must-answer")

    kiosk.tap(kiosk.screen.ids.unknown)
    assert kiosk.screen.ids.unknown.state == "down" and message not in kiosk.all_text()
    kiosk.screenshot("03-agency-dont-know")
    go_next(kiosk)
    assert kiosk.current == "describe"
    type_into(kiosk, kiosk.screen.ids.title, "izin usaha lama")
    type_into(kiosk, kiosk.screen.ids.description, "izin usaha saya belum selesai tiga bulan")
    go_next(kiosk)
    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    go_next(kiosk)
    answer_privacy(kiosk, anonymous=False, confidential=False)
    go_next(kiosk)
    assert kiosk.current == "review"
    rows = {row.label: row.value for row in kiosk.screen.ids.rows.children}
    assert rows[T(kiosk, "Office")] == T(kiosk, "I don't know (the central office will route it)")
    send(kiosk)
    assert kiosk.current == "receipt"
    tracking_id = parse_tracking_id(kiosk.screen.tracking_text)
    assert env.reports.count_waiting() == 1
    kept = env.reports.load_draft(tracking_id)
    assert kept.agency_code is None and kept.category_code == PERMITS


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_office_chosen_survives_going_back_a_new_category_and_the_review(kiosk, env, lang):
    """GIVEN an office from the other offices chosen WHEN the citizen goes on, comes back,
    goes back to the category and picks another THEN the office is still shown chosen;
    the review's "Change" on the office line opens the agency step, and Next returns to
    the review with the new answer."""
    to_agency(kiosk, lang)
    ids = kiosk.screen.ids
    other = ids.agencies.children[0]  # the last office of the list
    kiosk.scroll_into_view(other)
    kiosk.tap(other)
    code = other.code
    go_next(kiosk)
    assert kiosk.current == "describe"
    kiosk.tap(kiosk.bar("back"))
    assert kiosk.current == "agency"
    assert [b.code for b in agency_buttons(kiosk)[1:] if b.state == "down"] == [code]
    kiosk.tap(kiosk.bar("back"))
    choose_category(kiosk, "KESEHATAN")
    go_next(kiosk)
    assert kiosk.current == "agency"
    buttons = agency_buttons(kiosk)
    assert [b.code for b in buttons[1:3]] == ["DINKES", "RSUD"]  # the usual ones for health now
    assert [b.code for b in buttons if b.state == "down"] == [code]
    assert kiosk.app.flow.draft.agency_code == code
    other_lang = "en" if lang == "id" else "id"
    kiosk.tap(kiosk.bar("language").ids[f"lang_{other_lang}"])  # the language switched here too
    assert kiosk.app.lang == other_lang and kiosk.current == "agency"
    chosen = [b for b in agency_buttons(kiosk) if b.state == "down"]
    assert [b.code for b in chosen] == [code]
    assert chosen[0].text == next(a.label for a in reference.agencies(env.store, other_lang) if a.code == code)
    kiosk.tap(kiosk.bar("language").ids[f"lang_{lang}"])
    assert kiosk.app.lang == lang

    go_next(kiosk)
    type_into(kiosk, kiosk.screen.ids.title, "antrean puskesmas")
    type_into(kiosk, kiosk.screen.ids.description, "antrean di puskesmas sangat panjang")
    go_next(kiosk)
    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    go_next(kiosk)
    answer_privacy(kiosk, anonymous=True, confidential=False)
    go_next(kiosk)
    assert kiosk.current == "review"
    office = next(row for row in kiosk.screen.ids.rows.children if row.step is Step.AGENCY)
    assert office.value == next(a.label for a in reference.agencies(env.store, lang) if a.code == code)
    kiosk.screenshot("07-review-office")
    change = next(w for w in office.children if getattr(w, "text", None) == T(kiosk, "Change"))
    kiosk.tap(change)
    assert kiosk.current == "agency"
    kiosk.tap(agency_buttons(kiosk)[1])  # Dinas Kesehatan
    go_next(kiosk)
    assert kiosk.current == "review"
    assert kiosk.app.flow.draft.agency_code == "DINKES"
    kiosk.advance_clock(REVIEW_READ_S)
    office = next(row for row in kiosk.screen.ids.rows.children if row.step is Step.AGENCY)
    assert office.value == next(a.label for a in reference.agencies(env.store, lang) if a.code == "DINKES")
