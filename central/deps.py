"""What the central's routers share: the database, kiosk and officer bearer auth, the rate
limits on status lookups, the Tracking ID check, the 422 answer, and the documented form
of each error answer (``responses=`` fragments), so a route lists exactly what it gives.

Each error is raised in one place here and documented next to it: a route that uses
``KioskCode`` adds ``UNAUTHORIZED`` to its responses, one that calls
``canonical_or_400`` adds ``MALFORMED_ID``, and so on.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from typing import Annotated, Any, Callable

from fastapi import Depends, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from central import service
from central.db import Database
from central.ratelimit import RateLimiter
from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id
from kiosk.kernel.wire import Problem

log = logging.getLogger(__name__)

#: Status lookups per client (docs/TRACKING_ID.md shows why these make guessing impractical).
PUBLIC_PER_MINUTE, PUBLIC_BURST = 30, 30
KIOSK_PER_MINUTE, KIOSK_BURST = 600, 600


# -- the database -------------------------------------------------------------------------
def get_db(request: Request) -> Database:
    """The app's database (``create_app`` puts it on ``app.state``)."""
    return request.app.state.db


Db = Annotated[Database, Depends(get_db)]


# -- bearer tokens ------------------------------------------------------------------------
# auto_error=False: a missing or malformed header gets the same 401 as a wrong token.
_kiosk_bearer = HTTPBearer(auto_error=False, scheme_name="KioskToken",
                           description="the kiosk's token (`python -m central kiosk add`)")
_officer_bearer = HTTPBearer(auto_error=False, scheme_name="OfficerToken",
                             description="a complaint officer's token (`python -m central officer add`)")


def _holder(db: Database, credentials: HTTPAuthorizationCredentials | None,
            check: Callable[[Database, str], str | None], who: str) -> str:
    token = credentials.credentials.strip() if credentials is not None else ""
    name = check(db, token) if token else None
    if name is None:
        raise HTTPException(status_code=401, detail=f"unknown or revoked {who} token",
                            headers={"WWW-Authenticate": "Bearer"})
    return name


def kiosk_code(db: Db, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_kiosk_bearer)]) -> str:
    """The code of the kiosk whose valid, unrevoked token came with the request; else 401."""
    return _holder(db, credentials, service.authenticate, "kiosk")


def officer_name(db: Db, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_officer_bearer)]) -> str:
    """The name of the officer whose valid, unrevoked token came with the request; else 401."""
    return _holder(db, credentials, service.authenticate_officer, "officer")


KioskCode = Annotated[str, Depends(kiosk_code)]
OfficerName = Annotated[str, Depends(officer_name)]


# -- rate limits on status lookups --------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Limits:
    """One app's buckets (in memory, per worker process: see central/ratelimit.py)."""

    public: RateLimiter
    kiosk: RateLimiter

    @classmethod
    def default(cls) -> "Limits":
        return cls(public=RateLimiter(per_minute=PUBLIC_PER_MINUTE, burst=PUBLIC_BURST),
                   kiosk=RateLimiter(per_minute=KIOSK_PER_MINUTE, burst=KIOSK_BURST))


def _take(limiter: RateLimiter, client: str) -> None:
    wait = limiter.take(client)
    if wait:
        raise HTTPException(status_code=429, detail="too many status lookups",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})


def public_lookup(request: Request) -> None:
    """Counts one lookup of the public page against the client's address; 429 when over."""
    _take(request.app.state.limits.public, request.client.host if request.client else "?")


def kiosk_lookup(request: Request, code: KioskCode) -> str:
    """Authenticates the kiosk, then counts one status lookup against it; 429 when over."""
    _take(request.app.state.limits.kiosk, code)
    return code


# -- Tracking IDs in paths ----------------------------------------------------------------
def canonical_or_400(tracking_id: str) -> str:
    """The canonical form of a Tracking ID typed into a path; 400 naming the problem."""
    try:
        return parse_tracking_id(tracking_id)
    except TrackingIdError as exc:
        raise HTTPException(status_code=400, detail={"field": "tracking_id", "problem": exc.code}) from None


# -- 422 ----------------------------------------------------------------------------------
class InvalidField(BaseModel):
    """One reason a request was refused, as FastAPI words it."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class InvalidRequest(BaseModel):
    """The body, query or a field of the request is not what the contract says."""

    detail: list[InvalidField]


def _json_safe(value):
    """NaN and infinities as text: JSON cannot carry them, and a 422 that quotes one
    must not become a 500."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422, except that a NaN in the input is quoted as text."""
    return JSONResponse(status_code=422, content={"detail": _json_safe(jsonable_encoder(exc.errors()))})


# -- how each error answer is documented (``responses=`` of a route) -----------------------
_RETRY_AFTER = {"Retry-After": {"description": "seconds until the next lookup is allowed",
                                "schema": {"type": "integer", "minimum": 1}}}

MALFORMED_ID: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": 'Malformed Tracking ID: `{"detail": {"field": "tracking_id", "problem": ...}}`'}}
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, unknown or revoked token",
          "headers": {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": 'No such report: `{"detail": "not found"}`'}}
WRONG_TRANSITION: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "The action does not apply to the report as it is now"}}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": InvalidRequest, "description": "The request does not follow the contract"}}
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": Problem, "description": "Too many status lookups", "headers": _RETRY_AFTER}}
