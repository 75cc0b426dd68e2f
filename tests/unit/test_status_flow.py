"""The status check (keypad, slow-down, answer, slip) and the one reprint, with no UI."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core.domain import Draft, ReportKind
from kiosk.core.status_flow import MAX_SYMBOLS, StatusLookup
from kiosk.core.status_lookup import StatusAnswer, look_up
from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id

EN = gettext_for("en")


def _submit(env) -> str:
    return env.reports.submit(Draft(
        kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title="Lampu jalan padam",
        description="Lampu jalan di depan pasar padam sejak minggu lalu.", incident_date=env.today(),
        kecamatan_code="LAHEI", reporter_name="Siti Aminah", language="id")).tracking_id


def _mistyped(tracking_id: str) -> str:
    """One random-part symbol changed: the check symbol no longer matches."""
    replacement = "7" if tracking_id[6] != "7" else "8"
    return tracking_id[:6] + replacement + tracking_id[7:]


def _type(lookup: StatusLookup, number: str) -> None:
    lookup.clear()
    for symbol in number:
        lookup.press(symbol)


def test_keypad_takes_at_most_sixteen_symbols_and_deletes_one_by_one(clock):
    lookup = StatusLookup(monotonic=clock.monotonic)
    for _ in range(MAX_SYMBOLS + 3):
        lookup.press("A")
    assert lookup.typed == "A" * MAX_SYMBOLS
    lookup.backspace()
    assert lookup.typed == "A" * (MAX_SYMBOLS - 1)
    lookup.clear()
    assert lookup.typed == "" and lookup.result(EN) == ""


@pytest.mark.parametrize("typed, says", [
    ("", "Type the number printed on your receipt."),
    ("MT01", "A report number has 14 letters and numbers, for example MT01-14D2P-F2DBX."),
])
def test_a_number_that_is_no_tracking_id_is_refused_with_the_reason(clock, typed, says):
    lookup = StatusLookup(monotonic=clock.monotonic)
    _type(lookup, typed)
    assert lookup.check() is None
    assert lookup.kind == "invalid"
    assert lookup.result(EN) == says


def test_a_mistyped_number_is_caught_by_its_check_symbol(clock):
    lookup = StatusLookup(monotonic=clock.monotonic)
    _type(lookup, _mistyped(new_tracking_id("MT01")))
    assert lookup.check() is None
    assert lookup.result(EN) == ("This number is not right: a letter or number is probably mistyped. "
                                 "Please check it against your receipt.")
    assert lookup.result(gettext_for("id")) != lookup.result(EN)  # a msgid, shown in the citizen's language


def test_repeated_wrong_numbers_slow_down_and_doubling_stops_at_a_minute(clock):
    """GIVEN a kiosk clock the test moves WHEN wrong numbers follow one another THEN from the
    third on the next check waits 2 s, then 4, 8 ... never more than 60 s; a right number
    after the wait is looked up."""
    lookup = StatusLookup(monotonic=clock.monotonic)
    wrong = _mistyped(new_tracking_id("MT01"))
    for _ in range(2):
        _type(lookup, wrong)
        lookup.check()
    assert lookup.seconds_to_wait() == 0
    waits = []
    for _ in range(7):
        _type(lookup, wrong)
        assert lookup.check() is None  # the third, fourth ... wrong number
        waits.append(lookup.seconds_to_wait())
        _type(lookup, new_tracking_id("MT01"))
        assert lookup.check() is None  # even a right number waits
        assert lookup.result(EN) == f"Please wait {waits[-1]} seconds before trying again."
        clock.advance(waits[-1])
    assert waits == [2, 4, 8, 16, 32, 60, 60]
    right = new_tracking_id("MT01")
    _type(lookup, right)
    assert lookup.check().tracking_id == right and lookup.kind == "checking"
    assert lookup.result(EN) == "Checking..."


def test_unknown_answers_count_as_wrong_and_a_found_one_forgives(clock):
    lookup = StatusLookup(monotonic=clock.monotonic)
    for _ in range(3):
        ticket = lookup.check(new_tracking_id("MT01"))
        lookup.answered(ticket, StatusAnswer("unknown", "No report with this number was found."))
    assert lookup.kind == "unknown" and lookup.seconds_to_wait() == 2
    clock.advance(2)
    ticket = lookup.check(new_tracking_id("MT01"))
    lookup.answered(ticket, StatusAnswer("local", "Report saved here.", ("It is waiting.",), own=True))
    assert lookup.kind == "found"
    ticket = lookup.check(new_tracking_id("MT01"))
    lookup.answered(ticket, StatusAnswer("unknown", "No report with this number was found."))
    assert lookup.seconds_to_wait() == 0  # the count started over after the found report


def test_an_answer_for_a_cleared_number_is_dropped_and_the_session_end_unslows(clock):
    lookup = StatusLookup(monotonic=clock.monotonic)
    ticket = lookup.check(new_tracking_id("MT01"))
    lookup.clear()
    assert not lookup.answered(ticket, StatusAnswer("found", "Report X", ("Verified",)))
    assert lookup.kind == "" and lookup.result(EN) == ""
    for _ in range(4):
        lookup.check("MT01")
    assert lookup.seconds_to_wait() > 0
    lookup.reset()
    assert lookup.seconds_to_wait() == 0 and lookup.typed == ""


def test_a_lookup_that_could_not_run_says_so_without_counting_a_wrong_number(clock):
    lookup = StatusLookup(monotonic=clock.monotonic)
    for _ in range(3):
        assert lookup.failed(lookup.check(new_tracking_id("MT01")))
    assert lookup.kind == "offline_unknown"
    assert lookup.result(EN) == "The status cannot be checked right now. Please try again later."
    assert lookup.seconds_to_wait() == 0


def test_own_report_found_locally_can_be_reprinted_and_its_slip_lists_the_status(env, clock):
    """GIVEN a report saved on this kiosk (no central) WHEN its number is checked THEN the
    answer is this kiosk's, the receipt can be reprinted as a COPY in the screen's
    language, and "print this status" gets the status lines, never the report's text."""
    tracking_id = _submit(env)
    lookup = StatusLookup(monotonic=clock.monotonic)
    ticket = lookup.check(format_tracking_id(tracking_id).lower())
    assert lookup.answered(ticket, look_up(ticket.tracking_id, env=env, language="en"))
    assert lookup.kind == "found" and lookup.own_report
    shown = lookup.result(EN)
    assert format_tracking_id(tracking_id) in shown.splitlines()[0]

    slip = lookup.status_slip(institution="Kab. Barito Utara", kiosk_location="MPP", now=clock.now(), language="en")
    assert slip.tracking_id == tracking_id and slip.created_at == clock.now()
    assert slip.status_lines == ("It is waiting to be sent to the central office; this happens by itself "
                                 "when the network is available.",)
    assert "Lampu" not in " ".join(slip.status_lines)

    copy = env.reports.reprint(lookup.tracking_id, config=env.config, language="en")
    assert copy.copy and copy.language == "en" and copy.tracking_id == tracking_id
    assert copy.created_at == clock.now() and copy.title == "Lampu jalan padam"
    assert env.reports.reprint(tracking_id, config=env.config).language == "id"  # the citizen's, by default
    assert env.reports.reprint(new_tracking_id("MT01"), config=env.config) is None


def test_slip_lines_come_from_the_answer_not_from_the_shown_text(clock):
    """A central answer's timeline, a reply on its own line: the slip gets those lines as
    they are, the heading stays off it, blank lines are skipped."""
    answer = StatusAnswer("found", "Report MT01-ABCDE-FGHJK", (
        "1 Desember 2026: Answered by Health Office", "    \u201cLoket ditambah.\u201d", " ",
        "Next: the report is closed 10 working days after the answer if there is no objection."), own=False)
    lookup = StatusLookup(monotonic=clock.monotonic)
    lookup.answered(lookup.check(new_tracking_id("MT01")), answer)
    assert not lookup.own_report  # another kiosk's report: no reprint here
    assert lookup.result(EN) == answer.text == "\n".join((answer.heading, *answer.lines))
    assert lookup.slip_lines() == (answer.lines[0], answer.lines[1], answer.lines[3])
    assert lookup.status_slip(institution="", kiosk_location="", now=dt.datetime.now(dt.timezone.utc),
                              language="en") is not None


def test_nothing_found_gives_no_slip_and_print_outcomes_for_another_number_are_dropped(clock):
    lookup = StatusLookup(monotonic=clock.monotonic)
    lookup.answered(lookup.check(new_tracking_id("MT01")), StatusAnswer("unknown", "No report."))
    assert lookup.status_slip(institution="", kiosk_location="", now=clock.now(), language="id") is None
    lookup.answered(lookup.check(new_tracking_id("MT01")), StatusAnswer("local", "Saved.", ("Waiting.",), own=True))
    first = lookup.printing()
    assert lookup.print_state == "printing"
    assert lookup.printed(first, True) and lookup.print_state == "printed"
    lookup.clear()
    assert not lookup.printed(first, False) and lookup.print_state == ""


def test_a_language_switch_tells_the_answer_again_without_a_new_lookup(env, clock):
    """GIVEN this kiosk's report found in Indonesian WHEN the citizen switches to English
    THEN the same facts are told in English (the slip too); the number, the kind and the
    print state stay; an answer about another number is not taken."""
    from kiosk.core.status_lookup import describe

    tracking_id = _submit(env)
    lookup = StatusLookup(monotonic=clock.monotonic)
    ticket = lookup.check(tracking_id)
    assert lookup.answered(ticket, look_up(tracking_id, env=env, language="id"))
    lookup.printing()
    before = lookup.result(EN)
    assert "tersimpan di anjungan ini" in before

    assert lookup.retell(describe(lookup.answer.facts, env=env, language="en"))
    assert lookup.result(EN) != before and "was saved on this kiosk" in lookup.result(EN)
    assert lookup.typed == tracking_id and lookup.kind == "found" and lookup.print_state == "printing"
    assert lookup.slip_lines() == ("It is waiting to be sent to the central office; this happens by itself "
                                   "when the network is available.",)

    elsewhere = look_up(new_tracking_id("MT01"), env=env, language="id")
    assert not lookup.retell(elsewhere) and "was saved on this kiosk" in lookup.result(EN)
    lookup.clear()
    assert not lookup.retell(describe(elsewhere.facts, env=env, language="en")) and lookup.answer is None
