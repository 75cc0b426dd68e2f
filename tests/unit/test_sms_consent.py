"""Issue 16 on the kiosk: "send me an SMS when the report is answered", with no UI.

Offered on the identity step only with a phone typed and the report not anonymous; taken
back when either changes; kept with the report (schema 0008), on the review, on the
receipt, and on the wire only when agreed."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import text

from devices.escpos_sim import parse_escpos
from devices.printer.file import FilePrinter
from kiosk.core.domain import Draft, InvalidDraft, ReportKind
from kiosk.core.flow import FilingFlow, Step
from kiosk.core.receipt import SMS_WHEN_ANSWERED, ReceiptLayout, print_receipt
from kiosk.core.receipt_content import receipt_content
from kiosk.core.reports import ReportService
from kiosk.core.review import review_rows
from kiosk.core.store.db import SCHEMA_HEAD, head_revision
from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.tracking_id import format_tracking_id
from kiosk.kernel.wire import ReportIn

TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc)
PHONE = "0812 3456 7890"


def at_identity() -> FilingFlow:
    flow = FilingFlow(today=lambda: TODAY, language="id")
    flow.choose_kind(ReportKind.PENGADUAN)
    flow.choose_category("KEPENDUDUKAN")
    assert flow.next()
    flow.choose_agency("DISDUKCAPIL")
    assert flow.next()
    flow.set_text("title", "Antrean KTP sangat panjang")
    flow.set_text("description", "Saya menunggu lima jam untuk rekam KTP elektronik.")
    assert flow.next()
    flow.choose_kecamatan("TEWEH_TENGAH")
    assert flow.next() and flow.step is Step.IDENTITY
    return flow


def draft(**changes) -> Draft:
    values = dict(kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title="Antrean puskesmas",
                  description="Antrean di puskesmas sangat panjang setiap pagi.", incident_date=dt.date(2026, 11, 20),
                  kecamatan_code="LAHEI", reporter_name="Budi", reporter_phone=PHONE)
    values.update(changes)
    return Draft(**values)


@pytest.fixture
def service(store):
    return ReportService(store, kiosk_code="MT01", clock=lambda: NOW)


def body(service: ReportService, tracking_id: str) -> dict:
    """The report exactly as the sync worker sends it (``ReportBatch`` of ``body()``)."""
    return service.payload(tracking_id).body()


# -- the flow ----------------------------------------------------------------------------------
def test_offered_only_with_a_phone_and_never_for_an_anonymous_report():
    flow = at_identity()
    assert not flow.sms_offered and flow.set_sms_consent(True) is False  # no phone: nothing to agree to
    flow.set_text("reporter_phone", "   ")
    assert not flow.sms_offered
    flow.set_text("reporter_phone", PHONE)
    assert flow.sms_offered  # "hide my name" not answered yet: offered
    flow.set_flag("anonymous", True)
    assert not flow.sms_offered and flow.set_sms_consent(True) is False
    assert flow.draft.sms_consent is False
    flow.set_flag("anonymous", False)
    assert flow.sms_offered and flow.draft.sms_consent is False  # off until tapped
    assert flow.set_sms_consent(True) is True and flow.draft.sms_consent is True
    assert flow.set_sms_consent(False) is False and flow.draft.sms_consent is False


def test_choosing_anonymous_after_agreeing_takes_the_consent_back():
    """GIVEN a citizen who typed a phone and agreed to the SMS WHEN they then choose to hide
    their name THEN the consent is gone, and saying No again offers it, off: they agree again."""
    flow = at_identity()
    flow.set_text("reporter_phone", PHONE)
    assert flow.set_sms_consent(True)
    flow.set_flag("anonymous", True)
    assert flow.draft.sms_consent is False
    flow.set_flag("anonymous", False)
    assert flow.sms_offered and flow.draft.sms_consent is False


def test_emptying_the_phone_takes_the_consent_back():
    flow = at_identity()
    flow.set_text("reporter_phone", PHONE)
    assert flow.set_sms_consent(True)
    flow.set_text("reporter_phone", "")
    assert not flow.sms_offered and flow.draft.sms_consent is False
    flow.set_text("reporter_phone", PHONE)
    assert flow.sms_offered and flow.draft.sms_consent is False


def test_the_consent_survives_going_back_and_is_saved_and_sent(service):
    flow = at_identity()
    flow.set_text("reporter_phone", PHONE)
    flow.set_sms_consent(True)
    flow.set_flag("anonymous", False)
    flow.set_flag("confidential", False)
    assert flow.next() and flow.step is Step.REVIEW
    assert flow.back() and flow.step is Step.IDENTITY and flow.draft.sms_consent
    assert flow.next()
    saved = flow.submit(service.submit)
    assert saved is not None and saved.draft.sms_consent is True
    assert service.load_draft(saved.tracking_id).sms_consent is True
    sent = body(service, saved.tracking_id)
    assert sent["sms_consent"] is True and sent["reporter_phone"] == PHONE and sent["anonymous"] is False
    assert ReportIn.model_validate(sent).sms_consent is True  # what the central takes


def test_without_consent_the_wire_body_has_no_sms_field(service):
    """Not agreed (or never offered) is not sent at all: the body is the one a kiosk sent
    before issue 16, so a central that does not know the field still takes it."""
    for changes in ({}, {"reporter_phone": ""}, {"anonymous": True}):
        saved = service.submit(draft(**changes))
        assert service.load_draft(saved.tracking_id).sms_consent is False
        assert "sms_consent" not in body(service, saved.tracking_id)


# -- the service decides, whoever built the draft ----------------------------------------------
@pytest.mark.parametrize("changes", [{"anonymous": True}, {"reporter_phone": ""}, {"reporter_phone": " \t"},
                                     {"sms_consent": "ya"}, {"sms_consent": None}])
def test_the_service_refuses_a_consent_the_report_may_not_hold(service, store, changes):
    with pytest.raises(InvalidDraft) as refused:
        service.submit(draft(**{"sms_consent": True, **changes}))
    assert refused.value.field == "sms_consent"
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT (SELECT count(*) FROM reports) + (SELECT count(*) FROM outbox)")).scalar() == 0


def test_a_refused_consent_sends_the_citizen_back_to_the_identity_step(service):
    flow = at_identity()
    flow.set_text("reporter_phone", PHONE)
    flow.set_flag("anonymous", True)
    flow.set_flag("confidential", False)
    assert flow.next()
    flow.draft.sms_consent = True  # not through the flow: the service still refuses it
    assert flow.submit(service.submit) is None
    assert flow.step is Step.IDENTITY and service.count_waiting() == 0
    assert flow.error_for("sms_consent").render(gettext_for("id")) == "Mohon periksa kembali jawaban ini."


# -- the review and the receipt ----------------------------------------------------------------
def test_the_review_says_it_under_the_name_and_phone_only_when_it_was_offered(store):
    identity = {"id": "Identitas Anda", "en": "Your identity"}

    def row(lang: str, **changes) -> str:
        return {r.label: r.value for r in review_rows(draft(**changes), store, lang)}[identity[lang]]

    assert row("id", sms_consent=True) == f"Budi, {PHONE}\nSMS saat dijawab: ya"
    assert row("en", sms_consent=True) == f"Budi, {PHONE}\nSMS when answered: yes"
    assert row("id") == f"Budi, {PHONE}\nSMS saat dijawab: tidak"
    assert row("en") == f"Budi, {PHONE}\nSMS when answered: no"
    assert row("id", anonymous=True) == f"Budi, {PHONE}"  # never offered: nothing to say
    assert row("en", reporter_phone="") == "Budi"


def printed(tmp_path, content, width: int = 80) -> list[str]:
    layout = ReceiptLayout(paper_width_mm=width)
    printer = FilePrinter(tmp_path / f"receipts-{width}", paper_width_mm=width, encoding=layout.encoding)
    outcome = print_receipt(printer, content, layout=layout)
    assert outcome.ok, outcome.error
    return [line.text.strip() for line in parse_escpos(outcome.path.read_bytes()).lines]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_receipt_says_the_sms_will_come_in_one_line_only_when_agreed(service, store, config, tmp_path, lang):
    """GIVEN two saved reports with a phone, one agreed WHEN their receipts (and a reprint,
    after the central has the report and the phone is forgotten) are printed THEN the agreed
    one says in one line of 80 mm paper that an SMS will come; the other says nothing of it."""
    import types

    env = types.SimpleNamespace(store=store, config=config)
    line = gettext_for(lang)(SMS_WHEN_ANSWERED)
    agreed, not_agreed = service.submit(draft(sms_consent=True)), service.submit(draft())
    assert line in printed(tmp_path, receipt_content(agreed, env, lang))
    grouped = format_tracking_id(not_agreed.tracking_id)  # the random ID may hold S, M, S in a row
    assert not any("SMS" in text.replace(grouped, "") and "1708" not in text
                   for text in printed(tmp_path, receipt_content(not_agreed, env, lang)))
    service.delete_personal_data(agreed.tracking_id)
    copy = service.reprint(agreed.tracking_id, config=config, language=lang)
    assert copy.sms_when_answered and line in printed(tmp_path, copy)


# -- schema 0008 -------------------------------------------------------------------------------
def test_reports_kept_before_0008_go_without_consent_and_new_ones_carry_it(tmp_path):
    """GIVEN a kiosk at schema 0007 holding a queued report (with a phone) WHEN the new
    kiosk opens it THEN the report says no SMS and is sent as before (no field); a report
    filed now with consent carries it."""
    from tests.support.reports import migrated_from

    def queue_one(old) -> str:
        return ReportService(old, kiosk_code="MT01", clock=lambda: NOW).submit(draft()).tracking_id

    with migrated_from(tmp_path, "0007", queue_one) as (upgraded, queued):
        assert SCHEMA_HEAD == head_revision() == "0008"
        service = ReportService(upgraded, kiosk_code="MT01", clock=lambda: NOW)
        assert service.load_draft(queued).sms_consent is False
        assert "sms_consent" not in body(service, queued)
        agreed = service.submit(draft(sms_consent=True)).tracking_id
        assert body(service, agreed)["sms_consent"] is True
        with upgraded.engine.connect() as conn:
            assert dict(conn.execute(text("SELECT tracking_id, sms_consent FROM reports")).all()) == {
                queued: False, agreed: True}


def test_a_copy_of_the_draft_keeps_the_consent():
    agreed = draft(sms_consent=True)
    assert dataclasses.replace(agreed).sms_consent and agreed.sms_possible
    assert not draft(anonymous=True).sms_possible and not draft(reporter_phone="").sms_possible
