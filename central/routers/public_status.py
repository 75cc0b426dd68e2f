"""``GET /status/{tracking_id}``: the page a receipt's QR code opens on a phone (small HTML,
no JavaScript, id/en), no token. Rate limited per client address, so guessing Tracking
IDs stays impractical (docs/TRACKING_ID.md)."""
from __future__ import annotations


from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from central import service
from central.deps import RATE_LIMITED, Db, TrackingIdPath, public_lookup
from central.public_page import headers, render
from kiosk.kernel.i18n import LANGUAGES
from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

router = APIRouter(tags=["citizens"])

_HTML = {"text/html": {"schema": {"type": "string"}}}
_CSP = {"Content-Security-Policy": {"description": "no script, only the page's own style",
                                    "schema": {"type": "string"}}}
# The 429 is JSON on an HTML route: written out, or FastAPI would call it text/html.
_RATE_LIMITED_JSON = {429: {**{k: v for k, v in RATE_LIMITED[429].items() if k != "model"},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}


@router.get("/status/{tracking_id}", response_class=HTMLResponse, dependencies=[Depends(public_lookup)], responses={
    200: {"description": "The report's timeline", "headers": _CSP},
    303: {"description": "A number typed again in the page's form (``?id=``): its own page"},
    404: {"description": "An unknown or mistyped Tracking ID: a page that says which, and no hint of others",
          "content": _HTML, "headers": _CSP},
    **_RATE_LIMITED_JSON})
def public_page(tracking_id: TrackingIdPath, db: Db, lang: str = "id",
                id: str | None = Query(default=None, max_length=64,  # noqa: A002 - the form's field name
                                       description="a number typed again in the page's form: answered with a "
                                                   "redirect to its own page")) -> Response:
    """The report's timeline in plain words; never identity, nothing of a confidential report."""
    lang = lang if lang in LANGUAGES else "id"
    if id is not None:  # the "type it again" form (RETYPE_PARAM)
        tracking_id = id
        try:
            canonical = parse_tracking_id(tracking_id)
        except TrackingIdError as exc:
            return HTMLResponse(render(None, lang, None, problem=exc.code, db=db), status_code=404, headers=headers())
        # Relative: the same folder of this service, also under a proxy's path prefix.
        return RedirectResponse(f"{canonical}?lang={lang}", status_code=303, headers=headers())
    try:
        canonical = parse_tracking_id(tracking_id)
    except TrackingIdError as exc:
        return HTMLResponse(render(None, lang, None, problem=exc.code, db=db), status_code=404, headers=headers())
    found = service.public_status(db, canonical)
    return HTMLResponse(render(found, lang, canonical, problem=None if found else "unknown", db=db),
                        status_code=200 if found else 404, headers=headers())
