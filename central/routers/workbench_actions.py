"""``/workbench/``: what officers do on a report's page (the lifecycle's actions by role,
internal notes, an agency's request to re-route, "duplicate of") and the admins' pages of
reply templates. Plain forms, no script; every POST checks the session, its CSRF token and,
through ``central.actions``, the officer's role, the report's status as the form saw it and
(for an agency officer) that the report is still with their agency. Not in /openapi.json.
"""
from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from central import actions, forwarding, sms_workbench
from central.accounts import SignedIn
from central.db import Database
from central.report_page import PROBLEMS
from central.routers.workbench import _not_found, _reference, _report_page, _signed_in, _view, _words, posted_form
from central.web import client_address, redirect, render
from kiosk.kernel.i18n import N_
from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

router = APIRouter(prefix="/workbench", include_in_schema=False)

TEMPLATE_PROBLEMS = {
    "title": N_("Please write a title of one line (at most 120 characters)."),
    "text": N_("Please write the text of the reply."),
    "category": N_("Please choose a category from the list."),
    "too_long": N_("The text is too long (at most 4000 characters)."),
}


def _page(request: Request, officer: SignedIn, tracking_id: str, status: int, problem: str,
          draft: dict[str, str] | None = None) -> Response:
    view = _view(request, officer, tracking_id)
    if view is None:
        return _gone(request, officer)
    return _report_page(request, officer, view, status, problem=problem, draft=draft)


def _gone(request: Request, officer: SignedIn) -> Response:
    return render(request, "message.html", 409, title=N_("Nothing was saved"), message=PROBLEMS["gone"],
                  back="/workbench/", **_words(officer=officer))


def _role_refused(request: Request, officer: SignedIn) -> Response:
    return render(request, "message.html", 403, title=N_("Not allowed"),
                  message=N_("Your role may not do this on the workbench."), back="/workbench/",
                  **_words(officer=officer))


def _canonical(tracking_id: str) -> str | None:
    try:
        return parse_tracking_id(tracking_id)
    except TrackingIdError:
        return None


def _after(request: Request, officer: SignedIn, tracking_id: str, form: dict[str, str], refused: actions.Refused,
           draft: dict[str, str]) -> Response:
    """The answer to a refused request, in the officer's language."""
    if refused.why == "role":
        return _role_refused(request, officer)
    if refused.why == "not_found":
        # An agency officer's form for a report that has left their agency: say so (the
        # same words for any report, so nothing is learnt of other agencies' reports).
        return _gone(request, officer) if officer.role == "agency" and "status" in form else _not_found(request, officer)
    if refused.why in ("stale", "merged"):
        return _page(request, officer, tracking_id, 409, refused.why)
    problem = refused.detail if refused.detail in PROBLEMS else "other"
    return _page(request, officer, tracking_id, 400, problem, draft)


#: What a report's form applies: (database, officer, canonical Tracking ID, form, client
#: address); it raises ``actions.Refused`` when the request is not applied.
Apply = Callable[[Database, SignedIn, str, dict[str, str], str], object]


async def _on_report(request: Request, tracking_id: str, done: str | Callable[[object], str], apply: Apply,
                     draft: Callable[[dict[str, str]], dict[str, str]] = lambda form: {}) -> Response:
    """A POST on a report's page: the session and its CSRF token, a valid Tracking ID, then
    ``apply``. A refusal is answered as ``_after`` says (the form kept as ``draft(form)``);
    else back to the report's page with ``done`` (the words of ``report_page.DONE``; a
    callable: ``done(what apply returned)``)."""
    officer, form, answer = await posted_form(request)
    if answer is not None:
        return answer
    canonical = _canonical(tracking_id)
    if canonical is None:
        return _not_found(request, officer)
    try:
        result = apply(request.app.state.db, officer, canonical, form, client_address(request))
    except actions.Refused as refused:
        return _after(request, officer, canonical, form, refused, draft(form))
    return redirect(request, f"/workbench/reports/{canonical}", done=done(result) if callable(done) else done)


def _shown_status(form: dict[str, str]) -> str:
    """The report's status as the form showed it ("?" when it does not say: never current)."""
    return form.get("status") or "?"


@router.post("/reports/{tracking_id}/act")
async def act(request: Request, tracking_id: str) -> Response:
    """One of the lifecycle's actions (the form's ``action``), with the status it was shown."""
    def apply(db: Database, officer: SignedIn, report: str, form: dict[str, str], address: str) -> None:
        action = form.get("action", "")
        actions.act(db, officer, report, action, note=form.get("note", ""),
                    reply=form.get("reply") if action in ("answer", "reject") else None,
                    agency=form.get("agency") or None, expect_status=_shown_status(form), address=address)

    def draft(form: dict[str, str]) -> dict[str, str]:
        return {k: form.get(k, "") for k in ("note", "reply", "agency") if form.get(k)} | {"for": form.get("action", "")}

    return await _on_report(request, tracking_id, "action", apply, draft)


@router.post("/reports/{tracking_id}/note")
async def add_note(request: Request, tracking_id: str) -> Response:
    return await _on_report(
        request, tracking_id, "note",
        lambda db, officer, report, form, address: actions.add_note(db, officer, report, form.get("note", ""),
                                                                    address=address),
        lambda form: {"for": "note", "note": form.get("note", "")})


@router.post("/reports/{tracking_id}/reroute-request")
async def ask_reroute(request: Request, tracking_id: str) -> Response:
    return await _on_report(
        request, tracking_id, "reroute_request",
        lambda db, officer, report, form, address: actions.request_reroute(
            db, officer, report, form.get("reason", ""), expect_status=_shown_status(form), address=address),
        lambda form: {"for": "reroute_request", "reason": form.get("reason", "")})


@router.post("/reports/{tracking_id}/duplicate")
async def link_duplicate(request: Request, tracking_id: str) -> Response:
    def apply(db: Database, officer: SignedIn, report: str, form: dict[str, str], address: str) -> None:
        # Checked here, before the original's ID is read: answered as the core's refusals are.
        if officer.role != "admin":
            raise actions.Refused("role")
        original = _canonical(form.get("original", ""))
        if original is None:
            raise actions.Refused("invalid", "bad_id")
        actions.link_duplicate(db, officer, report, original, expect_status=_shown_status(form), address=address)

    return await _on_report(request, tracking_id, "merged", apply,
                            lambda form: {"for": "duplicate", "original": form.get("original", "")})


@router.post("/reports/{tracking_id}/unlink")
async def unlink_duplicate(request: Request, tracking_id: str) -> Response:
    return await _on_report(
        request, tracking_id, "unmerged",
        lambda db, officer, report, form, address: actions.unlink_duplicate(db, officer, report, address=address))


# -- reply templates (admins) ------------------------------------------------------------------
def _admin(request: Request) -> tuple[SignedIn | None, Response | None]:
    officer = _signed_in(request)
    if officer is None:
        return None, redirect(request, "/workbench/login")
    if officer.role != "admin":
        return officer, _role_refused(request, officer)
    return officer, None


def _template_page(request: Request, officer: SignedIn, template: actions.Template | None, status: int = 200,
                   problem: str | None = None, draft: dict[str, str] | None = None) -> Response:
    draft = draft if draft is not None else (
        {"title": template.title, "text": template.text, "category": template.category_code or ""} if template else {})
    return render(request, "template_form.html", status, officer=officer, template=template, draft=draft,
                  problem=TEMPLATE_PROBLEMS.get(problem or "", TEMPLATE_PROBLEMS["text"]) if problem else None,
                  ref=_reference(request), **_words())


def _template_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@router.get("/templates")
def template_list(request: Request) -> Response:
    officer, answer = _admin(request)
    if answer is not None:
        return answer
    return render(request, "templates.html", officer=officer, templates=actions.templates(request.app.state.db, every=True),
                  ref=_reference(request), done=request.query_params.get("done"), **_words())


@router.get("/templates/new")
def template_new(request: Request) -> Response:
    officer, answer = _admin(request)
    return answer if answer is not None else _template_page(request, officer, None)


@router.get("/templates/{template_id}")
def template_edit(request: Request, template_id: str) -> Response:
    officer, answer = _admin(request)
    if answer is not None:
        return answer
    found = actions.template(request.app.state.db, tid) if (tid := _template_id(template_id)) is not None else None
    if found is None:
        return render(request, "message.html", 404, title=N_("Template not found"),
                      message=N_("There is no such reply template."), back="/workbench/templates",
                      **_words(officer=officer))
    return _template_page(request, officer, found)


async def _save(request: Request, template_id: int | None) -> Response:
    officer, form, answer = await posted_form(request)
    if answer is not None:
        return answer
    if officer.role != "admin":
        return _role_refused(request, officer)
    draft = {"title": form.get("title", ""), "text": form.get("text", ""), "category": form.get("category", "")}
    known = set(_reference(request)["categories"])
    try:
        actions.save_template(request.app.state.db, officer, title=draft["title"], text=draft["text"],
                              category_code=draft["category"] or None, known_categories=known,
                              template_id=template_id, address=client_address(request))
    except actions.Refused as refused:
        if refused.why == "not_found":
            return redirect(request, "/workbench/templates")
        existing = actions.template(request.app.state.db, template_id) if template_id is not None else None
        return _template_page(request, officer, existing, 400, refused.detail, draft)
    return redirect(request, "/workbench/templates", done="saved")


@router.post("/templates/new")
async def template_add(request: Request) -> Response:
    return await _save(request, None)


@router.post("/templates/{template_id}")
async def template_change(request: Request, template_id: str) -> Response:
    tid = _template_id(template_id)
    if tid is None:
        _officer, _form, answer = await posted_form(request)
        return answer or redirect(request, "/workbench/templates")
    return await _save(request, tid)


@router.post("/templates/{template_id}/delete")
async def template_delete(request: Request, template_id: str) -> Response:
    officer, _form, answer = await posted_form(request)
    if answer is not None:
        return answer
    tid = _template_id(template_id)
    try:
        if tid is not None:
            actions.delete_template(request.app.state.db, officer, tid, address=client_address(request))
    except actions.Refused as refused:
        if refused.why == "role":
            return _role_refused(request, officer)
    return redirect(request, "/workbench/templates", done="deleted")



# -- forwarding: an admin settles a failed or unconfirmed entry (central.forwarding) ---------
def _settle(form_name: str):
    def apply(db: Database, officer: SignedIn, report: str, form: dict[str, str], address: str) -> None:
        if officer.role != "admin":
            raise actions.Refused("role")
        destination = form.get("destination", "")
        if form_name == "confirm" and not form.get("upstream_id", "").strip():
            raise actions.Refused("invalid", "upstream_id")
        with db.session() as session:  # an admin sees every report: a missing one is not found
            from central.models import Report

            if session.get(Report, report) is None:
                raise actions.Refused("not_found")
        try:
            if form_name == "confirm":
                forwarding.confirm(db, report, destination, form.get("upstream_id", ""), actor=officer.name,
                                   address=address)
            else:
                forwarding.resend(db, report, destination, actor=officer.name, address=address)
        except forwarding.NotApplicable:
            raise actions.Refused("invalid", "forwarding") from None

    return apply


@router.post("/reports/{tracking_id}/forwarding/confirm")
async def confirm_forwarding(request: Request, tracking_id: str) -> Response:
    """An admin found the report in the other system: the entry is sent, with that number."""
    return await _on_report(request, tracking_id, "forwarding_confirmed", _settle("confirm"),
                            lambda form: {"for": "forwarding", "upstream_id": form.get("upstream_id", "")})


@router.post("/reports/{tracking_id}/forwarding/resend")
async def resend_forwarding(request: Request, tracking_id: str) -> Response:
    """An admin knows the other system does not hold the report: it is sent again."""
    return await _on_report(request, tracking_id, "forwarding_resent", _settle("resend"))


# -- an admin's reply by SMS (central.sms_workbench) --------------------------------------------
@router.post("/reports/{tracking_id}/sms")
async def reply_by_sms(request: Request, tracking_id: str) -> Response:
    """An admin's SMS to the number that filed the report: queued once per form (its
    one-time ``sms_form``), so a double tap or a form sent again queues one SMS."""
    return await _on_report(
        request, tracking_id, lambda queued: "sms_queued" if queued else "sms_repeat",
        lambda db, officer, report, form, address: sms_workbench.queue_admin_reply(
            db, officer, report, form.get("sms_text", ""), form.get("sms_form", ""), address=address),
        lambda form: {"for": "sms", "sms_text": form.get("sms_text", "")})
