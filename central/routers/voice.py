"""``PUT /api/v1/reports/{tracking_id}/voice``: a kiosk uploads a report's recorded
complaint (Ogg Opus, ``Content-Type: audio/ogg``), after the report, with the body's
SHA-256 in ``X-Content-SHA256`` (``central.voice``).

The body is raw bytes, not JSON: the token is checked (the route's dependency) before a
byte of it is read, and at most ``VOICE_MAX_BYTES`` are read (413 past it, announced or sent).
"""
from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from central import voice
from central.deps import MALFORMED_ID, NOT_FOUND, UNAUTHORIZED, Db, KioskCode, TrackingIdPath, canonical_or_400
from kiosk.kernel.wire import SHA256_PATTERN, VOICE_CONTENT_TYPE, VOICE_MAX_BYTES, VOICE_SHA256_HEADER, Problem, VoiceResult

router = APIRouter(tags=["kiosks"])

_SHA256 = re.compile(SHA256_PATTERN)
_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Malformed Tracking ID or hash header; a body whose SHA-256 is not the "
                                           "header's, or that is no Ogg stream"},
    403: {"model": Problem, "description": "The report belongs to another kiosk"},
    409: {"model": Problem, "description": "The report already has another recording, or announced another"},
    413: {"model": Problem, "description": f"The body is larger than {VOICE_MAX_BYTES} bytes (announced or sent)"},
    415: {"model": Problem, "description": f"The body is not `{VOICE_CONTENT_TYPE}`"},
}


async def _body(request: Request) -> bytes:
    """The body, read up to the cap (413 as soon as it is announced or sent larger)."""
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > VOICE_MAX_BYTES:
        raise HTTPException(status_code=413, detail=f"request body larger than {VOICE_MAX_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > VOICE_MAX_BYTES:
            raise HTTPException(status_code=413, detail=f"request body larger than {VOICE_MAX_BYTES} bytes")
    return bytes(body)


@router.put("/api/v1/reports/{tracking_id}/voice", response_model=VoiceResult,
            responses={**MALFORMED_ID, **UNAUTHORIZED, **NOT_FOUND, **_REFUSALS})
async def put_voice(request: Request, tracking_id: TrackingIdPath, code: KioskCode, db: Db,
                    sha256: Annotated[str, Header(alias=VOICE_SHA256_HEADER)] = "") -> VoiceResult:
    """Keep the recording once: the same bytes again get the same answer (200)."""
    canonical = canonical_or_400(tracking_id)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != VOICE_CONTENT_TYPE:
        raise HTTPException(status_code=415, detail=f"expected {VOICE_CONTENT_TYPE}")
    if not _SHA256.match(sha256):
        raise HTTPException(status_code=400, detail=f"{VOICE_SHA256_HEADER}: 64 lower-case hex digits expected")
    content = await _body(request)
    try:
        return await run_in_threadpool(voice.take_voice, db, code, canonical, content, sha256)
    except voice.VoiceRefused as exc:
        raise HTTPException(status_code=exc.status, detail=exc.detail) from None
