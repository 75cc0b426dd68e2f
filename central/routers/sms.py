"""``/sms/``: the HTTP SMS gateways (issue 16, docs/SMS.md): SMSSync and SMS Gateway for
Android, each ``[gateways.NAME]`` of the SMS file at ``/sms/<type>/NAME``.

- ``POST /sms/smssync/NAME``: an SMS the app received (form-encoded ``from``, ``message``,
  ``message_id``, ``secret``, ``sent_timestamp``...), its ``?task=sent`` (which replies to
  send now) and ``?task=result``; ``GET /sms/smssync/NAME?task=send&secret=...``: the
  replies waiting for it. The protocol is ``central.sms_smssync``.
- ``POST /sms/android/NAME``: the app's signed webhook (``X-Signature``, ``X-Timestamp``);
  ``sms:received`` is taken, any other event answered 200 and left. Its replies go out by
  the send worker (``python -m central sms send``, ``central.sms_android``).

Each message goes to ``SmsDesk.take``, which files it once however often the gateway
sends it again. A wrong or missing secret (403) or signature (401) stores nothing; each
refusal counts against the client address's bucket of the public status page
(``central.deps.Limits.public``), and past it the answer is 429, so a secret cannot be
guessed quickly. A name that is no gateway of that type, or no SMS file at all: 404, the
same answer (the router is always mounted: an unconfigured gateway and no SMS channel
look alike from outside).

The gateways' secrets are read when the app starts (this router's lifespan): a wrong
file stops the start. SMSSync puts its secret in the query of its polls, so uvicorn's
access log shows ``secret=[hidden]`` (``central.access_log``). Nothing here logs a number, a
text or a Tracking ID.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import time
import urllib.parse

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from central import sms_android, sms_smssync
from central.sms_android import AndroidGateway, BadEvent
from central.sms_smssync import BadMessage, SmsSyncGateway
from central.web import client_address
from kiosk.kernel.clock import utc_now

log = logging.getLogger(__name__)

#: An SMS, a task report or a webhook (a batch of SMS included) is far below this.
BODY_MAX_BYTES = 256 * 1024
FORM_MAX_FIELDS = 64
#: At most this many uuids of one ``task=sent`` are looked at (the app asks for one poll's).
QUEUED_MAX = 500
#: The adapter of each gateway type served here.
ADAPTERS = {sms_smssync.TYPE: SmsSyncGateway, sms_android.TYPE: AndroidGateway}
HEADERS = {"Cache-Control": "no-store"}


def gateways_of(desk) -> dict[str, object]:
    """Each HTTP gateway of the SMS desk's file, built (its secret files read); ValueError
    naming the file and the table."""
    built: dict[str, object] = {}
    if desk is None:
        return built
    for gateway in desk.config.gateways.values():
        adapter = ADAPTERS.get(gateway.type)
        if adapter is None:
            continue
        try:
            built[gateway.name] = adapter(gateway.name, gateway.settings)
        except ValueError as exc:
            raise ValueError(f"{desk.config.path}: [gateways.{gateway.name}]: {exc}") from None
    return built


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI):
    if not hasattr(app.state, "sms_gateways"):  # built already where the app was made, or here
        app.state.sms_gateways = gateways_of(app.state.db.sms)
    if app.state.sms_gateways:
        log.info("SMS over HTTP: %s", ", ".join(f"{name} ({type(g).__name__})"
                                                  for name, g in app.state.sms_gateways.items()))
    yield


router = APIRouter(prefix="/sms", include_in_schema=False, lifespan=_lifespan)


# -- what both share -----------------------------------------------------------------------------
class _Refused(Exception):
    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status, self.error = status, error


def _gateway(request: Request, name: str, kind: type):
    """The gateway ``name`` when it is of ``kind``; else 404 (no SMS file is no gateway)."""
    gateway = getattr(request.app.state, "sms_gateways", {}).get(name)
    if not isinstance(gateway, kind):
        raise _Refused(404, "no such gateway")
    return gateway


def _refusal(request: Request, status: int, error: str, answer) -> JSONResponse:
    """A refused secret or signature: its answer, or 429 once the client address has
    refused too often (the public status page's bucket)."""
    wait = request.app.state.limits.public.take(client_address(request))
    if wait:
        return JSONResponse(answer("too many refused requests: try again later"), status_code=429,
                            headers={**HEADERS, "Retry-After": str(max(1, math.ceil(wait)))})
    return JSONResponse(answer(error), status_code=status, headers=HEADERS)


async def _body(request: Request) -> bytes:
    """The raw body, up to BODY_MAX_BYTES (these routes take no body of FastAPI's, so
    ``central.guard`` leaves the cap to this)."""
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > BODY_MAX_BYTES:
        raise _Refused(413, f"body larger than {BODY_MAX_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_MAX_BYTES:
            raise _Refused(413, f"body larger than {BODY_MAX_BYTES} bytes")
    return body


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _take(request: Request, messages) -> None:
    desk = request.app.state.db.sms
    for sms in messages:
        desk.take(sms)


# -- SMSSync -------------------------------------------------------------------------------------
def _fields(request: Request, body: bytes) -> dict[str, str]:
    """An incoming SMS's fields: form-encoded (the app's default) or JSON (its other sync
    scheme); the first of a repeated field."""
    try:
        if _media_type(request) == "application/json":
            document = json.loads(body.decode("utf-8"))
            if not isinstance(document, dict):
                raise ValueError("not an object")
            return {k: "" if v is None else str(v) for k, v in document.items()
                    if isinstance(k, str) and not isinstance(v, (dict, list))}
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                                       errors="strict", max_num_fields=FORM_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise _Refused(400, "the body must be a form (or JSON object) of the app's fields, UTF-8") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


def _queued(body: bytes) -> list[str]:
    """The uuids of a ``task=sent`` (``{"queued_messages": [...]}``)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _Refused(400, "the body must be JSON: {\"queued_messages\": [...]}") from None
    queued = document.get("queued_messages") if isinstance(document, dict) else None
    if not isinstance(queued, list):
        raise _Refused(400, "the body must be JSON: {\"queued_messages\": [...]}")
    return [uuid for uuid in queued[:QUEUED_MAX] if isinstance(uuid, str)]


def _approve(request: Request, gateway: SmsSyncGateway, uuids: list[str]) -> list[str]:
    """The uuids the app may send now. With the results API, a reply is recorded as sent
    here and approved only by the ``task=sent`` that recorded it; without, it was recorded
    when a poll gave it, so any uuid we gave is approved."""
    desk, approved = request.app.state.db.sms, []
    for uuid in uuids:
        outgoing_id = gateway.outgoing_id(uuid)
        if outgoing_id is None:
            continue
        if not gateway.settings.results_api or desk.sent(outgoing_id):
            approved.append(uuid)
    if uuids:
        log.info("smssync gateway %s: %d of %d queued replies approved", gateway.name, len(approved), len(uuids))
    return approved


def _replies(request: Request, gateway: SmsSyncGateway) -> list:
    """The replies a poll gives: claimed; without the results API recorded as sent now
    (the app will never say), only those that were still ours to give."""
    desk = request.app.state.db.sms
    replies = desk.due(gateway.name, gateway.settings.batch)
    if not gateway.settings.results_api:
        replies = [r for r in replies if desk.sent(r.id)]
    if replies:
        log.info("smssync gateway %s: %d replies given to the phone", gateway.name, len(replies))
    return replies


@router.post("/smssync/{name}")
async def smssync_post(request: Request, name: str):
    """An SMS the app received; or ``?task=sent`` / ``?task=result`` of the results API."""
    try:
        gateway = _gateway(request, name, SmsSyncGateway)
        task = request.query_params.get("task")
        body = await _body(request)
        if task == "sent":  # the app sends no secret with it: only uuids we gave are approved
            uuids = _queued(body)
            approved = await run_in_threadpool(_approve, request, gateway, uuids)
            return JSONResponse(sms_smssync.approved(approved), headers=HEADERS)
        if task == "result":
            if not gateway.secret_matches(request.query_params.get("secret")):
                return await run_in_threadpool(_refusal, request, 403, "secret: wrong or missing",
                                               sms_smssync.failure)
            return JSONResponse(sms_smssync.success(), headers=HEADERS)  # the results we never ask for
        if task:
            raise _Refused(400, "task: sent or result (or none for an SMS)")
        fields = _fields(request, body)
        if not gateway.secret_matches(fields.get("secret")):
            return await run_in_threadpool(_refusal, request, 403, "secret: wrong or missing", sms_smssync.failure)
        sms = gateway.incoming(fields, now=utc_now())
        await run_in_threadpool(_take, request, [sms])
    except BadMessage as exc:
        return JSONResponse(sms_smssync.failure(str(exc)), status_code=400, headers=HEADERS)
    except _Refused as exc:
        return JSONResponse(sms_smssync.failure(exc.error), status_code=exc.status, headers=HEADERS)
    return JSONResponse(sms_smssync.success(), headers=HEADERS)


@router.get("/smssync/{name}")
def smssync_get(request: Request, name: str):
    """The app's polls: ``?task=send`` (the replies to send), ``?task=result`` (the results
    we want: none)."""
    try:
        gateway = _gateway(request, name, SmsSyncGateway)
    except _Refused as exc:
        return JSONResponse(sms_smssync.failure(exc.error), status_code=exc.status, headers=HEADERS)
    if not gateway.secret_matches(request.query_params.get("secret")):
        return _refusal(request, 403, "secret: wrong or missing", sms_smssync.failure)
    task = request.query_params.get("task")
    if task == "send":
        return JSONResponse(gateway.task_send(_replies(request, gateway)), headers=HEADERS)
    if task == "result":
        return JSONResponse(sms_smssync.approved([]), headers=HEADERS)
    return JSONResponse(sms_smssync.failure("task: send or result"), status_code=400, headers=HEADERS)


# -- SMS Gateway for Android ---------------------------------------------------------------------
def _problem(detail: str) -> dict:
    return {"detail": detail}


@router.post("/android/{name}")
async def android_webhook(request: Request, name: str):
    """One signed event of the app: its SMS taken (once per event id), any other event left."""
    try:
        gateway = _gateway(request, name, AndroidGateway)
        body = await _body(request)
        problem = gateway.signature_problem(body, request.headers.get("x-timestamp"),
                                            request.headers.get("x-signature"), now=time.time())
        if problem is not None:
            refused = await run_in_threadpool(_refusal, request, 401, "X-Signature or X-Timestamp refused", _problem)
            if refused.status_code == 401:
                log.warning("android gateway %s: a webhook refused: %s", name, problem)
            return refused
        event = sms_android.read_event(body)
        messages = sms_android.received_messages(name, event, now=utc_now())
        await run_in_threadpool(_take, request, messages)
    except BadEvent as exc:
        return JSONResponse(_problem(str(exc)), status_code=400, headers=HEADERS)
    except _Refused as exc:
        return JSONResponse(_problem(exc.error), status_code=exc.status, headers=HEADERS)
    return JSONResponse({"taken": len(messages)}, headers=HEADERS)
