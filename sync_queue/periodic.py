"""Periodic tasks beside the delivery loop: reference refresh, status pull, heartbeat.

A task is a small object with a ``name``, an ``interval_s``, whether it runs only while
the central is not known to be offline (``online_only``), and ``run()``. The tasks live
where their code belongs (the kiosk core, the runtime); the sync worker only runs the
ones that are due, through a :class:`Schedule`, which keeps when each one last started.

Every run is guarded: an exception is logged by its type (never its message: it may
quote a citizen's text) and counts as a run that did not work; the thread goes on.

Intervals are measured on the monotonic clock: a small PC's wall clock can jump (a day
ahead, then set right), and tasks must keep their period through it. The schedule also
watches the wall clock against the monotonic one (:class:`ClockWatch`) and remembers the
last step, which the heartbeat tells the fleet view.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from typing import Callable, Iterable, Protocol

from sync_queue.client import CentralError

log = logging.getLogger(__name__)


class PeriodicTask(Protocol):
    """Something the sync worker does every ``interval_s`` seconds, between deliveries."""

    name: str
    interval_s: float
    online_only: bool

    def run(self) -> None:
        """Do the work once; raise when it did not work."""


class TaskSkipped(Exception):
    """Raised by a task that could not do its work this time for a reason it has already
    logged in its own words (e.g. "heartbeat not sent"): the run counts as not done and
    nothing more is logged."""


#: A wall clock that moved this much more (or less) than the monotonic clock between two
#: looks has been stepped (set by hand, NTP after a long time off), not drifted.
CLOCK_STEP_S = 120.0


@dataclasses.dataclass(frozen=True)
class ClockStep:
    """One step of the wall clock: how far (seconds; positive: it jumped ahead) and the
    monotonic time it was noticed at."""

    step_s: float
    seen_at: float


class ClockWatch:
    """Notices steps of the wall clock by comparing how far it and the monotonic clock
    moved since the last look; logs each step once, for the technician, and keeps the
    last one (for the heartbeat)."""

    def __init__(self, now: Callable[[], dt.datetime], monotonic: Callable[[], float] = time.monotonic,
                 threshold_s: float = CLOCK_STEP_S):
        self.now, self.monotonic, self.threshold_s = now, monotonic, threshold_s
        self.last: ClockStep | None = None
        self._seen: tuple[dt.datetime, float] | None = None

    def check(self) -> ClockStep | None:
        """Look at both clocks; the step seen now, if any (also kept in ``last``)."""
        wall, mono = self.now(), self.monotonic()
        seen, self._seen = self._seen, (wall, mono)
        if seen is None:
            return None
        step = (wall - seen[0]).total_seconds() - (mono - seen[1])
        if abs(step) <= self.threshold_s:
            return None
        self.last = ClockStep(step_s=round(step, 1), seen_at=mono)
        log.warning("the wall clock was stepped %s by %.0f s (now %s UTC); deliveries and periodic tasks keep "
                    "their times, check the clock's source (RTC battery, NTP)",
                    "ahead" if step > 0 else "back", abs(step), f"{wall:%Y-%m-%d %H:%M:%S}")
        return self.last

    def last_step(self) -> tuple[float, float] | None:
        """(step in seconds, seconds since it was noticed) of the last step; None: none seen."""
        if self.last is None:
            return None
        return self.last.step_s, round(max(0.0, self.monotonic() - self.last.seen_at), 1)


@dataclasses.dataclass
class _Slot:
    task: PeriodicTask
    started_at: float | None = None  # the last run's start (monotonic), successful or not


class Schedule:
    """The periodic tasks of one worker and when each last started, on the ``monotonic``
    clock. ``on_success`` hears of every run that worked (the worker counts a housekeeping
    call as the central answering). ``clock_watch`` looks at the clocks before every run."""

    def __init__(self, now: Callable[[], dt.datetime], tasks: Iterable[PeriodicTask] = (),
                 on_success: Callable[[PeriodicTask], None] | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic):
        self.now, self.monotonic, self.on_success = now, monotonic, on_success
        self.clock_watch = ClockWatch(now, monotonic)
        self._slots: dict[str, _Slot] = {}
        for task in tasks:
            self.add(task)

    def add(self, task: PeriodicTask) -> None:
        """Run ``task`` from now on; a name is taken once."""
        if task.name in self._slots:
            raise ValueError(f"a periodic task named {task.name!r} is scheduled already")
        self._slots[task.name] = _Slot(task)

    def task(self, name: str) -> PeriodicTask | None:
        slot = self._slots.get(name)
        return None if slot is None else slot.task

    def run_due(self, *, online: bool, stopping: Callable[[], bool] = lambda: False) -> int:
        """Run every due task, in the order they were added; ``online=False`` (the central
        is known unreachable) leaves the online-only ones for later, and ``stopping()``
        true (the worker was asked to stop) the ones not started yet. How many worked."""
        self.clock_watch.check()
        worked = 0
        for slot in self._slots.values():
            if stopping():
                break
            if slot.task.online_only and not online:
                continue
            if self._take_if_due(slot):
                worked += self._run(slot.task)
        return worked

    def run_if_due(self, name: str) -> bool | None:
        """Run one task if ``interval_s`` has passed since it last started (successful or
        not); whether it worked, or None when it was not due (or is not scheduled)."""
        self.clock_watch.check()
        slot = self._slots.get(name)
        if slot is None or not self._take_if_due(slot):
            return None
        return self._run(slot.task)

    def run_now(self, name: str) -> bool:
        """Run one task now, whatever its schedule (``kiosk sync --once``); whether it
        worked (False too when no such task is scheduled). Its next due time is unchanged."""
        self.clock_watch.check()
        slot = self._slots.get(name)
        return False if slot is None else self._run(slot.task)

    def make_due(self, name: str) -> bool:
        """Let one task run at the next look, whatever its interval (a help call asks for
        the heartbeat now); its period then counts from that run. False: not scheduled."""
        slot = self._slots.get(name)
        if slot is None:
            return False
        slot.started_at = None  # one assignment: the sync thread sees it whole
        return True

    def _take_if_due(self, slot: _Slot) -> bool:
        now = self.monotonic()
        if slot.started_at is not None and now - slot.started_at < slot.task.interval_s:
            return False
        slot.started_at = now
        return True

    def _run(self, task: PeriodicTask) -> bool:
        try:
            task.run()
        except TaskSkipped:
            return False
        except CentralError as exc:
            log.warning("%s skipped (next try in %g s): %s", task.name, task.interval_s, type(exc).__name__)
            return False
        except Exception as exc:  # noqa: BLE001 - a broken task must not stop deliveries
            log.error("%s crashed (next try in %g s): %s", task.name, task.interval_s, type(exc).__name__)
            return False
        if self.on_success is not None:
            self.on_success(task)
        return True
