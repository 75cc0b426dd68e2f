"""``POST /api/v1/reports``: a kiosk delivers a batch; one result per report, in order.

The Tracking ID is the idempotency key (``central.service.take_report``), so a kiosk may
resend a batch whose answer it never got.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import DataError, IntegrityError

from central import service
from central.deps import INVALID, TOO_LARGE, UNAUTHORIZED, UNREADABLE_BODY, Db, KioskCode
from kiosk.kernel.tracking_id import CANONICAL_LEN
from kiosk.kernel.wire import BatchResult, FieldProblem, ItemResult, ReportBatch, ReportIn

log = logging.getLogger(__name__)

router = APIRouter(tags=["kiosks"])

_REPORT = TypeAdapter(ReportIn)


def _problems(exc: ValidationError) -> list[FieldProblem]:
    return [FieldProblem(field=".".join(str(p) for p in e["loc"]), problem=e["msg"]) for e in exc.errors()]


def _echoed_id(raw: Any) -> str | None:
    """The ``tracking_id`` of a report refused before it was read, as sent when it is a
    short text (anything else, even a number or a list, is not echoed)."""
    sent = raw.get("tracking_id") if isinstance(raw, dict) else None
    return sent if isinstance(sent, str) and len(sent) <= 2 * CANONICAL_LEN else None


def _judged(code: str, raw: Any) -> ReportIn | ItemResult:
    """The report read from ``raw``, or its ``invalid`` result: each report is judged on its
    own, so one bad report does not refuse the batch."""
    try:
        report = _REPORT.validate_python(raw)
    except ValidationError as exc:
        return ItemResult(tracking_id=_echoed_id(raw), outcome="invalid", errors=_problems(exc))
    if report.tracking_id[:4] != code:
        return ItemResult(tracking_id=report.tracking_id, outcome="invalid", errors=[FieldProblem(
            field="tracking_id", problem=f"belongs to kiosk {report.tracking_id[:4]}, not {code}")])
    return report


def _taken(taken: service.IntakeResult) -> ItemResult:
    return ItemResult(tracking_id=taken.tracking_id, outcome=taken.outcome, received_at=taken.received_at)


def _take_one(db, code: str, report: ReportIn) -> ItemResult:
    """One report in a transaction of its own (when its batch's could not be committed)."""
    try:
        return _taken(service.take_report(db, code, report.body()))
    except DataError as exc:
        # A value the database cannot hold that validation let through: this report's
        # problem, stored nowhere (its own transaction), and no reason to refuse the others.
        # A lost connection is not a DataError: that still fails the batch, to be resent.
        log.error("report %s refused by the database: %s", report.tracking_id, type(exc.orig).__name__)
        return ItemResult(tracking_id=report.tracking_id, outcome="invalid", errors=[FieldProblem(
            field="", problem="the central's database cannot store a value of this report")])


@router.post("/api/v1/reports", response_model=BatchResult, responses={**UNREADABLE_BODY, **UNAUTHORIZED, **TOO_LARGE, **INVALID})
def intake(batch: ReportBatch, code: KioskCode, db: Db) -> BatchResult:
    """Store each report once: ``created``, ``duplicate``, ``conflict`` or ``invalid``.

    The valid reports of a batch are stored in one transaction (``service.take_reports``);
    should the database refuse it (another worker stored one of them meanwhile, or one holds
    a value the database cannot), they are taken again one at a time, each judged alone.
    Without a recording or an SMS consent a report's body is what it was before either
    existed: the same report resent by an updated kiosk is a duplicate, not a conflict."""
    judged = [_judged(code, raw) for raw in batch.reports]
    valid = [item for item in judged if isinstance(item, ReportIn)]
    try:
        taken = iter([_taken(t) for t in service.take_reports(db, code, [report.body() for report in valid])])
    except (IntegrityError, DataError) as exc:
        log.info("a batch of %d reports is taken one at a time: %s", len(valid), type(exc.orig).__name__)
        taken = iter([_take_one(db, code, report) for report in valid])
    results = [next(taken) if isinstance(item, ReportIn) else item for item in judged]
    log.info("kiosk %s sent %d reports", code, len(results))
    return BatchResult(results=results)
