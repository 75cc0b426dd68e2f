"""The citizen's filing path, tested with no UI at all."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kiosk.core.domain import Draft, ReportKind, SavedReport
from kiosk.core.flow import FilingFlow, Step
from kiosk.core.idle import IdleMonitor, IdleState

TODAY = dt.date(2026, 11, 23)


def make_flow() -> FilingFlow:
    return FilingFlow(today=lambda: TODAY, language="id")


def fill_to_review(flow: FilingFlow) -> None:
    to_identity(flow)
    flow.set_flag("anonymous", False)  # name and phone are optional; the two questions are not
    flow.set_flag("confidential", False)
    assert flow.next()  # identity is optional
    assert flow.step is Step.REVIEW


def test_questions_in_order_with_progress():
    flow = make_flow()
    assert (flow.step, flow.question_number, flow.question_count) == (Step.KIND, 1, 6)
    flow.choose_kind(ReportKind.ASPIRASI)  # a choice-only step moves on by itself
    assert (flow.step, flow.question_number) == (Step.CATEGORY, 2)
    flow.choose_category("KESEHATAN")
    assert flow.next() and (flow.step, flow.question_number) == (Step.AGENCY, 3)
    flow.choose_agency("DINKES")
    assert flow.next() and (flow.step, flow.question_number) == (Step.DESCRIBE, 4)


def test_cannot_leave_a_step_with_missing_answers():
    flow = make_flow()
    flow.choose_kind(ReportKind.PENGADUAN)
    assert not flow.next()
    assert flow.error_for("category_code") is not None
    flow.choose_category("KESEHATAN")
    assert flow.error_for("category_code") is None
    assert flow.next()
    flow.choose_agency(None)
    assert flow.next()
    assert not flow.next()
    assert {e.field for e in flow.errors} == {"title", "description"}


def test_back_keeps_everything_typed():
    flow = make_flow()
    fill_to_review(flow)
    while flow.back():
        pass
    assert flow.step is Step.KIND
    assert flow.draft.title == "Antrean KTP sangat panjang"
    assert flow.draft.category_code == "KEPENDUDUKAN"
    assert flow.draft.agency_code == "DISDUKCAPIL"
    assert flow.draft.kind is ReportKind.PENGADUAN


def test_edit_from_review_returns_to_review():
    flow = make_flow()
    fill_to_review(flow)
    flow.edit(Step.DESCRIBE)
    assert flow.step is Step.DESCRIBE
    flow.set_text("title", "Antrean KTP lima jam")
    assert flow.next()
    assert flow.step is Step.REVIEW
    assert flow.draft.title == "Antrean KTP lima jam"


def test_future_date_is_refused_and_old_date_kept():
    flow = make_flow()
    assert flow.draft.incident_date == TODAY  # default today
    errors = flow.set_date(TODAY + dt.timedelta(days=1))
    assert errors and errors[0].message.msgid == "The date cannot be in the future."
    assert flow.draft.incident_date == TODAY
    assert flow.shift_date(months=-1) == []
    assert flow.draft.incident_date == dt.date(2026, 10, 23)
    flow.set_date(dt.date(2026, 3, 31))
    flow.shift_date(months=-1)
    assert flow.draft.incident_date == dt.date(2026, 2, 28)  # no 31 February


def test_phone_number_must_look_like_one():
    flow = make_flow()
    fill_to_review(flow)
    flow.edit(Step.IDENTITY)
    flow.set_text("reporter_phone", "call me maybe")
    assert not flow.next()
    assert flow.error_for("reporter_phone").msgid.startswith("A phone number")
    flow.set_text("reporter_phone", "0812 3456 7890")
    assert flow.next()


def test_pasted_giant_text_is_cut_with_a_notice():
    flow = make_flow()
    text = flow.set_text("description", "a" * 100_000)
    assert len(text) == 4000
    assert [m.msgid for m in flow.notices["description"]] == ["The text was shortened to {n} characters."]


@pytest.mark.parametrize(
    "raw,expected_notice",
    [
        ("Jalan rusak \U0001F621\U0001F621", "Some characters (such as emoji or other scripts) cannot be used here and were left out."),
        ("\u202eJalan rusak parah", "Invisible control characters were removed."),
        ("Jalan\x1b@ rusak\x1dV parah", "Invisible control characters were removed."),
        ("\u0627\u0644\u0637\u0631\u064a\u0642 Jalan rusak", "Some characters (such as emoji or other scripts) cannot be used here and were left out."),
    ],
)
def test_bad_characters_are_removed_with_a_notice(raw, expected_notice):
    flow = make_flow()
    text = flow.set_text("title", raw)
    assert "Jalan" in text and "rusak" in text
    assert "\x1b" not in text and "\u202e" not in text and "\U0001F621" not in text
    assert expected_notice in [m.msgid for m in flow.notices["title"]]


def test_submit_saves_once_and_finishes():
    flow = make_flow()
    fill_to_review(flow)
    saved_drafts: list[Draft] = []

    def save(draft: Draft) -> SavedReport:
        saved_drafts.append(draft)
        return SavedReport("MT0114D2PF2DBX", dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc), draft, "MT01")

    result = flow.submit(save)
    assert result is not None and flow.step is Step.DONE
    assert len(saved_drafts) == 1 and saved_drafts[0].title == "Antrean KTP sangat panjang"


def test_submit_with_missing_answer_goes_to_that_question():
    flow = make_flow()
    fill_to_review(flow)
    flow.draft.title = ""  # e.g. cleared through a bug elsewhere
    assert flow.submit(lambda d: pytest.fail("must not save")) is None
    assert flow.step is Step.DESCRIBE


def test_idle_monitor_warns_then_expires():
    now = [0.0]
    monitor = IdleMonitor(lambda: now[0], idle_after=60, warn_for=30)
    assert monitor.poll() is IdleState.ACTIVE  # not armed on Welcome
    monitor.arm()
    now[0] = 59.9
    assert monitor.poll() is IdleState.ACTIVE
    now[0] = 60
    assert monitor.poll() is IdleState.WARNING and monitor.seconds_left() == 30
    monitor.touch()
    assert monitor.poll() is IdleState.ACTIVE
    now[0] = 60 + 90
    assert monitor.poll() is IdleState.EXPIRED and monitor.seconds_left() == 0


def test_idle_warning_gives_at_least_twenty_seconds():
    with pytest.raises(ValueError):
        IdleMonitor(lambda: 0.0, idle_after=60, warn_for=10)


def test_a_report_the_service_refuses_goes_back_to_its_question(store):
    """GIVEN a citizen at the review with a category the kiosk's reference data no longer
    holds (the central replaced it while they filed) WHEN they send THEN nothing is saved,
    the flow is back at the category question with a sentence in their language, and a
    category chosen again lets the report go (no apology screen to loop through)."""
    from kiosk.core.reports import ReportService
    from kiosk.kernel.i18n import gettext_for

    service = ReportService(store, kiosk_code="MT01", clock=lambda: dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc))
    flow = make_flow()
    fill_to_review(flow)
    flow.draft.category_code = "DIHAPUS"  # what a reference refresh takes away mid-filing
    assert flow.submit(service.submit) is None
    assert flow.step is Step.CATEGORY and service.count_waiting() == 0
    assert flow.error_for("category_code").render(gettext_for("id")) == "Mohon periksa kembali jawaban ini."
    flow.choose_category("KEPENDUDUKAN")
    assert flow.draft.agency_code == "DISDUKCAPIL" and flow.draft.agency_answered  # the office stays chosen
    while flow.step is not Step.REVIEW:
        assert flow.next()
    assert flow.submit(service.submit) is not None and service.count_waiting() == 1


def to_identity(flow: FilingFlow) -> None:
    flow.choose_kind(ReportKind.PENGADUAN)
    flow.choose_category("KEPENDUDUKAN")
    assert flow.next()
    flow.choose_agency("DISDUKCAPIL")
    assert flow.next()
    flow.set_text("title", "Antrean KTP sangat panjang")
    flow.set_text("description", "Saya menunggu lima jam untuk rekam KTP elektronik.")
    assert flow.next()
    flow.choose_kecamatan("TEWEH_TENGAH")
    assert flow.next()
    assert flow.step is Step.IDENTITY


def test_privacy_questions_are_asked_not_defaulted():
    """GIVEN the identity step, nothing answered WHEN Next THEN the flow stays, with a
    message for each of the two questions; answering one leaves the other's message;
    answering both lets the citizen on, and the draft carries exactly the answers."""
    flow = make_flow()
    to_identity(flow)
    assert flow.draft.privacy_answer("anonymous") is None and flow.draft.privacy_answer("confidential") is None
    assert not flow.next() and not flow.next()  # a double or triple tap on Next goes nowhere
    assert flow.step is Step.IDENTITY
    assert {e.field for e in flow.errors} == {"anonymous", "confidential"}
    assert flow.error_for("anonymous").msgid == "Please answer Yes or No: hide your name from the office?"
    flow.set_flag("confidential", True)
    assert flow.error_for("confidential") is None and flow.error_for("anonymous") is not None
    assert not flow.next()
    assert {e.field for e in flow.errors} == {"anonymous"}
    flow.set_flag("anonymous", False)
    assert flow.next() and flow.step is Step.REVIEW
    assert (flow.draft.anonymous, flow.draft.confidential) == (False, True)
    assert (flow.draft.privacy_answer("anonymous"), flow.draft.privacy_answer("confidential")) == (False, True)


def test_a_no_is_an_answer_and_answers_survive_going_back():
    flow = make_flow()
    to_identity(flow)
    flow.set_flag("anonymous", False)
    flow.set_flag("confidential", False)
    assert flow.next()
    flow.back()
    flow.back()
    assert flow.step is Step.WHEN_WHERE
    assert flow.next() and flow.next() and flow.step is Step.REVIEW  # no need to answer twice


def test_submit_refuses_unanswered_privacy_questions_and_shows_them():
    """A draft that reached the review without the answers (a bug elsewhere) is not
    saved: the citizen is sent to the identity step with the questions to answer."""
    flow = make_flow()
    fill_to_review(flow)
    flow.draft.privacy_answered = frozenset({"anonymous"})
    assert flow.submit(lambda d: pytest.fail("must not save")) is None
    assert flow.step is Step.IDENTITY and {e.field for e in flow.errors} == {"confidential"}


def test_the_service_gets_booleans_and_refuses_anything_else(store):
    """What reaches the service is the citizen's answers as true/false; a flag that is
    not (None, a word) is refused by the service itself."""
    from kiosk.core.domain import InvalidDraft
    from kiosk.core.reports import ReportService

    service = ReportService(store, kiosk_code="MT01", clock=lambda: dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc))
    flow = make_flow()
    to_identity(flow)
    flow.set_flag("anonymous", True)
    flow.set_flag("confidential", True)
    assert flow.next()
    answered = flow.draft
    saved = flow.submit(service.submit)
    kept = service.load_draft(saved.tracking_id)
    assert kept.anonymous is True and kept.confidential is True
    for bad in (None, "tidak"):
        with pytest.raises(InvalidDraft):
            service.submit(dataclasses.replace(answered, anonymous=bad))
    assert service.count_waiting() == 1


def test_review_lists_both_answers_in_words(store):
    from kiosk.core.review import review_rows

    flow = make_flow()
    fill_to_review(flow)
    flow.draft.confidential = True
    rows = {row.label: row.value for row in review_rows(flow.draft, store, "id")}
    assert rows["Privasi"] == ("Anonim: tidak — Nama Anda dikirim ke instansi\n"
                               "Rahasia: ya — Isi laporan tidak ditampilkan di internet")
    flow.draft.privacy_answered = frozenset()
    rows = {row.label: row.value for row in review_rows(flow.draft, store, "en")}
    assert rows["Privacy"] == ("Hide your name from the office? (not given)\n"
                               "Keep the report's content private? (not given)")


# -- issue 12: one question per screen; the office is an answer, "I don't know" included --
def to_agency(flow: FilingFlow) -> None:
    flow.choose_kind(ReportKind.PENGADUAN)
    flow.choose_category("PERIZINAN")
    assert flow.next() and flow.step is Step.AGENCY


def test_the_agency_is_asked_not_defaulted():
    """GIVEN the agency step, nothing chosen WHEN Next (two or three times) THEN the flow
    stays with a message in the citizen's language; "I don't know" is an answer that lets
    them on with no agency."""
    from kiosk.kernel.i18n import gettext_for

    flow = make_flow()
    to_agency(flow)
    assert not flow.draft.agency_answered and flow.draft.agency_code is None
    assert not flow.next() and not flow.next() and flow.step is Step.AGENCY
    message = flow.error_for("agency_code")
    assert message.render(gettext_for("id")) == 'Pilih salah satu instansi, atau "Tidak tahu" jika Anda tidak yakin.'
    assert message.render(gettext_for("en")) == 'Please choose an office, or "I don\'t know" if you are not sure.'
    flow.choose_agency(None)  # "Tidak tahu"
    assert flow.error_for("agency_code") is None
    assert flow.next() and flow.step is Step.DESCRIBE
    assert flow.draft.agency_code is None and flow.draft.agency_answered


def test_the_agency_survives_going_back_and_a_new_category():
    flow = make_flow()
    to_agency(flow)
    flow.choose_agency("DPMPTSP")
    assert flow.next()
    assert flow.back() and flow.step is Step.AGENCY and flow.draft.agency_code == "DPMPTSP"
    assert flow.back() and flow.step is Step.CATEGORY
    flow.choose_category("KETERTIBAN")  # a change of mind about the category ...
    assert flow.next() and flow.step is Step.AGENCY
    assert flow.draft.agency_code == "DPMPTSP"  # ... keeps the office, shown chosen
    assert flow.next() and flow.step is Step.DESCRIBE  # no need to answer again


def test_the_review_edits_the_agency_on_its_own_step():
    from kiosk.core.flow import FIELD_STEPS

    flow = make_flow()
    fill_to_review(flow)
    flow.edit(Step.AGENCY)
    assert flow.step is Step.AGENCY and flow.question_number == 3
    flow.choose_agency(None)
    assert flow.next() and flow.step is Step.REVIEW and flow.draft.agency_code is None
    flow.edit(Step.CATEGORY)
    flow.choose_category("KESEHATAN")
    assert flow.next() and flow.step is Step.REVIEW  # straight back; the office answer kept
    assert flow.draft.agency_answered
    assert FIELD_STEPS["agency_code"] == (Step.AGENCY, "agency_code")


def test_a_review_reached_without_an_agency_answer_is_not_sent():
    flow = make_flow()
    fill_to_review(flow)
    flow.draft.agency_answered = False  # a bug elsewhere
    assert flow.submit(lambda d: pytest.fail("must not save")) is None
    assert flow.step is Step.AGENCY and flow.error_for("agency_code") is not None


def test_an_agency_the_service_refuses_goes_back_to_the_agency_step(store):
    """An agency code the reference data no longer holds (replaced mid-filing): back to
    the agency question with a sentence, not the category question."""
    from kiosk.core.reports import ReportService

    service = ReportService(store, kiosk_code="MT01", clock=lambda: dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc))
    flow = make_flow()
    fill_to_review(flow)
    flow.draft.agency_code = "DIHAPUS"
    assert flow.submit(service.submit) is None
    assert flow.step is Step.AGENCY and flow.error_for("agency_code") is not None and service.count_waiting() == 0
    flow.choose_agency(None)
    while flow.step is not Step.REVIEW:
        assert flow.next()
    assert flow.submit(service.submit) is not None and service.count_waiting() == 1
    assert service.load_draft(flow.saved.tracking_id).agency_code is None
