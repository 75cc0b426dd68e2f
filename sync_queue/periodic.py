"""Periodic tasks beside the delivery loop: reference refresh, status pull, heartbeat.

A task is a small object with a ``name``, an ``interval_s``, whether it runs only while
the central is not known to be offline (``online_only``), and ``run()``. The tasks live
where their code belongs (the kiosk core, the runtime); the sync worker only runs the
ones that are due, through a :class:`Schedule`, which keeps when each one last started.

Every run is guarded: an exception is logged by its type (never its message: it may
quote a citizen's text) and counts as a run that did not work; the thread goes on.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
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


@dataclasses.dataclass
class _Slot:
    task: PeriodicTask
    started_at: dt.datetime | None = None  # the last run's start, successful or not


class Schedule:
    """The periodic tasks of one worker and when each last started. ``on_success`` hears
    of every run that worked (the worker counts a housekeeping call as the central answering)."""

    def __init__(self, now: Callable[[], dt.datetime], tasks: Iterable[PeriodicTask] = (),
                 on_success: Callable[[PeriodicTask], None] | None = None):
        self.now, self.on_success = now, on_success
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

    def run_due(self, *, online: bool) -> int:
        """Run every due task, in the order they were added; ``online=False`` (the central
        is known unreachable) leaves the online-only ones for later. How many worked."""
        worked = 0
        for slot in self._slots.values():
            if slot.task.online_only and not online:
                continue
            if self._take_if_due(slot):
                worked += self._run(slot.task)
        return worked

    def run_if_due(self, name: str) -> bool | None:
        """Run one task if ``interval_s`` has passed since it last started (successful or
        not); whether it worked, or None when it was not due (or is not scheduled)."""
        slot = self._slots.get(name)
        if slot is None or not self._take_if_due(slot):
            return None
        return self._run(slot.task)

    def run_now(self, name: str) -> bool:
        """Run one task now, whatever its schedule (``kiosk sync --once``); whether it
        worked (False too when no such task is scheduled). Its next due time is unchanged."""
        slot = self._slots.get(name)
        return False if slot is None else self._run(slot.task)

    def _take_if_due(self, slot: _Slot) -> bool:
        now = self.now()
        if slot.started_at is not None and (now - slot.started_at).total_seconds() < slot.task.interval_s:
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
