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

from fastapi import Depends, HTTPException, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from central import service
from central.db import Database
from central.ratelimit import RateLimiter
from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id
from kiosk.kernel.wire import MAX_BODY_BYTES, TRACKING_ID_PATTERN, Problem

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


@dataclasses.dataclass(frozen=True)
class TokenCheck:
    """Who a kind of token names (``holder``: None for an unknown or revoked token)."""

    who: str
    holder: Callable[[Database, str], str | None]


KIOSK_TOKEN = TokenCheck("kiosk", service.authenticate)
OFFICER_TOKEN = TokenCheck("officer", service.authenticate_officer)


def unauthorized_detail(who: str) -> str:
    return f"unknown or revoked {who} token"


def _holder(db: Database, credentials: HTTPAuthorizationCredentials | None, check: TokenCheck) -> str:
    token = credentials.credentials.strip() if credentials is not None else ""
    name = check.holder(db, token) if token else None
    if name is None:
        raise HTTPException(status_code=401, detail=unauthorized_detail(check.who),
                            headers={"WWW-Authenticate": "Bearer"})
    return name


def kiosk_code(db: Db, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_kiosk_bearer)]) -> str:
    """The code of the kiosk whose valid, unrevoked token came with the request; else 401."""
    return _holder(db, credentials, KIOSK_TOKEN)


def officer_name(db: Db, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_officer_bearer)]) -> str:
    """The name of the officer whose valid, unrevoked token came with the request; else 401."""
    return _holder(db, credentials, OFFICER_TOKEN)


KioskCode = Annotated[str, Depends(kiosk_code)]
OfficerName = Annotated[str, Depends(officer_name)]

#: The bearer dependencies and what they check, for ``central.guard`` (which checks the
#: token from the headers before anything reads the body).
TOKEN_CHECKS: dict[Callable[..., Any], TokenCheck] = {kiosk_code: KIOSK_TOKEN, officer_name: OFFICER_TOKEN}


def token_check_of(route: APIRoute) -> TokenCheck | None:
    """The token a route requires (found among its dependencies, nested ones too); None: public."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call in TOKEN_CHECKS:
            return TOKEN_CHECKS[dependency.call]
        pending.extend(dependency.dependencies)
    return None


# -- rate limits on status lookups --------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Limits:
    """One app's buckets, kept in its database, so they hold across workers and machines
    (central/ratelimit.py)."""

    public: RateLimiter
    kiosk: RateLimiter

    @classmethod
    def default(cls, db: Database) -> "Limits":
        return cls(public=RateLimiter(db, "public", per_minute=PUBLIC_PER_MINUTE, burst=PUBLIC_BURST),
                   kiosk=RateLimiter(db, "kiosk", per_minute=KIOSK_PER_MINUTE, burst=KIOSK_BURST))


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
#: A Tracking ID in a path: its pattern is documented, not enforced here, so a mistyped ID
#: gets the 400 that names its problem (or the public page that says so), not a 422.
TrackingIdPath = Annotated[str, Path(
    description="as printed (`MT01-14D2P-F2DBX`) or canonical; case, spaces and O/I/L for 0/1/1 are tolerated",
    json_schema_extra={"pattern": TRACKING_ID_PATTERN}, examples=["MT01-14D2P-F2DBX"])]


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
#: A body route: FastAPI answers 400 itself when the body cannot be read as JSON at all
#: (e.g. bytes that are not UTF-8), before any model sees it.
UNREADABLE_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": 'The body cannot be read as JSON (e.g. not UTF-8): '
                                           '`{"detail": "There was an error parsing the body"}`'}}
MALFORMED_ID_OR_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": MALFORMED_ID[400]["description"] + "; or a body that cannot be read as JSON"}}
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, unknown or revoked token",
          "headers": {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}}}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "The token's officer may not take this action (its role): "
                                           '`{"detail": "role ... may not ..."}`'}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": 'No such report: `{"detail": "not found"}`'}}
WRONG_TRANSITION: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "The action does not apply to the report as it is now"}}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": InvalidRequest, "description": "The request does not follow the contract"}}
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": Problem, "description": "Too many status lookups", "headers": _RETRY_AFTER}}
#: Any route that takes a body (``central.guard`` answers it, before the route runs).
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": f"The body is larger than {MAX_BODY_BYTES} bytes (announced or sent): "
                                           f'`{{"detail": "request body larger than {MAX_BODY_BYTES} bytes"}}`'}}
