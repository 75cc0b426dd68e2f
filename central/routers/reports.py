"""``POST /api/v1/reports``: a kiosk delivers a batch; one result per report, in order.

The Tracking ID is the idempotency key (``central.service.take_report``), so a kiosk may
resend a batch whose answer it never got.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import DataError

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


def _take_one(db, code: str, raw: Any) -> ItemResult:
    """Each report is judged on its own: one bad report does not refuse the batch."""
    try:
        report = _REPORT.validate_python(raw)
    except ValidationError as exc:
        return ItemResult(tracking_id=_echoed_id(raw), outcome="invalid", errors=_problems(exc))
    if report.tracking_id[:4] != code:
        return ItemResult(tracking_id=report.tracking_id, outcome="invalid", errors=[FieldProblem(
            field="tracking_id", problem=f"belongs to kiosk {report.tracking_id[:4]}, not {code}")])
    try:
        # Without a recording or an SMS consent the body is what it was before either
        # existed: the same report resent by an updated kiosk is a duplicate, not a conflict.
        taken = service.take_report(db, code, report.body())
    except DataError as exc:
        # A value the database cannot hold that validation let through: this report's
        # problem, stored nowhere (its own transaction), and no reason to refuse the others.
        # A lost connection is not a DataError: that still fails the batch, to be resent.
        log.error("report %s refused by the database: %s", report.tracking_id, type(exc.orig).__name__)
        return ItemResult(tracking_id=report.tracking_id, outcome="invalid", errors=[FieldProblem(
            field="", problem="the central's database cannot store a value of this report")])
    return ItemResult(tracking_id=taken.tracking_id, outcome=taken.outcome, received_at=taken.received_at)


@router.post("/api/v1/reports", response_model=BatchResult, responses={**UNREADABLE_BODY, **UNAUTHORIZED, **TOO_LARGE, **INVALID})
def intake(batch: ReportBatch, code: KioskCode, db: Db) -> BatchResult:
    """Store each report once: ``created``, ``duplicate``, ``conflict`` or ``invalid``."""
    results = [_take_one(db, code, raw) for raw in batch.reports]
    log.info("kiosk %s sent %d reports", code, len(results))
    return BatchResult(results=results)
