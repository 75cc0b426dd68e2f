"""``POST /api/v1/feedback``: a kiosk delivers the citizens' objections and ratings; one
result per item, in order. The item's ``key`` is the idempotency key
(``central.feedback.take``), so a kiosk may resend a batch whose answer it never got."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import DataError

from central import feedback
from central.deps import INVALID, TOO_LARGE, UNAUTHORIZED, UNREADABLE_BODY, Db, KioskCode
from kiosk.kernel.wire import FeedbackBatch, FeedbackBatchResult, FeedbackIn, FeedbackResult, FieldProblem, is_feedback_key

log = logging.getLogger(__name__)

router = APIRouter(tags=["kiosks"])

_ITEM = TypeAdapter(FeedbackIn)


def _echoed_key(raw: Any) -> str | None:
    sent = raw.get("key") if isinstance(raw, dict) else None
    return sent if isinstance(sent, str) and is_feedback_key(sent) else None


def _take_one(db, code: str, raw: Any) -> FeedbackResult:
    try:
        item = _ITEM.validate_python(raw)
    except ValidationError as exc:
        return FeedbackResult(key=_echoed_key(raw), outcome="invalid", errors=[
            FieldProblem(field=".".join(str(p) for p in e["loc"]), problem=e["msg"]) for e in exc.errors()])
    try:
        outcome = feedback.take(db, item, kiosk_code=code)
    except feedback.UnknownReport as exc:
        return FeedbackResult(key=item.key, outcome="invalid", errors=[FieldProblem(field="tracking_id", problem=str(exc))])
    except DataError as exc:
        log.error("feedback refused by the database: %s", type(exc.orig).__name__)
        return FeedbackResult(key=item.key, outcome="invalid", errors=[FieldProblem(
            field="", problem="the central's database cannot store a value of this item")])
    return FeedbackResult(key=item.key, outcome=outcome)


@router.post("/api/v1/feedback", response_model=FeedbackBatchResult,
             responses={**UNREADABLE_BODY, **UNAUTHORIZED, **TOO_LARGE, **INVALID})
def intake(batch: FeedbackBatch, code: KioskCode, db: Db) -> FeedbackBatchResult:
    """Record each objection or rating once: ``created``, ``duplicate``, ``conflict`` or ``invalid``."""
    results = [_take_one(db, code, raw) for raw in batch.items]
    log.info("kiosk %s sent %d feedback items", code, len(results))
    return FeedbackBatchResult(results=results)
