"""``/open311/v2/``: Open311 GeoReport v2, so other systems can read and file reports.

Every method answers in the format its path ends with (``.json`` or ``.xml``; another is a
404 in XML, the format every server must speak), UTF-8. Errors are the spec's list of
``code`` and ``description`` with the HTTP status: 400 bad or missing input, 403 a missing,
unknown or revoked ``api_key`` on ``POST requests``, 404 an unknown service, request or
token (a confidential report is unknown here), 413 a body past FORM_MAX_BYTES, 429 over the
client's rate limit (with ``Retry-After``).

A request's ``service_request_id`` is the report's public Open311 id, never its Tracking ID
(the receipt holder's secret: docs/TRACKING_ID.md); a Tracking ID asked for is a 404 as an
unknown ID is. Only the answer to ``POST requests`` tells its client the Tracking ID, in
``service_notice`` (``central.open311_intake``).

The GET methods count against the client address's bucket of the public status page
(``central.deps.Limits.public``: 30 lookups a burst, 30 a minute, in the database), a list
of IDs one lookup per ID, so they cost the central no more than the public page may.
``POST requests`` needs a client's key
(``python -m central open311-client add NAME``). The spec, not /openapi.json, describes
these methods (docs/ARCHITECTURE.md, "Open311 GeoReport v2").
"""
from __future__ import annotations

import math
import urllib.parse

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from central import open311, open311_format, open311_intake
from central.deps import PUBLIC_BURST, Db
from central.open311 import FORMATS, Open311Error
from central.web import client_address
from kiosk.kernel.clock import utc_now

router = APIRouter(prefix="/open311/v2", include_in_schema=False)

#: ``POST requests``' body: a description of 4,000 characters percent-encoded (up to 12
#: bytes each) and the rest of the fields, with room to spare.
FORM_MAX_BYTES = 64 * 1024
FORM_MAX_FIELDS = 64
#: An XML or JSON answer opened in a browser may load nothing and be framed nowhere.
HEADERS = {"Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'"}


def _answer(kind: str, document, fmt: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content, media_type = open311_format.encode(kind, document, fmt)
    return Response(content, status_code=status, media_type=media_type, headers={**HEADERS, **(headers or {})})


def _error(fmt: str, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    return _answer("errors", open311_format.errors(status, description), fmt if fmt in FORMATS else "xml", status,
                   headers)


def _unknown_format(fmt: str) -> Response | None:
    if fmt in FORMATS:
        return None
    return _error("xml", 404, "no such format: .xml or .json")


def _over_limit(request: Request, fmt: str, lookups: int = 1) -> Response | None:
    """429 when the client's address has no lookups left (``lookups`` of them at once)."""
    wait = request.app.state.limits.public.take(client_address(request), lookups)
    if not wait:
        return None
    return _error(fmt, 429, "too many lookups: try again later", {"Retry-After": str(max(1, math.ceil(wait)))})


def _refused(request: Request, fmt: str, lookups: int = 1) -> Response | None:
    """The answer to give instead of the method's: an unknown format, or over the limit."""
    unknown = _unknown_format(fmt)
    return unknown if unknown is not None else _over_limit(request, fmt, lookups)


def _endpoint_url(request: Request) -> str:
    return str(request.base_url) + "open311/v2/"


@router.get("/discovery.{fmt}")
def discovery(request: Request, fmt: str) -> Response:
    refused = _refused(request, fmt)
    return refused if refused is not None else _answer("discovery", open311.discovery(_endpoint_url(request)), fmt)


@router.get("/services.{fmt}")
def services(request: Request, fmt: str, db: Db) -> Response:
    refused = _refused(request, fmt)
    return refused if refused is not None else _answer("services", open311.services(open311.reference(db)), fmt)


@router.get("/services/{service_code}.{fmt}")
def service_definition(request: Request, service_code: str, fmt: str, db: Db) -> Response:
    refused = _refused(request, fmt)
    if refused is not None:
        return refused
    definition = open311.service_definition(open311.reference(db), service_code)
    if definition is None:
        return _error(fmt, 404, "service_code: no such service (GET services lists them)")
    return _answer("service_definition", definition, fmt)


async def _form(request: Request) -> list[tuple[str, str]]:
    """The fields of a form-encoded body, read up to FORM_MAX_BYTES (the route takes no
    body of FastAPI's, so ``central.guard`` leaves the cap to this)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise Open311Error(400, "the body must be application/x-www-form-urlencoded")
    announced = request.headers.get("content-length", "")
    too_large = Open311Error(413, f"request body larger than {FORM_MAX_BYTES} bytes")
    if announced.isdigit() and int(announced) > FORM_MAX_BYTES:
        raise too_large
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_MAX_BYTES:
            raise too_large
    try:
        return urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                                      encoding="utf-8", errors="strict", max_num_fields=FORM_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise Open311Error(400, f"the body is not a form of at most {FORM_MAX_FIELDS} UTF-8 fields") from None


@router.post("/requests.{fmt}")
async def file_request(request: Request, fmt: str, db: Db) -> Response:
    """File a request as a report (``central.open311_intake``): the key first (403), then
    what was asked (400, 404 an unknown service)."""
    refused = _unknown_format(fmt)
    if refused is not None:
        return refused
    try:
        pairs = await _form(request)
        keys = [value.strip() for name, value in pairs if name == "api_key"]
        client = await run_in_threadpool(open311.client_of, db, keys[0]) if len(keys) == 1 else None
        if client is None:
            return _error(fmt, 403, "api_key is missing, unknown or revoked")
        fields, attributes = open311_intake.read_fields(pairs)
        filed = await run_in_threadpool(lambda: open311_intake.file_request(
            db, client, fields, attributes, issuer=request.app.state.open311_issuer))
    except Open311Error as exc:
        return _error(fmt, exc.status, exc.description)
    return _answer("service_requests", [filed.answer()], fmt)


@router.get("/requests.{fmt}")
def list_requests(request: Request, fmt: str, db: Db) -> Response:
    """The reports the filters ask for, newest first: never a confidential one."""
    refused = _unknown_format(fmt)
    if refused is not None:
        return refused
    try:
        query = open311.Query.from_params(request.query_params, now=utc_now(), max_ids=PUBLIC_BURST)
    except Open311Error as exc:
        return _error(fmt, exc.status, exc.description)
    limited = _over_limit(request, fmt, query.lookups)
    return limited if limited is not None else _answer("service_requests", open311.requests_matching(db, query), fmt)


def _one(fmt: str, found: dict | None, parameter: str, noun: str) -> Response:
    """A list of one request, or the spec's 404 naming the parameter that found nothing."""
    if found is None:
        return _error(fmt, 404, f"{parameter}: no such {noun}")
    return _answer("service_requests", [found], fmt)


@router.get("/requests/{service_request_id}.{fmt}")
def show_request(request: Request, service_request_id: str, fmt: str, db: Db) -> Response:
    """One report as a request, by its public id; 404 when unknown, confidential or no
    public id at all, a Tracking ID included (the same answer)."""
    refused = _refused(request, fmt)
    return refused if refused is not None else _one(fmt, open311.request_shown(db, service_request_id),
                                                     "service_request_id", "request")


@router.get("/tokens/{token}.{fmt}")
def token(request: Request, token: str, fmt: str, db: Db) -> Response:
    """The request a token was given with (``POST requests`` answers both at once)."""
    refused = _refused(request, fmt)
    return refused if refused is not None else _one(fmt, open311.token_request(db, token), "token", "token")
