"""A citizen's call for staff ("Minta bantuan petugas") without a UI: its states, what
the citizen may be told, the heartbeat it asks for, and how the fleet view flags it."""
from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from central.fleet import Thresholds, flags_for
from kiosk.core.help_call import HelpCall, Notice
from kiosk.kernel.wire import HeartbeatIn
from sync_queue.periodic import Schedule
from tests.support.clock import FakeClock


def make_call(clock: FakeClock, *, central: bool = True) -> tuple[HelpCall, list[str]]:
    asked: list[str] = []
    return HelpCall(clock.monotonic, central=central, on_change=lambda: asked.append("heartbeat")), asked


def test_a_call_lasts_until_staff_end_it_and_keeps_its_time_when_asked_again():
    clock = FakeClock()
    call, asked = make_call(clock)
    assert (call.active, call.notice, call.age_s(), call.seen().age_s) == (False, None, None, None)

    assert call.call() is True
    assert asked == ["heartbeat"]  # a heartbeat at once
    assert call.active and call.notice is Notice.SENDING and call.age_s() == 0.0
    clock.advance(130.4)
    assert call.call() is False  # the second tap keeps the call and its time
    assert call.age_s() == 130.4 and asked == ["heartbeat"]  # no second heartbeat: it is on its way

    assert call.end("staff arrived") is True
    assert (call.active, call.notice, call.age_s()) == (False, None, None)
    assert asked == ["heartbeat", "heartbeat"]  # the central hears of the end at once too
    assert call.end("session ended") is False and len(asked) == 2


def test_the_citizen_is_told_staff_were_called_only_once_the_central_took_it():
    clock = FakeClock()
    call, asked = make_call(clock)
    call.call()
    seen = call.seen()
    call.not_delivered(seen)
    assert call.notice is Notice.NOT_SENT  # offline: "please ask at the counter"

    assert call.call() is False and call.notice is Notice.SENDING and len(asked) == 2  # tapped again: sent again
    clock.advance(20)
    again = call.seen()
    call.delivered(seen)  # an older heartbeat's delivery says nothing of this state
    assert call.notice is Notice.SENDING
    call.delivered(again)
    assert call.notice is Notice.SENT
    call.not_delivered(call.seen())  # a later heartbeat that fails does not take it back
    assert call.notice is Notice.SENT


def test_a_delivery_of_an_ended_call_does_not_mark_a_new_one_sent():
    clock = FakeClock()
    call, _ = make_call(clock)
    call.call()
    old = call.seen()
    call.end("staff arrived")
    call.call()
    call.delivered(old)
    assert call.notice is Notice.SENDING


def test_without_a_central_the_call_is_local_and_asks_for_no_heartbeat():
    clock = FakeClock()
    call, asked = make_call(clock, central=False)
    assert call.call() is True
    assert call.notice is Notice.LOCAL and asked == []
    call.end("session ended")
    assert asked == []


def test_the_heartbeat_carries_the_age_only():
    body = {"sent_at": dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc), "version": "0.1.0", "queue_depth": 0,
            "failed": 0, "printer_kind": "file", "printer": "ok", "paper": "ok", "camera": "ok",
            "disk_free_bytes": 1, "disk_total_bytes": 2}
    assert HeartbeatIn(**body).help_called_age_s is None
    assert HeartbeatIn(**body, help_called_age_s=12.5).help_called_age_s == 12.5
    for wrong in (-1, "Bu Siti minta tolong", float("nan")):
        with pytest.raises(ValidationError):
            HeartbeatIn(**body, help_called_age_s=wrong)


class _Task:
    name, interval_s, online_only = "heartbeat", 300.0, False

    def __init__(self):
        self.runs = 0

    def run(self) -> None:
        self.runs += 1


def test_make_due_runs_the_task_at_the_next_look_then_its_period_goes_on():
    clock = FakeClock()
    task = _Task()
    schedule = Schedule(clock.now, [task], monotonic=clock.monotonic)
    assert schedule.run_due(online=True) == 1
    clock.advance(10)
    assert schedule.run_due(online=True) == 0  # not due for 290 s
    assert schedule.make_due("heartbeat") is True
    assert schedule.run_due(online=True) == 1 and task.runs == 2
    clock.advance(10)
    assert schedule.run_due(online=True) == 0  # its period counts from that run
    assert schedule.make_due("no such task") is False


def _row(**changes) -> dict:
    row = {"revoked": False, "last_heard_age_s": 30.0, "oldest_waiting_age_s": None, "queue_depth": 0, "failed": 0,
           "paper": "ok", "printer": "ok", "camera": "ok", "disk_free_bytes": 50 * 1024 ** 3, "clock_offset_s": 0.0,
           "clock_step_s": None, "clock_step_age_s": None, "help_called_age_s": None}
    row.update(changes)
    return row


def test_the_fleet_flags_a_call_first_while_the_kiosk_is_heard_from():
    limits = Thresholds()
    assert flags_for(_row(), limits) == []
    assert flags_for(_row(help_called_age_s=95.0, paper="out"), limits) == ["HELP", "NO-PAPER"]
    # A kiosk silent past the threshold: its last call is not current.
    silent = _row(help_called_age_s=limits.silent_after_s + 60, last_heard_age_s=limits.silent_after_s + 1)
    assert flags_for(silent, limits) == ["SILENT"]
