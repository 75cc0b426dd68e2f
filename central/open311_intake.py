"""``POST requests``: an Open311 request filed as one of our reports (issue 15).

The request becomes a report like a kiosk's: the same ``reports`` row, ``received`` event,
deadline and search entry (``central.service.add_report``), ``channel`` ``open311``, and
a Tracking ID the central issues under its own issuer code (``central.open311.DEFAULT_ISSUER``
unless configured). From there it follows the same lifecycle on the workbench.

What the request carries, and where it goes in the report's body:

- ``service_code``: the category; ``description`` (required here: a complaint without
  words helps no officer): the report's text, its first line (shortened) the title;
- ``lat``/``long`` or ``address_string``: one of them is required; the address is the
  report's place, both are kept in the body's ``open311`` part (with ``media_url``, the
  client's name and its ``client_report_id``);
- ``attribute[CODE]``: ``central.open311.attributes`` (kind, agency, kecamatan, anonymous,
  confidential, client_report_id); an attribute we do not define is refused (a mistyped
  ``confidential`` must never make a report public);
- ``first_name``/``last_name``, ``phone``, ``email``: the reporter's identity, kept as a
  kiosk's is (``reporter_name``, ``reporter_phone``, and ``reporter_email``): in the
  report's body, never logged, never searched, never in any public answer, hidden from
  agencies and viewers when the report is anonymous (``central.workbench.IDENTITY_FIELDS``).
  ``device_id``, ``account_id`` and ``jurisdiction_id`` (this central is one jurisdiction)
  are read and not kept.

Idempotency: the ``client_report_id`` attribute, once per client (``open311_requests``'
unique key): a resend answers the same ``service_request_id`` and token and files nothing;
a resend that asks something else is recorded in ``intake_conflicts`` and never applied
(as a kiosk's conflicting resend is).

The answer: ``service_request_id`` is the report's public Open311 id (``reports.open311_id``),
as everywhere in Open311. Its Tracking ID, which lets its holder read the status page and
file an objection or a rating, is told only here, to the client that filed the report (and
again on its resend), in ``service_notice`` (``central.open311.tracking_notice``): for the
citizen, as a kiosk's receipt tells it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import re
import secrets
import urllib.parse

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from central import service
from central.db import Database
from central.models import IntakeConflict, Open311Request, Report
from central.open311 import (CHANNEL, CLIENT_REPORT_ID, CLIENT_REPORT_ID_MAX, KECAMATAN_UNKNOWN, KIND_NAMES,
                             RESERVED_KECAMATAN, YES_NO, Open311Error, reference, tracking_notice)
from kiosk.kernel.clock import local_date, utc_now
from kiosk.kernel.tracking_id import new_tracking_id
from kiosk.kernel.wire import DESCRIPTION_MAX, LOCATION_MAX, NAME_MAX, PHONE_MAX, TITLE_MAX, Line, Lines, ReportIn

log = logging.getLogger(__name__)

#: The fields of ``POST requests`` besides the attributes; any other is ignored.
FIELDS = ("api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id", "email",
          "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url")
EMAIL_MAX = 254
MEDIA_URL_MAX = 2000
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]*)\](\[\])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: The wire contract's own checks: a line holds no control character; lines keep tab, LF, CR.
_LINE, _LINES = TypeAdapter(Line), TypeAdapter(Lines)
#: How much of a client's own word an error repeats.
_ECHO_MAX = 40


@dataclasses.dataclass(frozen=True)
class Filed:
    """What ``POST requests`` answers: the report's public Open311 id, its token, its
    Tracking ID (canonical: for ``service_notice`` only), and whether this POST filed it
    (False: a resend of a request already filed)."""

    service_request_id: str
    token: str
    tracking_id: str
    created: bool

    def answer(self) -> dict:
        """The one request of ``POST requests``' answer (the spec's four fields)."""
        return {"service_request_id": self.service_request_id, "token": self.token,
                "service_notice": tracking_notice(self.tracking_id), "account_id": None}


def read_fields(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """(fields, attributes) of a form: each given at most once (a field given twice is
    ambiguous: which ``confidential`` did the client mean?); Open311Error(400) otherwise."""
    fields: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for name, value in pairs:
        found = _ATTRIBUTE.match(name)
        if found is not None:
            code = found.group(1)
            if found.group(2):
                raise Open311Error(400, f"attribute[{code[:_ECHO_MAX]}] takes one value, not a list")
            target, key = attributes, code
        elif name in FIELDS:
            target, key = fields, name
        else:
            continue
        if key in target:
            raise Open311Error(400, f"{name[:_ECHO_MAX]} is given more than once")
        target[key] = value
    return fields, attributes


def _valid(adapter: TypeAdapter, value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def _line(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise Open311Error(400, f"{field}: at most {limit} characters")
    if not _valid(_LINE, value):
        raise Open311Error(400, f"{field}: control characters are not allowed")
    return value


def _location(fields: dict[str, str]) -> tuple[float | None, float | None, str]:
    lat, long = fields.get("lat", "").strip(), fields.get("long", "").strip()
    address = _line(fields.get("address_string", ""), "address_string", LOCATION_MAX)
    if (lat or long) and not (lat and long):
        raise Open311Error(400, "lat and long go together")
    if not lat and not address:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    if not lat:
        return None, None, address
    coordinates = []
    for field, text, bound in (("lat", lat, 90.0), ("long", long, 180.0)):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and -bound <= number <= bound):
            raise Open311Error(400, f"{field}: a number from {-bound:g} to {bound:g}")
        coordinates.append(number)
    return coordinates[0], coordinates[1], address


def _choice(attributes: dict[str, str], code: str, allowed, default: str | None) -> str | None:
    value = attributes.get(code, "").strip()
    if not value:
        return default
    if value not in allowed:
        raise Open311Error(400, f"attribute[{code}]: one of {', '.join(allowed)}")
    return value


def _attributes(attributes: dict[str, str], ref: dict) -> dict:
    known = {"kind", "agency", "kecamatan", "anonymous", "confidential", CLIENT_REPORT_ID}
    for code in attributes:
        if code not in known:
            raise Open311Error(400, f"attribute[{code[:_ECHO_MAX]}] is not an attribute of this service "
                                    "(GET services/{service_code} lists them)")
    lowered = {k: v.strip().lower() if k in ("anonymous", "confidential") else v for k, v in attributes.items()}
    client_report_id = _line(attributes.get(CLIENT_REPORT_ID, ""), f"attribute[{CLIENT_REPORT_ID}]",
                             CLIENT_REPORT_ID_MAX) or None
    kecamatan = [k["code"] for k in ref["kecamatan"]] + list(RESERVED_KECAMATAN)
    return {"kind": _choice(attributes, "kind", list(KIND_NAMES), "pengaduan"),
            "agency_code": _choice(attributes, "agency", [a["code"] for a in ref["agencies"]], None),
            "kecamatan_code": _choice(attributes, "kecamatan", kecamatan, KECAMATAN_UNKNOWN),
            "anonymous": _choice(lowered, "anonymous", list(YES_NO), "false") == "true",
            "confidential": _choice(lowered, "confidential", list(YES_NO), "false") == "true",
            "client_report_id": client_report_id}


def _identity(fields: dict[str, str]) -> tuple[str, str, str | None]:
    first = _line(fields.get("first_name", ""), "first_name", NAME_MAX)
    last = _line(fields.get("last_name", ""), "last_name", NAME_MAX)
    name = " ".join(part for part in (first, last) if part)
    if len(name) > NAME_MAX:
        raise Open311Error(400, f"first_name and last_name: at most {NAME_MAX} characters together")
    phone = _line(fields.get("phone", ""), "phone", PHONE_MAX)
    email = _line(fields.get("email", ""), "email", EMAIL_MAX)
    if email and not _EMAIL.match(email):
        raise Open311Error(400, "email: not an e-mail address")
    return name, phone, email or None


def _media_url(fields: dict[str, str]) -> str | None:
    url = _line(fields.get("media_url", ""), "media_url", MEDIA_URL_MAX)
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        raise Open311Error(400, "media_url: an http or https URL")
    return url


def title_of(description: str) -> str:
    """The report's title: the description's first line, cut at a word to TITLE_MAX."""
    first = next((line for line in description.splitlines() if line.strip()), "")
    first = " ".join(first.split())
    if len(first) <= TITLE_MAX:
        return first
    cut = first[:TITLE_MAX - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "\u2026"


def build_body(client: str, fields: dict[str, str], attributes: dict[str, str], ref: dict, *, issuer: str,
               now: dt.datetime) -> tuple[dict, str | None]:
    """(the report's body, the client's own ID of it); Open311Error(400, or 404 for a
    service that is none of our categories) naming what is wrong, never quoting the
    citizen's words."""
    code = fields.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    if code not in {c["code"] for c in ref["categories"]}:
        raise Open311Error(404, "service_code: no such service (GET services lists them)")
    lat, long, address = _location(fields)
    description = fields.get("description", "").strip()
    if not description:
        raise Open311Error(400, "description is required")
    if len(description) > DESCRIPTION_MAX:
        raise Open311Error(400, f"description: at most {DESCRIPTION_MAX} characters")
    if not _valid(_LINES, description):
        raise Open311Error(400, "description: control characters are not allowed (tabs and line breaks are)")
    chosen = _attributes(attributes, ref)
    name, phone, email = _identity(fields)
    media_url = _media_url(fields)
    client_report_id = chosen.pop("client_report_id")
    try:
        report = ReportIn(tracking_id=new_tracking_id(issuer), category_code=code, title=title_of(description),
                          description=description, incident_date=local_date(now), location_text=address,
                          reporter_name=name, reporter_phone=phone, language="id", created_at=now, **chosen)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "request"
        raise Open311Error(400, f"{field}: {first['msg']}") from None
    body = report.model_dump(mode="json", exclude={"voice"})
    if email:
        body["reporter_email"] = email
    body["open311"] = {"client": client, CLIENT_REPORT_ID: client_report_id, "lat": lat, "long": long,
                       "address_string": address or None, "media_url": media_url}
    return body, client_report_id


def request_digest(body: dict) -> str:
    """What makes two POSTs the same request: the body but the Tracking ID and the times."""
    asked = {k: v for k, v in body.items() if k not in ("tracking_id", "created_at", "incident_date")}
    return service.body_digest(asked)[1]


def _held(db: Database, client: str, client_report_id: str) -> tuple[Open311Request, str] | None:
    """The request this client filed under this ID before, with its report's public id."""
    with db.session() as session:
        return session.execute(select(Open311Request, Report.open311_id)
                               .join(Report, Report.tracking_id == Open311Request.tracking_id)
                               .where(Open311Request.client_name == client,
                                      Open311Request.client_report_id == client_report_id)).tuples().first()


def file_request(db: Database, client: str, fields: dict[str, str], attributes: dict[str, str], *, issuer: str,
                 now: dt.datetime | None = None) -> Filed:
    """File the request as a report, once per (client, ``client_report_id``): the report,
    its first event and deadline, and the request's row, in one transaction."""
    now = now or utc_now()
    body, client_report_id = build_body(client, fields, attributes, reference(db), issuer=issuer, now=now)
    digest = request_digest(body)
    for _ in range(3):
        found = _held(db, client, client_report_id) if client_report_id is not None else None
        if found is not None:
            held, public_id = found
            if held.request_sha256 != digest:
                text, body_sha256 = service.body_digest(body)
                with db.session() as session, session.begin():
                    session.add(IntakeConflict(tracking_id=held.tracking_id, kiosk_code=held.tracking_id[:4], body=text,
                                               body_sha256=body_sha256, received_at=now))
                log.warning("an Open311 resend asked something else under a client_report_id already held: recorded")
            return Filed(public_id, held.token, held.tracking_id, created=False)
        body["tracking_id"] = new_tracking_id(issuer)
        token = secrets.token_urlsafe(16)
        try:
            with db.session() as session, session.begin():
                public_id = service.add_report(session, issuer, body, now, db.calendar, channel=CHANNEL,
                                               forwarding=db.forwarding).open311_id
                session.add(Open311Request(tracking_id=body["tracking_id"], client_name=client,
                                           client_report_id=client_report_id, token=token, request_sha256=digest))
        except IntegrityError:
            continue  # the same client_report_id filed at the same moment (then found above), or an ID drawn twice
        log.info("Open311 request filed as a report")
        return Filed(public_id, token, body["tracking_id"], created=True)
    raise RuntimeError("Open311 request neither filed nor found")
