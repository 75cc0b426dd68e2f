"""The outbox's state machine on a real SQLite store: every transition, and whether it
applied, as the technician's ``kiosk queue`` and the heartbeat would see it."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from kiosk.core.reports import ReportService
from sync_queue.outbox import MAX_DELAY_S, Outbox, OutboxState, backoff_seconds
from tests.support.reports import file_reports

P, S, SENT, F = OutboxState.PENDING, OutboxState.SENDING, OutboxState.SENT, OutboxState.FAILED


@pytest.fixture
def outbox(store, clock) -> Outbox:
    """The outbox as the sync worker holds it: forgetting personal data once delivered."""
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    return Outbox(store.engine, now=clock.now, rng=lambda: 0.5, on_delivered=service.on_delivered)


def states(outbox: Outbox) -> dict[str, OutboxState]:
    return {e.tracking_id: e.state for e in outbox.entries(include_sent=True)}


def reporters(store) -> dict[str, tuple]:
    with store.engine.connect() as conn:
        return {t: (n, p) for t, n, p in conn.execute(text("SELECT tracking_id, reporter_name, reporter_phone FROM reports"))}


def test_a_filed_report_waits_pending_and_due_at_once(store, clock, outbox):
    [tid] = file_reports(store, clock, 1)
    [entry] = outbox.entries()
    assert (entry.tracking_id, entry.state, entry.attempts, entry.last_error) == (tid, P, 0, None)
    assert entry.next_attempt_at == entry.created_at == clock.now() == outbox.next_due()
    assert outbox.state_of(tid) is P and outbox.state_of("MT01ABCDEFGHJK") is None
    assert outbox.count_waiting() == 1
    assert f"{entry.state}" == "pending"  # as `kiosk queue` and the admin screen print it


def test_claim_takes_due_entries_once_oldest_first_up_to_the_limit(store, clock, outbox):
    ids = file_reports(store, clock, 3)
    assert outbox.claim(2) == ids[:2]
    assert states(outbox) == {ids[0]: S, ids[1]: S, ids[2]: P}
    assert outbox.claim(5) == ids[2:]
    assert outbox.claim(5) == []  # nothing pending: applies to nothing
    assert outbox.next_due() is None and outbox.count_waiting() == 3  # sending still waits


# 3600 s: a long Retry-After from a right clock, which claim()'s clock-step rule must keep.
@pytest.mark.parametrize("delay", [60, 3600])
def test_claim_leaves_entries_that_are_not_due_yet(store, clock, outbox, delay):
    ids = file_reports(store, clock, 1)
    outbox.claim(1)
    assert outbox.retry_later(ids, "central answered 503", delay_s=delay) == 1
    assert outbox.claim(1) == []
    clock.advance(delay - 1)
    assert outbox.claim(1) == []
    clock.advance(1)
    assert outbox.claim(1) == ids


def test_mark_sent_applies_only_to_sending_and_forgets_the_reporter_in_the_same_transaction(store, clock, outbox):
    claimed, waiting = file_reports(store, clock, 2)
    outbox.claim(1)
    assert outbox.mark_sent([claimed, waiting]) == 1  # the pending one was never sent
    assert states(outbox) == {claimed: SENT, waiting: P}
    assert reporters(store)[claimed] == (None, None)
    assert None not in reporters(store)[waiting]  # kept until the central has it
    assert outbox.mark_sent([claimed]) == 0  # sent already: applies to nothing
    assert outbox.mark_sent([]) == 0
    [sent] = [e for e in outbox.entries(include_sent=True) if e.tracking_id == claimed]
    assert (sent.attempts, sent.last_error) == (1, None)
    assert [e.tracking_id for e in outbox.entries()] == [waiting]  # sent ones only when asked
    assert outbox.count_waiting() == 1


def test_when_forgetting_the_reporter_fails_the_entry_stays_sending(store, clock):
    """GIVEN a delivery hook that fails (a full disk, say) WHEN the entry is marked sent
    THEN neither happens: the entry is still ``sending`` (a restart resends it, the
    central answers duplicate) and the name is still there to be forgotten then."""
    [tid] = file_reports(store, clock, 1)

    def disk_full(connection, tracking_ids):
        raise OSError("no space left")

    outbox = Outbox(store.engine, now=clock.now, on_delivered=disk_full)
    outbox.claim(1)
    with pytest.raises(OSError):
        outbox.mark_sent([tid])
    assert outbox.state_of(tid) is S and None not in reporters(store)[tid]


def test_retry_later_counts_an_attempt_and_waits_the_given_delay_or_the_backoff(store, clock, outbox):
    ids = file_reports(store, clock, 2)
    assert outbox.retry_later(ids, "not claimed") == 0  # pending, not sending: nothing applies
    outbox.claim(2)
    assert outbox.retry_later(ids[:1], "central answered 429", delay_s=120) == 1
    assert outbox.retry_later(ids[1:], "ConnectionError talking to the central") == 1
    first, second = outbox.entries()
    assert (first.state, first.attempts, first.last_error) == (P, 1, "central answered 429")
    assert first.next_attempt_at == clock.now() + dt.timedelta(seconds=120)
    assert second.next_attempt_at == clock.now() + dt.timedelta(seconds=backoff_seconds(1, lambda: 0.5))


def test_the_backoff_doubles_from_attempt_to_attempt_up_to_its_cap(store, clock, outbox):
    ids = file_reports(store, clock, 1)
    waits = []
    for _ in range(10):
        clock.advance((outbox.next_due() - clock.now()).total_seconds())
        assert outbox.claim(1) == ids
        assert outbox.retry_later(ids, "central answered 500") == 1
        waits.append((outbox.next_due() - clock.now()).total_seconds())
    assert waits[1] == 2 * waits[0] and waits[-1] == waits[-2] == MAX_DELAY_S / 2 + 0.5 * MAX_DELAY_S / 2
    assert outbox.entries()[0].attempts == 10


def test_a_long_error_is_kept_shortened(store, clock, outbox):
    ids = file_reports(store, clock, 1)
    outbox.claim(1)
    outbox.retry_later(ids, "x" * 2000)
    assert len(outbox.entries()[0].last_error) == 500


def test_mark_failed_keeps_the_reason_and_applies_only_to_sending(store, clock, outbox):
    bad, other = file_reports(store, clock, 2)
    outbox.claim(1)
    assert outbox.mark_failed({bad: "invalid: category_code: too long", other: "invalid: title"}) == 1
    assert states(outbox) == {bad: F, other: P}
    [failed, _] = outbox.entries()
    assert (failed.attempts, failed.last_error) == (1, "invalid: category_code: too long")
    assert None not in reporters(store)[bad]  # never delivered: nothing is forgotten
    assert outbox.mark_failed({bad: "again"}) == 0
    assert outbox.count_waiting() == 2  # a failed report still waits, for the technician
    assert outbox.claim(5) == [other]  # failed ones are not tried again by themselves


def test_retry_failed_counts_only_failed_and_makes_everything_waiting_due_now(store, clock, outbox):
    failed, later, sent = file_reports(store, clock, 3)
    outbox.claim(3)
    outbox.mark_failed({failed: "invalid: title"})
    outbox.retry_later([later], "central answered 503", delay_s=3600)
    outbox.mark_sent([sent])
    clock.advance(10)
    assert outbox.retry_failed() == 1
    assert states(outbox) == {failed: P, later: P, sent: SENT}
    assert outbox.next_due() == clock.now()
    assert sorted(outbox.claim(5)) == sorted([failed, later])
    assert outbox.retry_failed() == 0  # nothing failed: counts nothing


def test_recover_puts_what_a_crash_left_sending_back_to_pending(store, clock, outbox):
    ids = file_reports(store, clock, 3)
    outbox.claim(2)  # ... and the process dies before the answer is settled
    assert outbox.recover() == 2
    assert set(states(outbox).values()) == {P}
    assert outbox.recover() == 0
    assert outbox.claim(5) == ids  # all of them, in filing order


def test_the_heartbeat_figures_follow_the_entries(store, clock, outbox):
    assert outbox.figures().depth == 0 and outbox.figures().oldest_waiting_at is None
    first_filed = clock.now()
    first, second, third = file_reports(store, clock, 3)
    outbox.claim(3)
    clock.advance(30)
    outbox.mark_sent([first])
    outbox.mark_failed({second: "invalid: title"})
    figures = outbox.figures()
    assert (figures.depth, figures.failed) == (2, 1)
    assert figures.oldest_waiting_at == first_filed and figures.last_sent_at == clock.now()
    outbox.retry_later([third], "central answered 500")
    assert outbox.figures().depth == 2


def test_the_sent_ids_query_lists_what_the_central_confirmed(store, clock, outbox):
    ids = file_reports(store, clock, 3)
    outbox.claim(2)
    outbox.mark_sent(ids[:1])
    with store.engine.connect() as conn:
        assert conn.execute(Outbox.sent_ids()).scalars().all() == ids[:1]


def test_the_waiting_count_answers_while_the_worker_holds_the_write_lock(store, clock, outbox):
    """GIVEN the sync worker in the middle of a claim (a write transaction open on its own
    connection) WHEN Welcome asks how many reports wait, or a citizen what the kiosk holds of
    a report THEN each gets the last committed state at once: before, the UI thread's frame waited for
    the worker's whole transaction (a 100-250 ms stutter every 5 s of a drain), or for the
    busy timeout and an error."""
    import sqlite3

    first, *_ = file_reports(store, clock, 3)
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    worker = sqlite3.connect(store.path, timeout=0, isolation_level=None)
    try:
        worker.execute("BEGIN IMMEDIATE")
        worker.execute("UPDATE outbox SET state = 'sending'")  # not committed yet
        assert outbox.count_waiting() == 3  # the store's own engine, whose writes would wait up to 5 s
        assert service.find(first).outbox_state is P  # a citizen's status lookup, likewise
        with pytest.raises(sqlite3.OperationalError):  # a writer would wait: the lock is really held
            blocked = sqlite3.connect(store.path, timeout=0, isolation_level=None)
            try:
                blocked.execute("BEGIN IMMEDIATE")
            finally:
                blocked.close()
    finally:
        worker.execute("ROLLBACK")
        worker.close()


def test_the_workers_batch_read_takes_no_write_lock(store, clock):
    """GIVEN a citizen's report being saved (a write transaction open) WHEN the sync worker
    reads a batch to send (500 reports' text opened, ~100 ms) THEN it reads at once, and
    it holds no lock the citizen's next Send would wait for: a report is saved while the
    batch read is under way."""
    import sqlite3

    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    ids = file_reports(store, clock, 3)
    citizen = sqlite3.connect(store.path, timeout=0, isolation_level=None)
    try:
        citizen.execute("BEGIN IMMEDIATE")
        assert sorted(service.payloads(ids)) == sorted(ids)
    finally:
        citizen.execute("ROLLBACK")
        citizen.close()
    with store.reading_session() as batch:
        batch.execute(text("SELECT COUNT(*) FROM reports")).scalar()  # the read under way
        assert len(file_reports(store, clock, 1)) == 1  # saved without waiting
