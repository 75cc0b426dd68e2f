"""``GET /api/v1/reference``: categories, agencies and kecamatan, and the kabupaten's own
calendar days, with an ETag so an unchanged version costs a kiosk a 304."""
from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from central import deadlines, service
from central.deps import UNAUTHORIZED, Db, kiosk_code

router = APIRouter(tags=["kiosks"])

_ETAG = {"ETag": {"description": "the reference version, quoted", "schema": {"type": "string"}}}


class ReferenceData(BaseModel):
    """The reference document as published (``central.service.publish_reference``);
    documentation only: the body is served as stored."""

    version: str
    region: str | None = None
    #: ``code``, ``name_id``, ``name_en`` and, optionally, ``usual_agencies``: the codes
    #: of the agencies that usually handle the category (the kiosk shows them first).
    categories: list[dict[str, str | list[str]]]
    agencies: list[dict[str, str]]
    kecamatan: list[dict[str, str]]
    #: The kabupaten's own days on top of Indonesia's holidays and collective leave, in
    #: date order: ``date`` (YYYY-MM-DD), ``working`` (false: a day off; true: a day worked
    #: after all), ``name``. Absent when it has none; kiosks that do not know it ignore it.
    calendar_days: list[dict[str, str | bool]] = []


@router.get("/api/v1/reference", response_class=Response, dependencies=[Depends(kiosk_code)], responses={
    200: {"model": ReferenceData, "description": "The current reference data", "headers": _ETAG,
          "content": {"application/json": {}}},
    304: {"description": "`If-None-Match` names the current version: no body", "headers": _ETAG},
    **UNAUTHORIZED})
def reference(request: Request, db: Db) -> Response:
    """The newest reference data with the kabupaten's calendar days; 304 when the kiosk's
    ``If-None-Match`` is current."""
    version, body = service.current_reference(db)
    days = [day.to_wire() for day in deadlines.stored_days(db)]
    etag = f'"{version}"'
    if days:  # the ETag changes with the days; without any it is the version's, as before them
        digest = hashlib.sha256(service.canonical_json(days).encode()).hexdigest()[:16]
        etag = f'"{version}+{digest}"'
        body = service.canonical_json({**json.loads(body), "calendar_days": days})
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(content=body, media_type="application/json", headers={"ETag": etag})
