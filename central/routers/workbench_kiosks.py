"""``/workbench/kiosks``: the hall's kiosks for the staff, a citizen's call for help on top.

Who: ``admin`` and ``agency`` officers (the staff in the halls); a ``viewer`` is refused
(403). The page lists every kiosk in service with its location, when it was last heard
from and its flags (``central.fleet``), and puts each kiosk whose citizen asked for staff
("Minta bantuan petugas", flag HELP) in a banner at the top. It reloads itself every
15 s through the HTTP ``Refresh`` header (no script, so the Content-Security-Policy stays),
and offers to stop that (``?refresh=off``: WCAG 2.2.1, an officer reading with a screen
reader must not lose their place every 15 s). A call's only data is its age: no name, no text.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from central import fleet
from central.accounts import SignedIn
from central.routers.workbench import _signed_in, _words
from central.web import language, redirect, render
from kiosk.kernel.i18n import N_, gettext_for

router = APIRouter(prefix="/workbench", include_in_schema=False)

ROLES = ("admin", "agency")
#: How often the page reloads itself, seconds.
REFRESH_S = 15
#: The fleet's flags (``central.fleet.flags_for``) in words.
FLAG_WORDS = {"HELP": N_("Asking for staff help"), "REVOKED": N_("Taken out of service"),
              "SILENT": N_("Not heard from"), "BACKED-UP": N_("Reports waiting too long"),
              "FAILED-REPORTS": N_("Reports refused"), "NO-PAPER": N_("No paper"), "PAPER-LOW": N_("Paper low"),
              "PRINTER-FAULT": N_("Printer fault"), "CAMERA-FAULT": N_("Camera fault"),
              "LOW-DISK": N_("Disk nearly full"), "CLOCK-SKEW": N_("Clock wrong"), "CLOCK-STEP": N_("Clock was reset")}


def ago(seconds: float | None, lang: str) -> str:
    """How long ago, in words of ``lang``: "baru saja", "2 menit lalu", "3 jam lalu"."""
    _ = gettext_for(lang)
    if seconds is None:
        return _("Never")
    minutes = int(seconds // 60)
    if minutes < 1:
        return _("just now")
    if minutes == 1:
        return _("1 minute ago")
    if minutes < 120:
        return _("{minutes} minutes ago").format(minutes=minutes)
    if minutes < 48 * 60:
        return _("{hours} hours ago").format(hours=minutes // 60)
    return _("{days} days ago").format(days=minutes // (24 * 60))


def _refused_role(request: Request, officer: SignedIn) -> Response:
    return render(request, "message.html", 403, title=N_("Not allowed"),
                  message=N_("The kiosks page is for the administrators and the agencies' staff."),
                  back="/workbench/", **_words(officer=officer))


@router.get("/kiosks")
def kiosks_page(request: Request) -> Response:
    officer = _signed_in(request)
    if officer is None:
        return redirect(request, "/workbench/login")
    if officer.role not in ROLES:
        return _refused_role(request, officer)
    now = fleet.utc_now()
    kiosks = [k for k in fleet.fleet(request.app.state.db, now, fleet.Thresholds()) if not k["revoked"]]
    calls = sorted((k for k in kiosks if "HELP" in k["flags"]), key=lambda k: -k["help_called_age_s"])
    lang, _remember = language(request)
    refreshing = request.query_params.get("refresh") != "off"
    response = render(request, "kiosks.html", officer=officer, kiosks=kiosks, calls=calls, at=now,
                      refresh_s=REFRESH_S, refreshing=refreshing, flag_words=FLAG_WORDS,
                      ago=lambda seconds: ago(seconds, lang), **_words())
    if refreshing:
        response.headers["Refresh"] = str(REFRESH_S)
    return response
