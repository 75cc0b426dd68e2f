"""Wall-clock steps and the delivery lock, one module at a time: the outbox, the periodic
schedule, the clock watch, the heartbeat's contract and the lock (real SQLite, real files)."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from pydantic import ValidationError

from kiosk.kernel.wire import HeartbeatIn
from sync_queue.lock import TECHNICIAN_ROLE, DeliveryLock, LockNotHeld
from sync_queue.outbox import Outbox, OutboxState
from sync_queue.periodic import ClockWatch, Schedule
from tests.support.clock import FakeClock
from tests.support.reports import file_reports

DAY = 86400.0


def step_wall(clock: FakeClock, seconds: float) -> None:
    """Set the wall clock by hand (an RTC gone wrong, or its correction): the monotonic
    clock does not move."""
    clock.wall += dt.timedelta(seconds=seconds)


class _Counting:
    def __init__(self, name: str, interval_s: float):
        self.name, self.interval_s, self.online_only, self.runs = name, interval_s, False, 0

    def run(self) -> None:
        self.runs += 1


# -- the outbox -----------------------------------------------------------------------------
def test_reports_filed_while_the_clock_was_a_day_ahead_are_due_once_it_is_corrected(store, clock):
    """GIVEN a wall clock a day ahead while two reports are filed and tried (the central
    unreachable: backoff from the wrong time) and a third is filed WHEN the clock is set
    right THEN the next claim takes all three, with no `retry failed`."""
    outbox = Outbox(store.engine, now=clock.now, rng=lambda: 0.5)
    step_wall(clock, DAY)
    tried = file_reports(store, clock, 2)
    assert outbox.claim(5) == tried
    assert outbox.retry_later(tried, "central unreachable") == 2  # due at wrong time + 5 s
    untried = file_reports(store, clock, 1)  # due at the wrong time
    clock.advance(30)
    step_wall(clock, -DAY)
    clock.advance(30)
    assert outbox.claim(5) == tried + untried


# A long Retry-After from a right clock stays honoured: tests/unit/test_outbox.py, delay 3600.


def test_recover_with_the_lock_needs_it_held(store, clock, tmp_path):
    """An entry another live process is sending is never put back: with the data
    directory's lock, recover() runs only while holding it."""
    outbox = Outbox(store.engine, now=clock.now)
    ids = file_reports(store, clock, 2)
    assert outbox.claim(2) == ids  # another process is sending these
    other, mine = DeliveryLock(tmp_path / "delivery.lock"), DeliveryLock(tmp_path / "delivery.lock")
    assert other.try_acquire()
    assert not mine.try_acquire()
    with pytest.raises(LockNotHeld):
        outbox.recover(mine)
    assert {e.state for e in outbox.entries()} == {OutboxState.SENDING}
    other.release()  # that process ended (or died): its batch is a crash's leftover now
    assert mine.try_acquire(TECHNICIAN_ROLE)
    assert outbox.recover(mine) == 2
    mine.release()


# -- the periodic schedule and the clock watch ---------------------------------------------
def test_periodic_tasks_keep_their_period_through_wall_clock_steps(clock, caplog):
    """GIVEN a heartbeat every 60 s WHEN the wall clock jumps a day ahead and later back
    THEN it still runs every 60 s of real time; each step is logged once, and the last
    one is kept (how far, how long ago) for the heartbeat."""
    beat = _Counting("heartbeat", 60)
    schedule = Schedule(clock.now, [beat], monotonic=clock.monotonic)
    with caplog.at_level(logging.WARNING, logger="sync_queue.periodic"):
        assert schedule.run_if_due("heartbeat") is True
        clock.advance(30)
        step_wall(clock, DAY)
        assert schedule.run_if_due("heartbeat") is None  # 30 s of real time
        clock.advance(30)
        assert schedule.run_if_due("heartbeat") is True
        assert schedule.clock_watch.last_step() == (DAY, 30.0)
        clock.advance(30)
        step_wall(clock, -DAY)
        clock.advance(30)
        assert schedule.run_due(online=True) == 1  # not a day later
        assert schedule.run_due(online=True) == 0
        for _ in range(5):  # drift is not a step, and a step is told once
            clock.advance(60)
            step_wall(clock, 1.0)
            schedule.run_due(online=True)
    assert beat.runs == 8
    assert schedule.clock_watch.last_step() == (-DAY, 300.0)
    steps = [r.getMessage() for r in caplog.records if "wall clock was stepped" in r.getMessage()]
    assert len(steps) == 2 and "ahead by 86400 s" in steps[0] and "back by 86400 s" in steps[1]


def test_a_clock_watch_without_steps_has_nothing_to_tell(clock):
    watch = ClockWatch(clock.now, clock.monotonic)
    for _ in range(3):
        assert watch.check() is None
        clock.advance(100)
        step_wall(clock, 119)  # under the threshold
    assert watch.last_step() is None


# -- the heartbeat's contract --------------------------------------------------------------
HEALTHY = {"sent_at": "2026-11-23T03:30:00+00:00", "version": "0.1.0", "queue_depth": 0, "failed": 0,
           "oldest_waiting_age_s": None, "last_sync_age_s": 30.0, "printer_kind": "file", "printer": "ok",
           "paper": "ok", "camera": "not_configured", "disk_free_bytes": 1, "disk_total_bytes": 2}


def test_a_heartbeat_without_the_clock_step_still_validates_and_one_with_it_is_checked():
    assert HeartbeatIn.model_validate(HEALTHY).clock_step_s is None  # an older kiosk
    stepped = HeartbeatIn.model_validate({**HEALTHY, "clock_step_s": -DAY, "clock_step_age_s": 12.5})
    assert (stepped.clock_step_s, stepped.clock_step_age_s) == (-DAY, 12.5)
    for bad in ({"clock_step_s": -DAY}, {"clock_step_age_s": 3.0}, {"clock_step_s": 5.0, "clock_step_age_s": -1.0},
                {"clock_step_s": 1e12, "clock_step_age_s": 1.0}):
        with pytest.raises(ValidationError):
            HeartbeatIn.model_validate({**HEALTHY, **bad})


# -- the lock ------------------------------------------------------------------------------


def test_two_locks_on_one_file_exclude_each_other_until_released(tmp_path):
    first, second = DeliveryLock(tmp_path / "d" / "delivery.lock"), DeliveryLock(tmp_path / "d" / "delivery.lock")
    assert first.try_acquire() and first.held and first.try_acquire()  # again: still held, no error
    assert not second.try_acquire() and not second.held
    assert second.holder()[1] == "kiosk app"
    first.release()
    first.release()  # nothing held: nothing to do
    assert second.try_acquire(TECHNICIAN_ROLE) and second.holder()[1] == TECHNICIAN_ROLE
    second.release()
