"""Forwarding to any Open311 GeoReport v2 server (issue 15): destination type ``open311``.

One entry of the central's forwarding file, ``[destinations.NAME]`` with ``type = "open311"``,
holds (``Settings.from_mapping`` checks them and refuses any other key, a typo included):

- ``url``: the endpoint's base (``https://kota.example/open311/v2/``); ``api_key_file``: a
  file holding the API key the target issued us (read once, when the destination is built);
- ``jurisdiction_id`` (optional): sent with every request when the target serves several;
- ``service_codes`` (optional table): our category code -> the target's ``service_code``,
  ``"*"`` for every category not listed; without either, our category code as it is;
- ``format``: ``"json"`` (default) or ``"xml"``; ``connect_timeout`` (5 s), ``read_timeout`` (30 s);
- ``attribute_id`` (default ``client_report_id``, as our own server reads it): the attribute
  in which the report's Tracking ID travels as the idempotency key; ``""`` sends none.

Idempotency (docs/FORWARDING.md, "Open311 destination"): with an ``attribute_id`` the
destination is idempotent: a server that keeps the attribute (ours does, FixMyStreet's
receivers do) answers a resend with the same ``service_request_id``, so a lost answer is
simply sent again. A service whose definition (``GET services/{code}``, read once per code
and process) lacks that attribute gets nothing: the report is refused with a reason, since
a resend there could file it twice; ``attribute_id = ""`` forwards without the key, and
then the destination is not idempotent (a lost answer waits for an admin).

Only attributes the service defines are sent (a strict server, ours included, refuses any
other; a list's value only when it is one of its keys), the id attribute always. A
confidential report is never sent to a service without a ``confidential`` attribute (it
would be public there); an anonymous report never carries the reporter's identity.

The adapter never logs a report's words, the reporter's identity or its Tracking ID.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import hashlib
import json
import logging
import math
import re
import stat
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from central.destinations import (TYPES, Delivered, LookUpUnsupported, Outcome, Outgoing, Refused, TryLater, Unknown,
                                  UpstreamEvent)
from kiosk.kernel.wire import DESCRIPTION_MAX, KECAMATAN_OUTSIDE, KECAMATAN_UNKNOWN

log = logging.getLogger(__name__)

TYPE = "open311"
FORMATS = ("json", "xml")
#: The attribute our own GeoReport server reads as the client's ID (``central.open311.CLIENT_REPORT_ID``).
DEFAULT_ATTRIBUTE_ID = "client_report_id"
DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, TIMEOUT_MAX = 5.0, 30.0, 300.0
#: The keys of its table (``type`` besides: the forwarding file's); any other is a mistake.
KEYS = ("url", "api_key_file", "jurisdiction_id", "service_codes", "format", "connect_timeout", "read_timeout",
        "attribute_id")
#: How long a service definition is trusted before it is read again (a refusal drops it at once).
DEFINITION_TTL_S = 3600.0
#: An answer longer than this is not an Open311 answer we can use.
ANSWER_MAX_BYTES = 1024 * 1024
#: How much of the target's error descriptions a reason keeps (they may echo what was sent).
REASON_MAX = 300
#: Our attributes, each sent only where the target's service defines it.
ANONYMOUS, CONFIDENTIAL = "anonymous", "confidential"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


# -- settings --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Settings:
    url: str  # ends with "/"
    api_key: str = dataclasses.field(repr=False)
    jurisdiction_id: str | None
    service_codes: Mapping[str, str]
    format: str
    connect_timeout: float
    read_timeout: float
    attribute_id: str  # "" : no idempotency key

    @classmethod
    def from_mapping(cls, settings: Mapping) -> "Settings":
        """The settings of ``[destinations.NAME]`` (its ``type`` left out); ValueError naming
        the key and what is wrong (the forwarding file's loader adds the file and the table)."""
        unknown = set(settings) - set(KEYS) - {"type"}
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r}; an open311 destination has {', '.join(KEYS)}")

        def text(key: str, default: str | None = None) -> str | None:
            value = settings.get(key, default)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key}: expected a string, got {type(value).__name__}")
            return value.strip() if value is not None else None

        url = text("url")
        if not url:
            raise ValueError("url: required (the endpoint's base, e.g. https://kota.example/open311/v2/)")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("url: an http or https URL without query, e.g. https://kota.example/open311/v2/")
        key_file = text("api_key_file")
        if not key_file:
            raise ValueError("api_key_file: required (a file holding the API key the target issued)")
        api_key = _read_key(Path(key_file))
        fmt = (text("format", "json") or "").lower()
        if fmt not in FORMATS:
            raise ValueError(f"format: \"json\" or \"xml\", not {fmt!r}")
        codes = settings.get("service_codes", {})
        if not isinstance(codes, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                     for k, v in codes.items()):
            raise ValueError("service_codes: a table of our category code = \"their service_code\" "
                             "(\"*\" for every other category)")
        timeouts = [_seconds(key, settings.get(key, default))
                    for key, default in (("connect_timeout", DEFAULT_CONNECT_TIMEOUT),
                                         ("read_timeout", DEFAULT_READ_TIMEOUT))]
        attribute_id = text("attribute_id", DEFAULT_ATTRIBUTE_ID)
        if attribute_id and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", attribute_id):
            raise ValueError("attribute_id: an attribute code (letters, digits, _ . : -), or \"\" for none")
        return cls(url=url if url.endswith("/") else url + "/", api_key=api_key,
                   jurisdiction_id=text("jurisdiction_id") or None,
                   service_codes={k.strip(): v.strip() for k, v in codes.items()}, format=fmt,
                   connect_timeout=timeouts[0], read_timeout=timeouts[1], attribute_id=attribute_id or "")

    def service_code(self, category_code: str) -> str:
        return self.service_codes.get(category_code) or self.service_codes.get("*") or category_code


def _read_key(path: Path) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"api_key_file: cannot read {path} ({exc.__class__.__name__})") from None
    if not key or any(c.isspace() for c in key):
        raise ValueError(f"api_key_file: {path} must hold the key alone, on one line")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("api_key_file %s is readable by others than its owner (chmod 600 it)", path)
    return key


def _seconds(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value <= TIMEOUT_MAX):
        raise ValueError(f"{key}: a number of seconds above 0 and at most {TIMEOUT_MAX:g}")
    return float(value)


# -- reading answers -------------------------------------------------------------------------
class Unreadable(ValueError):
    """An answer that is no Open311 document we can read."""


def _decode(content: bytes, fmt: str):
    """JSON as it is; XML as nested dicts and lists (an element with repeated or list-like
    children becomes a list). A DOCTYPE is refused (no entity expansion from a stranger)."""
    if fmt == "json":
        try:
            return json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Unreadable("not JSON") from None
    if b"<!DOCTYPE" in content[:4096].upper() or b"<!ENTITY" in content.upper():
        raise Unreadable("XML with a DOCTYPE")
    try:
        return _element(ET.fromstring(content))
    except ET.ParseError:
        raise Unreadable("not XML") from None


def _element(element: ET.Element):
    children = list(element)
    if not children:
        return (element.text or "").strip() or None
    tags = [c.tag for c in children]
    if len(set(tags)) == 1 and (len(tags) > 1 or element.tag in _XML_LISTS):
        return [_element(c) for c in children]
    return {c.tag: _element(c) for c in children}


#: XML elements that are lists even with one child (``<service_requests><request>``).
_XML_LISTS = {"service_requests", "requests", "errors", "attributes", "values", "services"}


def _first_request(document) -> dict | None:
    """The request of an answer, however it is wrapped: the spec's list of one, an object
    holding it (``service_requests``, ``request``, ``data``...), or the object itself."""
    for _ in range(4):
        if isinstance(document, list):
            document = next((d for d in document if isinstance(d, (dict, list))), None)
        elif isinstance(document, dict):
            if any(k in document for k in ("service_request_id", "token")):
                return document
            inner = [v for v in document.values() if isinstance(v, (dict, list))]
            if len(inner) != 1:
                return None
            document = inner[0]
        else:
            return None
    return None


def _field(request: Mapping, key: str) -> str | None:
    value = request.get(key)
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    value = str(value).strip()
    return value or None


def _error_descriptions(document) -> str:
    """The target's error descriptions (the spec's list of code and description, wrapped or
    not), one line, cut to REASON_MAX; "" when there are none."""
    found: list[str] = []

    def walk(node, depth: int) -> None:
        if depth > 4 or len(found) >= 5:
            return
        if isinstance(node, list):
            for item in node:
                walk(item, depth + 1)
        elif isinstance(node, dict):
            description = node.get("description") or node.get("message")
            if isinstance(description, (str, int, float)) and not isinstance(description, bool):
                found.append(str(description))
            else:
                for value in node.values():
                    walk(value, depth + 1)
        elif isinstance(node, str) and depth == 0:
            found.append(node)

    walk(document, 0)
    return _clean("; ".join(found))


def _clean(text: str) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= REASON_MAX else text[:REASON_MAX - 1] + "\u2026"


def retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds())


def _when(value: str | None) -> dt.datetime | None:
    """An ISO 8601 time of the target's (``Z`` and no offset read as UTC); None if unreadable."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class _Answer:
    status: int
    content: bytes
    content_type: str
    retry_after: float | None
    location: str = ""


class _NotSent(Exception):
    """The request never reached the target (no connection: refused, unresolvable, a
    connect timeout, TLS failed): a resend is safe whatever the target does."""


class _Lost(Exception):
    """The request may have reached the target, and no answer came back (a read timeout,
    a reset or closed connection, a body cut short)."""


class _Absent(Exception):
    """The target answered 404: it shows no such thing."""


# -- the destination -------------------------------------------------------------------------
class Open311Destination:
    """One Open311 GeoReport v2 server as a :class:`central.destinations.Destination`."""

    def __init__(self, name: str, settings: Mapping):
        self.name = name
        self.settings = Settings.from_mapping(settings)
        #: With an id attribute, the target recognises a resend (refused where it cannot).
        self.idempotent = bool(self.settings.attribute_id)
        self._definitions: dict[str, tuple[float, dict[str, dict]]] = {}
        self._tokens: dict[str, str] = {}  # tracking id -> a token still waiting for its request id
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Open311Destination({self.name!r}, {self.settings.url!r})"

    #: The longest one send() may take, for the worker's claim TTL (``central.forwarding_cli``
    #: reads these two, as LAPOR!'s adapter names them): up to three requests (the service
    #: definition, the POST, a token), each with its own connect and read timeouts.
    @property
    def timeout_s(self) -> float:
        return 3 * self.settings.read_timeout

    @property
    def connect_timeout_s(self) -> float:
        return 3 * self.settings.connect_timeout

    # -- HTTP --------------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return urllib.parse.urljoin(self.settings.url, f"{path}.{self.settings.format}")

    def _params(self) -> dict[str, str]:
        jurisdiction = self.settings.jurisdiction_id
        return {"jurisdiction_id": jurisdiction} if jurisdiction else {}

    def _call(self, method: str, path: str, *, data: list[tuple[str, str]] | None = None) -> _Answer:
        """One request (no retries, a connection of its own); _NotSent or _Lost for what the
        network did."""
        try:
            with requests.request(method, self._url(path), params=None if data else self._params(), data=data,
                                  timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                                  headers={"Accept": "application/json" if self.settings.format == "json"
                                           else "text/xml"},
                                  allow_redirects=method == "GET", stream=True) as response:
                content = b""
                for chunk in response.iter_content(65536):
                    content += chunk
                    if len(content) > ANSWER_MAX_BYTES:
                        break
                return _Answer(response.status_code, content, response.headers.get("Content-Type", ""),
                               retry_after(response.headers.get("Retry-After")), response.headers.get("Location", ""))
        except requests.ConnectTimeout as exc:
            raise _NotSent("no connection within the connect timeout") from exc
        except requests.exceptions.SSLError as exc:
            raise _NotSent("TLS failed") from exc
        except requests.exceptions.ProxyError as exc:
            raise _NotSent("the proxy refused the connection") from exc
        except requests.ConnectionError as exc:
            cause = exc.args[0] if exc.args else None
            if isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError):
                raise _NotSent("connection refused or host unknown") from exc
            raise _Lost("the connection closed before the answer") from exc
        except requests.Timeout as exc:
            raise _Lost("no answer within the read timeout") from exc
        except requests.RequestException as exc:
            raise _Lost(f"the answer could not be read ({exc.__class__.__name__})") from exc

    def _document(self, answer: _Answer):
        if "html" in answer.content_type.lower():
            raise Unreadable("an HTML page")
        return _decode(answer.content, self.settings.format)

    def _refusal(self, answer: _Answer) -> str:
        try:
            described = _error_descriptions(self._document(answer))
        except Unreadable as exc:
            described = f"no Open311 error list ({exc})"
        return f"HTTP {answer.status}: {described or 'no description'}"

    # -- the service definition --------------------------------------------------------------
    def _definition(self, service_code: str) -> dict[str, dict] | Outcome:
        """The attributes the target's service defines, by code (cached), or the outcome
        that ends this attempt (nothing was sent yet: TryLater or Refused, never Unknown)."""
        now = time.monotonic()
        with self._lock:
            cached = self._definitions.get(service_code)
        if cached is not None and now - cached[0] < DEFINITION_TTL_S:
            return cached[1]
        path = "services/" + urllib.parse.quote(service_code, safe="")
        try:
            answer = self._call("GET", path)
        except (_NotSent, _Lost) as exc:
            return TryLater(f"service definition of {service_code}: {exc}")
        if answer.status in (429,) or answer.status >= 500:
            return TryLater(f"service definition of {service_code}: HTTP {answer.status}", answer.retry_after)
        if answer.status != 200:
            return Refused(f"service definition of {service_code}: {self._refusal(answer)}")
        try:
            document = self._document(answer)
        except Unreadable as exc:
            return TryLater(f"service definition of {service_code}: {exc}, not the target's answer")
        if isinstance(document, list) and len(document) == 1:
            document = document[0]
        if not isinstance(document, dict):
            return TryLater(f"service definition of {service_code}: no service_definition")
        listed = document.get("attributes") or []
        if isinstance(listed, dict):  # one attribute in XML, or a server's own wrapping
            listed = listed.get("attribute", listed)
            listed = listed if isinstance(listed, list) else [listed]
        attributes = {}
        for attribute in listed if isinstance(listed, list) else []:
            if isinstance(attribute, dict) and _field(attribute, "code"):
                attributes[_field(attribute, "code")] = attribute
        with self._lock:
            self._definitions[service_code] = (now, attributes)
        return attributes

    def _forget(self, service_code: str) -> None:
        with self._lock:
            self._definitions.pop(service_code, None)

    # -- send --------------------------------------------------------------------------------
    def send(self, report: Outgoing) -> Outcome:
        """POST requests: Delivered with the target's ``service_request_id``; never raises
        for what the network or the target does."""
        service_code = self.settings.service_code(report.category_code)
        attributes = self._definition(service_code)
        if not isinstance(attributes, dict):
            return attributes
        if self.idempotent and self.settings.attribute_id not in attributes:
            return Refused(f"service {service_code} defines no attribute {self.settings.attribute_id}: a resend "
                           "could file the report twice there, so it is not sent (attribute_id = \"\" forwards "
                           "without an idempotency key)")
        if report.confidential and CONFIDENTIAL not in attributes:
            return Refused(f"service {service_code} defines no attribute {CONFIDENTIAL}: this confidential report "
                           "would be public there, so it is not sent")
        outcome = self._post(report, service_code, attributes)
        if isinstance(outcome, Refused):
            self._forget(service_code)  # the definition may have changed: read it again next time
        log.info("Open311 destination %s: %s", self.name, type(outcome).__name__)
        return outcome

    def _post(self, report: Outgoing, service_code: str, attributes: dict[str, dict]) -> Outcome:
        try:
            answer = self._call("POST", "requests", data=form(report, self.settings, service_code, attributes))
        except _NotSent as exc:
            return TryLater(str(exc))
        except _Lost as exc:
            return Unknown(str(exc))
        status = answer.status
        if status == 429 or status == 503 or status == 408:
            return TryLater(f"HTTP {status}", answer.retry_after)
        if status >= 500:
            # A 500 may come after the target filed it: with the id attribute a resend is safe.
            if self.idempotent:
                return TryLater(f"HTTP {status}", answer.retry_after)
            return Unknown(f"HTTP {status}: the target may have filed it")
        if 400 <= status < 500:
            return Refused(self._refusal(answer))
        if 300 <= status < 400:  # a POST is not followed: a captive portal's, or a moved endpoint (fix url)
            return TryLater(f"HTTP {status}, redirected to {_clean(answer.location)[:100] or '?'}: not the target's "
                            "answer")
        if not 200 <= status < 300:
            return Unknown(f"HTTP {status}: not an answer to a POST")
        try:
            filed = _first_request(self._document(answer))
        except Unreadable as exc:
            if "html" in str(exc).lower():
                return TryLater(f"HTTP {status} with {exc}: a captive portal or proxy, not the target")
            return Unknown(f"HTTP {status}, {exc}")
        if filed is None:
            return Unknown(f"HTTP {status} without service_request_id or token")
        return self._filed(report, filed)

    def _filed(self, report: Outgoing, filed: Mapping) -> Outcome:
        request_id, token = _field(filed, "service_request_id"), _field(filed, "token")
        extra = {"token": token} if token else {}
        if request_id:
            with self._lock:
                self._tokens.pop(report.tracking_id, None)
            return Delivered(request_id, extra)
        if not token:
            return Unknown("an answer without service_request_id or token")
        with self._lock:
            self._tokens[report.tracking_id] = token
        try:
            request_id = self._token_request(token)
        except OSError:
            request_id = None
        if request_id:
            with self._lock:
                self._tokens.pop(report.tracking_id, None)
            return Delivered(request_id, extra)
        return Unknown("the target took it under a token and has no service_request_id for it yet")

    def _token_request(self, token: str) -> str | None:
        """GET tokens/{token}: the request id once the target has one; None while it has
        none; OSError when the target could not be asked."""
        try:
            found = self._get_one("tokens/" + urllib.parse.quote(token, safe=""), "tokens")
        except _Absent:
            return None  # some servers know a token only once its request exists
        return _field(found, "service_request_id") if found is not None else None

    def _get_one(self, path: str, what: str) -> Mapping | None:
        """GET one document: its first request, None when it holds none; _Absent for a 404;
        ConnectionError (named ``what``) when the target could not be asked, refused, or
        sent what cannot be read."""
        try:
            answer = self._call("GET", path)
        except (_NotSent, _Lost) as exc:
            raise ConnectionError(f"{what}: {exc}") from None
        if answer.status == 404:
            raise _Absent(what)
        if answer.status != 200:
            raise ConnectionError(f"{what}: {self._refusal(answer)}")
        try:
            return _first_request(self._document(answer))
        except Unreadable as exc:
            raise ConnectionError(f"{what}: {exc}") from None

    # -- look_up -----------------------------------------------------------------------------
    def look_up(self, report: Outgoing) -> Delivered | None:
        """GeoReport v2 cannot search by our ID. A token this process was given for the
        report is asked for its request id; else, when idempotent, the report is POSTed
        again (the target answers its request id and files nothing new); else
        LookUpUnsupported (an admin reconciles)."""
        with self._lock:
            token = self._tokens.get(report.tracking_id)
        if token is not None:
            request_id = self._token_request(token)
            if request_id:
                with self._lock:
                    self._tokens.pop(report.tracking_id, None)
                return Delivered(request_id, {"token": token})
            raise LookUpUnsupported("the target took the report under a token and has no service_request_id for "
                                    "it yet")
        if not self.idempotent:
            raise LookUpUnsupported("Open311 GeoReport v2 cannot find a request by our Tracking ID without an "
                                    "id attribute")
        outcome = self.send(report)
        if isinstance(outcome, Delivered):
            return outcome
        if isinstance(outcome, Refused):
            raise LookUpUnsupported(outcome.reason)
        raise ConnectionError(outcome.reason)

    # -- updates -----------------------------------------------------------------------------
    def updates(self, upstream_id: str, since: dt.datetime | None) -> list[UpstreamEvent]:
        """GET requests/{id}: the request's current state as at most two events, both with
        ``status`` None (an upstream step never moves our report by itself): its
        ``status_notes`` as the public reply (event id: a digest of the words, so the same
        reply is recorded once however often the state changes), and its being closed, a
        note for the officers (event id: a digest of status, notes and updated time).
        ``since`` is not used to drop events: GeoReport v2 shows only the current state,
        whose time is the target's clock, and the event ids make repeats harmless. [] when
        the target shows no such request (a 404: ours hides confidential reports); an
        OSError when it could not be asked."""
        try:
            shown = self._get_one("requests/" + urllib.parse.quote(upstream_id, safe=""), f"requests/{upstream_id}")
        except _Absent:
            return []
        if shown is None or _field(shown, "service_request_id") not in (None, upstream_id):
            raise ConnectionError(f"requests/{upstream_id}: no such request in the answer")
        return events_of(self.name, shown)


def events_of(name: str, shown: Mapping) -> list[UpstreamEvent]:
    """The events of one request as GeoReport v2 shows it (see :meth:`Open311Destination.updates`)."""
    status = (_field(shown, "status") or "").lower()
    notes = _field(shown, "status_notes")
    updated = _field(shown, "updated_datetime")
    at = _when(updated) or _when(_field(shown, "requested_datetime")) or dt.datetime.now(dt.timezone.utc)
    events = []
    if notes:
        events.append(UpstreamEvent(event_id="open311-reply-" + _digest(notes), at=at, status=None,
                                    public_reply=_reply(notes), note=f"Jawaban dari {name} (Open311)"))
    if status == "closed":
        events.append(UpstreamEvent(event_id="open311-state-" + _digest(status, notes or "", updated or ""), at=at,
                                    status=None, public_reply=None,
                                    note=f"Ditutup di {name} (Open311 status: closed)"))
    return events


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _reply(notes: str) -> str:
    return notes if len(notes) <= DESCRIPTION_MAX else notes[:DESCRIPTION_MAX - 1] + "\u2026"


# -- what is sent ----------------------------------------------------------------------------
def description_of(report: Outgoing) -> str:
    """The report's words for ``description``: its title first where the description does
    not already begin with it, at most DESCRIPTION_MAX (4,000) characters."""
    title = " ".join(str(report.body.get("title") or "").split())
    text = str(report.body.get("description") or "").strip()
    if title and not " ".join(text.split()).startswith(title.rstrip("\u2026")):
        text = f"{title}\n\n{text}".strip()
    return text if len(text) <= DESCRIPTION_MAX else text[:DESCRIPTION_MAX - 1] + "\u2026"


def _kecamatan_name(code: str | None, attributes: dict[str, dict]) -> str | None:
    """A kecamatan's name, from the target's own list where it has one, else from its code."""
    if not code or code in (KECAMATAN_UNKNOWN, KECAMATAN_OUTSIDE):
        return "di luar kabupaten" if code == KECAMATAN_OUTSIDE else None
    listed = {str(v.get("key")): v.get("name") for v in _values(attributes.get("kecamatan"))}
    name = listed.get(code)
    return f"Kecamatan {name if isinstance(name, str) and name else code.replace('_', ' ').title()}"


def _values(attribute: dict | None) -> list[dict]:
    values = (attribute or {}).get("values")
    if isinstance(values, dict):
        values = values.get("value", values)
        values = values if isinstance(values, list) else [values]
    return [v for v in values or [] if isinstance(v, dict)]


def _location(report: Outgoing, attributes: dict[str, dict]) -> list[tuple[str, str]]:
    """``lat``/``long`` where the body holds them (a report that came through Open311), and
    ``address_string``: the place, then the kecamatan; one of them always (the spec's
    required location)."""
    fields = []
    extra = report.body.get("open311") if isinstance(report.body.get("open311"), Mapping) else {}
    lat, long = extra.get("lat"), extra.get("long")
    if isinstance(lat, (int, float)) and isinstance(long, (int, float)) and math.isfinite(lat + long):
        fields += [("lat", repr(float(lat))), ("long", repr(float(long)))]
    place = " ".join(str(report.body.get("location_text") or "").split())
    kecamatan = _kecamatan_name(report.kecamatan_code or report.body.get("kecamatan_code"), attributes)
    address = ", ".join(part for part in (place, kecamatan) if part)
    if address or not fields:
        fields.append(("address_string", address or "Lokasi tidak disebutkan"))
    return fields


def _identity(report: Outgoing) -> list[tuple[str, str]]:
    """The reporter's name, phone and e-mail, as given; nothing for an anonymous report."""
    if report.anonymous:
        return []
    name = " ".join(str(report.body.get("reporter_name") or "").split())
    first, _, last = name.partition(" ")
    pairs = [("first_name", first), ("last_name", last), ("phone", str(report.body.get("reporter_phone") or "")),
             ("email", str(report.body.get("reporter_email") or ""))]
    return [(k, v.strip()) for k, v in pairs if v.strip()]


def form(report: Outgoing, settings: Settings, service_code: str, attributes: dict[str, dict]) -> list[tuple[str, str]]:
    """The fields of ``POST requests`` for a report, given the attributes its service defines."""
    pairs = [("api_key", settings.api_key), ("service_code", service_code)]
    if settings.jurisdiction_id:
        pairs.append(("jurisdiction_id", settings.jurisdiction_id))
    pairs.append(("description", description_of(report)))
    pairs += _location(report, attributes)
    ours = {"kind": report.kind, "agency": report.agency_code, "kecamatan": report.kecamatan_code,
            ANONYMOUS: "true" if report.anonymous else "false",
            CONFIDENTIAL: "true" if report.confidential else "false"}
    for code, value in ours.items():
        if not value or code not in attributes:
            continue
        keys = {str(v.get("key")) for v in _values(attributes[code])}
        if keys and value not in keys:
            continue  # a list that does not hold our value: the target would refuse it
        pairs.append((f"attribute[{code}]", value))
    if settings.attribute_id:
        pairs.append((f"attribute[{settings.attribute_id}]", report.tracking_id))
    pairs += _identity(report)
    extra = report.body.get("open311") if isinstance(report.body.get("open311"), Mapping) else {}
    if isinstance(extra.get("media_url"), str) and extra["media_url"]:
        pairs.append(("media_url", extra["media_url"]))
    return pairs


TYPES[TYPE] = Open311Destination
