"""``GET /api/v1/fleet`` (an officer's token): every kiosk with its latest heartbeat and
flags, as ``python -m central kiosks --json`` prints them."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from central import fleet
from central.deps import INVALID, UNAUTHORIZED, Db, OfficerName
from kiosk.kernel.wire import IsoDatetime

router = APIRouter(tags=["officers"])


class FleetKiosk(BaseModel):
    """One row of ``central.fleet.fleet``: ages as of ``at``; None until a first heartbeat."""

    code: str
    location: str
    revoked: bool
    last_heard_at: str | None
    last_heard_age_s: float | None
    version: str | None
    queue_depth: int
    failed: int
    oldest_waiting_age_s: float | None
    last_sync_age_s: float | None
    printer_kind: str | None
    printer: str | None
    paper: str | None
    camera: str | None
    disk_free_bytes: int | None
    disk_total_bytes: int | None
    clock_offset_s: float | None
    help_called_age_s: float | None = None  # a citizen asked for staff this long ago (flag HELP)
    flags: list[str]


class FleetOut(BaseModel):
    """The fleet as of ``at`` (the central's clock)."""

    at: IsoDatetime
    needs_attention: bool
    kiosks: list[FleetKiosk]


@router.get("/api/v1/fleet", response_model=FleetOut, responses={**UNAUTHORIZED, **INVALID})
def fleet_view(name: OfficerName, db: Db,
               silent_after_min: Annotated[float, Query(gt=0, le=10080)] = 15,
               backed_up_after_min: Annotated[float, Query(gt=0, le=10080)] = 60,
               max_queue: Annotated[int, Query(ge=0)] = 50,
               low_disk_mb: Annotated[int, Query(ge=0)] = 1024) -> FleetOut:
    """``needs_attention``: a kiosk in service has a flag (the CLI then exits 1)."""
    thresholds = fleet.Thresholds(silent_after_s=silent_after_min * 60, backed_up_after_s=backed_up_after_min * 60,
                                  max_queue=max_queue, low_disk_bytes=low_disk_mb * 1024 * 1024)
    now = fleet.utc_now()
    kiosks = fleet.fleet(db, now, thresholds)
    return FleetOut(at=now, needs_attention=fleet.needs_attention(kiosks), kiosks=kiosks)
