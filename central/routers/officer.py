"""``POST /api/v1/officer/reports/{tracking_id}/actions`` (an officer's token): move a
report through its lifecycle under the same rules as the workbench's pages
(``central.actions``): the token's officer is the actor, their role says which actions
they may take, and an agency officer's token reaches only the reports with their agency."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from central import actions
from central.deps import (FORBIDDEN, INVALID, MALFORMED_ID_OR_BODY, NOT_FOUND, TOO_LARGE, UNAUTHORIZED, WRONG_TRANSITION, Db,
                          OfficerName, TrackingIdPath, canonical_or_400)
from central.lifecycle import ACTIONS
from kiosk.kernel.wire import CODE_MAX, NOTE_MAX, Line, Lines

router = APIRouter(tags=["officers"])

#: A refusal's reason in words (``central.actions.Refused.detail``); others are the lifecycle's own.
DETAILS = {
    "agency": "this action needs an agency",
    "reply": "this action needs a reply (the text the citizen will read)",
    "reason": "a re-route needs a reason (note)",
    "same_agency": "the report is already with this agency",
    "too_long": f"a text has at most {actions.TEXT_MAX} characters",
}


class OfficerAction(BaseModel):
    """One lifecycle step an officer takes (``central.lifecycle.ACTIONS``)."""

    action: Line = Field(description=", ".join(ACTIONS) + "; admin: " + ", ".join(actions.ROLE_ACTIONS["admin"])
                         + "; agency: " + ", ".join(actions.ROLE_ACTIONS["agency"]))
    note: Lines = Field(default="", max_length=NOTE_MAX, description="internal: never shown to the citizen; "
                        "required for reroute (the reason)")
    reply: Lines | None = Field(default=None, max_length=NOTE_MAX, description="what the citizen may read")
    agency: Line | None = Field(default=None, max_length=CODE_MAX)


class OfficerActionResult(BaseModel):
    """The report and where it is now."""

    tracking_id: str
    status: str = Field(description="the report's new status")


@router.post("/api/v1/officer/reports/{tracking_id}/actions", response_model=OfficerActionResult,
             responses={**MALFORMED_ID_OR_BODY, **UNAUTHORIZED, **FORBIDDEN, **NOT_FOUND, **WRONG_TRANSITION, **TOO_LARGE,
                        **INVALID})
def officer_action(tracking_id: TrackingIdPath, body: OfficerAction, name: OfficerName, db: Db,
                   request: Request) -> OfficerActionResult:
    """403 when the officer's role may not take the action; 404 for an unknown report and for
    one an agency officer may not see; 409 with the reason when the action does not apply
    (wrong state, missing agency, reply or reason, a duplicate that follows its original)."""
    canonical = canonical_or_400(tracking_id)
    officer = actions.api_officer(db, name)
    try:
        status = actions.act(db, officer, canonical, body.action, note=body.note, reply=body.reply, agency=body.agency,
                             address=(request.client.host if request.client else "?")[:64])
    except actions.Refused as refused:
        if refused.why == "role":
            raise HTTPException(status_code=403,
                                detail=f"role {officer.role} may not {body.action}; it may: "
                                       + (", ".join(actions.ROLE_ACTIONS[officer.role]) or "nothing")) from None
        if refused.why == "not_found":
            raise HTTPException(status_code=404, detail="not found") from None
        if refused.why == "merged":
            raise HTTPException(status_code=409, detail=f"this report is a duplicate of {refused.detail or 'another'}: "
                                                        "its status follows that report") from None
        raise HTTPException(status_code=409, detail=DETAILS.get(refused.detail, refused.detail or refused.why)) from None
    return OfficerActionResult(tracking_id=canonical, status=status)
