"""Working days in Indonesia: the one calendar behind every deadline.

LAPOR!'s deadlines count working days: a report is verified within 3 working days of its
arrival, the agency follows up within 5 working days of being forwarded, and an answered
report closes 10 working days after the answer unless the citizen objects. A working day
is Monday to Friday that is neither a national public holiday nor a day of the
government's collective leave (*cuti bersama*, set each year by the joint decree of three
ministers). Both come from the well-kept ``holidays`` package (its ``public`` and
``government`` categories for Indonesia), so a new year's decree arrives with an upgrade
of that package instead of an edit here. A kabupaten adds its own days off (its
anniversary, a regional holiday) and days declared working with a small text file, one
``YYYY-MM-DD`` a line, ``-YYYY-MM-DD`` for a day that is worked after all.

The kiosk's status timeline, the central's public page and the central's deadlines all
ask this module, so they never disagree about a date.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from pathlib import Path

from holidays.countries.indonesia import Indonesia

#: Working days each step of LAPOR!'s disposition chain may take, by the status that
#: starts the wait.
DEADLINE_DAYS: dict[str, int] = {"received": 3, "forwarded": 5, "rerouted": 5, "answered": 10}

_LINE = re.compile(r"^\s*(-?)(\d{4}-\d{2}-\d{2})\s*(?:#.*)?$")


class CalendarFileError(ValueError):
    """The kabupaten's calendar file has a line that is not a date."""


@functools.lru_cache(maxsize=64)
def _national(year: int) -> frozenset[dt.date]:
    return frozenset(Indonesia(years=year, categories=Indonesia.supported_categories))


class WorkCalendar:
    """Which days are worked: Monday to Friday, minus Indonesia's public holidays and
    collective leave, minus ``days_off``, plus ``days_on`` (a Saturday worked in return,
    a national day the kabupaten works after all)."""

    def __init__(self, days_off: Iterable[dt.date] = (), days_on: Iterable[dt.date] = ()):
        self.days_off = frozenset(days_off)
        self.days_on = frozenset(days_on)

    @classmethod
    def from_file(cls, path: Path | str) -> "WorkCalendar":
        """The kabupaten's file: ``YYYY-MM-DD`` a day off, ``-YYYY-MM-DD`` a day worked;
        ``#`` starts a comment. A line that is neither is a :class:`CalendarFileError`
        naming it (a wrong file must not silently shift every deadline)."""
        days_off, days_on = [], []
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _LINE.match(line)
            try:
                day = dt.date.fromisoformat(match.group(2)) if match else None
            except ValueError:
                day = None
            if day is None:
                raise CalendarFileError(f"{path}: line {number}: expected YYYY-MM-DD or -YYYY-MM-DD")
            (days_on if match.group(1) else days_off).append(day)
        return cls(days_off, days_on)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.days_on:
            return True
        if day in self.days_off or day.weekday() >= 5:
            return False
        return day not in _national(day.year)

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The day on which ``days`` working days after ``start`` have passed (``start``
        itself not counted: a report that arrives on Friday and has 3 days is due on
        Wednesday, later when a holiday falls between)."""
        current = start
        while days > 0:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                days -= 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
        count, current = 0, start
        while current < end:
            current += dt.timedelta(days=1)
            count += self.is_working_day(current)
        return count


#: Indonesia's calendar with nothing local: what the kiosk uses until the kabupaten's own
#: days reach it.
NATIONAL = WorkCalendar()
