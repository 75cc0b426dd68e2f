"""Each report's current deadline in working days (LAPOR!'s disposition chain), kept on the
report row so that the inbox sorts and filters by it with an index.

- ``received``, ``verified``: verified and forwarded 3 working days after arrival;
- ``forwarded``, ``rerouted``, ``in_progress``: the agency follows up 5 working days after
  the report reached it (the latest forwarding or re-routing; a start resumed after a
  postponement counts from the start);
- ``answered``: closed 10 working days after the answer unless the citizen objects;
- ``postponed``, ``closed``, ``rejected``, ``archived``: no deadline.

A row keeps ``due_from`` (the local date the wait began) and ``due_on`` (the day by which
the step is due: overdue from the next day on). ``follow`` is the one place that sets
them, called wherever a report's status changes (``central.service.take_report``,
``central.lifecycle.apply``). A duplicate linked to its original has no deadline of its own
(the original carries it; ``central.actions``), and gets one again, from then, when unlinked.

The calendar is the central's: Indonesia's holidays and collective leave plus the
kabupaten's own days kept in ``kabupaten_days`` (:func:`load_calendar`, the one place that
builds it; ``Database.calendar`` holds it, read again at most every 10 seconds).
:func:`replace_days` (``python -m central holidays import FILE``) replaces those days and
moves the stored due dates (:func:`follow_calendar`), as does every start.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from central.models import KabupatenDay, Report
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.workdays import DEADLINE_DAYS, CalendarDay, WorkCalendar

log = logging.getLogger(__name__)

#: Working days allowed in each status, from ``due_from``.
DAYS: dict[str, int] = {
    "received": DEADLINE_DAYS["received"], "verified": DEADLINE_DAYS["received"],
    "forwarded": DEADLINE_DAYS["forwarded"], "rerouted": DEADLINE_DAYS["rerouted"],
    "in_progress": DEADLINE_DAYS["forwarded"], "answered": DEADLINE_DAYS["answered"],
}
#: Statuses whose wait starts at the report's arrival, not at the step itself.
_FROM_ARRIVAL = ("received", "verified")
#: Statuses that keep the wait of the step before them (the agency's 5 days go on).
_KEEPS = {"in_progress": ("forwarded", "rerouted")}


def local_date(at: dt.datetime) -> dt.date:
    """The kabupaten's date of a moment (WIB)."""
    return at.astimezone(LOCAL_TZ).date()


def today(now: dt.datetime | None = None) -> dt.date:
    from kiosk.kernel.clock import utc_now

    return local_date(now or utc_now())


def due_from(old_status: str | None, new_status: str, at: dt.datetime, received_at: dt.datetime,
             current: dt.date | None) -> dt.date | None:
    """The date the wait of ``new_status`` began, moving from ``old_status`` at ``at``."""
    if new_status not in DAYS:
        return None
    if new_status in _FROM_ARRIVAL:
        return local_date(received_at)
    if current is not None and old_status in _KEEPS.get(new_status, ()):
        return current
    return local_date(at)


def follow(report: Report, old_status: str | None, at: dt.datetime, calendar: WorkCalendar) -> None:
    """Set the report's deadline for the status it now has (moved from ``old_status`` at ``at``)."""
    report.due_from = due_from(old_status, report.status, at, report.received_at, report.due_from)
    report.due_on = (calendar.add_working_days(report.due_from, DAYS[report.status])
                     if report.due_from is not None else None)


def is_overdue(due_on: dt.date | None, on: dt.date) -> bool:
    return due_on is not None and due_on < on


def days_late(due_on: dt.date | None, on: dt.date, calendar: WorkCalendar) -> int:
    """Working days past the due date (0 when not overdue)."""
    return calendar.working_days_between(due_on, on) if is_overdue(due_on, on) else 0


def follow_calendar(db, calendar: WorkCalendar) -> int:
    """Recompute stored due dates with ``calendar`` where they differ (the kabupaten's file
    changed); returns how many reports moved. One UPDATE per (status, start date) pair:
    a few hundred statements, not one per report."""
    moved = 0
    with db.session() as session, session.begin():
        pairs = session.execute(select(Report.status, Report.due_from).where(Report.due_from.is_not(None))
                                .group_by(Report.status, Report.due_from)).all()
        for status, start in pairs:
            if status not in DAYS:
                continue
            due = calendar.add_working_days(start, DAYS[status])
            moved += session.execute(
                update(Report).where(Report.status == status, Report.due_from == start,
                                     or_(Report.due_on.is_(None), Report.due_on != due))
                .values(due_on=due).execution_options(synchronize_session=False)).rowcount or 0
    if moved:
        log.info("deadlines of %d reports moved to the current working-day calendar", moved)
    return moved


def stored_days(db, year: int | None = None) -> list[CalendarDay]:
    """The kabupaten's own days as stored, in date order (of ``year`` only when given)."""
    query = select(KabupatenDay).order_by(KabupatenDay.day)
    if year is not None:
        query = query.where(KabupatenDay.day >= dt.date(year, 1, 1), KabupatenDay.day <= dt.date(year, 12, 31))
    with db.session() as session:
        return [CalendarDay(row.day, row.working, row.name) for row in session.scalars(query)]


def load_calendar(db) -> WorkCalendar:
    """The central's working-day calendar: Indonesia's, with the kabupaten's stored days.

    Read on a connection of its own and outside any transaction: it is asked for in the
    middle of others' transactions (an action sets a due date), and on SQLite a second
    transaction (``BEGIN IMMEDIATE``) would wait for the write lock its caller holds; a
    plain read in WAL mode does not."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"SELECT day, working, name FROM {KabupatenDay.__tablename__}")
        rows = cursor.fetchall()
        cursor.close()
    finally:
        raw.close()  # back to the pool, which rolls back what PostgreSQL began
    return WorkCalendar.from_days(CalendarDay(day if isinstance(day, dt.date) else dt.date.fromisoformat(day),
                                              bool(working), name) for day, working, name in rows)


def replace_days(db, days: list[CalendarDay]) -> int:
    """Make ``days`` the kabupaten's own days (all at once: the old ones go), then move
    the stored due dates to the new calendar; returns how many reports moved. Days equal
    to the stored ones change nothing (several workers importing the same file at start)."""
    wanted = sorted(days)
    if stored_days(db) != wanted:
        try:
            with db.session() as session, session.begin():
                session.execute(delete(KabupatenDay))
                session.add_all(KabupatenDay(day=d.day, working=d.working, name=d.name) for d in wanted)
        except IntegrityError:  # another process replaced them at the same moment
            if stored_days(db) != wanted:
                raise
        log.info("the kabupaten's calendar now has %d days of its own", len(wanted))
    calendar = WorkCalendar.from_days(wanted)
    db.forget_calendar()
    return follow_calendar(db, calendar)


@dataclasses.dataclass(frozen=True)
class Overdue:
    """An overdue report as ``python -m central overdue`` lists it: no content, no identity."""

    tracking_id: str
    status: str
    agency_code: str | None
    due_on: dt.date
    working_days_late: int


def overdue(db, calendar: WorkCalendar, on: dt.date) -> list[Overdue]:
    """Every report past its due date on ``on``, the longest overdue first."""
    with db.session() as session:
        rows = session.execute(select(Report.tracking_id, Report.status, Report.agency_code, Report.due_on)
                               .where(and_(Report.due_on.is_not(None), Report.due_on < on))
                               .order_by(Report.due_on, Report.tracking_id)).all()
    return [Overdue(tid, status, agency, due, calendar.working_days_between(due, on))
            for tid, status, agency, due in rows]
