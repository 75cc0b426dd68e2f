"""``GET /status/{tracking_id}``: the page a receipt's QR code opens on a phone (small HTML,
no JavaScript, id/en), no token. Rate limited per client address, so guessing Tracking
IDs stays impractical (docs/TRACKING_ID.md)."""
from __future__ import annotations


import hmac
import secrets

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from central import feedback, service
from central.deps import RATE_LIMITED, Db, TrackingIdPath, public_lookup
from central.public_page import DONE_WORDS, FORM_COOKIE, feedback_open, headers, render
from central.web import FormTooLarge, read_form
from kiosk.kernel.clock import utc_now
from kiosk.kernel.textclean import clean_input
from kiosk.kernel.wire import OBJECTION_TEXT_MAX, FeedbackIn, is_feedback_key
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
def public_page(request: Request, tracking_id: TrackingIdPath, db: Db, lang: str = "id", done: str = "",
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
    token = secrets.token_hex(16) if found is not None and any(feedback_open(found)) else ""
    response = HTMLResponse(render(found, lang, canonical, problem=None if found else "unknown", db=db,
                                   form_token=token, done=done if done in DONE_WORDS else ""),
                            status_code=200 if found else 404, headers=headers())
    if token:
        response.set_cookie(FORM_COOKIE, token, path="/status", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
    return response


@router.post("/status/{tracking_id}/{kind}", dependencies=[Depends(public_lookup)], include_in_schema=False)
async def public_feedback(request: Request, tracking_id: TrackingIdPath, kind: str, db: Db) -> Response:
    """The page's objection and rating forms (``kind``: ``objection`` or ``rating``):
    answered with a redirect to the page, which says what became of it. The form's token
    (cookie and field, ``FORM_COOKIE``) is the item's idempotency key."""
    if kind not in ("objection", "rating"):
        return Response(status_code=404)
    try:
        canonical = parse_tracking_id(tracking_id)
    except TrackingIdError as exc:
        return HTMLResponse(render(None, "id", None, problem=exc.code, db=db), status_code=404, headers=headers())
    try:
        form = await read_form(request)
    except FormTooLarge:
        form = {}
    lang = form.get("lang") if form.get("lang") in LANGUAGES else "id"
    key, cookie = form.get("form", ""), request.cookies.get(FORM_COOKIE, "")

    def back(done: str, status_code: int = 303) -> Response:
        response = RedirectResponse(f"../{canonical}?lang={lang}&done={done}", status_code=status_code, headers=headers())
        response.delete_cookie(FORM_COOKIE, path="/status")  # one form, one item
        return response

    if not (is_feedback_key(key) and cookie and hmac.compare_digest(key.encode(), cookie.encode())):
        return back("expired")
    found = service.public_status(db, canonical)
    if found is None:
        return HTMLResponse(render(None, lang, canonical, problem="unknown", db=db), status_code=404, headers=headers())
    may_object, may_rate = feedback_open(found)
    text = clean_input(form.get("text", ""), max_len=OBJECTION_TEXT_MAX, multiline=True).text.strip()
    score = form.get("score", "")
    if feedback.held(db, kind, key, canonical):  # this form was sent before (a double tap, the back button)
        return back(kind)
    try:
        if kind == "objection" and may_object:
            item = FeedbackIn(key=key, kind="objection", tracking_id=canonical, text=text, filed_at=utc_now())
        elif kind == "rating" and may_rate and score.isdigit():
            item = FeedbackIn(key=key, kind="rating", tracking_id=canonical, score=int(score), filed_at=utc_now())
        else:
            return back("late")
        feedback.take(db, item, kiosk_code=None)
    except (ValidationError, feedback.UnknownReport):
        return back("late")
    return back(kind)
