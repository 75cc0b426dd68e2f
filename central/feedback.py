"""The citizen's answer to the answer (issue 13): objections, ratings and automatic closing.

- An **objection** ("Masalah belum selesai") to an ``answered`` report takes it back to its
  agency: status ``in_progress`` (5 working days again, ``central.deadlines``), with a public
  status event ``objected`` ("Pelapor menyatakan masalah belum selesai": never the text,
  which only officers read, on the report page). A report the central closed by itself is
  reopened too when the objection was filed before that close (a kiosk that was offline
  delivers it later). An objection to a report that is not waiting for the citizen (already
  reopened, or closed by an officer) is kept for the officers and changes nothing.
- A **rating** (1-5) is kept per idempotency key; a report's rating is the latest one
  received (the citizen may change their mind; a retried delivery is the same key, not a
  newer rating).
- Both are recorded once per idempotency key (``FeedbackIn.key``): the same key again with
  the same content is a ``duplicate``; with another content a ``conflict`` (never applied).
- **Automatic closing** (``close_answered``; ``python -m central close-answered`` for cron):
  a report ``answered`` whose 10 working days have passed (``due_on`` before today) with no
  objection since (an objection moves it out of ``answered``) is closed by one conditional
  UPDATE per report, so any number of machines running it at once close each report once.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging

from sqlalchemy import exists, select, update

from central import deadlines
from central.db import Database
from central.lifecycle import follow_original
from central.models import Objection, Rating, Report, ReportEvent
from kiosk.kernel.clock import utc_now
from kiosk.kernel.wire import FeedbackIn

log = logging.getLogger(__name__)

#: Who the events of the citizen and of the scheduled job are by (officers have names).
CITIZEN = "pelapor"
AUTO_CLOSER = "sistem (tutup otomatis)"
#: The public status event of an objection (``kiosk.kernel.timeline.STEP_WORDS``).
OBJECTED = "objected"


class UnknownReport(ValueError):
    """No such report at the central, or it has never been answered: nothing to object to."""


def content_sha256(item: FeedbackIn) -> str:
    """What makes two deliveries of one key the same item (not when it was filed: the
    public page's form, sent twice, is the same objection)."""
    canonical = json.dumps({"kind": item.kind, "tracking_id": item.tracking_id, "text": item.text,
                            "score": item.score}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _answered_once(session, tracking_id: str) -> bool:
    return bool(session.scalar(select(exists().where(
        ReportEvent.tracking_id == tracking_id, ReportEvent.kind == "status", ReportEvent.status == "answered"))))


def take(db: Database, item: FeedbackIn, *, kiosk_code: str | None, now: dt.datetime | None = None) -> str:
    """Record ``item`` once: ``created``, ``duplicate`` or ``conflict``. UnknownReport when
    there is no such report, or it has never been answered. ``kiosk_code`` None: the
    public page."""
    now = now or utc_now()
    digest = content_sha256(item)
    model = Objection if item.kind == "objection" else Rating
    with db.session() as session, session.begin():
        # The report's row lock orders every delivery of one report (a retry arriving on
        # two workers at once, an objection racing the automatic close).
        report = session.get(Report, item.tracking_id, with_for_update=True)
        if report is None:
            raise UnknownReport("no such report")
        held = session.get(model, item.key)
        if held is not None:
            return "duplicate" if held.body_sha256 == digest and held.tracking_id == item.tracking_id else "conflict"
        target = report
        if report.duplicate_of is not None:  # a merged report: its original is what the agency works on
            target = session.get(Report, report.duplicate_of, with_for_update=True) or report
        if not (_answered_once(session, report.tracking_id) or _answered_once(session, target.tracking_id)):
            raise UnknownReport("the report has not been answered")
        filed_at = item.filed_at if item.filed_at.tzinfo else item.filed_at.replace(tzinfo=dt.timezone.utc)
        if item.kind == "rating":
            session.add(Rating(key=item.key, tracking_id=item.tracking_id, kiosk_code=kiosk_code, score=item.score,
                               body_sha256=digest, filed_at=filed_at, received_at=now))
            log.info("rating recorded")
            return "created"
        reopened = _reopen(session, target, filed_at, now, db.calendar)
        session.add(Objection(key=item.key, tracking_id=item.tracking_id, kiosk_code=kiosk_code, text=item.text,
                              body_sha256=digest, filed_at=filed_at, received_at=now, reopened=reopened))
    log.info("objection recorded (%s)", "report reopened" if reopened else "report unchanged")
    return "created"


def held(db: Database, kind: str, key: str, tracking_id: str) -> bool:
    """Is this key already recorded for this report (``kind``: objection or rating)?"""
    model = Objection if kind == "objection" else Rating
    with db.session() as session:
        found = session.get(model, key)
        return found is not None and found.tracking_id == tracking_id


def _reopen(session, report: Report, filed_at: dt.datetime, now: dt.datetime, calendar) -> bool:
    """Back to the agency when the report waits for the citizen (inside the caller's transaction)."""
    if report.status == "closed":
        closed = session.scalars(select(ReportEvent).where(
            ReportEvent.tracking_id == report.tracking_id, ReportEvent.kind == "status")
            .order_by(ReportEvent.at.desc(), ReportEvent.id.desc()).limit(1)).first()
        # Only the automatic close, and only for an objection filed before it.
        if closed is None or closed.status != "closed" or closed.actor != AUTO_CLOSER or filed_at > closed.at:
            return False
    elif report.status != "answered":
        return False
    before, report.status = report.status, "in_progress"
    deadlines.follow(report, before, now, calendar)
    session.add(ReportEvent(tracking_id=report.tracking_id, status=OBJECTED, at=now, actor=CITIZEN, note="",
                            public_reply=None, agency_code=report.agency_code, kind="status"))
    follow_original(session, report, actor=CITIZEN, reply=None, now=now)
    return True


@dataclasses.dataclass(frozen=True)
class Feedback:
    """What officers see on a report page: its objections, newest first, and its rating."""

    objections: list[Objection]
    rating: Rating | None
    ratings: int  # how many times it was rated


def of_report(db: Database, tracking_id: str) -> Feedback:
    with db.session() as session:
        objections = session.scalars(select(Objection).where(Objection.tracking_id == tracking_id)
                                     .order_by(Objection.received_at.desc(), Objection.key)).all()
        ratings = session.scalars(select(Rating).where(Rating.tracking_id == tracking_id)
                                  .order_by(Rating.received_at.desc(), Rating.key.desc())).all()
        session.expunge_all()
    return Feedback(list(objections), ratings[0] if ratings else None, len(ratings))


def close_answered(db: Database, now: dt.datetime | None = None) -> int:
    """Close every report answered more than 10 working days ago with no objection since;
    how many this run closed. Safe on several machines at once: each close is one
    conditional UPDATE (``status = 'answered'`` still), and only the run whose UPDATE
    changed the row writes the ``closed`` event, in the same transaction."""
    now = now or utc_now()
    today = deadlines.today(now)
    due = (Report.status == "answered", Report.due_on < today, Report.duplicate_of.is_(None))
    with db.session() as session:
        candidates = session.scalars(select(Report.tracking_id).where(*due).order_by(Report.due_on, Report.tracking_id)).all()
    closed = 0
    for tracking_id in candidates:
        with db.session() as session, session.begin():
            changed = session.execute(
                update(Report).where(Report.tracking_id == tracking_id, *due)
                .values(status="closed", due_from=None, due_on=None)
                .execution_options(synchronize_session=False)).rowcount
            if changed != 1:
                continue  # closed (or objected to) by someone else meanwhile
            report = session.get(Report, tracking_id)
            session.add(ReportEvent(tracking_id=tracking_id, status="closed", at=now, actor=AUTO_CLOSER, note="",
                                    public_reply=None, agency_code=report.agency_code, kind="status"))
            follow_original(session, report, actor=AUTO_CLOSER, reply=None, now=now)
        closed += 1
    if closed:
        log.info("%d answered reports closed after 10 working days without objection", closed)
    return closed
