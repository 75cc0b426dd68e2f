"""Working days in Indonesia: the one calendar behind every deadline.

LAPOR!'s deadlines count working days: a report is verified within 3 working days of its
arrival, the agency follows up within 5 working days of being forwarded, and an answered
report closes 10 working days after the answer unless the citizen objects. A working day
is Monday to Friday that is neither a national public holiday nor a day of the
government's collective leave (*cuti bersama*, set each year by the joint decree of three
ministers). Both come from the well-kept ``holidays`` package (its ``public`` and
``government`` categories for Indonesia), so a new year's decree arrives with an upgrade
of that package instead of an edit here: its days for :data:`TABLE_YEARS` are kept in
:mod:`kiosk.kernel.national_days`, written from the package by ``python -m
kiosk.kernel.workdays`` (a test fails when the two differ, as after such an upgrade).
Importing the package costs a process 17 MiB (it loads every country it knows, 250 of
them, to find Indonesia's): the kiosk reads the table, and the package only for a year
outside it. A kabupaten adds its own days off (its
anniversary, a regional holiday) and days declared working with a small text file, one
``YYYY-MM-DD`` a line, ``-YYYY-MM-DD`` for a day that is worked after all, an optional
``# name`` after it. The central keeps these days in its database (``python -m central
holidays import FILE``, ``central.deadlines``) and sends them to every kiosk with the
reference data (``calendar_days``: :meth:`CalendarDay.to_wire`); a kiosk that never
reached a central counts Indonesia's days only (:data:`NATIONAL`).

The kiosk's status timeline, the central's public page and the central's deadlines all
ask this module, so they never disagree about a date.
"""
from __future__ import annotations

import datetime as dt
import functools
import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path

from kiosk.kernel import national_days

#: Working days each step of LAPOR!'s disposition chain may take, by the status that
#: starts the wait.
DEADLINE_DAYS: dict[str, int] = {"received": 3, "forwarded": 5, "rerouted": 5, "answered": 10}

_LINE = re.compile(r"^\s*(-?)(\d{4}-\d{2}-\d{2})\s*(?:#(.*))?$")
#: The longest name a kabupaten's day may have (the database columns' width).
NAME_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class CalendarFileError(ValueError):
    """The kabupaten's calendar file (or the days a central sent) has a line that is not
    a day: the message names the line."""


@dataclasses.dataclass(frozen=True, order=True)
class CalendarDay:
    """One of the kabupaten's own days: a day off (``working`` False: its anniversary, a
    regional holiday) or a day worked after all (``working`` True), with its name."""

    day: dt.date
    working: bool = False
    name: str = ""

    def to_wire(self) -> dict[str, str | bool]:
        """As ``GET /api/v1/reference`` carries it in ``calendar_days``."""
        return {"date": self.day.isoformat(), "working": self.working, "name": self.name}

    @classmethod
    def from_wire(cls, item: object) -> "CalendarDay":
        """One item of ``calendar_days``; a malformed one is a :class:`CalendarFileError`."""
        if not isinstance(item, dict) or not isinstance(item.get("date"), str) \
                or not isinstance(item.get("working", False), bool) or not isinstance(item.get("name", ""), str):
            raise CalendarFileError("expected {date: YYYY-MM-DD, working: true|false, name: text}")
        try:
            day = dt.date.fromisoformat(item["date"])
        except ValueError:
            raise CalendarFileError(f"{item['date']!r} is not a date (YYYY-MM-DD)") from None
        return cls(day, item.get("working", False), _name(item.get("name", "")))


def _name(text: str) -> str:
    """A day's name as kept and shown: control characters out, at most NAME_MAX long."""
    return _CONTROL.sub(" ", text).strip()[:NAME_MAX]


def parse_days(text: str, source: str = "calendar") -> list[CalendarDay]:
    """The kabupaten's days in the file format: ``YYYY-MM-DD`` a day off, ``-YYYY-MM-DD``
    a day worked, ``# ...`` after it the day's name; a line starting with ``#`` is a
    comment. A line that is neither, or a date given twice, is a :class:`CalendarFileError`
    naming ``source`` and the line (a wrong file must not silently shift every deadline)."""
    days: dict[dt.date, tuple[int, CalendarDay]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        try:
            day = dt.date.fromisoformat(match.group(2)) if match else None
        except ValueError:
            day = None
        if day is None:
            raise CalendarFileError(f"{source}: line {number}: expected YYYY-MM-DD or -YYYY-MM-DD "
                                    "(and an optional # name)")
        if day in days:
            raise CalendarFileError(f"{source}: line {number}: {day.isoformat()} is already on line {days[day][0]}")
        days[day] = number, CalendarDay(day, bool(match.group(1)), _name(match.group(3) or ""))
    return sorted(entry for _, entry in days.values())


#: The years whose national days :mod:`kiosk.kernel.national_days` keeps.
TABLE_YEARS = range(2010, 2051)


def national_days_from_package(year: int) -> frozenset[dt.date]:
    """Indonesia's public holidays and collective leave in ``year``, as the ``holidays``
    package computes them (imported here only: see the module)."""
    from holidays.countries.indonesia import Indonesia

    return frozenset(Indonesia(years=year, categories=Indonesia.supported_categories))


@functools.lru_cache(maxsize=64)
def _national(year: int) -> frozenset[dt.date]:
    kept = national_days.DAYS.get(year)
    if kept is not None:
        return frozenset(dt.date.fromisoformat(day) for day in kept)
    return national_days_from_package(year)


def write_national_days(path: Path | None = None) -> Path:
    """Write :mod:`kiosk.kernel.national_days` from the ``holidays`` package, for
    :data:`TABLE_YEARS`."""
    path = path or Path(national_days.__file__)
    lines = ['"""Indonesia\'s public holidays and collective leave, :data:`kiosk.kernel.workdays.TABLE_YEARS`.',
             "",
             "Written by ``python -m kiosk.kernel.workdays`` from the ``holidays`` package (see",
             ":mod:`kiosk.kernel.workdays`); do not edit by hand.",
             '"""', "", "DAYS: dict[int, tuple[str, ...]] = {"]
    for year in TABLE_YEARS:
        days = sorted(day.isoformat() for day in national_days_from_package(year))
        lines.append(f"    {year}: (")
        for i in range(0, len(days), 6):
            lines.append("        " + " ".join(f'"{day}",' for day in days[i:i + 6]))
        lines.append("    ),")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class WorkCalendar:
    """Which days are worked: Monday to Friday, minus Indonesia's public holidays and
    collective leave, minus ``days_off``, plus ``days_on`` (a Saturday worked in return,
    a national day the kabupaten works after all)."""

    def __init__(self, days_off: Iterable[dt.date] = (), days_on: Iterable[dt.date] = ()):
        self.days_off = frozenset(days_off)
        self.days_on = frozenset(days_on)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkCalendar) and (self.days_off, self.days_on) == (other.days_off, other.days_on)

    def __hash__(self) -> int:
        return hash((self.days_off, self.days_on))

    @classmethod
    def from_days(cls, days: Iterable[CalendarDay]) -> "WorkCalendar":
        """Indonesia's calendar with the kabupaten's ``days`` on top: the one way the central
        (from its database) and the kiosk (from its reference data) build theirs."""
        days = list(days)
        return cls([d.day for d in days if not d.working], [d.day for d in days if d.working])

    @classmethod
    def from_file(cls, path: Path | str) -> "WorkCalendar":
        """The kabupaten's file (:func:`parse_days`)."""
        return cls.from_days(parse_days(Path(path).read_text(encoding="utf-8"), str(path)))

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


if __name__ == "__main__":
    print(f"written: {write_national_days()}")
