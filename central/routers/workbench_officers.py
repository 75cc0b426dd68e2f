"""``/workbench/officers``: the admins' pages of accounts (list, add, disable and enable,
role, one-time password, reset two-step login, unlock), and the two login steps an
account may have to take before the workbench opens: enrolling TOTP (an admin without
it: the secret and its QR code, confirmed by one code) and replacing a one-time
password. ``/workbench/totp``: any officer turns their own two-step login on (the same
QR code and one code) or, but for an admin, off (a current code). Plain forms, no
script; every POST checks the session and its CSRF token (``posted_form``), and every
account page the admin role. Every change is written to the audit log
(``central.accounts``). Not in /openapi.json.
"""
from __future__ import annotations

import io

from fastapi import APIRouter, Request
from fastapi.responses import Response

from central import accounts, crypto
from central.accounts import AccountError, SignedIn
from central.lifecycle import agency_codes
from central.routers.workbench import (SESSION_COOKIE, _reference, _signed_in, _words, no_secret_key, posted_form,
                                       second_step)
from central.web import HTML_HEADERS, client_address, redirect, render, set_cookie
from kiosk.kernel.i18n import N_

router = APIRouter(prefix="/workbench", include_in_schema=False)

#: What an admin may do to an account from its page (the form's ``action``).
ACTIONS = ("disable", "enable", "unlock", "reset_password", "reset_totp", "role")
DONE = {
    "added": N_("The account has been added."),
    "disable": N_("The account has been disabled: its sessions have ended and its API token no longer works."),
    "enable": N_("The account has been enabled. An API token revoked when it was disabled stays revoked: "
                 "python -m central officer token NAME makes a new one."),
    "unlock": N_("The account has been unlocked."),
    "reset_totp": N_("Two-step login has been reset: the officer's sessions have ended, and an administrator "
                     "enrols again at the next login."),
    "role": N_("The role has been changed."),
}
#: The API token of an account (``accounts.Account.token``).
TOKEN_WORDS = {"active": N_("Active"), "revoked": N_("Revoked: a new one is needed"), None: N_("None")}
#: After turning one's own two-step login on or off.
TOTP_DONE = {"on": N_("Two-step login is on. Your other sessions have ended."),
             "off": N_("Two-step login is off.")}


def _not_admin(request: Request, officer: SignedIn) -> Response:
    return render(request, "message.html", 403, title=N_("Not allowed"),
                  message=N_("Only an administrator may manage accounts."), back="/workbench/",
                  **_words(officer=officer))


def _admin(request: Request) -> tuple[SignedIn | None, Response | None]:
    officer = _signed_in(request)
    if officer is None:
        return None, redirect(request, "/workbench/login")
    if officer.role != "admin":
        return officer, _not_admin(request, officer)
    return officer, None


# -- the list and a new account ----------------------------------------------------------------
def _list_page(request: Request, officer: SignedIn, status: int = 200, problem: str | None = None,
               draft: dict[str, str] | None = None) -> Response:
    return render(request, "officers.html", status, officer=officer, accounts=accounts.list_accounts(request.app.state.db),
                  ref=_reference(request), problem=problem, draft=draft or {}, roles=accounts.ROLES, **_words())


@router.get("/officers")
def officers(request: Request) -> Response:
    officer, refused = _admin(request)
    return refused or _list_page(request, officer)


@router.post("/officers")
async def add_officer(request: Request) -> Response:
    officer, form, refused = await posted_form(request)
    if refused is not None:
        return refused
    if officer.role != "admin":
        return _not_admin(request, officer)
    db = request.app.state.db
    name, role, agency = form.get("name", "").strip(), form.get("role", ""), form.get("agency", "")
    try:
        password = accounts.create_account(db, officer.name, name, role, agency if role == "agency" else None,
                                           agency_codes(db), client_address(request))
    except AccountError as exc:
        return _list_page(request, officer, 400, exc.msgid, form)
    return render(request, "officers_secret.html", officer=officer, subject=name, password=password, done="added",
                  done_words=DONE, **_words())


# -- one account -------------------------------------------------------------------------------
def _account(request: Request, name: str) -> accounts.Account | None:
    return next((a for a in accounts.list_accounts(request.app.state.db) if a.name == name), None)


def _account_page(request: Request, officer: SignedIn, name: str, status: int = 200, problem: str | None = None,
                  done: str | None = None) -> Response:
    account = _account(request, name)
    if account is None:
        return render(request, "message.html", 404, title=N_("No such account"),
                      message=N_("There is no such account."), back="/workbench/officers", **_words(officer=officer))
    return render(request, "officers_account.html", status, officer=officer, account=account, ref=_reference(request),
                  problem=problem, done=DONE.get(done or ""), roles=accounts.ROLES, token_words=TOKEN_WORDS, **_words())


@router.get("/officers/account")
def account_page(request: Request) -> Response:
    officer, refused = _admin(request)
    if refused is not None:
        return refused
    return _account_page(request, officer, request.query_params.get("name", ""),
                         done=request.query_params.get("done"))


@router.post("/officers/account")
async def change_account(request: Request) -> Response:
    officer, form, refused = await posted_form(request)
    if refused is not None:
        return refused
    if officer.role != "admin":
        return _not_admin(request, officer)
    db, address = request.app.state.db, client_address(request)
    name, action = form.get("name", ""), form.get("action", "")
    if action not in ACTIONS or _account(request, name) is None:
        return _account_page(request, officer, name, 400)
    try:
        if action == "reset_password":
            password = accounts.reset_password(db, officer.name, name, address)
            return render(request, "officers_secret.html", officer=officer, subject=name, password=password,
                          done="reset_password", done_words=DONE, **_words())
        if action in ("disable", "enable"):
            accounts.set_disabled(db, officer.name, name, action == "disable", address)
        elif action == "unlock":
            accounts.unlock(db, officer.name, name, address)
        elif action == "reset_totp":
            accounts.reset_totp(db, officer.name, name, address)
        else:
            role = form.get("role", "")
            accounts.change_role(db, officer.name, name, role, form.get("agency") if role == "agency" else None,
                                 agency_codes(db), address)
    except AccountError as exc:
        return _account_page(request, officer, name, 409, exc.msgid)
    if name == officer.name and action == "disable":  # cannot happen for the last admin; their session ended
        return redirect(request, "/workbench/login")
    return redirect(request, "/workbench/officers/account", name=name, done=action)


# -- enrolling TOTP at login (an admin without it) ---------------------------------------------
def _enrol_page(request: Request, pending: SignedIn, status: int = 200, problem: str | None = None) -> Response:
    try:
        found = accounts.pending_enrolment(request.app.state.db, request.app.state.secret_box,
                                           request.cookies.get(SESSION_COOKIE, ""))
    except crypto.SecretKeyError:
        return no_secret_key(request)
    if found is None:
        return redirect(request, "/workbench/login")
    return render(request, "officers_enrol.html", status, officer=None, csrf=pending.csrf_token,
                  secret=_grouped(found[0]), problem=problem)


@router.get("/login/enrol")
def enrol_form(request: Request) -> Response:
    pending = _signed_in(request, stage="enrol")
    if pending is None:
        return redirect(request, "/workbench/login")
    return _enrol_page(request, pending)


def _qr(request: Request, stage: str) -> Response:
    """The QR code of the secret being enrolled on this session, as an image of this service
    (the pages' Content-Security-Policy allows images from 'self' only); 404 for any other."""
    import qrcode

    if _signed_in(request, stage=stage) is None:
        return Response(status_code=404, headers=HTML_HEADERS)
    try:
        found = accounts.pending_enrolment(request.app.state.db, request.app.state.secret_box,
                                           request.cookies.get(SESSION_COOKIE, ""), stage)
    except crypto.SecretKeyError:
        found = None
    if found is None:
        return Response(status_code=404, headers=HTML_HEADERS)
    picture = io.BytesIO()
    qrcode.make(found[1], box_size=6, border=4).save(picture, format="PNG")
    return Response(picture.getvalue(), media_type="image/png", headers={"Cache-Control": "no-store"})


def _grouped(secret: str) -> str:
    """A base32 key in groups of four, as a person types it."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@router.get("/login/enrol/qr.png")
def enrol_qr(request: Request) -> Response:
    return _qr(request, "enrol")


@router.post("/login/enrol")
async def enrol(request: Request) -> Response:
    return await second_step(request, "enrol", accounts.confirm_enrolment,
                             lambda pending: _enrol_page(request, pending, 401, "wrong"))


# -- replacing a one-time password at login ----------------------------------------------------
def _first_password_page(request: Request, pending: SignedIn, status: int = 200,
                         problem: str | None = None) -> Response:
    return render(request, "officers_first_password.html", status, officer=None, csrf=pending.csrf_token,
                  problem=problem, minimum=accounts.PASSWORD_MIN)


@router.get("/login/password")
def first_password_form(request: Request) -> Response:
    pending = _signed_in(request, stage="change")
    if pending is None:
        return redirect(request, "/workbench/login")
    return _first_password_page(request, pending)


@router.post("/login/password")
async def first_password(request: Request) -> Response:
    pending, form, refused = await posted_form(request, stage="change")
    if refused is not None:
        return refused
    new = form.get("new", "")
    if new != form.get("repeat", ""):
        return _first_password_page(request, pending, 400, N_("The two new passwords are not the same."))
    if len(new) < accounts.PASSWORD_MIN or len(new) > accounts.PASSWORD_MAX:
        return _first_password_page(request, pending, 400, "short")
    try:
        token = accounts.replace_one_time_password(request.app.state.db, request.cookies.get(SESSION_COOKIE, ""), new,
                                                   client_address(request))
    except AccountError as exc:
        return _first_password_page(request, pending, 400, exc.msgid)
    if token is None:
        return redirect(request, "/workbench/login")
    response = redirect(request, "/workbench/")
    set_cookie(response, request, SESSION_COOKIE, token)
    return response



# -- one's own two-step login (every role) -----------------------------------------------------
def _own_totp_page(request: Request, officer: SignedIn, status: int = 200, problem: str | None = None,
                   done: str | None = None) -> Response:
    secret = None
    if not officer.totp:
        try:
            found = accounts.pending_enrolment(request.app.state.db, request.app.state.secret_box,
                                               request.cookies.get(SESSION_COOKIE, ""), "ok")
        except crypto.SecretKeyError:
            return no_secret_key(request)
        if found is None:
            return redirect(request, "/workbench/login")
        secret = _grouped(found[0])
    return render(request, "officers_totp.html", status, officer=officer, secret=secret, problem=problem,
                  done=TOTP_DONE.get(done or ""), **_words())


@router.get("/totp")
def own_totp(request: Request) -> Response:
    officer = _signed_in(request)
    if officer is None:
        return redirect(request, "/workbench/login")
    return _own_totp_page(request, officer, done=request.query_params.get("done"))


@router.get("/totp/qr.png")
def own_totp_qr(request: Request) -> Response:
    officer = _signed_in(request)
    if officer is not None and officer.totp:  # enrolled: nothing is being set up
        return Response(status_code=404, headers=HTML_HEADERS)
    return _qr(request, "ok")


@router.post("/totp")
async def change_own_totp(request: Request) -> Response:
    """``action=on`` with the first code of the secret shown, or ``action=off`` with a
    current code (not for an admin: 403). Both are written to the audit log."""
    officer, form, refused = await posted_form(request)
    if refused is not None:
        return refused
    db, box, token = request.app.state.db, request.app.state.secret_box, request.cookies.get(SESSION_COOKIE, "")
    action, code, address = form.get("action", ""), form.get("code", ""), client_address(request)
    wrong = (N_("The password or the code is not right. Please type both again; wait for the next code.")
             if action == "on" else N_("This code is not right, or was already used. Please wait for the next code."))
    try:
        if action == "on" and not officer.totp:
            if not accounts.confirm_own_enrolment(db, box, token, form.get("password", ""), code, address):
                return _own_totp_page(request, officer, 400, wrong)
        elif action == "off" and officer.totp:
            if not accounts.turn_off_totp(db, box, token, code, address):
                return _own_totp_page(request, officer, 400, wrong)
        else:  # a form of a page shown before a change made elsewhere
            return _own_totp_page(request, officer, 409)
    except crypto.SecretKeyError:
        return no_secret_key(request)
    except AccountError as exc:
        return _own_totp_page(request, officer, 403, exc.msgid)
    return redirect(request, "/workbench/totp", done=action)
