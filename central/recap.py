"""The leadership's recap of a period, without HTTP: counts by status, agency, category,
kecamatan, kind and channel; the median and 90th percentile of the time to verify, to
forward and to answer, in working days and in hours; the share overdue; satisfaction and
objections; and the period's reports as CSV for the monthly SP4N recap.

The period is the kabupaten's dates (WIB), both included, and means the reports *received*
in it (a cohort: a month's recap keeps its reports, and their later steps fill in as they
happen). The counts are SQL group-bys over an index (``ix_reports_recap``); the times are
one query over another (``ix_reports_first_steps``) that hands back, per report, its arrival
and its first verification, forwarding and answer as seconds since the epoch, read from the
report's row (``Report.verified_at``, ...: c0008, kept with every status event), and numpy
sorts the durations and counts the working days of a year's reports at once; the
percentiles are ``percentile``'s: the same code, and the same figures, on SQLite and
PostgreSQL (it interpolates as PostgreSQL's ``percentile_cont`` does). A duplicate follows
its original's steps, so it is counted but not timed. docs/PERFORMANCE.md has the figures.

Working days are those of the central's calendar (``kiosk.kernel.workdays``); a step is late
when it was taken after the day ``central.deadlines`` would have made it due. Hours are
clock hours.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping

from sqlalchemy import Float, and_, exists, extract, func, literal, or_, select
from sqlalchemy.orm import aliased

from central import deadlines
from central.db import Database
from central.models import Objection, Rating, Report
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import N_
from kiosk.kernel.workdays import DEADLINE_DAYS, WorkCalendar

log = logging.getLogger(__name__)

#: The steps timed, each from the moment its wait starts (``arrival`` or the first
#: ``forwarded``), and the working days LAPOR! allows it (None: no deadline of its own).
TIMINGS: dict[str, tuple[str, str, int | None]] = {
    "verify": ("arrival", "verified", DEADLINE_DAYS["received"]),
    "forward": ("arrival", "forwarded", DEADLINE_DAYS["received"]),
    "answer": ("arrival", "answered", None),
    "agency": ("forwarded", "answered", DEADLINE_DAYS["forwarded"]),
}
#: The moments each timed report hands back, in this order (``recap``'s query).
_MOMENTS = ("arrival", "verified", "forwarded", "answered")
#: The steps whose first time the recap and the CSV read.
STEPS = ("verified", "forwarded", "answered", "closed")
#: Where the report's row keeps the first time of each step (c0008).
_STEP_COLUMNS = {"verified": Report.verified_at, "forwarded": Report.forwarded_at,
                 "answered": Report.answered_at, "closed": Report.closed_at}
SCORES = (1, 2, 3, 4, 5)
_EPOCH_DAY = dt.date(1970, 1, 1)


# -- the period ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Period:
    """Local dates (WIB), both included."""

    first: dt.date
    last: dt.date

    @classmethod
    def from_query(cls, params: Mapping[str, str], today: dt.date) -> "Period":
        """``from`` / ``to`` as the form sends them; a missing or unreadable date is the
        first day of this month / today; dates given the wrong way round are swapped."""
        def day(name: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat((params.get(name) or "").strip())
            except ValueError:
                return None
        first = day("from") or today.replace(day=1)
        last = day("to") or max(today, first)
        return cls(min(first, last), max(first, last))

    @property
    def start(self) -> dt.datetime:
        """The first moment of the period, in UTC (stored times are UTC)."""
        return dt.datetime.combine(self.first, dt.time(), LOCAL_TZ).astimezone(dt.timezone.utc)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the period, in UTC."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), LOCAL_TZ).astimezone(dt.timezone.utc)

    def received(self):
        """The WHERE term: reports received in the period."""
        return and_(Report.received_at >= self.start, Report.received_at < self.end)

    def query(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


# -- where a report came in ------------------------------------------------------------------
def channel():
    """The channel a report came in through, as an SQL expression: the one place that says
    it (``reports.channel``, c0013: ``kiosk`` or ``open311``; issue 16's SMS intake adds
    ``sms``)."""
    return Report.channel


CHANNELS = ("kiosk", "open311", "sms")
#: Channels whose word is a name, the same in every language (the others are translated:
#: ``CHANNEL_WORDS``).
CHANNEL_NAMES = {"open311": "Open311"}
#: The other channels' words, translated (the recap's breakdown, the report's page).
CHANNEL_WORDS = {"kiosk": N_("Kiosk"), "sms": N_("SMS")}


def channel_word(_, channel: str) -> str:
    """A channel (``CHANNELS``) in the officer's language (``_``: the page's gettext)."""
    return _(CHANNEL_WORDS[channel]) if channel in CHANNEL_WORDS else CHANNEL_NAMES.get(channel, channel)


#: The recap's breakdowns: each a column of ``reports`` (or the channel), by name.
DIMENSIONS = ("status", "agency", "category", "kecamatan", "kind", "channel")


def _dimension(name: str):
    return {"status": Report.status, "agency": Report.agency_code, "category": Report.category_code,
            "kecamatan": Report.kecamatan_code, "kind": Report.kind, "channel": channel()}[name]


# -- percentiles -----------------------------------------------------------------------------
def percentile(ordered: list[float], p: float) -> float | None:
    """The ``p`` quantile (0..1) of sorted values, interpolated between the two nearest
    ranks as PostgreSQL's ``percentile_cont`` does; None for no values."""
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# -- the figures -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Timing:
    """How long one step took for the period's reports that have taken it."""

    name: str
    count: int
    median_days: float | None
    p90_days: float | None
    median_hours: float | None
    p90_hours: float | None
    deadline_days: int | None
    late: int  # taken after the day it was due (0 without a deadline)

    @property
    def late_share(self) -> float:
        return self.late / self.count if self.count else 0.0


@dataclasses.dataclass(frozen=True)
class Satisfaction:
    """The period's reports' ratings (each report's latest): how many, average, per score."""

    count: int
    average: float | None
    scores: dict[int, int]


@dataclasses.dataclass(frozen=True)
class Recap:
    period: Period
    today: dt.date
    total: int
    counts: dict[str, list[tuple[str | None, int]]]  # dimension -> (value, count), the largest first
    overdue: int  # of the period's reports, past their current deadline today
    timings: list[Timing]
    satisfaction: Satisfaction
    objected: int  # of the period's reports, with at least one objection

    def share(self, count: int) -> float:
        return count / self.total if self.total else 0.0


def _epoch(column, dialect: str):
    """Seconds since 1970 of a stored UTC moment (NULL stays NULL)."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text
        return (func.julianday(column) - 2440587.5) * 86400.0
    return extract("epoch", column).cast(Float)


def _utc_offset_s(period: Period) -> float:
    """WIB (like WITA and WIT) keeps one offset all year: that of the period's start."""
    return LOCAL_TZ.utcoffset(dt.datetime.combine(period.first, dt.time())).total_seconds()


def recap(db: Database, period: Period, *, today: dt.date | None = None) -> Recap:
    """The figures of the reports received in ``period`` (every agency's: the recap is the
    leadership's, see ``central.routers.workbench_recap``)."""
    today = today or deadlines.today()
    dialect = db.engine.dialect.name
    where = period.received()
    with db.engine.connect() as conn:  # Core rows: the ORM's per-row work is not needed here
        counts = {}
        for name in DIMENSIONS:
            column = _dimension(name)
            rows = conn.execute(select(column, func.count()).select_from(Report).where(where).group_by(column)).all()
            counts[name] = sorted(((value, count) for value, count in rows), key=lambda r: (-r[1], str(r[0] or "")))
        total = sum(count for _, count in counts["status"])
        overdue = conn.scalar(select(func.count()).select_from(Report).where(where, Report.due_on < today)) or 0
        timed = [_STEP_COLUMNS[m] for m in _MOMENTS[1:]]
        # The driver's own rows (tuples of floats: nothing to convert) into numpy, without a
        # Row object each: half the time for a year's 80,000 rows.
        steps = conn.execute(
            select(_epoch(Report.received_at, dialect), *(_epoch(c, dialect) for c in timed))
            .where(where, Report.duplicate_of.is_(None), or_(*(c.is_not(None) for c in timed)))).cursor.fetchall()
        satisfaction = _satisfaction(conn, where)
        objected = conn.scalar(select(func.count(func.distinct(Objection.tracking_id)))
                               .select_from(Objection).join(Report, Report.tracking_id == Objection.tracking_id)
                               .where(where)) or 0
    return Recap(period, today, total, counts, overdue, _timings(steps, db.calendar, _utc_offset_s(period)),
                 satisfaction, objected)


def _timings(rows: list[tuple], calendar: WorkCalendar, offset_s: float) -> list[Timing]:
    """Each step's figures from the per-report moments (plain tuples of epoch seconds, in
    ``_MOMENTS``' order; None for a step not taken), as arrays: each moment's local day, the working days
    between two days from a running count of the calendar's working days over the days
    seen, and each start day's due date from the same count."""
    import numpy as np

    moments = np.array(rows, dtype=float).reshape(-1, len(_MOMENTS))  # NULL -> NaN
    seen = ~np.isnan(moments)
    days = np.zeros(moments.shape, dtype=np.int64)
    days[seen] = np.floor((moments[seen] + offset_s) / 86400)  # days since 1970, local
    low = int(days[seen].min()) if seen.any() else 0
    high = int(days[seen].max()) if seen.any() else 0
    # Working days from ``low`` up to each day seen (inclusive). A due date after the last day
    # seen is not in the table; ``searchsorted`` then points past its end: after every step.
    table = [calendar.is_working_day(_EPOCH_DAY + dt.timedelta(days=n)) for n in range(low, high + 1)]
    running = np.cumsum(np.array(table, dtype=np.int64))
    days -= low
    column = {name: n for n, name in enumerate(_MOMENTS)}
    out = []
    for name, (begin, end, limit) in TIMINGS.items():
        b, e = column[begin], column[end]
        taken = seen[:, b] & seen[:, e]
        seconds = np.maximum(0, np.round(moments[taken, e] - moments[taken, b]))  # whole seconds
        hours = np.sort(seconds / 3600).tolist()
        start_day, end_day = days[taken, b], days[taken, e]
        working = np.where(end_day > start_day, running[end_day] - running[start_day], 0)
        late = 0
        if limit is not None:  # due: the first day by which ``limit`` working days have passed
            due = np.searchsorted(running, running[start_day] + limit, side="left")
            late = int(np.count_nonzero(end_day > due))
        working = np.sort(working).astype(float).tolist()
        out.append(Timing(name, len(hours), percentile(working, 0.5), percentile(working, 0.9),
                          percentile(hours, 0.5), percentile(hours, 0.9), limit, late))
    return out


def _latest_ratings(where):
    """Each report's latest rating (by ``received_at``, then ``key``) for the reports ``where``
    selects: (tracking_id, score)."""
    later = aliased(Rating)
    return (select(Rating.tracking_id, Rating.score).join(Report, Report.tracking_id == Rating.tracking_id)
            .where(where, ~exists().where(later.tracking_id == Rating.tracking_id,
                                          or_(later.received_at > Rating.received_at,
                                              and_(later.received_at == Rating.received_at, later.key > Rating.key)))))


def _satisfaction(session, where) -> Satisfaction:
    latest = _latest_ratings(where).subquery()
    scores = {score: 0 for score in SCORES}
    for score, count in session.execute(select(latest.c.score, func.count()).group_by(latest.c.score)):
        if score in scores:
            scores[score] = count
    count = sum(scores.values())
    return Satisfaction(count, sum(s * n for s, n in scores.items()) / count if count else None, scores)


# -- the CSV ---------------------------------------------------------------------------------
#: A cell starting with one of these is a formula to a spreadsheet: written with a leading '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A cell is one line: control characters and bidirectional overrides become U+FFFD.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def cell(value) -> str:
    """A value as a CSV cell that a spreadsheet shows and never runs (OWASP's CSV injection)."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub("\ufffd", text)
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclasses.dataclass(frozen=True)
class ExportRow:
    """One report of the period as the CSV gives it. ``reporter_name`` / ``reporter_phone``
    only in an admin's audited export, and never for an anonymous report."""

    tracking_id: str
    received_at: dt.datetime
    steps: dict[str, dt.datetime | None]  # the first time of each of STEPS
    status: str
    kind: str
    category_code: str
    agency_code: str | None
    kecamatan_code: str | None
    kiosk_code: str
    channel: str
    due_on: dt.date | None
    overdue: bool
    satisfaction: int | None
    title: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None


def export(db: Database, period: Period, *, title: bool = False, identity: bool = False,
           today: dt.date | None = None) -> list[ExportRow]:
    """The reports received in ``period``, oldest first. ``title``: with each title but a
    confidential report's; ``identity``: with the reporter's name and phone of each report
    that is not anonymous (the caller checks the role and writes the audit log)."""
    today = today or deadlines.today()
    where = period.received()
    with db.engine.connect() as conn:
        reports = conn.execute(
            select(Report.tracking_id, Report.received_at, Report.status, Report.kind, Report.category_code,
                   Report.agency_code, Report.kecamatan_code, Report.kiosk_code, channel(), Report.due_on,
                   Report.confidential, Report.anonymous, Report.body if (title or identity) else literal(None),
                   *(_STEP_COLUMNS[s] for s in STEPS))
            .where(where).order_by(Report.received_at, Report.tracking_id)).all()
        ratings = dict(conn.execute(_latest_ratings(where)).all())
    out = []
    for (tid, received, status, kind, category, agency, kecamatan, kiosk, how, due_on, confidential, anonymous,
         body, *steps) in reports:
        data = json.loads(body) if body else {}
        shown = isinstance(data, dict)
        out.append(ExportRow(
            tid, received, dict(zip(STEPS, steps)), status, kind, category, agency, kecamatan, kiosk, how,
            due_on, deadlines.is_overdue(due_on, today), ratings.get(tid),
            title=_text(data.get("title")) if title and shown and not confidential else None,
            reporter_name=_text(data.get("reporter_name")) if identity and shown and not anonymous else None,
            reporter_phone=_text(data.get("reporter_phone")) if identity and shown and not anonymous else None))
    return out


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def csv_bytes(header: list[str], rows: Iterable[list]) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads it as UTF-8), CRLF lines, every cell
    made safe by ``cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
