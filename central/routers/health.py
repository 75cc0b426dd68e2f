"""``GET /healthz``: for a load balancer or a technician, no token."""
from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import text

from central.deps import Db
from kiosk.kernel.wire import Problem

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The service and its database answer."""

    status: Literal["ok"]


@router.get("/healthz", response_model=Health, responses={
    503: {"model": Problem, "description": 'The database does not answer: `{"detail": "database unreachable"}`'}})
def healthz(db: Db) -> Health:
    """The service answers and its database too."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - reported as unhealthy, never a traceback
        log.error("health check: database unreachable: %s", type(exc).__name__)
        raise HTTPException(status_code=503, detail="database unreachable") from None
    return Health(status="ok")
