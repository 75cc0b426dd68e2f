"""The report service on a real SQLite file: what submit refuses, keeps and tells."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import text, update

from kiosk.core.domain import Draft, ReportKind
from kiosk.core.reports import MAX_ID_DRAWS, REQUIRED, IncompleteDraft, InvalidDraft, LocalReportStatus, ReportService
from kiosk.core.store.db import StoreError, open_store
from sync_queue import outbox
from sync_queue.outbox import OutboxEntry, OutboxState

WIB = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2026, 11, 23, 10, 30, tzinfo=WIB)


def draft(**changes) -> Draft:
    values = dict(
        kind=ReportKind.ASPIRASI, category_code="KESEHATAN", title="Antrean puskesmas",
        description="Antrean di puskesmas sangat panjang setiap pagi.", incident_date=dt.date(2026, 11, 20),
        kecamatan_code="LAHEI", location_text="Puskesmas Lahei", reporter_name="Budi", reporter_phone="0812",
    )
    values.update(changes)
    return Draft(**values)


@pytest.fixture
def service(store):
    return ReportService(store, kiosk_code="MT01", clock=lambda: NOW)


def rows(store, table: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


@pytest.mark.parametrize("field", REQUIRED)
def test_each_required_answer_is_named_when_missing(service, store, field):
    empty = "   " if isinstance(getattr(draft(), field), str) else None
    with pytest.raises(IncompleteDraft) as info:
        service.submit(draft(**{field: empty}))
    assert info.value.field == field
    assert rows(store, "reports") == rows(store, "outbox") == 0


def test_required_fields_are_the_products():
    assert set(REQUIRED) == {"kind", "category_code", "title", "description", "incident_date", "kecamatan_code"}


def test_optional_answers_may_stay_empty(service):
    saved = service.submit(draft(agency_code=None, location_text="", reporter_name="", reporter_phone="", anonymous=True))
    kept = service.load_draft(saved.tracking_id)
    assert (kept.reporter_name, kept.reporter_phone, kept.location_text, kept.agency_code) == ("", "", "", None)
    assert kept.anonymous is True


def test_anonymous_report_keeps_the_name_given_on_the_kiosk(service):
    """Anonymity is a promise about the agency; the kiosk keeps the name until delivery."""
    saved = service.submit(draft(anonymous=True))
    kept = service.load_draft(saved.tracking_id)
    assert (kept.reporter_name, kept.reporter_phone) == ("Budi", "0812")


def test_saved_report_carries_an_aware_utc_time_and_a_copy_of_the_draft(service):
    entered = draft()
    saved = service.submit(entered)
    entered.title = "changed afterwards"
    assert saved.draft.title == "Antrean puskesmas"
    assert saved.kiosk_code == "MT01"
    found = service.find(saved.tracking_id)
    assert found.created_at == NOW and found.created_at.utcoffset() == dt.timedelta(0)


def test_find_tells_status_but_no_content_or_identity(service):
    saved = service.submit(draft(confidential=True))
    found = service.find(saved.tracking_id)
    assert {f.name for f in dataclasses.fields(LocalReportStatus)} == {
        "tracking_id", "created_at", "outbox_state", "kind", "category_code", "confidential"}
    assert found == LocalReportStatus(saved.tracking_id, NOW, OutboxState.PENDING, ReportKind.ASPIRASI, "KESEHATAN", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.confidential = False  # type: ignore[misc]


def test_find_unknown_id_is_none(service):
    assert service.find("MT01ABCDEFGHJK") is None


def test_a_second_store_on_the_same_file_sees_a_submitted_report(tmp_path, service):
    """Committed means committed: another connection sees it while the first is still open."""
    saved = service.submit(draft())
    other = open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "secret.key")
    try:
        assert ReportService(other, kiosk_code="MT01", clock=lambda: NOW).find(saved.tracking_id) is not None
    finally:
        other.close()


def test_id_factory_that_only_repeats_gives_up_after_a_few_draws(service, store):
    first = service.submit(draft())
    draws = []

    def same_again(code: str) -> str:
        draws.append(code)
        return first.tracking_id

    service.id_factory = same_again
    with pytest.raises(StoreError, match="unused tracking id"):
        service.submit(draft())
    assert draws == ["MT01"] * MAX_ID_DRAWS
    assert rows(store, "reports") == rows(store, "outbox") == 1


def test_waiting_count_and_states_follow_the_outbox(service, store):
    one, two = service.submit(draft()), service.submit(draft())
    assert service.count_waiting() == 2
    with store.session() as session, session.begin():
        session.execute(update(OutboxEntry).where(OutboxEntry.tracking_id == one.tracking_id)
                        .values(state=OutboxState.SENT.value))
        session.execute(update(OutboxEntry).where(OutboxEntry.tracking_id == two.tracking_id)
                        .values(state=OutboxState.FAILED.value))
    assert service.count_waiting() == 1  # failed still waits for the technician; sent does not
    with store.session() as session:
        assert outbox.state_of(session, one.tracking_id) is OutboxState.SENT
        assert outbox.state_of(session, "MT01ABCDEFGHJK") is None
    assert service.find(two.tracking_id).outbox_state is OutboxState.FAILED


def test_new_outbox_entry_is_due_at_once(service, store):
    saved = service.submit(draft())
    with store.session() as session:
        entry = session.query(OutboxEntry).filter_by(tracking_id=saved.tracking_id).one()
        assert (entry.state, entry.attempts, entry.last_error) == ("pending", 0, None)
        assert entry.next_attempt_at == entry.created_at == entry.updated_at == NOW


def test_outbox_entry_needs_its_report(store):
    """The foreign key is enforced: an entry for a report that does not exist is refused."""
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with store.session() as session, session.begin():
            outbox.enqueue(session, "MT01ABCDEFGHJK", NOW)
    assert rows(store, "outbox") == 0


def test_delete_personal_data_keeps_the_report_and_its_entry(service, store):
    saved = service.submit(draft())
    service.delete_personal_data(saved.tracking_id)
    with store.engine.connect() as conn:
        name, phone = conn.execute(text("SELECT reporter_name, reporter_phone FROM reports")).one()
    assert (name, phone) == (None, None)
    assert service.find(saved.tracking_id).outbox_state is OutboxState.PENDING
    assert service.load_draft(saved.tracking_id).description.startswith("Antrean")


# -- what a report may hold: the service decides, not only the filing screen ------------------
def test_a_raw_draft_is_cleaned_as_the_filing_screen_cleans_it(service):
    """GIVEN a draft built without the flow, its text full of printer commands, bidi
    overrides, emoji and CRs WHEN it is submitted THEN what is kept, printed and sent is
    the text the filing screen would have kept."""
    from kiosk.core.flow import TEXT_FIELDS
    from kiosk.kernel.textclean import clean_input

    raw = {"title": "Jalan\x1b@ rusak\x1dV \U0001F621 parah\u202e", "description": "Baris satu\r\nbaris\x00 dua\x07",
           "location_text": "Jl.\tPramuka\x1bp0", "reporter_name": "Budi\u200b \u0627", "reporter_phone": "0812\x1d"}
    saved = service.submit(draft(**raw))
    kept = service.load_draft(saved.tracking_id)
    for field, text_ in raw.items():
        max_len, multiline = TEXT_FIELDS[field]
        expected = clean_input(text_, max_len=max_len, multiline=multiline).text
        assert getattr(kept, field) == getattr(saved.draft, field) == expected
        assert not any(c in expected for c in "\x1b\x1d\x00\x07\r\t\u202e\u200b\U0001F621")
    assert kept.description == "Baris satu\nbaris dua"


@pytest.mark.parametrize("field", ["title", "description", "location_text", "reporter_name", "reporter_phone"])
def test_text_over_its_limit_is_refused_not_kept(service, store, field):
    """The 100,000-character title that made a 1,233-line receipt: refused, nothing kept."""
    from kiosk.core.flow import TEXT_FIELDS

    max_len, _ = TEXT_FIELDS[field]
    at_limit = service.submit(draft(**{field: "a" * max_len}))  # the limit itself is fine
    assert len(getattr(service.load_draft(at_limit.tracking_id), field)) == max_len
    for too_long in ("a" * (max_len + 1), "Antrean panjang " * 6250):
        with pytest.raises(InvalidDraft) as info:
            service.submit(draft(**{field: too_long}))
        assert (info.value.field, info.value.problem) == (field, f"longer than {max_len} characters")
        assert "Antrean" not in str(info.value)  # the message never quotes the text
    assert rows(store, "reports") == rows(store, "outbox") == 1


def test_text_that_cleaning_empties_counts_as_missing(service, store):
    with pytest.raises(IncompleteDraft) as info:
        service.submit(draft(title="\x1b\x1d\u202e\U0001F621"))
    assert info.value.field == "title"
    assert rows(store, "reports") == 0


@pytest.mark.parametrize("changes,field", [
    ({"category_code": "NOT_A_CATEGORY"}, "category_code"),
    ({"category_code": "X" * 70}, "category_code"),
    ({"agency_code": "NOBODY"}, "agency_code"),
    ({"agency_code": ""}, "agency_code"),
    ({"kecamatan_code": "ATLANTIS"}, "kecamatan_code"),
    ({"kind": "gossip"}, "kind"),
    ({"incident_date": dt.date(2026, 11, 24)}, "incident_date"),  # tomorrow in WIB
    ({"incident_date": "2026-11-20"}, "incident_date"),
    ({"incident_date": dt.datetime(2026, 11, 20, 9, 0, tzinfo=WIB)}, "incident_date"),
    ({"language": "fr"}, "language"),
    ({"anonymous": "yes"}, "anonymous"),
    ({"title": 12345}, "title"),
])
def test_answers_a_report_may_not_hold_are_refused_by_name(service, store, changes, field):
    with pytest.raises(InvalidDraft) as info:
        service.submit(draft(**changes))
    assert info.value.field == field
    assert rows(store, "reports") == rows(store, "outbox") == 0


def test_valid_codes_today_and_unknown_agency_are_accepted(service):
    saved = service.submit(draft(kind="aspirasi", agency_code="DINKES", incident_date=NOW.date()))
    kept = service.load_draft(saved.tracking_id)
    assert (kept.kind, kept.agency_code, kept.incident_date) == (ReportKind.ASPIRASI, "DINKES", NOW.date())
    assert service.submit(draft(agency_code=None)).draft.agency_code is None  # "Tidak tahu"


def test_today_is_the_kiosks_local_day(store):
    """00:30 WIB on 24 November is still the 23rd in UTC: something that happened this
    (local) morning is not "in the future", and the day after still is."""
    utc_evening = dt.datetime(2026, 11, 23, 17, 30, tzinfo=dt.timezone.utc)
    service = ReportService(store, kiosk_code="MT01", clock=lambda: utc_evening)
    assert service.submit(draft(incident_date=dt.date(2026, 11, 24))).draft.incident_date == dt.date(2026, 11, 24)
    with pytest.raises(InvalidDraft, match="incident_date: in the future"):
        service.submit(draft(incident_date=dt.date(2026, 11, 25)))
