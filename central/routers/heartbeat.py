"""``POST /api/v1/heartbeat``: a kiosk's machine state, kept as its latest (``central.fleet``)."""
from __future__ import annotations

from fastapi import APIRouter

from central import fleet
from central.deps import INVALID, TOO_LARGE, UNAUTHORIZED, UNREADABLE_BODY, Db, KioskCode
from kiosk.kernel.wire import HeartbeatAck, HeartbeatIn

router = APIRouter(tags=["kiosks"])


@router.post("/api/v1/heartbeat", response_model=HeartbeatAck, responses={**UNREADABLE_BODY, **UNAUTHORIZED, **TOO_LARGE, **INVALID})
def heartbeat(body: HeartbeatIn, code: KioskCode, db: Db) -> HeartbeatAck:
    """The kiosk's latest machine state, for ``python -m central kiosks``."""
    return HeartbeatAck(received_at=fleet.record_heartbeat(db, code, body))
