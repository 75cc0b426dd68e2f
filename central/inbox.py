"""The workbench's inbox without HTTP: filters, full-text search, two orders (newest first,
or by deadline), counts per status and keyset pages, each as one officer may see it.

The filters come from a plain GET form (``Filters.from_query``): a value that is not one
the form offers is ignored, never an error. Whatever they say, an agency officer's inbox
stays limited to the reports with their agency now (``central.workbench._visible`` is
applied first). Pages are keyset pages: each is an index range scan, as fast at row 100,000
as at row 1, stable while reports arrive, and the cursor carries the order it belongs to.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from collections.abc import Mapping

from sqlalchemy import and_, case, false, func, or_, select, text, tuple_

from central import deadlines, search
from central.accounts import SignedIn
from central.db import Database
from central.models import Report
from central.workbench import STATUSES, _visible
from kiosk.kernel.clock import LOCAL_TZ

log = logging.getLogger(__name__)

PAGE_SIZE = 50
SORTS = ("newest", "deadline")
KINDS = ("pengaduan", "aspirasi", "permintaan_informasi")
#: The inbox's marks: the reports that wait for someone's decision, each a tab beside the
#: statuses (the column that holds it: ``central.models.Report``). ``reroute``: an agency
#: asked the admins to re-route it (admins only: an agency's own view is unchanged);
#: ``objected``: the citizen's objection took it back to its agency.
MARKS = {"reroute": Report.reroute_requested_at, "objected": Report.objected_at}
MARK_ROLES = {"reroute": ("admin",), "objected": ("admin", "agency", "viewer")}
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _code(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if _CODE.match(value) else None


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get((value or "").strip())


@dataclasses.dataclass(frozen=True)
class Filters:
    """What an officer asked the inbox for. Empty: everything they may see, newest first."""

    status: str | None = None
    kind: str | None = None
    category: str | None = None
    agency: str | None = None
    kecamatan: str | None = None
    kiosk: str | None = None
    received_from: dt.date | None = None  # local dates (WIB), both included
    received_to: dt.date | None = None
    overdue: bool = False
    anonymous: bool | None = None
    confidential: bool | None = None
    q: str = ""
    sort: str = "newest"
    mark: str | None = None  # one of MARKS: a tab, like the status

    def for_role(self, role: str) -> "Filters":
        """Without a mark the role has no tab for."""
        return self if self.mark is None or role in MARK_ROLES[self.mark] else dataclasses.replace(self, mark=None)

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> "Filters":
        """From the inbox form's fields; anything unexpected is dropped."""
        status = params.get("status")
        kind = params.get("kind")
        kiosk = _code(params.get("kiosk"))
        sort = params.get("sort")
        mark = params.get("mark")
        return cls(mark=mark if mark in MARKS else None,
            status=status if status in STATUSES else None, kind=kind if kind in KINDS else None,
            category=_code(params.get("category")), agency=_code(params.get("agency")),
            kecamatan=_code(params.get("kecamatan")), kiosk=kiosk.upper() if kiosk else None,
            received_from=_day(params.get("from")), received_to=_day(params.get("to")),
            overdue=params.get("overdue") == "1", anonymous=_yes_no(params.get("anonymous")),
            confidential=_yes_no(params.get("confidential")),
            q=" ".join((params.get("q") or "")[:search.MAX_QUERY_LENGTH].split()),  # as typed; searched by its words
            sort=sort if sort in SORTS else "newest")

    def query(self, *, status: bool = True) -> dict[str, str]:
        """The form's fields for a link to the same view (without the tab, ``status`` or
        ``mark``, for the tabs); the defaults are left out."""
        fields = {"status": self.status if status else None, "mark": self.mark if status else None, "kind": self.kind, "category": self.category,
                  "agency": self.agency, "kecamatan": self.kecamatan, "kiosk": self.kiosk,
                  "from": self.received_from.isoformat() if self.received_from else None,
                  "to": self.received_to.isoformat() if self.received_to else None,
                  "overdue": "1" if self.overdue else None,
                  "anonymous": {True: "yes", False: "no"}.get(self.anonymous),
                  "confidential": {True: "yes", False: "no"}.get(self.confidential),
                  "q": self.q or None, "sort": self.sort if self.sort != "newest" else None}
        return {key: value for key, value in fields.items() if value}

    @property
    def narrowed(self) -> bool:
        """Whether anything but the status narrows the inbox (the form opens then)."""
        return bool(self.query(status=False).keys() - {"sort"})


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight of a local date, in UTC (SQLite compares the stored UTC texts)."""
    return dt.datetime.combine(day, dt.time(), LOCAL_TZ).astimezone(dt.timezone.utc)


def _conditions(filters: Filters, today: dt.date, dialect: str, *, status: bool = True, found=None) -> list:
    """The WHERE terms of ``filters`` (``status`` False: all but the tab, status or mark,
    for the counts; ``found``: the search's term from ``_search``, else the search as a
    subquery)."""
    f = filters
    where = []
    if status and f.status:
        where.append(Report.status == f.status)
    if status and f.mark:
        where.append(MARKS[f.mark].is_not(None))
    for value, col in ((f.kind, Report.kind), (f.category, Report.category_code), (f.agency, Report.agency_code),
                       (f.kecamatan, Report.kecamatan_code), (f.kiosk, Report.kiosk_code),
                       (f.anonymous, Report.anonymous), (f.confidential, Report.confidential)):
        if value is not None:
            where.append(col == value)
    if f.received_from:
        where.append(Report.received_at >= _start_of(f.received_from))
    if f.received_to:
        where.append(Report.received_at < _start_of(f.received_to + dt.timedelta(days=1)))
    if f.overdue:
        where.append(Report.due_on < today)
    if f.q and found is not None:
        where.append(found)
    elif f.q:
        words = search.terms(f.q)
        where.append(Report.tracking_id.in_(search.matching(dialect, words)) if words else false())
    return where


#: Up to this many matches, a search lists them by Tracking ID; beyond, as a subquery.
FEW_MATCHES = 2000


def _search(session, filters: Filters, dialect: str):
    """The search's WHERE term. A rare word's few reports are fetched first and named, so
    the database reads just those; a common word stays a subquery, and walking the newest
    reports finds a page of matches at once. (Handed the subquery, PostgreSQL cannot tell
    how rare a prefix is and may walk every report to find one.)"""
    words = search.terms(filters.q)
    if not words:
        return false()
    few = session.scalars(search.matching(dialect, words).limit(FEW_MATCHES + 1)).all()
    if len(few) <= FEW_MATCHES:
        return Report.tracking_id.in_(few)
    return Report.tracking_id.in_(search.matching(dialect, words))


# -- cursors ---------------------------------------------------------------------------------
def encode_cursor(received_at: dt.datetime, tracking_id: str) -> str:
    """The keyset of a row in the newest-first order."""
    return f"{received_at.astimezone(dt.timezone.utc).isoformat()}~{tracking_id}"


def _encode_due(due_on: dt.date | None, received_at: dt.datetime, tracking_id: str) -> str:
    """The keyset of a row in the deadline order: by due date, then the rows without one,
    newest first."""
    return f"due:{due_on.isoformat()}~{tracking_id}" if due_on else "none:" + encode_cursor(received_at, tracking_id)


def decode_cursor(cursor: str) -> tuple[dt.datetime, str] | None:
    """The keyset in a newest-first ``?after=`` value; None for anything else (the first page)."""
    when, _, tracking_id = cursor.partition("~")
    try:
        at = dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    if at.tzinfo is None or not tracking_id.isalnum() or len(tracking_id) > 14:
        return None
    return at, tracking_id


def _decode_due(cursor: str) -> tuple[str, object, str] | None:
    """("due", date, id) or ("none", received_at, id) of a deadline-order ``?after=``."""
    part, _, rest = cursor.partition(":")
    if part == "due":
        day, _, tracking_id = rest.partition("~")
        due = _day(day)
        if due is None or not tracking_id.isalnum() or len(tracking_id) > 14:
            return None
        return "due", due, tracking_id
    if part == "none":
        keyset = decode_cursor(rest)
        return ("none", *keyset) if keyset else None
    return None


# -- the queries -----------------------------------------------------------------------------
def page_queries(officer: SignedIn, filters: Filters, after: str | None, limit: int, *, today: dt.date,
                 dialect: str, found=None) -> list:
    """The SELECTs of one page, in order: one for newest first; for the deadline order, the
    part with a due date and then the part without (each read only while rows are missing)."""
    base = _visible(select(Report), officer).where(*_conditions(filters, today, dialect, found=found))
    newest = (Report.received_at.desc(), Report.tracking_id.desc())
    if filters.sort == "newest":
        keyset = decode_cursor(after) if after else None
        if keyset is not None:
            base = base.where(tuple_(Report.received_at, Report.tracking_id) < tuple_(*keyset))
        return [base.order_by(*newest).limit(limit)]
    keyset = _decode_due(after) if after else None
    dated = base.where(Report.due_on.is_not(None))
    undated = base.where(Report.due_on.is_(None))
    if keyset is not None and keyset[0] == "due":
        _, due, tracking_id = keyset
        dated = dated.where(or_(Report.due_on > due, and_(Report.due_on == due, Report.tracking_id > tracking_id)))
    elif keyset is not None:
        _, received, tracking_id = keyset
        dated = None
        undated = undated.where(tuple_(Report.received_at, Report.tracking_id) < tuple_(received, tracking_id))
    queries = [] if dated is None else [dated.order_by(Report.due_on, Report.tracking_id).limit(limit)]
    return queries + [undated.order_by(*newest).limit(limit)]


@dataclasses.dataclass(frozen=True)
class InboxRow:
    tracking_id: str
    received_at: dt.datetime
    status: str
    kind: str
    category_code: str
    agency_code: str | None
    kiosk_code: str
    title: str
    anonymous: bool
    confidential: bool
    due_on: dt.date | None = None
    days_late: int = 0  # working days past due_on; 0 when not overdue
    reroute_requested_at: dt.datetime | None = None  # shown to admins only (MARK_ROLES)
    objected_at: dt.datetime | None = None

    @property
    def overdue(self) -> bool:
        return self.days_late > 0


@dataclasses.dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    counts: dict[str, int]  # per status, of what this officer may see with these filters (but the status)
    next_cursor: str | None  # the keyset of the last row, when more follow
    overdue: int = 0  # of what the page's filters show
    marks: dict[str, int] = dataclasses.field(default_factory=dict)  # per mark this officer has a tab for, as counts


def inbox(db: Database, officer: SignedIn, filters: Filters | None = None, *, after: str | None = None,
          page_size: int = PAGE_SIZE, today: dt.date | None = None) -> InboxPage:
    """One page of the inbox after the keyset ``after`` (from ``next_cursor``)."""
    filters = filters or Filters()
    if officer.role == "agency":  # their agency whatever the address says (the form offers no choice)
        filters = dataclasses.replace(filters, agency=None)
    filters = filters.for_role(officer.role)
    today = today or deadlines.today()
    dialect = db.engine.dialect.name
    reports: list[Report] = []
    with db.session() as session:
        found = _search(session, filters, dialect) if filters.q else None
        for query in page_queries(officer, filters, after, page_size + 1, today=today, dialect=dialect, found=found):
            reports += session.scalars(query.limit(page_size + 1 - len(reports))).all()
            if len(reports) > page_size:
                break
        counts, late = _counts(session, officer, filters, today, dialect, found)
        marks = {name: session.scalar(_visible(select(func.count()).select_from(Report), officer).where(
            *_conditions(filters, today, dialect, status=False, found=found), column.is_not(None)))
            for name, column in MARKS.items() if officer.role in MARK_ROLES[name]}
    more = len(reports) > page_size
    reports = reports[:page_size]
    calendar = db.calendar
    rows = [InboxRow(r.tracking_id, r.received_at, r.status, r.kind, r.category_code, r.agency_code, r.kiosk_code,
                     _title(r.body), r.anonymous, r.confidential, r.due_on,
                     deadlines.days_late(r.due_on, today, calendar),
                     r.reroute_requested_at if officer.role in MARK_ROLES["reroute"] else None,
                     r.objected_at) for r in reports]
    cursor = None
    if more:
        last = reports[-1]
        cursor = (encode_cursor(last.received_at, last.tracking_id) if filters.sort == "newest"
                  else _encode_due(last.due_on, last.received_at, last.tracking_id))
    return InboxPage(rows, {s: counts.get(s, 0) for s in STATUSES}, cursor, late, marks)


def _counts(session, officer: SignedIn, filters: Filters, today: dt.date, dialect: str,
            found=None) -> tuple[dict[str, int], int]:
    """The counts per status (all filters but the status) and how many of the listed
    reports are overdue, each read from an index where one covers it."""
    if not filters.narrowed:
        # Two index-only scans: (status, ...) for the counts, (due_on, ..., status) for the overdue.
        counted = _visible(select(Report.status, func.count()).select_from(Report), officer).group_by(Report.status)
        late = _visible(select(func.count()).select_from(Report), officer).where(
            *_conditions(filters, today, dialect, found=found), Report.due_on < today)
        return {name: count for name, count in session.execute(counted)}, session.scalar(late) or 0
    # Narrowed: one pass over the matching rows gives both. Grouped by ``+status`` on SQLite
    # for "overdue only", or its planner would walk the whole status index to skip a sort
    # instead of the small overdue range of (due_on, tracking_id, status).
    group = text("+reports.status") if dialect == "sqlite" and filters.overdue else Report.status
    marked = (MARKS[filters.mark].is_not(None),) if filters.mark else ()  # the overdue of the tab's reports
    overdue = func.sum(case((and_(Report.due_on < today, *marked), 1), else_=0))
    counted = _visible(select(Report.status, func.count(), overdue).select_from(Report), officer) \
        .where(*_conditions(filters, today, dialect, status=False, found=found)).group_by(group)
    counts, late = {}, 0
    for name, count, overdue_count in session.execute(counted):
        counts[name] = count
        late += (overdue_count or 0) if filters.status in (None, name) else 0
    return counts, late


def _title(body: str) -> str:
    try:
        title = json.loads(body).get("title", "")
    except (ValueError, AttributeError):
        return ""
    return title if isinstance(title, str) else ""


def kiosks(db: Database) -> list[tuple[str, str]]:
    """(code, "code · location") of every registered kiosk, for the filter's choices."""
    from central.models import Kiosk

    with db.session() as session:
        return [(k.code, f"{k.code} · {k.location}") for k in session.scalars(select(Kiosk).order_by(Kiosk.code))]
