"""``GET /api/v1/reference``: categories, agencies and kecamatan, with an ETag so an
unchanged version costs a kiosk a 304."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from central import service
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


@router.get("/api/v1/reference", response_class=Response, dependencies=[Depends(kiosk_code)], responses={
    200: {"model": ReferenceData, "description": "The current reference data", "headers": _ETAG,
          "content": {"application/json": {}}},
    304: {"description": "`If-None-Match` names the current version: no body", "headers": _ETAG},
    **UNAUTHORIZED})
def reference(request: Request, db: Db) -> Response:
    """The newest reference data; 304 when the kiosk's ``If-None-Match`` is current."""
    version, body = service.current_reference(db)
    etag = f'"{version}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(content=body, media_type="application/json", headers={"ETag": etag})
