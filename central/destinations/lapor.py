"""SP4N LAPOR!: the one module that owns its wire format (docs/LAPOR.md).

What is publicly known (../shared/reference/lapor.md): an XML document POSTed with
``Content-Type: text/xml`` to ``.../api/stream/addstream``; root ``lapor`` with a
``token`` attribute; ``pelapor`` with ``email``, ``telpon``, ``namadepan``,
``namabelakang``; ``laporan`` with attributes ``rahasia`` and ``anonim`` ("1"/"0") holding
``isi``; an XML answer carrying ``trackingid`` and ``transaksiid``. No idempotency key:
this destination is NOT idempotent, so a lost answer makes the entry "unconfirmed".

Everything else here is an ASSUMPTION, marked ``ASSUMED`` where it is made and listed in
docs/LAPOR.md with what to confirm against the real API with a developer account: the
extra ``laporan`` elements, the status codes' meaning, the look-up and status endpoints.

Privacy: an anonymous report's ``pelapor`` elements are sent empty (never its name, phone
or e-mail); ``isi`` (which LAPOR! publishes unless ``rahasia``) carries the report's
public id (``Outgoing.public_id``), never our Tracking ID, which is the receipt holder's
secret; nothing of a report is ever logged.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import requests

from central.destinations import (TYPES, Delivered, LookUpUnsupported, Outcome, Outgoing, Refused, TryLater, Unknown,
                                  UpstreamEvent)

log = logging.getLogger(__name__)

#: Known: the submission's path. ASSUMED: the look-up's and the status steps' paths.
SUBMIT_PATH = "/api/stream/addstream"
LOOKUP_PATH = "/api/stream/cari"  # ASSUMED
UPDATES_PATH = "/api/stream/tindaklanjut"  # ASSUMED
#: The line of ``isi`` that names the report for a search (ASSUMED: LAPOR! searches text).
REFERENCE_PREFIX = "Ref. kios"
#: ASSUMED: LAPOR!'s words for a follow-up step's status, and ours.
STATUS_MAP = {"verifikasi": "verified", "disposisi": "forwarded", "proses": "in_progress", "selesai": "answered",
              "tunda": "postponed", "arsip": "archived", "ditolak": "rejected"}
CHANNEL_WORDS = {"kiosk": "kios pengaduan", "open311": "Open311"}
KIND_WORDS = {"pengaduan": "Pengaduan", "aspirasi": "Aspirasi", "permintaan_informasi": "Permintaan Informasi"}
#: What an upstream refusal's code may look like to be kept in a reason (never free text).
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_NOT_THERE = (404, 405, 501)  # the look-up or status endpoint does not exist here


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last.strip()


def incident_place(body: Mapping) -> str:
    parts = [body.get("location_text") or ""]
    if body.get("kecamatan_code"):
        parts.append(f"Kecamatan {body['kecamatan_code']}")
    return ", ".join(p for p in parts if p)


def isi(report: Outgoing, category: str, agency: str | None) -> str:
    """The report in words, for LAPOR!'s officers (the extra elements may be ignored
    upstream: everything that matters is here too). Never the identity, never the
    Tracking ID; the public id on its own line, for a search."""
    body = report.body
    lines = [f"Klasifikasi: {KIND_WORDS.get(report.kind, report.kind)}", f"Kategori: {category}"]
    if agency:
        lines.append(f"Instansi tujuan: {agency}")
    if body.get("incident_date"):
        lines.append(f"Tanggal kejadian: {body['incident_date']}")
    if incident_place(body):
        lines.append(f"Lokasi kejadian: {incident_place(body)}")
    lines += ["", (body.get("title") or "").strip(), "", (body.get("description") or "").strip()]
    if body.get("voice") and not (body.get("description") or "").strip():
        lines.append("(Laporan disampaikan dengan suara di kios; rekamannya ada pada petugas kabupaten.)")
    lines += ["", f"Dikirim melalui {CHANNEL_WORDS.get(report.channel, report.channel)} Kabupaten."]
    if report.public_id:
        lines.append(f"{REFERENCE_PREFIX}: {report.public_id}")
    return "\n".join(lines).strip() + "\n"


def submission(report: Outgoing, token: str, *, category_ids: Mapping[str, str] | None = None,
               agency_ids: Mapping[str, str] | None = None) -> bytes:
    """The XML document of one report. ``category_ids``/``agency_ids``: LAPOR!'s own ids
    for our codes, when the deployment knows them (else our codes)."""
    body = report.body
    category = (category_ids or {}).get(report.category_code, report.category_code)
    agency = (agency_ids or {}).get(report.agency_code, report.agency_code) if report.agency_code else None
    root = ET.Element("lapor", {"token": token})
    pelapor = _element(root, "pelapor")
    if report.anonymous:  # never the identity of an anonymous reporter: the elements, empty
        email = phone = first = last = ""
    else:
        email, phone = body.get("reporter_email") or "", body.get("reporter_phone") or ""
        first, last = _split_name(body.get("reporter_name") or "")
    for tag, value in (("email", email), ("telpon", phone), ("namadepan", first), ("namabelakang", last)):
        _element(pelapor, tag, value)
    laporan = _element(root, "laporan", rahasia="1" if report.confidential else "0",
                       anonim="1" if report.anonymous else "0")
    # ASSUMED elements beside isi (the web form's fields): LAPOR! may ignore them.
    _element(laporan, "klasifikasi", report.kind)
    _element(laporan, "judul", (body.get("title") or "").strip())
    _element(laporan, "isi", isi(report, category, agency))
    _element(laporan, "kategori", category)
    if agency:
        _element(laporan, "instansi", agency)
    if body.get("incident_date"):
        _element(laporan, "tanggalkejadian", str(body["incident_date"]))
    _element(laporan, "lokasi", incident_place(body))
    if body.get("kecamatan_code"):
        _element(laporan, "kecamatan", body["kecamatan_code"])
    # ASSUMED: an element for the integrator, not published: our Tracking ID, so that
    # LAPOR!'s officers can tell the kabupaten which receipt a report is.
    _element(laporan, "trackingidkios", report.tracking_id)
    _element(laporan, "referensi", report.public_id)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _first(root: ET.Element, tag: str) -> str | None:
    found = root.find(f".//{tag}") if root.tag != tag else root
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _xml(response: requests.Response) -> ET.Element | None:
    if "html" in response.headers.get("Content-Type", "").lower():
        return None  # a captive portal's or proxy's page, not LAPOR!'s XML
    try:
        return ET.fromstring(response.content)
    except ET.ParseError:
        return None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, (parsedate_to_datetime(value) - dt.datetime.now(dt.timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def _sent_nothing(exc: requests.RequestException) -> bool:
    """Whether the request surely never reached the system (no connection was made)."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.InvalidURL)):
        return True
    text = repr(exc)
    return isinstance(exc, requests.ConnectionError) and any(
        s in text for s in ("NewConnectionError", "NameResolutionError", "Failed to resolve", "Connection refused"))


def classify(response: requests.Response) -> Outcome:
    """What one answer to a submission means (docs/LAPOR.md: which parts are assumed)."""
    status = response.status_code
    if status in (429, 503) or status >= 500:
        return TryLater(f"LAPOR! answered {status}", _retry_after(response))
    if status in (401, 403):  # the token: every report would be refused alike, so not a failure of this one
        return TryLater(f"LAPOR! refused the token (HTTP {status}): check token_file", _retry_after(response))
    if 300 <= status < 400:
        return TryLater(f"something between the central and LAPOR! answered a redirect ({status}): a proxy?")
    if 400 <= status < 500:
        root = _xml(response)
        code = _first(root, "kode") if root is not None else None
        return Refused(f"LAPOR! refused the report (HTTP {status})" + (f": {code}" if code and _CODE.match(code) else ""))
    root = _xml(response)
    if root is None:
        if "html" in response.headers.get("Content-Type", "").lower():
            return TryLater("an answer that is not LAPOR!'s (a captive portal or proxy?)")
        return Unknown(f"LAPOR! answered {status} with a document that cannot be read")
    tracking = _first(root, "trackingid")
    if not tracking:
        return Unknown(f"LAPOR! answered {status} without a trackingid")
    extra = {"transaksiid": t for t in [_first(root, "transaksiid")] if t}
    return Delivered(tracking[:64], extra)


class Lapor:
    """A LAPOR! instance the kabupaten forwards to. Not idempotent."""

    idempotent = False

    def __init__(self, name: str, *, url: str, token: str, timeout_s: float = 20.0, connect_timeout_s: float = 5.0,
                 lookup: bool = True, updates: bool = True, submit_path: str = SUBMIT_PATH,
                 lookup_path: str = LOOKUP_PATH, updates_path: str = UPDATES_PATH,
                 category_ids: Mapping[str, str] | None = None, agency_ids: Mapping[str, str] | None = None):
        self.name, self.url, self.token = name, url.rstrip("/"), token
        self.timeout_s, self.connect_timeout_s = timeout_s, connect_timeout_s
        self.lookup, self.pull = lookup, updates
        self.paths = {"submit": submit_path, "lookup": lookup_path, "updates": updates_path}
        self.category_ids, self.agency_ids = dict(category_ids or {}), dict(agency_ids or {})
        self._http = requests.Session()

    def _post(self, which: str, document: bytes) -> requests.Response:
        return self._http.post(self.url + self.paths[which], data=document, allow_redirects=False,
                               headers={"Content-Type": "text/xml; charset=utf-8", "Accept": "text/xml"},
                               timeout=(self.connect_timeout_s, self.timeout_s))

    def send(self, report: Outgoing) -> Outcome:
        document = submission(report, self.token, category_ids=self.category_ids, agency_ids=self.agency_ids)
        try:
            response = self._post("submit", document)
        except requests.RequestException as exc:
            if _sent_nothing(exc):
                return TryLater(f"LAPOR! could not be reached ({type(exc).__name__})")
            return Unknown(f"the answer was lost ({type(exc).__name__}): LAPOR! may hold the report")
        return classify(response)

    def _query(self, document: bytes, which: str) -> ET.Element:
        """An assumed endpoint's XML answer; LookUpUnsupported where it does not exist."""
        response = self._post(which, document)  # requests.RequestException: cannot be asked now
        if response.status_code in _NOT_THERE:
            raise LookUpUnsupported(f"LAPOR! has no {which} endpoint here (HTTP {response.status_code})")
        if response.status_code != 200:
            raise OSError(f"LAPOR! answered {response.status_code} to the {which}")
        root = _xml(response)
        if root is None:
            raise OSError(f"LAPOR! answered the {which} with a document that cannot be read")
        return root

    def look_up(self, report: Outgoing) -> Delivered | None:
        """ASSUMED endpoint: LAPOR!'s reports of this integration whose ``isi`` holds our
        reference (``Ref. kios: <public id>``)."""
        if not self.lookup:
            raise LookUpUnsupported("look-up is turned off for this LAPOR! (lookup = false)")
        if not report.public_id:
            raise LookUpUnsupported("the report has no public id to search for")
        root = ET.Element("lapor", {"token": self.token})
        _element(_element(root, "cari"), "referensi", report.public_id)
        answer = self._query(b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="utf-8"),
                             "lookup")
        found = [r for r in answer.iter("laporan") if _first(r, "trackingid")]
        if not found:
            return None
        if len(found) > 1:
            log.warning("LAPOR! holds %d reports with one reference: the first is kept", len(found))
        extra = {"transaksiid": t for t in [_first(found[0], "transaksiid")] if t}
        return Delivered(_first(found[0], "trackingid")[:64], extra)

    def updates(self, upstream_id: str, since: dt.datetime | None) -> list[UpstreamEvent]:
        """ASSUMED endpoint: the follow-up steps (tindak lanjut) of one LAPOR! report."""
        if not self.pull:
            return []
        root = ET.Element("lapor", {"token": self.token})
        _element(root, "trackingid", upstream_id)
        if since is not None:
            _element(root, "sejak", since.astimezone(dt.timezone.utc).isoformat())
        try:
            answer = self._query(b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="utf-8"),
                                 "updates")
        except LookUpUnsupported:
            return []
        events = []
        for step in answer.iter("tindaklanjut"):
            try:
                at = dt.datetime.fromisoformat(step.get("waktu", ""))
            except ValueError:
                continue  # a step without a readable time is skipped, never guessed
            at = at if at.tzinfo else at.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))  # ASSUMED: WIB
            word = (step.get("status") or "").strip().lower()
            reply = _first(step, "isi")
            note = _first(step, "catatan") or ""
            step_id = step.get("id") or hashlib.sha256(
                f"{step.get('waktu')}|{word}|{reply}".encode("utf-8")).hexdigest()[:32]
            events.append(UpstreamEvent(event_id=step_id[:128], at=at, status=STATUS_MAP.get(word),
                                        public_reply=reply,
                                        note=note if word in STATUS_MAP else f"LAPOR!: {word or '?'} {note}".strip()))
        return sorted(events, key=lambda e: e.at)


def _number(settings: Mapping, key: str, default: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 600:
        raise ValueError(f"{key} must be a number of seconds between 0 and 600, got {value!r}")
    return float(value)


def _ids(settings: Mapping, key: str) -> dict[str, str]:
    table = settings.get(key, {})
    if not isinstance(table, dict) or not all(isinstance(v, (str, int)) for v in table.values()):
        raise ValueError(f"{key} must be a table of our code = LAPOR!'s id")
    return {str(k).upper(): str(v) for k, v in table.items()}


KNOWN_SETTINGS = {"url", "token_file", "timeout_s", "connect_timeout_s", "lookup", "updates", "submit_path",
                  "lookup_path", "updates_path", "category_ids", "agency_ids"}


def from_settings(name: str, settings: Mapping) -> Lapor:
    """``type = "lapor"`` in the forwarding file: checks every key; reads the token file."""
    unknown = set(settings) - KNOWN_SETTINGS
    if unknown:
        raise ValueError(f"unknown key {sorted(unknown)[0]!r}; a lapor destination has {', '.join(sorted(KNOWN_SETTINGS))}")
    url = settings.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"url must be LAPOR!'s address, like https://api.lapor.go.id, got {url!r}")
    token_file = settings.get("token_file")
    if not isinstance(token_file, str) or not token_file:
        raise ValueError("token_file must name the file that holds the integration token (the GUID LAPOR! issued)")
    try:
        token = Path(token_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"token_file {token_file}: {exc.strerror}") from None
    if not token or any(c.isspace() for c in token):
        raise ValueError(f"token_file {token_file} must hold the token alone, on one line")
    for key in ("lookup", "updates"):
        if not isinstance(settings.get(key, True), bool):
            raise ValueError(f"{key} must be true or false")
    paths = {}
    for key, default in (("submit_path", SUBMIT_PATH), ("lookup_path", LOOKUP_PATH), ("updates_path", UPDATES_PATH)):
        value = settings.get(key, default)
        if not isinstance(value, str) or not value.startswith("/"):
            raise ValueError(f"{key} must be a path starting with /, got {value!r}")
        paths[key] = value
    return Lapor(name, url=url, token=token, timeout_s=_number(settings, "timeout_s", 20.0),
                 connect_timeout_s=_number(settings, "connect_timeout_s", 5.0),
                 lookup=settings.get("lookup", True), updates=settings.get("updates", True),
                 category_ids=_ids(settings, "category_ids"), agency_ids=_ids(settings, "agency_ids"), **paths)


TYPES["lapor"] = from_settings
