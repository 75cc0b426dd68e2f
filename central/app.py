"""The HTTP API kiosks sync to (FastAPI). Stateless: every request reads the database, so
several workers or machines can serve one PostgreSQL database behind a load balancer.

The contract is ``kiosk.kernel.wire`` (the models both sides use) and ``/openapi.json``;
docs/ARCHITECTURE.md ("HTTP contract") tells it in words. Each resource has its router in
``central/routers/``; what they share (database, tokens, rate limits, the 422 answer) is
``central/deps.py``.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from central import access_log, accounts, crypto, deadlines, deps, forwarding_config, open311, service, sms_config
from central.db import Database, migrate
from central.guard import RequestGuard
from kiosk.kernel.tracking_id import normalize_kiosk_code
from kiosk.kernel.wire import MAX_BODY_BYTES
from central.routers import (feedback, fleet, health, heartbeat, officer, open311 as open311_routes, public_status,
                             reference, reports, status, voice, workbench, workbench_actions, workbench_kiosks,
                             workbench_officers, workbench_recap)
from central.routers import sms as sms_routes

ROUTERS = (
    health.router,  # GET  /healthz
    reports.router,  # POST /api/v1/reports
    feedback.router,  # POST /api/v1/feedback
    reference.router,  # GET  /api/v1/reference
    status.router,  # GET  /api/v1/reports/{tracking_id}/status
    voice.router,  # PUT  /api/v1/reports/{tracking_id}/voice
    heartbeat.router,  # POST /api/v1/heartbeat
    fleet.router,  # GET  /api/v1/fleet
    officer.router,  # POST /api/v1/officer/reports/{tracking_id}/actions
    public_status.router,  # GET  /status/{tracking_id}
    workbench.router,  # /workbench/...: the officers' pages (not in /openapi.json)
    workbench_actions.router,  # /workbench/reports/{tracking_id}/act|note|...; /workbench/templates
    workbench_officers.router,  # /workbench/officers...: accounts; /workbench/login/enrol|password
    workbench_recap.router,  # /workbench/recap, /workbench/recap.csv: the leadership's recap and export
    workbench_kiosks.router,  # /workbench/kiosks: the kiosks for the halls' staff, help calls on top
    open311_routes.router,  # /open311/v2/...: Open311 GeoReport v2 (not in /openapi.json: the spec describes it)
    sms_routes.router,  # /sms/smssync|android/{name}: the HTTP SMS gateways (404 without an SMS file)
)


log = logging.getLogger(__name__)


def create_app(database_url: str, *, docs: bool = False, secret_key_file: str | None = None,
               open311_issuer: str = open311.DEFAULT_ISSUER, forwarding_file: str | None = None,
               sms_file: str | None = None) -> FastAPI:
    """The app for one database (migrated here, so a fresh database just works).

    ``open311_issuer``: the central's issuer code of Open311 Tracking IDs, reserved here
    (``central.service.reserve_issuer``: IssuerTaken when a kiosk holds it).

    ``/openapi.json`` is always served (kiosk builders and monitoring read it); the
    browsable ``/docs`` and ``/redoc``, which load scripts from a CDN, only with ``docs``.
    ``secret_key_file``: the key that seals TOTP secrets (``central.crypto``; systemd's
    credential when not given); a file that is given but unusable stops the start.
    ``forwarding_file``: where new reports travel onward (``central.forwarding_config``;
    a wrong file stops the start); None: nothing is forwarded.
    ``sms_file``: the SMS channel (``central.sms_config``; a wrong file, or no secret key
    to seal the numbers with, stops the start); None: the central takes no SMS."""
    access_log.install()  # no Tracking ID, search or secret in uvicorn's access log
    box = crypto.load(secret_key_file)
    db = Database(database_url)
    if forwarding_file:
        db.forwarding = forwarding_config.load(forwarding_file)
    sms_settings = sms_config.load(sms_file) if sms_file else None
    if sms_settings is not None and box is None:
        raise crypto.SecretKeyError(f"an SMS file is given and the numbers must be sealed: {crypto.HOW_TO_CONFIGURE}")
    migrate(db.engine)
    if sms_settings is not None:
        from central.sms import SmsDesk

        service.reserve_issuer(db, sms_settings.issuer, sms_config.CHANNEL, sms_config.ISSUER_LOCATION)
        db.sms = SmsDesk(db, box, sms_settings)
    deadlines.follow_calendar(db, db.calendar)  # the kabupaten's days may have changed since the last start
    open311_issuer = normalize_kiosk_code(open311_issuer)
    service.reserve_issuer(db, open311_issuer, open311.CHANNEL, open311.ISSUER_LOCATION)
    if box is not None:
        sealed = accounts.seal_plain_secrets(db, box)
        if sealed:
            log.info("sealed %d TOTP secrets stored before the central had a secret key", sealed)
    elif accounts.plain_secrets(db):
        log.warning("TOTP secrets are stored unencrypted and no new one can be enrolled: %s", crypto.HOW_TO_CONFIGURE)
    else:
        log.warning("no TOTP can be enrolled: %s", crypto.HOW_TO_CONFIGURE)
    if db.forwarding is not None:
        _warn_unknown_codes(db)
    app = FastAPI(title="SP4N LAPOR! kiosk central service", version="1",
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None)
    app.state.db = db
    app.state.secret_box = box
    app.state.limits = deps.Limits.default(db)
    app.state.open311_issuer = open311_issuer
    app.add_middleware(RequestGuard, routes=[r for router in ROUTERS for r in router.routes], max_body=MAX_BODY_BYTES)
    app.add_exception_handler(RequestValidationError, deps.invalid_request)
    for router in ROUTERS:
        app.include_router(router)
    app.openapi = _declared_responses_only(app)
    return app


def _warn_unknown_codes(db: Database) -> None:
    """A route naming a category or agency the reference data does not know routes nothing."""
    import json

    _, body = service.current_reference(db)
    data = json.loads(body)
    for problem in forwarding_config.unknown_codes(db.forwarding, {c["code"] for c in data["categories"]},
                                                   {a["code"] for a in data["agencies"]}):
        log.warning("forwarding file %s: unknown %s: it matches no report", db.forwarding.path, problem)
    log.info("forwarding new reports to %s", ", ".join(db.forwarding.destinations))


def _declared_responses_only(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI lists a 422 for any route with a parameter, even a plain string that cannot
    fail; here each route's ``responses=`` is the whole truth, so that 422 is dropped
    where the route does not declare it."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for route in (r for router in ROUTERS for r in router.routes):
                if isinstance(route, APIRoute) and route.include_in_schema and 422 not in route.responses:
                    for method in route.methods:
                        schema["paths"][route.path_format][method.lower()]["responses"].pop("422", None)
            for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422 models
                schema.get("components", {}).get("schemas", {}).pop(unused, None)
        return app.openapi_schema

    return openapi
