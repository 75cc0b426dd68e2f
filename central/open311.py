"""Open311 GeoReport v2 without HTTP (issue 15): the API clients and their keys, the
services (our categories) and their definition, the ``GET requests`` filters, and what a
request may show. Filing a request: ``central.open311_intake``; the JSON and XML
documents: ``central.open311_format``; the routes: ``central.routers.open311``.

What may leave the central, whoever asks:

- a report's id is its public Open311 id (``reports.open311_id``, random, its
  ``service_request_id``), never its Tracking ID: the Tracking ID lets whoever holds it
  read the report's status page and file an objection or a rating, so it is the receipt
  holder's secret, never published and never read here (a Tracking ID asked for is an
  unknown request). The one exception: ``POST requests`` tells the client that filed the
  report its Tracking ID in ``service_notice``, for its citizen (``central.open311_intake``);
- a confidential report is never listed and never shown, not even by its own ID (404, as
  if unknown);
- no output ever holds the reporter's identity (name, phone, e-mail), anonymous or not;
- ``description`` and ``status_notes`` (the public part of the office's latest reply) only
  where the report is not confidential (also checked here, where the listing already
  leaves confidential reports out);
- ``status`` is ``open`` or ``closed``: closed are our finished statuses (``CLOSED``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import secrets
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from central import service
from central.db import Database
from central.models import OPEN311_ID_LEN, Open311Client, Open311Request, Report, ReportEvent
from kiosk.kernel.clock import LOCAL_TZ, utc_now
from kiosk.kernel.tracking_id import format_tracking_id
from kiosk.kernel.wire import KECAMATAN_OUTSIDE, KECAMATAN_UNKNOWN, ReportKind

log = logging.getLogger(__name__)

#: The channel of the reports filed here (``reports.channel``, ``kiosks.channel``).
CHANNEL = "open311"
#: The central's own issuer code for Open311 Tracking IDs, unless configured
#: (``--open311-issuer``): "0311" reads as Open311. It is reserved as a ``kiosks`` row of
#: this channel when the central starts (``central.service.reserve_issuer``) and ``kiosk add``
#: refuses it, so no kiosk can ever issue IDs under it; a kiosk that already holds it stops
#: the central's start with a message to configure another.
DEFAULT_ISSUER = "0311"
#: The reserved row's location, as the workbench shows it beside the code.
ISSUER_LOCATION = "Open311 GeoReport v2"

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this endpoint last changed (discovery's ``changeset``).
CHANGESET = dt.datetime(2026, 12, 4, tzinfo=LOCAL_TZ)
FORMATS = ("xml", "json")
MEDIA_TYPES = {"xml": "text/xml", "json": "application/json"}

#: Our statuses an Open311 client reads as ``closed`` (finished); every other is ``open``.
CLOSED = ("closed", "rejected", "archived")
STATUSES = ("open", "closed")
#: ``GET requests``: without dates, the last LIST_DAYS days; never more than LIST_MAX requests.
LIST_DAYS = 90
LIST_MAX = 1000
CLIENT_NAME_MAX = 100
_CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,99}$")
_OPEN311_ID = re.compile(rf"^[0-9a-f]{{{OPEN311_ID_LEN}}}$")
#: ``service_notice`` of ``POST requests``' answer, to the client that filed the report only:
#: the Tracking ID its citizen checks the status with, at a kiosk or on the public page.
TRACKING_NOTICE = ("Nomor laporan: {tracking_id}. Berikan hanya kepada pelapor: dengan nomor ini status laporan "
                   "dapat dilihat di kiosk LAPOR! atau halaman status.")


class Open311Error(Exception):
    """An answer in the spec's error form: the HTTP status and one description."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


# -- the clients -----------------------------------------------------------------------------
class ClientError(ValueError):
    """A client name that is taken, malformed or unknown."""


@dataclasses.dataclass(frozen=True)
class ClientRow:
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    requests: int


def add_client(db: Database, name: str) -> str:
    """Register an Open311 client; returns its API key, shown once (only its SHA-256 is
    kept, as for kiosk and officer tokens: the key is 256 random bits)."""
    name = name.strip()
    if not _CLIENT_NAME.match(name):
        raise ClientError("a client's name is 1 to 100 letters, digits, spaces or . _ @ - (starting with a letter "
                          "or digit)")
    key = secrets.token_urlsafe(32)
    try:
        with db.session() as session, session.begin():
            session.add(Open311Client(name=name, key_sha256=service.token_digest(key), created_at=utc_now()))
    except IntegrityError:
        raise ClientError(f"Open311 client {name} is already registered") from None
    log.info("Open311 client registered")
    return key


def clients(db: Database) -> list[ClientRow]:
    """Every registered client, with how many requests it filed."""
    with db.session() as session:
        counts = dict(session.execute(select(Open311Request.client_name, func.count())
                                      .group_by(Open311Request.client_name)).all())
        return [ClientRow(c.name, c.created_at, c.revoked_at, counts.get(c.name, 0))
                for c in session.scalars(select(Open311Client).order_by(Open311Client.name))]


def revoke_client(db: Database, name: str) -> bool:
    """Its key stops working at once; what it filed stays. False: no such client."""
    with db.session() as session, session.begin():
        client = session.get(Open311Client, name.strip())
        if client is None:
            return False
        if client.revoked_at is None:
            client.revoked_at = utc_now()
    log.info("Open311 client revoked")
    return True


def client_of(db: Database, api_key: str) -> str | None:
    """The name of the client whose valid, unrevoked key this is; None otherwise."""
    if not api_key:
        return None
    with db.session() as session:
        client = session.scalar(select(Open311Client).where(Open311Client.key_sha256 == service.token_digest(api_key)))
    return client.name if client is not None and client.revoked_at is None else None


# -- the services ----------------------------------------------------------------------------
def reference(db: Database) -> dict:
    """The central's current reference data (categories, agencies, kecamatan)."""
    _, body = service.current_reference(db)
    return json.loads(body)


#: Kecamatan answers beside the reference list (``kiosk.kernel.wire``): where the client
#: does not say, the report's kecamatan is "don't know".
RESERVED_KECAMATAN = {KECAMATAN_UNKNOWN: "Tidak tahu", KECAMATAN_OUTSIDE: "Di luar kabupaten"}
KIND_NAMES = {ReportKind.PENGADUAN.value: "Pengaduan", ReportKind.ASPIRASI.value: "Aspirasi",
              ReportKind.PERMINTAAN_INFORMASI.value: "Permintaan informasi"}
YES_NO = {"true": "Ya", "false": "Tidak"}
#: The attribute that carries the client's own ID of a request: the idempotency key.
CLIENT_REPORT_ID = "client_report_id"
CLIENT_REPORT_ID_MAX = 64


def _agency_names(ref: dict) -> dict[str, str]:
    return {a["code"]: a["name_id"] for a in ref["agencies"]}


def _category(ref: dict, code: str) -> dict | None:
    return next((c for c in ref["categories"] if c["code"] == code), None)


def _keywords(category: dict) -> str:
    given = category.get("keywords")
    if isinstance(given, list):
        return ", ".join(str(k) for k in given)
    if isinstance(given, str):
        return given
    return ", ".join([category["name_en"], *category.get("usual_agencies", [])])


def services(ref: dict) -> list[dict]:
    """``GET services``: each category of the reference data. ``group``: the category's own
    (a reference document may give one), else the office that usually handles it, else the
    category's name; ``keywords``: its own, else its English name and the usual offices' codes."""
    agencies = _agency_names(ref)
    out = []
    for category in ref["categories"]:
        usual = category.get("usual_agencies") or []
        group = category.get("group") or (agencies.get(usual[0], usual[0]) if usual else category["name_id"])
        out.append({"service_code": category["code"], "service_name": category["name_id"],
                    "description": category["name_en"], "metadata": True, "type": "realtime",
                    "keywords": _keywords(category), "group": group})
    return out


def _values(pairs: Mapping[str, str]) -> list[dict]:
    return [{"key": key, "name": name} for key, name in pairs.items()]


def attributes(ref: dict) -> list[dict]:
    """The attributes every service takes (``attribute[CODE]=value`` in ``POST requests``),
    each optional, with what an absent one means."""
    kecamatan = {k["code"]: k["name"] for k in ref["kecamatan"]} | RESERVED_KECAMATAN
    table = [
        ("kind", "singlevaluelist", "LAPOR! classification of the report (absent: pengaduan)", "one of the keys",
         _values(KIND_NAMES)),
        ("agency", "singlevaluelist", "The office the report is for (absent: the officers decide)", "one of the keys",
         _values(_agency_names(ref))),
        ("kecamatan", "singlevaluelist", f"The kecamatan where it happened (absent: {KECAMATAN_UNKNOWN})",
         "one of the keys", _values(kecamatan)),
        ("anonymous", "singlevaluelist", "Hide the reporter's identity from the agency (absent: false)",
         "true or false", _values(YES_NO)),
        ("confidential", "singlevaluelist", "Keep the report's content off every public page and listing, this "
         "one included (absent: false)", "true or false", _values(YES_NO)),
        (CLIENT_REPORT_ID, "string", "The client's own ID of this request: a resend with the same ID (from the same "
         "client) files nothing new and answers the same service_request_id",
         f"1 to {CLIENT_REPORT_ID_MAX} characters", None),
    ]
    out = []
    for order, (code, datatype, description, datatype_description, values) in enumerate(table, start=1):
        attribute = {"variable": True, "code": code, "datatype": datatype, "required": False,
                     "datatype_description": datatype_description, "order": order, "description": description}
        if values is not None:
            attribute["values"] = values
        out.append(attribute)
    return out


def service_definition(ref: dict, service_code: str) -> dict | None:
    """``GET services/{service_code}``; None for a code that is no category."""
    if _category(ref, service_code) is None:
        return None
    return {"service_code": service_code, "attributes": attributes(ref)}


def discovery(url: str) -> dict:
    """``GET discovery``: this one endpoint, for production, in both formats."""
    how = "Ask the kabupaten's complaint office for an API key (python -m central open311-client add NAME)"
    return {"changeset": stamp(CHANGESET), "contact": how, "key_service": how,
            "endpoints": [{"specification": SPECIFICATION, "url": url, "changeset": stamp(CHANGESET),
                           "type": "production", "formats": [MEDIA_TYPES[f] for f in FORMATS]}]}


def stamp(moment: dt.datetime | None) -> str | None:
    """ISO 8601 with the kabupaten's offset (``2026-11-23T10:30:00+07:00``)."""
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment is not None else None


# -- GET requests: the filters ---------------------------------------------------------------
def public_id(value: str) -> str | None:
    """The public Open311 id a client wrote (any case, spaces around it); None when it is
    none (a Tracking ID included), which the caller answers as an unknown request."""
    value = value.strip().lower()
    return value if _OPEN311_ID.match(value) else None


def tracking_notice(tracking_id: str) -> str:
    """``service_notice`` of the answer to ``POST requests`` (never of any other answer)."""
    return TRACKING_NOTICE.format(tracking_id=format_tracking_id(tracking_id))


@dataclasses.dataclass(frozen=True)
class Query:
    """``GET requests``' filters. ``ids`` (public Open311 ids), when not None, overrides
    every other filter (as the spec says); a value that is no public id matches nothing."""

    ids: tuple[str, ...] | None = None
    asked: int = 0  # how many IDs the client listed
    service_code: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = STATUSES

    @property
    def lookups(self) -> int:
        """How many lookups of the client's rate limit this query counts as: one per ID
        asked for (a list of IDs is that many single lookups), else one."""
        return max(1, self.asked)

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, now: dt.datetime, max_ids: int) -> "Query":
        """The filters of a query string; Open311Error(400) naming what is wrong."""
        given = {k: (params.get(k) or "").strip() for k in ("service_request_id", "service_code", "start_date",
                                                             "end_date", "status")}
        if given["service_request_id"]:
            ids = [part.strip() for part in given["service_request_id"].split(",") if part.strip()]
            if len(ids) > max_ids:
                raise Open311Error(400, f"service_request_id: at most {max_ids} at once")
            wanted = (public_id(i) for i in ids)
            return cls(ids=tuple(dict.fromkeys(i for i in wanted if i is not None)), asked=len(ids))
        start = _when(given["start_date"], "start_date") if given["start_date"] else None
        end = _when(given["end_date"], "end_date") if given["end_date"] else None
        span = dt.timedelta(days=LIST_DAYS)
        if start is None and end is None:
            start, end = now - span, now
        elif start is None:
            start = end - span
        elif end is None:
            end = start + span
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > span:
            raise Open311Error(400, f"start_date to end_date spans more than {LIST_DAYS} days")
        statuses = STATUSES
        if given["status"]:
            statuses = tuple(dict.fromkeys(s.strip().lower() for s in given["status"].split(",") if s.strip()))
            if not statuses or set(statuses) - set(STATUSES):
                raise Open311Error(400, "status: open, closed, or both separated by a comma")
        return cls(service_code=given["service_code"] or None, start=start, end=end, statuses=statuses)


def _when(value: str, field: str) -> dt.datetime:
    """An ISO 8601 date-time (with an offset, or ``Z``; without one it is the kabupaten's
    time) or a date (its start, in the kabupaten's time)."""
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), LOCAL_TZ)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(400, f"{field}: expected an ISO 8601 date-time such as 2026-11-23T10:30:00+07:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TZ)


# -- what a request shows --------------------------------------------------------------------
def status_of(report_status: str) -> str:
    return "closed" if report_status in CLOSED else "open"


def _open311_statuses(statuses: tuple[str, ...]):
    """The WHERE term of an Open311 status filter, in our statuses."""
    if set(statuses) >= set(STATUSES):
        return None
    return Report.status.in_(CLOSED) if statuses == ("closed",) else Report.status.not_in(CLOSED)


def requests_matching(db: Database, query: Query) -> list[dict]:
    """``GET requests``: the reports the query asks for, newest first, at most LIST_MAX,
    never a confidential one."""
    where = [Report.confidential.is_(False)]
    if query.ids is not None:
        if not query.ids:
            return []
        where.append(Report.open311_id.in_(query.ids))
    else:
        where += [Report.received_at >= query.start, Report.received_at <= query.end]
        if query.service_code is not None:
            where.append(Report.category_code == query.service_code)
        status = _open311_statuses(query.statuses)
        if status is not None:
            where.append(status)
    ref = reference(db)  # before the session: one transaction at a time (SQLite's BEGIN IMMEDIATE)
    with db.session() as session:
        reports = session.scalars(select(Report).where(*where)
                                  .order_by(Report.received_at.desc(), Report.tracking_id.desc()).limit(LIST_MAX)).all()
        return _views(session, reports, ref)


def request_shown(db: Database, service_request_id: str) -> dict | None:
    """``GET requests/{id}``: the report whose public id this is, as a request; None when
    unknown, confidential or no public id at all (a Tracking ID: never read here)."""
    wanted = public_id(service_request_id)
    if wanted is None:
        return None
    ref = reference(db)
    with db.session() as session:
        report = session.scalar(select(Report).where(Report.open311_id == wanted))
        if report is None or report.confidential:
            return None
        return _views(session, [report], ref)[0]


def token_request(db: Database, token: str) -> dict | None:
    """``GET tokens/{token}``: the request the token was given with (the token came back
    in the answer to its POST, so it shows a confidential report's public id too: its
    filer holds it already); None for an unknown token."""
    if not token or len(token) > 32:
        return None
    with db.session() as session:
        found = session.execute(select(Open311Request.token, Report.open311_id)
                                .join(Report, Report.tracking_id == Open311Request.tracking_id)
                                .where(Open311Request.token == token)).first()
    return None if found is None else {"service_request_id": found.open311_id, "token": found.token}


def _views(session, reports: list[Report], ref: dict) -> list[dict]:
    """Each report as the spec's request (the identity is never read from its body)."""
    ids = [r.tracking_id for r in reports]
    updated: dict[str, dt.datetime] = {}
    replies: dict[str, str] = {}
    if ids:
        events = session.execute(select(ReportEvent.tracking_id, ReportEvent.at, ReportEvent.public_reply)
                                 .where(ReportEvent.tracking_id.in_(ids), ReportEvent.kind == "status")
                                 .order_by(ReportEvent.at, ReportEvent.id)).all()
        for tracking_id, at, reply in events:  # in time order: the last one wins
            updated[tracking_id] = at
            if reply:
                replies[tracking_id] = reply
    agencies = _agency_names(ref)
    categories = {c["code"]: c["name_id"] for c in ref["categories"]}
    return [_view(r, ref, agencies, categories, updated.get(r.tracking_id), replies.get(r.tracking_id))
            for r in reports]


def _view(report: Report, ref: dict, agencies: dict[str, str], categories: dict[str, str],
          updated: dt.datetime | None, reply: str | None) -> dict:
    body = json.loads(report.body)
    extra = body.get("open311") or {}
    shown = not report.confidential
    return {
        "service_request_id": report.open311_id,  # never the Tracking ID: the receipt holder's secret
        "status": status_of(report.status),
        "status_notes": reply if shown else None,
        "service_name": categories.get(report.category_code, report.category_code),
        "service_code": report.category_code,
        "description": body.get("description") if shown else None,
        "agency_responsible": agencies.get(report.agency_code, report.agency_code) if report.agency_code else None,
        "service_notice": None,
        "requested_datetime": stamp(report.received_at),
        "updated_datetime": stamp(updated or report.received_at),
        "expected_datetime": None,
        "address": (body.get("location_text") or None) if shown else None,
        "address_id": None,
        "zipcode": None,
        "lat": extra.get("lat") if shown else None,
        "long": extra.get("long") if shown else None,
        "media_url": extra.get("media_url") if shown else None,
    }
