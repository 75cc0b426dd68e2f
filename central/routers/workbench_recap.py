"""``/workbench/recap``: the leadership's recap of a period, and its CSV export.

Who: ``viewer`` (leadership, inspectors) and ``admin``. An ``agency`` officer is refused
(403): the recap is the whole kabupaten's, and an agency's share of it would count only the
reports that are with the agency now, a partial picture that reads like the whole; their
inbox already counts their reports per status and marks the overdue ones.

- ``GET /workbench/recap?from=&to=``: the page (dates in WIB, both included; by default
  this month so far).
- ``GET /workbench/recap.csv?from=&to=[&title=1]``: the period's reports as CSV, never
  anyone's name or phone; titles only when asked, and never a confidential report's.
  Written to the audit log (``recap_exported``).
- ``POST /workbench/recap.csv`` (admin, CSRF): the same with the reporter's name and phone
  of each report that is not anonymous; written to the audit log
  (``recap_exported_identity``). An anonymous reporter's identity is in no export at all.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from central import accounts, deadlines, recap
from central.accounts import SignedIn
from central.recap import channel_word
from central.routers.workbench import _reference, _signed_in, _words, posted_form
from central.web import HTML_HEADERS, client_address, language, redirect, render
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import N_, gettext_for
from kiosk.kernel.tracking_id import format_tracking_id

router = APIRouter(prefix="/workbench", include_in_schema=False)

ROLES = ("admin", "viewer")
DIMENSION_WORDS = {"status": N_("Report status"), "agency": N_("Agency"), "category": N_("Category"),
                   "kecamatan": N_("Kecamatan"), "kind": N_("Kind"), "channel": N_("Channel")}
TIMING_WORDS = {"verify": N_("Arrival to verification"), "forward": N_("Arrival to forwarding"),
                "answer": N_("Arrival to answer"), "agency": N_("Forwarding to answer (the agency)")}
STEP_WORDS = {"verified": N_("Verified (WIB)"), "forwarded": N_("Forwarded (WIB)"), "answered": N_("Answered (WIB)"),
              "closed": N_("Closed (WIB)")}


def _refused_role(request: Request, officer: SignedIn) -> Response:
    return render(request, "message.html", 403, title=N_("Not allowed"),
                  message=N_("The recap is for the leadership and the administrators."), back="/workbench/",
                  **_words(officer=officer))


def _number(lang: str):
    """A number as the officer's language writes it (1.234,5 or 1,234.5)."""
    from babel.numbers import format_decimal

    locale = "id" if lang == "id" else "en"
    return lambda value, digits=1: "–" if value is None else format_decimal(
        value, format="#,##0." + "0" * digits if digits else "#,##0", locale=locale)


def _bar(share: float) -> str:
    """The class of a bar as long as ``share`` (0..1), in steps of 5 % (no inline style: CSP)."""
    return f"w-{min(100, max(0, round(share * 20) * 5))}"


@router.get("/recap")
def recap_page(request: Request) -> Response:
    officer = _signed_in(request)
    if officer is None:
        return redirect(request, "/workbench/login")
    if officer.role not in ROLES:
        return _refused_role(request, officer)
    period = recap.Period.from_query(request.query_params, deadlines.today())
    figures = recap.recap(request.app.state.db, period)
    lang, _remember = language(request)
    _ = gettext_for(lang)
    ref = _reference(request)
    names = {"status": lambda v: _(_words()["status_words"].get(v, v)),
             "kind": lambda v: _(_words()["kind_words"].get(v, v)),
             "channel": lambda v: channel_word(_, v),
             "agency": lambda v: ref["agencies"].get(v, v),
             "category": lambda v: ref["categories"].get(v, v),
             "kecamatan": lambda v: ref["kecamatan"].get(v, v)}
    return render(request, "recap.html", officer=officer, period=period, figures=figures, names=names,
                  dimensions=recap.DIMENSIONS, dimension_words=DIMENSION_WORDS, timing_words=TIMING_WORDS,
                  number=_number(lang), bar=_bar, **_words())


# -- the CSV ---------------------------------------------------------------------------------
def _csv(request: Request, officer: SignedIn, period: recap.Period, *, title: bool, identity: bool) -> Response:
    lang, _remember = language(request)
    _ = gettext_for(lang)
    words = _words()
    ref = _reference(request)
    rows = recap.export(request.app.state.db, period, title=title, identity=identity)
    stamp = lambda at: at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if at else ""  # noqa: E731
    header = [_("Tracking ID"), _("Received (WIB)"), *(_(STEP_WORDS[s]) for s in recap.STEPS), _("Report status"), _("Kind"),
              _("Category"), _("Agency"), _("Kecamatan"), _("Kiosk"), _("Channel"), _("Due"), _("Overdue"),
              _("Satisfaction (1-5)")]
    header += [_("Title")] if title else []
    header += [_("Reporter's name"), _("Reporter's phone")] if identity else []

    def line(row: recap.ExportRow) -> list:
        out = [format_tracking_id(row.tracking_id), stamp(row.received_at), *(stamp(row.steps[s]) for s in recap.STEPS),
               _(words["status_words"].get(row.status, row.status)), _(words["kind_words"].get(row.kind, row.kind)),
               ref["categories"].get(row.category_code, row.category_code),
               ref["agencies"].get(row.agency_code, row.agency_code) if row.agency_code else "",
               ref["kecamatan"].get(row.kecamatan_code, row.kecamatan_code) if row.kecamatan_code else "",
               row.kiosk_code, channel_word(_, row.channel),
               row.due_on.isoformat() if row.due_on else "", _("Yes") if row.overdue else _("No"),
               row.satisfaction if row.satisfaction is not None else ""]
        out += [row.title or ""] if title else []
        out += [row.reporter_name or "", row.reporter_phone or ""] if identity else []
        return out

    accounts.audit(request.app.state.db, officer.name, "recap_exported_identity" if identity else "recap_exported",
                   client_address(request), detail=_what_was_exported(period, title=title))
    name = f"rekap-lapor{'-identitas' if identity else ''}-{period.first.isoformat()}_{period.last.isoformat()}.csv"
    return Response(recap.csv_bytes(header, (line(r) for r in rows)), media_type="text/csv; charset=utf-8",
                    headers={**HTML_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


def _what_was_exported(period: recap.Period, *, title: bool) -> str:
    """The audit line's detail of an export: its period and options, e.g.
    ``2026-11-01..2026-11-30 title=1`` (never a report's content or anyone's name)."""
    return f"{period.first.isoformat()}..{period.last.isoformat()} title={int(title)}"


@router.get("/recap.csv")
def recap_csv(request: Request) -> Response:
    officer = _signed_in(request)
    if officer is None:
        return redirect(request, "/workbench/login")
    if officer.role not in ROLES:
        return _refused_role(request, officer)
    period = recap.Period.from_query(request.query_params, deadlines.today())
    return _csv(request, officer, period, title=request.query_params.get("title") == "1", identity=False)


@router.post("/recap.csv")
async def recap_csv_with_identity(request: Request) -> Response:
    """An admin's export with the reporters' names and phones (not anonymous ones), audited."""
    officer, form, refused = await posted_form(request)
    if refused is not None:
        return refused
    if officer.role != "admin":
        return render(request, "message.html", 403, title=N_("Not allowed"),
                      message=N_("Only an administrator may export reporters' names and phone numbers."),
                      back="/workbench/recap", **_words(officer=officer))
    period = recap.Period.from_query(form, deadlines.today())
    return _csv(request, officer, period, title=form.get("title") == "1", identity=True)
