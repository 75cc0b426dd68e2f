"""``GET /api/v1/reports/{tracking_id}/status``: what any kiosk may show about a report
(a citizen at another kiosk holds the receipt). Rate limited per kiosk."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException

from central import service
from central.deps import (MALFORMED_ID, NOT_FOUND, RATE_LIMITED, UNAUTHORIZED, Db, TrackingIdPath, canonical_or_400,
                          kiosk_lookup)
from kiosk.kernel.wire import StatusOut

router = APIRouter(tags=["kiosks"])


@router.get("/api/v1/reports/{tracking_id}/status", response_model=StatusOut, dependencies=[Depends(kiosk_lookup)],
            responses={**MALFORMED_ID, **UNAUTHORIZED, **NOT_FOUND, **RATE_LIMITED})
def report_status(tracking_id: TrackingIdPath, db: Db) -> StatusOut:
    """Never the reporter's identity; no title when the report is confidential."""
    found = service.public_status(db, canonical_or_400(tracking_id))
    if found is None:
        raise HTTPException(status_code=404, detail="not found")
    return found
