"""The HTTP API kiosks sync to (FastAPI). Stateless: every request reads the database, so
several workers or machines can serve one PostgreSQL database behind a load balancer.

Contract (also in docs/ARCHITECTURE.md and /openapi.json):
- ``POST /api/v1/reports``: ``{"reports": [...]}`` (1 to 500); one result per report:
  ``created``, ``duplicate`` (same body again: same result), ``conflict`` (a different
  body under an existing Tracking ID: recorded, never applied) or ``invalid`` (with the
  field and the reason).
- ``GET /api/v1/reference``: categories, agencies, kecamatan with an ETag; 304 when the
  kiosk's ``If-None-Match`` is current.
- ``GET /api/v1/reports/{tracking_id}/status``: what the citizen may see.
- ``GET /healthz``: ``{"status": "ok"}`` when the service and its database answer, else 503.
- ``POST /api/v1/heartbeat``: the kiosk's machine state (``central.fleet.HeartbeatIn``),
  kept as its latest; ``GET /api/v1/fleet`` (officer token): every kiosk with flags.
Every kiosk request carries ``Authorization: Bearer <token>``; a wrong or revoked token
gets 401.
"""

import datetime as dt
import logging
import math
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator

from central import fleet, service
from central.ratelimit import RateLimiter
from central.db import Database

log = logging.getLogger(__name__)

MAX_BATCH = 500
#: Status lookups per client (docs/TRACKING_ID.md shows why these make guessing impractical).
PUBLIC_PER_MINUTE, PUBLIC_BURST = 30, 30
KIOSK_PER_MINUTE, KIOSK_BURST = 600, 600


class ReportIn(BaseModel):
    """One report as a kiosk sends it."""

    model_config = {"extra": "forbid"}

    tracking_id: str
    kind: Literal["pengaduan", "aspirasi", "permintaan_informasi"]
    category_code: str = Field(min_length=1, max_length=64)
    agency_code: str | None = Field(default=None, max_length=64)
    title: str = Field(min_length=1, max_length=150)
    description: str = Field(min_length=1, max_length=4000)
    incident_date: dt.date
    kecamatan_code: str = Field(min_length=1, max_length=64)
    location_text: str = Field(default="", max_length=200)
    reporter_name: str = Field(default="", max_length=100)
    reporter_phone: str = Field(default="", max_length=20)
    anonymous: bool
    confidential: bool
    language: Literal["id", "en"]
    created_at: dt.datetime

    @field_validator("tracking_id")
    @classmethod
    def _valid_tracking_id(cls, value: str) -> str:
        from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

        try:
            canonical = parse_tracking_id(value)
        except TrackingIdError as exc:
            raise ValueError(str(exc)) from None
        if canonical != value:
            raise ValueError("tracking id must be sent in canonical form (14 symbols, upper case, no dashes)")
        return value


class Batch(BaseModel):
    reports: list[dict] = Field(min_length=1, max_length=MAX_BATCH)


class ItemResult(BaseModel):
    tracking_id: str | None
    outcome: Literal["created", "duplicate", "conflict", "invalid"]
    received_at: dt.datetime | None = None
    errors: list[dict] = []


class BatchResult(BaseModel):
    results: list[ItemResult]


class OfficerAction(BaseModel):
    action: str = Field(description="verify, forward, reroute, start, answer, close, postpone, reject, archive")
    note: str = Field(default="", max_length=4000)
    reply: str | None = Field(default=None, max_length=4000)
    agency: str | None = Field(default=None, max_length=64)


_REPORT = TypeAdapter(ReportIn)


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


def create_app(database_url: str) -> FastAPI:
    """The app for one database (migrated here, so a fresh database just works)."""
    from central.db import migrate

    db = Database(database_url)
    migrate(db.engine)
    app = FastAPI(title="SP4N LAPOR! kiosk central service", version="1")
    app.state.db = db

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own 422, except that a NaN in the input is quoted as text."""
        return JSONResponse(status_code=422, content={"detail": _json_safe(jsonable_encoder(exc.errors()))})

    def bearer(authorization: str | None, check, who: str) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        name = check(db, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if name is None:
            raise HTTPException(status_code=401, detail=f"unknown or revoked {who} token",
                                headers={"WWW-Authenticate": "Bearer"})
        return name

    def kiosk_code(authorization: Annotated[str | None, Header()] = None) -> str:
        return bearer(authorization, service.authenticate, "kiosk")

    def officer_name(authorization: Annotated[str | None, Header()] = None) -> str:
        return bearer(authorization, service.authenticate_officer, "officer")

    @app.get("/healthz")
    def healthz() -> dict:
        """For a load balancer or a technician: the service answers and its database too."""
        from sqlalchemy import text

        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - reported as unhealthy, never a traceback
            log.error("health check: database unreachable: %s", type(exc).__name__)
            raise HTTPException(status_code=503, detail="database unreachable") from None
        return {"status": "ok"}

    @app.post("/api/v1/officer/reports/{tracking_id}/actions")
    def officer_action(tracking_id: str, body: OfficerAction, name: Annotated[str, Depends(officer_name)]) -> dict:
        """Move a report (the same as ``python -m central report``); the officer is the actor."""
        from central.lifecycle import LifecycleError, apply
        from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

        try:
            canonical = parse_tracking_id(tracking_id)
        except TrackingIdError as exc:
            raise HTTPException(status_code=400, detail={"field": "tracking_id", "problem": exc.code}) from None
        if service.public_status(db, canonical) is None:
            raise HTTPException(status_code=404, detail="not found")
        try:
            status = apply(db, canonical, body.action, actor=name, note=body.note, reply=body.reply, agency=body.agency)
        except LifecycleError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        return {"tracking_id": canonical, "status": status}

    @app.post("/api/v1/reports", response_model=BatchResult)
    def intake(batch: Batch, code: Annotated[str, Depends(kiosk_code)]) -> BatchResult:
        results = []
        for index, raw in enumerate(batch.reports):
            try:
                report = _REPORT.validate_python(raw)
            except ValidationError as exc:
                errors = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
                results.append(ItemResult(tracking_id=raw.get("tracking_id") if isinstance(raw, dict) else None,
                                          outcome="invalid", errors=errors))
                continue
            if report.tracking_id[:4] != code:
                results.append(ItemResult(tracking_id=report.tracking_id, outcome="invalid", errors=[
                    {"field": "tracking_id", "problem": f"belongs to kiosk {report.tracking_id[:4]}, not {code}"}]))
                continue
            taken = service.take_report(db, code, report.model_dump(mode="json"))
            results.append(ItemResult(tracking_id=taken.tracking_id, outcome=taken.outcome, received_at=taken.received_at))
        log.info("kiosk %s sent %d reports", code, len(results))
        return BatchResult(results=results)

    @app.post("/api/v1/heartbeat")
    def heartbeat(body: fleet.HeartbeatIn, code: Annotated[str, Depends(kiosk_code)]) -> dict:
        """The kiosk's latest machine state, for ``python -m central kiosks``."""
        received_at = fleet.record_heartbeat(db, code, body)
        return {"received_at": received_at.isoformat()}

    @app.get("/api/v1/fleet")
    def fleet_view(name: Annotated[str, Depends(officer_name)],
                   silent_after_min: Annotated[float, Query(gt=0, le=10080)] = 15,
                   backed_up_after_min: Annotated[float, Query(gt=0, le=10080)] = 60,
                   max_queue: Annotated[int, Query(ge=0)] = 50,
                   low_disk_mb: Annotated[int, Query(ge=0)] = 1024) -> dict:
        """Every registered kiosk with its latest heartbeat and flags (as ``python -m central kiosks --json``)."""
        thresholds = fleet.Thresholds(silent_after_s=silent_after_min * 60, backed_up_after_s=backed_up_after_min * 60,
                                      max_queue=max_queue, low_disk_bytes=low_disk_mb * 1024 * 1024)
        now = fleet.utc_now()
        kiosks = fleet.fleet(db, now, thresholds)
        return {"at": now.isoformat(), "needs_attention": fleet.needs_attention(kiosks), "kiosks": kiosks}

    @app.get("/api/v1/reference")
    def reference(request: Request, code: Annotated[str, Depends(kiosk_code)]) -> Response:
        version, body = service.current_reference(db)
        etag = f'"{version}"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(content=body, media_type="application/json", headers={"ETag": etag})

    public_limit = RateLimiter(per_minute=PUBLIC_PER_MINUTE, burst=PUBLIC_BURST)
    kiosk_limit = RateLimiter(per_minute=KIOSK_PER_MINUTE, burst=KIOSK_BURST)

    def limited(limiter: RateLimiter, client: str) -> None:
        wait = limiter.take(client)
        if wait:
            raise HTTPException(status_code=429, detail="too many status lookups",
                                headers={"Retry-After": str(max(1, math.ceil(wait)))})

    @app.get("/status/{tracking_id}", response_class=HTMLResponse)
    def public_page(tracking_id: str, request: Request, lang: str = "id") -> HTMLResponse:
        """The page a receipt's QR code opens on a phone: small, no JavaScript, id/en."""
        from central.public_page import render

        limited(public_limit, request.client.host if request.client else "?")
        lang = lang if lang in ("id", "en") else "id"
        from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

        try:
            canonical = parse_tracking_id(tracking_id)
        except TrackingIdError as exc:
            return HTMLResponse(render(None, lang, tracking_id, problem=exc.code, db=db), status_code=404)
        found = service.public_status(db, canonical)
        return HTMLResponse(render(found, lang, canonical, problem=None if found else "unknown", db=db),
                            status_code=200 if found else 404)

    @app.get("/api/v1/reports/{tracking_id}/status")
    def status(tracking_id: str, code: Annotated[str, Depends(kiosk_code)]) -> dict:
        from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

        limited(kiosk_limit, code)
        try:
            canonical = parse_tracking_id(tracking_id)
        except TrackingIdError as exc:
            raise HTTPException(status_code=400, detail={"field": "tracking_id", "problem": exc.code}) from None
        found = service.public_status(db, canonical)
        if found is None:
            raise HTTPException(status_code=404, detail="not found")
        return found

    return app
