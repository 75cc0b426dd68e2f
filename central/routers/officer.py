"""``POST /api/v1/officer/reports/{tracking_id}/actions`` (an officer's token): move a
report through its lifecycle, as ``python -m central report`` does; the officer is the actor."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from central import service
from central.deps import (INVALID, MALFORMED_ID_OR_BODY, NOT_FOUND, TOO_LARGE, UNAUTHORIZED, WRONG_TRANSITION, Db, OfficerName,
                          TrackingIdPath, canonical_or_400)
from central.lifecycle import ACTIONS, LifecycleError, apply
from kiosk.kernel.wire import CODE_MAX, NOTE_MAX, Line, Lines

router = APIRouter(tags=["officers"])


class OfficerAction(BaseModel):
    """One lifecycle step an officer takes (``central.lifecycle.ACTIONS``)."""

    action: Line = Field(description=", ".join(ACTIONS))
    note: Lines = Field(default="", max_length=NOTE_MAX, description="internal: never shown to the citizen")
    reply: Lines | None = Field(default=None, max_length=NOTE_MAX, description="what the citizen may read")
    agency: Line | None = Field(default=None, max_length=CODE_MAX)


class OfficerActionResult(BaseModel):
    """The report and where it is now."""

    tracking_id: str
    status: str = Field(description="the report's new status")


@router.post("/api/v1/officer/reports/{tracking_id}/actions", response_model=OfficerActionResult,
             responses={**MALFORMED_ID_OR_BODY, **UNAUTHORIZED, **NOT_FOUND, **WRONG_TRANSITION, **TOO_LARGE, **INVALID})
def officer_action(tracking_id: TrackingIdPath, body: OfficerAction, name: OfficerName, db: Db) -> OfficerActionResult:
    """409 with the reason when the action does not apply (wrong state, missing agency or reply)."""
    canonical = canonical_or_400(tracking_id)
    if service.public_status(db, canonical) is None:
        raise HTTPException(status_code=404, detail="not found")
    try:
        status = apply(db, canonical, body.action, actor=name, note=body.note, reply=body.reply, agency=body.agency)
    except LifecycleError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return OfficerActionResult(tracking_id=canonical, status=status)
