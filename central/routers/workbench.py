"""``/workbench/``: the complaint officers' pages (server-rendered, no script): login with
password and TOTP, logout, password change, the inbox and a report's page.

Every page but the login page and the stylesheet needs a signed-in session (else a 303 to
the login page); every POST carries the session's CSRF token (the login form: the
double-submit cookie's). These are browser pages, not API: they are left out of
/openapi.json.
"""
from __future__ import annotations

import hmac
import json
import secrets
import uuid
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from central import accounts, crypto, forwarding, service, sms, sms_workbench, voice, workbench
from central.report_page import deadline, page_context
from central import inbox as inbox_mod
from central.accounts import AccountError, Outcome, SignedIn
from central.web import (HTML_HEADERS, FormTooLarge, STYLESHEET, client_address, language, read_form, redirect, render, set_cookie)
from kiosk.kernel.durations import voice_line
from kiosk.kernel.i18n import N_, gettext_for
from kiosk.kernel.tracking_id import TrackingIdError, format_tracking_id, parse_tracking_id

router = APIRouter(prefix="/workbench", include_in_schema=False)

SESSION_COOKIE = "wb_session"
LOGIN_CSRF_COOKIE = "wb_login_csrf"

STATUS_WORDS = {
    "received": N_("Received"), "verified": N_("Verified"), "forwarded": N_("Forwarded"), "rerouted": N_("Rerouted"),
    "in_progress": N_("In progress"), "answered": N_("Answered"), "closed": N_("Closed"), "postponed": N_("Postponed"),
    "rejected": N_("Rejected"), "archived": N_("Archived"),
    "objected": N_("The reporter says the problem is not solved"),  # central.feedback: back to the agency
}
#: The inbox's marks (``central.inbox.MARKS``), as tabs and on the rows.
MARK_WORDS = {"reroute": N_("Re-route requested"), "objected": N_("Citizen objected")}
#: A forwarding entry's state (``central.forwarding.State``) on the report's page.
FORWARDING_WORDS = {"pending": N_("Waiting to be sent"), "sending": N_("Being sent"), "sent": N_("Sent"),
                    "failed": N_("Failed"), "unconfirmed": N_("Unconfirmed: the answer was lost"),
                    "withdrawn": N_("Not sent: the report went to another agency first")}
#: The report's SMS conversation (``central.sms_workbench``): who a message came from or
#: went to, what it was, an outgoing SMS's state, why an admin may not reply by SMS.
SMS_WORDS = {
    "in": {True: N_("From the reporter's number"), False: N_("From another number"), None: N_("Received by SMS")},
    "out": {True: N_("To the reporter's number"), False: N_("To another number"), None: N_("Sent by SMS")},
    "kind": {sms.FILED: N_("filed the report"), sms.STATUS: N_("asked for the status"), "reply": N_("automatic reply"),
             "answered": N_("notice of the answer"), sms_workbench.ADMIN_KIND: N_("reply by an administrator")},
    "state": {sms.State.PENDING: N_("Waiting to be sent"), sms.State.SENDING: N_("Being sent"),
              sms.State.SENT: N_("Sent"), sms.State.FAILED: N_("Failed")},
    "blocked": {"purged": N_("The number was deleted after the retention period: no SMS can be sent to it."),
                "stopped": N_("This number sent STOP: the central sends it no more SMS."),
                "no_gateway": N_("The gateway this report's SMS came through is no longer configured: no SMS can be "
                                 "sent."),
                "unavailable": N_("SMS cannot be sent for this report (the central's SMS channel is off).")},
}
KIND_WORDS = {"pengaduan": N_("Complaint"), "aspirasi": N_("Aspiration"),
              "permintaan_informasi": N_("Request for information")}
ROLE_WORDS = {"admin": N_("Admin"), "agency": N_("Agency officer"), "viewer": N_("Viewer"),
              "script": N_("Script (API token only)")}
#: Where each step of a login goes next (``central.accounts.STAGES``).
NEXT_PAGE = {Outcome.SIGNED_IN: "/workbench/", Outcome.NEEDS_TOTP: "/workbench/login/totp",
             Outcome.ENROL_TOTP: "/workbench/login/enrol", Outcome.MUST_CHANGE: "/workbench/login/password"}


# -- who is asking ---------------------------------------------------------------------------
def _signed_in(request: Request, stage: str = "ok") -> SignedIn | None:
    found = accounts.session_of(request.app.state.db, request.cookies.get(SESSION_COOKIE, ""))
    return found if found is not None and found.stage == stage else None


def _csrf_ok(expected: str | None, form: dict[str, str]) -> bool:
    given = form.get("csrf", "")
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def _refused(request: Request) -> Response:
    return render(request, "message.html", 403, officer=None, title=N_("Form expired"),
                  message=N_("This form has expired or did not come from the workbench. Please open the page again."),
                  back="/workbench/")


async def posted_form(request: Request, stage: str = "ok") -> tuple[SignedIn | None, dict[str, str] | None,
                                                                  Response | None]:
    """Every POST of a signed-in page: the session (at ``stage``: ``ok``, or a login step's),
    its form read under the size cap, its CSRF token. (officer, form, None), or the answer
    to give instead: the login page (no such session), or 403 and nothing done."""
    officer = _signed_in(request, stage=stage)
    if officer is None:
        return None, None, redirect(request, "/workbench/login")
    try:
        form = await read_form(request)
    except FormTooLarge:
        return officer, None, _refused(request)
    if not _csrf_ok(officer.csrf_token, form):
        return officer, None, _refused(request)
    return officer, form, None


def _reference(request: Request) -> dict:
    _, body = service.current_reference(request.app.state.db)
    data = json.loads(body)
    lang, _remember = language(request)
    key = "name_id" if lang == "id" else "name_en"
    return {"agencies": {a["code"]: a[key] for a in data["agencies"]},
            "categories": {c["code"]: c[key] for c in data["categories"]},
            "kecamatan": {k["code"]: k["name"] for k in data["kecamatan"]}}


def _words(**extra) -> dict:
    return {"status_words": STATUS_WORDS, "kind_words": KIND_WORDS, "role_words": ROLE_WORDS,
            "format_id": format_tracking_id, **extra}


# -- the stylesheet --------------------------------------------------------------------------
@router.get("/static/workbench.css")
def stylesheet() -> Response:
    return Response(STYLESHEET.read_bytes(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


# -- login, TOTP, logout ---------------------------------------------------------------------
def _login_page(request: Request, status: int = 200, problem: str | None = None) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", status, officer=None, csrf=token, problem=problem,
                      lock_minutes=int(accounts.LOCK_TIME.total_seconds() // 60))
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    if _signed_in(request) is not None:
        return redirect(request, "/workbench/")
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    try:
        form = await read_form(request)
    except FormTooLarge:
        return _refused(request)
    if not _csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form):
        return _refused(request)
    db = request.app.state.db
    accounts.forget_old_sessions(db)
    attempt = accounts.sign_in(db, form.get("name", ""), form.get("password", ""), client_address(request))
    if attempt.outcome is Outcome.WRONG:
        return _login_page(request, 401, "wrong")
    if attempt.outcome is Outcome.LOCKED:
        return _login_page(request, 429, "locked")
    response = redirect(request, NEXT_PAGE[attempt.outcome])
    set_cookie(response, request, SESSION_COOKIE, attempt.token)
    return response


def no_secret_key(request: Request) -> Response:
    """The central cannot open or seal a TOTP secret: it says what to configure."""
    return render(request, "message.html", 503, officer=None, title=N_("Two-step login is not available"),
                  message=N_("The central has no secret key configured, so one-time codes cannot be checked or set "
                             "up. Ask the technician to start it with --secret-key-file (docs/DEPLOY.md)."),
                  back="/workbench/login")


@router.get("/login/totp")
def totp_form(request: Request) -> Response:
    pending = _signed_in(request, stage="totp")
    if pending is None:
        return redirect(request, "/workbench/login")
    return render(request, "totp.html", officer=None, csrf=pending.csrf_token, problem=None)


async def second_step(request: Request, stage: str, check: Callable[..., tuple[Outcome, str | None]],
                      wrong: Callable[[SignedIn], Response]) -> Response:
    """The POST of a login's code (stage ``totp``: ``accounts.check_totp``; ``enrol``:
    ``accounts.confirm_enrolment``): signed in, the next page with a new session token;
    locked, the login page (429); a wrong code, ``wrong(pending)``."""
    pending, form, refused = await posted_form(request, stage=stage)
    if refused is not None:
        return refused
    try:
        outcome, token = check(request.app.state.db, request.app.state.secret_box,
                               request.cookies.get(SESSION_COOKIE, ""), form.get("code", ""), client_address(request))
    except crypto.SecretKeyError:
        return no_secret_key(request)
    if outcome in (Outcome.SIGNED_IN, Outcome.MUST_CHANGE):
        response = redirect(request, NEXT_PAGE[outcome])
        set_cookie(response, request, SESSION_COOKIE, token)  # a new token once fully signed in
        return response
    if outcome is Outcome.LOCKED:
        response = _login_page(request, 429, "locked")
        response.delete_cookie(SESSION_COOKIE, path="/workbench")
        return response
    return wrong(pending)


@router.post("/login/totp")
async def totp(request: Request) -> Response:
    return await second_step(request, "totp", accounts.check_totp, lambda pending: render(
        request, "totp.html", 401, officer=None, csrf=pending.csrf_token, problem="wrong"))


@router.post("/logout")
async def logout(request: Request) -> Response:
    _officer, _form, refused = await posted_form(request)
    if refused is not None:
        return refused
    accounts.sign_out(request.app.state.db, request.cookies.get(SESSION_COOKIE, ""), client_address(request))
    response = redirect(request, "/workbench/login")
    response.delete_cookie(SESSION_COOKIE, path="/workbench")
    return response


# -- password change -------------------------------------------------------------------------
@router.get("/password")
def password_form(request: Request) -> Response:
    officer = _signed_in(request)
    if officer is None:
        return redirect(request, "/workbench/login")
    return render(request, "password.html", officer=officer, problem=None, done=False,
                  minimum=accounts.PASSWORD_MIN, **_words())


@router.post("/password")
async def change_password(request: Request) -> Response:
    officer, form, refused = await posted_form(request)
    if refused is not None:
        return refused
    new = form.get("new", "")
    problem = None
    if new != form.get("repeat", ""):
        problem = "mismatch"
    elif len(new) < accounts.PASSWORD_MIN or len(new) > accounts.PASSWORD_MAX:
        problem = "short"
    else:
        try:
            if not accounts.change_password(request.app.state.db, request.cookies.get(SESSION_COOKIE, ""),
                                            form.get("old", ""), new, client_address(request)):
                problem = "wrong"
        except AccountError:
            problem = "short"
    return render(request, "password.html", 400 if problem else 200, officer=officer, problem=problem,
                  done=problem is None, minimum=accounts.PASSWORD_MIN, **_words())


# -- the inbox and a report ------------------------------------------------------------------
@router.get("/")
def inbox(request: Request) -> Response:
    officer = _signed_in(request)
    if officer is None:
        return redirect(request, "/workbench/login")
    db = request.app.state.db
    filters = inbox_mod.Filters.from_query(request.query_params)
    page = inbox_mod.inbox(db, officer, filters, after=request.query_params.get("after"))
    filters = filters.for_role(officer.role)
    return render(request, "inbox.html", officer=officer, page=page, filters=filters, status=filters.status,
                  statuses=workbench.STATUSES, mark_words=MARK_WORDS, total=sum(page.counts.values()), ref=_reference(request),
                  kiosks=inbox_mod.kiosks(db), **_words())


def _not_found(request: Request, officer: SignedIn) -> Response:
    return render(request, "message.html", 404, title=N_("Report not found"),
                  message=N_("There is no report with this number that you may see."), back="/workbench/",
                  **_words(officer=officer))


def _view(request: Request, officer: SignedIn, tracking_id: str, *, reveal: bool = False):
    try:
        canonical = parse_tracking_id(tracking_id)
    except TrackingIdError:
        return None
    return workbench.report(request.app.state.db, officer, canonical, reveal_identity=reveal)


def _report_page(request: Request, officer: SignedIn, view: workbench.ReportView, status: int = 200,
                 **actions) -> Response:
    ref = _reference(request)
    from central import feedback
    from central.recap import channel_word
    from kiosk.kernel.timeline import RATING_WORDS

    spoken = view.body.get("voice") or None  # a recorded complaint: the player, and its length in words
    return render(request, "report.html", status, officer=officer, report=view, ref=ref,
                  voice_caption=voice_line(spoken["duration_s"], gettext_for(language(request)[0])) if spoken else None,
                  voice_kept=bool(spoken) and voice.has_recording(request.app.state.db, view.tracking_id),
                  feedback=feedback.of_report(request.app.state.db, view.tracking_id), rating_words=RATING_WORDS,
                  deadline=deadline(request.app.state.db, view, language(request)[0]), channel_word=channel_word,
                  forwarding=forwarding.entries_of(request.app.state.db, view.tracking_id),
                  forwarding_words=FORWARDING_WORDS, may_settle_forwarding=officer.role == "admin",
                  sms=sms_workbench.conversation(request.app.state.db, request.app.state.secret_box, view,
                                                 request.app.state.db.sms),
                  sms_words=SMS_WORDS, sms_form_id=uuid.uuid4().hex, may_reply_by_sms=officer.role == "admin",
                  **page_context(request.app.state.db, officer, view, ref, request.query_params, **actions),
                  **_words())


@router.get("/reports/{tracking_id}")
def report_page(request: Request, tracking_id: str) -> Response:
    officer = _signed_in(request)
    if officer is None:
        return redirect(request, "/workbench/login")
    view = _view(request, officer, tracking_id)
    return _not_found(request, officer) if view is None else _report_page(request, officer, view)


@router.get("/reports/{tracking_id}/voice")
def voice_recording(request: Request, tracking_id: str) -> Response:
    """The report's recorded complaint (Ogg Opus) for the page's player: to an officer who
    may see the report, as its description is (``workbench.report``), never cached."""
    officer = _signed_in(request)
    if officer is None:
        return redirect(request, "/workbench/login")
    view = _view(request, officer, tracking_id)
    content = voice.recording(request.app.state.db, view.tracking_id) if view is not None else None
    if content is None:
        return _not_found(request, officer)
    return Response(content, media_type="audio/ogg", headers={**HTML_HEADERS, "Content-Disposition": "inline"})


@router.get("/reports/{tracking_id}/identity")
def identity_link(request: Request, tracking_id: str) -> Response:
    """The address of a shown identity, opened again (the language link, a reload that is
    not a resend): the report's page, identity hidden. Showing it takes the POST."""
    if _signed_in(request) is None:
        return redirect(request, "/workbench/login")
    lang, _remember = language(request)
    try:
        return redirect(request, f"/workbench/reports/{parse_tracking_id(tracking_id)}", lang=lang)
    except TrackingIdError:
        return redirect(request, "/workbench/", lang=lang)


@router.post("/reports/{tracking_id}/identity")
async def show_identity(request: Request, tracking_id: str) -> Response:
    """An admin shows an anonymous reporter's name and phone once, in this answer only;
    the view is written to the audit log. Other roles: 403 (404 when not theirs to see)."""
    officer, _form, refused = await posted_form(request)
    if refused is not None:
        return refused
    view = _view(request, officer, tracking_id, reveal=True)
    if view is None:
        return _not_found(request, officer)
    if officer.role != "admin":
        return render(request, "message.html", 403, title=N_("Not allowed"),
                      message=N_("Only an administrator may show an anonymous reporter's identity."),
                      back="/workbench/", **_words(officer=officer))
    if view.anonymous:
        accounts.audit(request.app.state.db, officer.name, "identity_viewed", client_address(request),
                       tracking_id=view.tracking_id)
    return _report_page(request, officer, view)
