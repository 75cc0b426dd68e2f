"""The public status page: small HTML, no JavaScript, readable on a cheap phone.

It shows only what LAPOR! shows the reporter: never identity, never the content of a
confidential report, and for an unknown ID a plain "not found" with no hint of others.
"""
from __future__ import annotations

import base64
import hashlib
import json
from html import escape

from central import service
from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.i18n import N_
from kiosk.kernel.timeline import RATING_WORDS, timeline
from kiosk.kernel.wire import OBJECTION_TEXT_MAX, RATING_MAX, RATING_MIN, StatusOut

STYLE = ("body{font-family:sans-serif;max-width:36em;margin:0 auto;padding:1em;color:#15171f;line-height:1.5}"
         "h1{font-size:1.3em;color:#0a4f9c}ol{padding-left:1.2em}li{margin:.6em 0}.d{color:#555;font-size:.9em}"
         ".r{background:#eef3f9;border-left:4px solid #0a4f9c;padding:.4em .6em;margin-top:.3em}"
         ".n{background:#fff7d6;padding:.6em}.id{font-size:1.4em;font-weight:bold;letter-spacing:.05em}")

#: The page may use its own inline style and nothing else: no script, no other source, no
#: frame around it, no <base>; its one form (type the number again) goes only to this
#: service. Sent with every HTML answer (``headers()``).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

#: The query parameter of the "type it again" form: ``/status/<any>?id=<typed>`` leads
#: to ``/status/<typed>`` (``central.routers.public_status``).
RETYPE_PARAM = "id"


def headers() -> dict[str, str]:
    """What every HTML answer carries (``central.guard`` adds nosniff and no-referrer to all)."""
    return {"Content-Security-Policy": CONTENT_SECURITY_POLICY}


def _agency_names(db, language: str) -> dict[str, str]:
    _, body = service.current_reference(db)
    key = "name_id" if language == "id" else "name_en"
    return {a["code"]: a[key] for a in json.loads(body)["agencies"]}


def render(status: StatusOut | None, language: str, canonical: str | None, *, problem: str | None, db,
           form_token: str = "", done: str = "") -> str:
    """The page; ``canonical`` is the Tracking ID as ``parse_tracking_id`` gave it, None when
    the path held no readable ID (whatever it held is never written into the page)."""
    from kiosk.kernel.tracking_id import format_tracking_id

    _ = gettext_for(language)
    other = "en" if language == "id" else "id"
    shown_id = format_tracking_id(canonical) if canonical else ""
    parts = [f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
             f'<meta name="viewport" content="width=device-width,initial-scale=1">'
             f"<title>{escape(_('Report status'))} - SP4N LAPOR!</title><style>{STYLE}</style></head><body>",
             # Landmarks: all the page says is in <main>; the language link is a <nav> of its own.
             f"<main><h1>{escape(_('Report status'))}</h1>"]
    if shown_id:
        parts.append(f'<p class="id">{escape(shown_id)}</p>')
    if problem == "unknown":
        parts.append(f"<p>{escape(_('No report with this number was found.'))}</p>")
        parts.append(_retype_form(language, shown_id))
    elif problem:
        parts.append(f"<p>{escape(_('This number is not right: a letter or number is probably mistyped. Please check it against your receipt.'))}</p>")
        parts.append(_retype_form(language, ""))  # never what the path held: it may be hostile
    else:
        lines, next_text = timeline(status, language, _agency_names(db, language), calendar=db.calendar)
        if status.confidential:
            parts.append(f"<p>{escape(_('Confidential report: its content is not shown.'))}</p>")
        elif status.title:
            parts.append(f"<p><b>{escape(status.title)}</b></p>")
        if status.lapor_number:  # LAPOR!'s own number, to follow the report there too
            parts.append(f'<p class="lapor">{escape(_("LAPOR! number: {number}").format(number=status.lapor_number))}</p>')
        parts.append("<ol>")
        for line in lines:
            reply = ""
            if line.reply and status.confidential:
                # A reply can quote a confidential report: on the web only where to read it.
                reply = f'<div class="r">{escape(_("The reply is not shown here because the report is confidential. Read it at any LAPOR! kiosk with your receipt."))}</div>'
            elif line.reply:
                reply = f'<div class="r">{escape(line.reply)}</div>'
            parts.append(f'<li><span class="d">{escape(line.date)}</span><br>{escape(line.text)}{reply}</li>')
        parts.append("</ol>")
        if next_text:
            parts.append(f'<p class="n">{escape(next_text)}</p>')
        parts.append(_feedback_part(status, language, form_token, done))
    # Relative, so the page also works under a proxy's path prefix: the canonical ID is
    # Crockford symbols only, and with no ID the link changes only the query.
    href = f"{canonical}?lang={other}" if canonical else f"?lang={other}"
    parts.append(f'</main><nav><p><a href="{escape(href, quote=True)}" lang="{other}" hreflang="{other}">'
                 f'{"English" if other == "en" else "Bahasa Indonesia"}</a></p></nav></body></html>')
    return "".join(parts)


def _retype_form(language: str, value: str) -> str:
    """A plain GET form (no script) to type the number again; it keeps the page's language.
    No ``action``: it goes to this same page, whose route follows ``?id=`` to the number."""
    _ = gettext_for(language)
    return ('<form method="get"><p><label for="id">'
            f"{escape(_('Type the report number from your receipt:'))}</label><br>"
            f'<input id="id" name="{RETYPE_PARAM}" value="{escape(value, quote=True)}" size="20" maxlength="40" '
            'autocomplete="off" autocapitalize="characters" spellcheck="false" required> '
            f'<input type="hidden" name="lang" value="{escape(language, quote=True)}">'
            f'<button type="submit">{escape(_("Check"))}</button></p></form>')


# -- the citizen's answer to the answer (central.feedback) -----------------------------------
#: The form's token: a random value in a cookie and in a hidden field (double submit, as the
#: workbench's login form), which is also the objection's or rating's idempotency key, so the
#: same form sent twice records one item. ``SameSite=Strict``: another site's form cannot send it.
FORM_COOKIE = "lapor_feedback"
DONE_WORDS = {
    "objection": N_("Your objection has been recorded. The report goes back to the office responsible."),
    "rating": N_("Thank you: your rating has been recorded."),
    "expired": N_("This form has expired. Please send it again."),
    "late": N_("This can no longer be sent for this report."),
}


def feedback_open(status: StatusOut) -> tuple[bool, bool]:
    """May the citizen object (the report waits for them: answered), may they rate it
    (it has been answered at least once)?"""
    answered = any(e.status == "answered" for e in status.events)
    return status.status == "answered", answered


def _feedback_part(status: StatusOut, language: str, form_token: str, done: str) -> str:
    """The objection and rating forms: plain POST forms, no script, nothing of the report's
    content (a confidential report's page shows no more with them than without)."""
    _ = gettext_for(language)
    may_object, may_rate = feedback_open(status)
    parts = []
    if done in DONE_WORDS:
        parts.append(f'<p class="n" role="status">{escape(_(DONE_WORDS[done]))}</p>')
    if not form_token or not (may_object or may_rate):
        return "".join(parts)
    token = f'<input type="hidden" name="form" value="{escape(form_token, quote=True)}">' \
            f'<input type="hidden" name="lang" value="{escape(language, quote=True)}">'
    tid = escape(status.tracking_id, quote=True)
    if may_object:
        parts.append(f'<form method="post" action="{tid}/objection"><h2>{escape(_("The problem is not solved"))}</h2>'
                     f'<p><label for="t">{escape(_("Tell the office what is still wrong (optional, at most 500 characters):"))}</label><br>'
                     f'<textarea id="t" name="text" rows="4" cols="30" maxlength="{OBJECTION_TEXT_MAX}"></textarea></p>'
                     f'{token}<p><button type="submit">{escape(_("Send: the problem is not solved"))}</button></p></form>')
    if may_rate:
        choices = "".join(
            f'<label><input type="radio" name="score" value="{n}" required> {n} {escape(_(RATING_WORDS[n]))}</label><br>'
            for n in range(RATING_MIN, RATING_MAX + 1))
        parts.append(f'<form method="post" action="{tid}/rating"><h2>{escape(_("How satisfied are you with the answer?"))}</h2>'
                     f'<p>{choices}</p>{token}<p><button type="submit">{escape(_("Send the rating"))}</button></p></form>')
    return "".join(parts)
