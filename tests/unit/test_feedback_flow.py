"""The status screen's answer to an answer, with no UI: what is offered (within 10 working
days of the answer only), the objection and the rating kept in the outbox with a plain
confirmation, sealed, offline or not."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core.feedback import FeedbackService, window_open
from kiosk.core.status_flow import StatusLookup
from kiosk.core.status_lookup import StatusAnswer, StatusFacts
from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.wire import StatusEvent, StatusOut
from kiosk.kernel.workdays import NATIONAL
from sync_queue.outbox import Outbox

TID = "MT0114D2PF2DBX"
ID = gettext_for("id")
ANSWERED_ON = dt.datetime(2026, 3, 17, 3, 0, tzinfo=dt.timezone.utc)  # 10:00 WIB


def remote(status: str = "answered") -> StatusOut:
    events = [StatusEvent(status="received", at=ANSWERED_ON - dt.timedelta(days=5)),
              StatusEvent(status="answered", at=ANSWERED_ON, public_reply="Sudah diperbaiki.", agency_code="DINKES")]
    if status == "closed":
        events.append(StatusEvent(status="closed", at=ANSWERED_ON + dt.timedelta(days=20)))
    if status == "in_progress":
        events = events[:1]
    return StatusOut(tracking_id=TID, status=status, kind="pengaduan", category_code="KESEHATAN", confidential=False,
                     received_at=events[0].at, events=events)


def shown(clock, status: str = "answered") -> StatusLookup:
    lookup = StatusLookup(monotonic=clock.monotonic)
    ticket = lookup.check(TID)
    assert lookup.answered(ticket, StatusAnswer("found", "Laporan", facts=StatusFacts(TID, None, remote(status), True)))
    return lookup


def test_the_window_is_ten_working_days_after_the_answer():
    last = NATIONAL.add_working_days(dt.date(2026, 3, 17), 10)
    assert last > dt.date(2026, 3, 31)  # Nyepi and Idul Fitri's collective leave do not count
    assert window_open(dt.date(2026, 3, 17), last) and not window_open(dt.date(2026, 3, 17), last + dt.timedelta(days=1))


def test_an_answered_report_offers_the_objection_and_the_rating_and_keeps_them(clock, store):
    lookup = shown(clock)
    assert lookup.offer_feedback(dt.date(2026, 3, 18)) == "open"
    service = FeedbackService(store, clock=clock.now)
    assert lookup.begin_objection() and lookup.feedback_state == "objecting"
    assert lookup.send_objection(service, "Masih  mati\x00 lampunya " + "x" * 600)
    assert lookup.feedback_state == "objection_sent"
    assert lookup.feedback_message.render(ID).startswith("Keberatan Anda tercatat dan akan dikirim")
    assert not lookup.send_objection(service, "lagi")  # one objection per visit
    assert lookup.rate(service, 4) and lookup.feedback_message.render(ID).startswith("Terima kasih")
    assert lookup.rated == 4 and not lookup.begin_objection()  # rating after it reopens no second objection
    entries = Outbox(store.engine).entries()
    assert [(e.kind, e.state.value) for e in entries] == [("objection", "pending"), ("rating", "pending")]
    sent = service.payload(entries[0].tracking_id)
    assert sent.text.startswith("Masih mati lampunya") and len(sent.text) == 500 and sent.tracking_id == TID
    assert service.payload(entries[1].tracking_id).score == 4
    with pytest.raises(ValueError):
        service.rate(TID, 6)


def test_after_ten_working_days_the_screen_says_it_is_closed_and_where_to_go(clock, store):
    lookup = shown(clock)
    too_late = NATIONAL.add_working_days(dt.date(2026, 3, 17), 10) + dt.timedelta(days=1)
    assert lookup.offer_feedback(too_late) == "closed"
    assert "petugas di loket" in lookup.feedback_message.render(ID)
    service = FeedbackService(store, clock=clock.now)
    assert not lookup.begin_objection() and not lookup.send_objection(service, "x") and not lookup.rate(service, 3)
    assert Outbox(store.engine).entries() == []
    assert shown(clock, "closed").offer_feedback(dt.date(2026, 3, 18)) == "closed"


def test_nothing_is_offered_before_an_answer_or_for_a_new_number(clock):
    assert shown(clock, "in_progress").offer_feedback(dt.date(2026, 3, 18)) == ""
    lookup = shown(clock)
    lookup.offer_feedback(dt.date(2026, 3, 18))
    lookup.begin_objection()
    lookup.press("A")  # typing another number forgets the offer
    assert (lookup.feedback, lookup.feedback_state, lookup.feedback_message) == ("", "", None)


def test_offline_the_last_known_answer_offers_the_same(clock):
    """GIVEN the kiosk offline, its own report's last known status answered WHEN the answer
    is shown THEN the objection and the rating are offered (they wait in the outbox)."""
    lookup = StatusLookup(monotonic=clock.monotonic)
    ticket = lookup.check(TID)
    facts = StatusFacts(TID, object(), None, False, known=remote(), known_at=ANSWERED_ON)
    assert lookup.answered(ticket, StatusAnswer("local", "Laporan", facts=facts))
    assert lookup.offer_feedback(dt.date(2026, 3, 18)) == "open"
