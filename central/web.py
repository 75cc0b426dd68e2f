"""What the workbench's pages share: the Jinja2 environment (autoescape, hostile control
characters made visible), the language of a request, the security headers of an HTML
answer, cookies and reading a small form body.

Every page is server-rendered HTML with no script and no inline style: its
Content-Security-Policy allows only this service's own stylesheet.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import urllib.parse
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import DEFAULT_LANGUAGE, LANGUAGES, gettext_for

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEET = Path(__file__).resolve().parent / "static" / "workbench.css"

#: Every workbench answer: our stylesheet, images and recorded complaints, forms to ourselves, nothing else.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; "
                           "base-uri 'none'; frame-ancestors 'none'")
HTML_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"}

LANG_COOKIE = "wb_lang"
#: Each language by its own name (as the public status page and the kiosk offer them).
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
#: A form body is a few fields: anything longer is refused before it is parsed.
FORM_MAX_BYTES = 16 * 1024

#: Control characters (C0 but tab, LF, CR; DEL; C1) and the bidirectional overrides that
#: could make a text read differently from what it holds: shown as U+FFFD.
_HOSTILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible_text(value):
    """Jinja's ``finalize``: every value written into a page passes here before escaping."""
    if value is None:
        return ""
    if type(value) is str:  # noqa: E721 - Markup (a str subclass) is ours and already safe
        return _HOSTILE.sub("\ufffd", value)
    return value


def local_time(value: dt.datetime | str | None) -> str:
    """A moment in the kabupaten's time; an ISO text as a report's body holds it, too (a
    text that is no ISO time is shown as it is)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if value.tzinfo is None:
            return value.isoformat()
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M WIB") if value else ""


@functools.lru_cache(maxsize=1)
def environment():
    """The templates' environment, built at the first page (no work at import time)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, finalize=_visible_text,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["local_time"] = local_time
    return env


def language(request: Request) -> tuple[str, bool]:
    """(language, whether to remember it): ``?lang=`` wins and is remembered in a cookie."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked, asked != request.cookies.get(LANG_COOKIE)
    remembered = request.cookies.get(LANG_COOKIE)
    return (remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE), False


def secure(request: Request) -> bool:
    """Cookies are Secure when the request came over https (also as a trusted proxy says);
    plain http is served for 127.0.0.1 tests and the demo, where no network is crossed."""
    return request.url.scheme == "https"


def path(request: Request, to: str, /, **query: str) -> str:
    """A path of this service (under a proxy's prefix too), with a query (whose fields may
    be named anything, ``to`` too: the inbox's date filter)."""
    prefix = request.scope.get("root_path", "")
    return prefix + to + ("?" + urllib.parse.urlencode(query) if query else "")


def set_cookie(response: Response, request: Request, name: str, value: str, *, http_only: bool = True) -> None:
    response.set_cookie(name, value, path="/workbench", httponly=http_only, samesite="strict", secure=secure(request))


def render(request: Request, template: str, status: int = 200, /, **context) -> HTMLResponse:
    """A page in the request's language, with the workbench's headers."""
    lang, remember = language(request)
    _ = gettext_for(lang)
    other = "en" if lang == "id" else "id"
    # The header's language link keeps the page's query (an inbox's search and filters).
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    html = environment().get_template(template).render(
        _=_, lang=lang, other_lang=other, other_lang_name=LANGUAGE_NAMES[other], language_names=LANGUAGE_NAMES,
        other_lang_href="?" + urllib.parse.urlencode([*kept, ("lang", other)]),
        css=path(request, "/workbench/static/workbench.css"), url=lambda to, /, **q: path(request, to, **q),
        **context)
    response = HTMLResponse(html, status_code=status, headers=HTML_HEADERS)
    if remember:
        set_cookie(response, request, LANG_COOKIE, lang)
    return response


def redirect(request: Request, to: str, **query: str) -> RedirectResponse:
    return RedirectResponse(path(request, to, **query), status_code=303, headers=HTML_HEADERS)


class FormTooLarge(ValueError):
    pass


async def read_form(request: Request) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` body (first value of each),
    read up to FORM_MAX_BYTES; anything else reads as no fields."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_MAX_BYTES:
            raise FormTooLarge()
    try:
        fields = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {key: values[0] for key, values in fields.items()}


def client_address(request: Request) -> str:
    return (request.client.host if request.client else "?")[:64]
