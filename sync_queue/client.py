"""HTTP client of the central service (``requests``), with one typed error per way a
request can fail, so the worker knows whether retrying can help.

Requests are built from the wire contract's models and answers are read through them
(``kiosk.kernel.wire``, the same models the central's routes use). An answer that is not
the central's -- not JSON, outside the contract, or a 4xx without the central's
``{"detail": ...}`` (a hotspot's login page, a proxy's or firewall's own error page) -- is
:class:`NotCentral`: the kiosk is offline, and retries later. A 413 is :class:`TooLarge`,
so the worker can send fewer reports at once.

The client remembers how its last call went (``reachable``, ``problem``): the sync
worker's ``online`` flag and ``last_error`` read it, whichever call it was (a delivery,
a reference refresh, a status pull, a heartbeat, a citizen's status lookup)."""
from __future__ import annotations

import email.utils
import datetime as dt
import functools
import json
import logging
from typing import Callable, TypeVar

import requests
from pydantic import BaseModel, ValidationError

from kiosk.kernel.clock import utc_now
from kiosk.kernel.wire import (VOICE_CONTENT_TYPE, VOICE_SHA256_HEADER, BatchResult, FeedbackBatch, FeedbackBatchResult,
                               FeedbackIn, FeedbackResult, HeartbeatAck, HeartbeatIn, ItemResult, ReportBatch, ReportIn,
                               StatusOut, VoiceResult)

Answer = TypeVar("Answer", bound=BaseModel)

log = logging.getLogger(__name__)


class CentralError(Exception):
    """The request did not get a usable answer."""


class CentralUnavailable(CentralError):
    """Network down, timeout, or a 5xx: retry later."""


class RateLimited(CentralError):
    """429/503 with Retry-After: retry no sooner than ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after


class Unauthorized(CentralError):
    """401: the kiosk's token is wrong or revoked (for the technician, not the citizen)."""


class Rejected(CentralError):
    """A 4xx from the central itself that a retry cannot fix; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


#: What ``last_error``, ``kiosk queue`` and the log say when the answer was not the central's.
NOT_CENTRAL = "something between the kiosk and the central answered (a captive portal or proxy?)"


class NotCentral(CentralUnavailable):
    """An answer that is not the central's (a captive portal, a proxy, a firewall): offline,
    retry later. The message says what came back (status, content type), never the body."""


class TooLarge(CentralError):
    """413: the request body is over a size limit, usually a proxy's in front of the
    central: send fewer reports at once; one report refused alone cannot be delivered."""


#: The keys every reference answer has (HTTP contract, ``GET /api/v1/reference``).
REFERENCE_KEYS = ("version", "categories", "agencies", "kecamatan")


def _is_central_problem(response: requests.Response) -> bool:
    """Is this error answer the central's own (``{"detail": ...}``, the ``Problem`` shape
    and FastAPI's 422 list)? A proxy's or portal's page is not."""
    try:
        body = json.loads(response.content)
    except ValueError:  # not JSON (UnicodeDecodeError included)
        return False
    return isinstance(body, dict) and "detail" in body


def _not_central(response: requests.Response, expected: str) -> NotCentral:
    kind = (response.headers.get("Content-Type") or "no content type").split(";")[0].strip()
    return NotCentral(f"{NOT_CENTRAL}: HTTP {response.status_code}, {kind}, instead of {expected}")


Call = TypeVar("Call", bound=Callable)


def _remembered(call: Call) -> Call:
    """Record in ``reachable``/``problem`` whether this call reached the central: an
    answer of the central's, its own 4xx (``Rejected``) included, counts; anything else
    (its 401 and 429/503 too: it is not taking this kiosk's work now) does not."""

    @functools.wraps(call)
    def remembering(self: "CentralClient", *args, **kwargs):
        try:
            answer = call(self, *args, **kwargs)
        except Rejected:
            self.reachable, self.problem = True, None
            raise
        except CentralError as exc:
            self.reachable, self.problem = False, str(exc)
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: recorded, then the caller's guard
            self.reachable, self.problem = False, f"unexpected {type(exc).__name__} talking to the central"
            raise
        self.reachable, self.problem = True, None
        return answer

    return remembering  # type: ignore[return-value]


def _retry_after(value: str | None, now: dt.datetime) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


class CentralClient:
    """Talks to one central service as one kiosk. The token is never logged."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self._http = session or requests.Session()
        #: Whether the last call reached the central (None: no call yet).
        self.reachable: bool | None = None
        #: Why the last call did not reach it, for the technician (None: it did).
        self.problem: str | None = None

    def __repr__(self) -> str:
        return f"CentralClient({self.base_url!r}, token=***)"

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        headers["Authorization"] = f"Bearer {self._token}"
        try:
            # Never followed: the central does not redirect, a hotspot's portal does.
            response = self._http.request(method, self.base_url + path, headers=headers, timeout=self.timeout,
                                          allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise CentralUnavailable(f"{type(exc).__name__} talking to {self.base_url}") from None
        status = response.status_code
        if status == 413:  # whoever said it (mostly a proxy's body limit): send less
            raise TooLarge("request refused as too large (HTTP 413) by the central or a proxy in front of it")
        if status in (429, 503):
            raise RateLimited(f"central answered {status}",
                              _retry_after(response.headers.get("Retry-After"), utc_now()))
        if status >= 500:
            raise CentralUnavailable(f"central answered {status}")
        if 300 <= status < 400 and status != 304:
            raise _not_central(response, "the central's answer")
        if 400 <= status < 500:
            if not _is_central_problem(response):
                raise _not_central(response, "the central's answer")
            if status == 401:
                raise Unauthorized("central rejected this kiosk's token (401): check central_token")
            raise Rejected(f"central answered {status}: {response.text[:300]}", status)
        return response

    @staticmethod
    def _read(response: requests.Response, model: type[Answer], what: str) -> Answer:
        """The answer as ``model``; :class:`NotCentral` naming ``what`` (never quoting the
        body) when it is not JSON or does not fit."""
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise _not_central(response, what) from None

    @_remembered
    def send_reports(self, reports: list[ReportIn]) -> list[ItemResult]:
        """One result per report, in order (see the HTTP contract)."""
        batch = ReportBatch(reports=[report.body() for report in reports])  # a central of any version reads it
        response = self._request("POST", "/api/v1/reports", json=batch.model_dump(mode="json"))
        results = self._read(response, BatchResult, "a result list").results
        if len(results) != len(reports):
            raise NotCentral(f"{NOT_CENTRAL}: {len(results)} results for {len(reports)} reports")
        return results

    @_remembered
    def send_feedback(self, items: list[FeedbackIn]) -> list[FeedbackResult]:
        """One result per objection or rating, in order (``POST /api/v1/feedback``)."""
        batch = FeedbackBatch(items=[item.model_dump(mode="json") for item in items])
        response = self._request("POST", "/api/v1/feedback", json=batch.model_dump(mode="json"))
        results = self._read(response, FeedbackBatchResult, "a result list").results
        if len(results) != len(items):
            raise NotCentral(f"{NOT_CENTRAL}: {len(results)} results for {len(items)} feedback items")
        return results

    @_remembered
    def put_voice(self, tracking_id: str, ogg: bytes, sha256: str) -> VoiceResult:
        """Upload a report's recorded complaint (``PUT /api/v1/reports/{id}/voice``), keyed
        by the Tracking ID and ``sha256``: a repeat gets the same answer. A 409 (the central
        holds another recording for it), 400 or 404 is :class:`Rejected`, 413 :class:`TooLarge`."""
        response = self._request("PUT", f"/api/v1/reports/{tracking_id}/voice", data=ogg,
                                 headers={"Content-Type": VOICE_CONTENT_TYPE, VOICE_SHA256_HEADER: sha256})
        answer = self._read(response, VoiceResult, "a voice upload's result")
        if answer.tracking_id != tracking_id or answer.sha256 != sha256:
            raise NotCentral(f"{NOT_CENTRAL}: the answer names another recording")
        return answer

    @_remembered
    def reference(self, etag: str | None) -> tuple[str, dict] | None:
        """(new ETag, data), or None when the kiosk's copy is current."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self._request("GET", "/api/v1/reference", headers=headers)
        if response.status_code == 304:
            return None
        try:
            data = json.loads(response.content)
        except ValueError:  # a login page, a proxy's page: not JSON at all
            raise _not_central(response, "reference data") from None
        if not isinstance(data, dict) or not all(key in data for key in REFERENCE_KEYS):
            raise _not_central(response, "reference data")
        return response.headers.get("ETag", ""), data

    @_remembered
    def heartbeat(self, heartbeat: HeartbeatIn) -> HeartbeatAck:
        """Send this kiosk's heartbeat (``kiosk.runtime.heartbeat``); the central's answer
        (``received_at``). Fails like the other calls (CentralError and its kinds)."""
        response = self._request("POST", "/api/v1/heartbeat", json=heartbeat.model_dump(mode="json"))
        return self._read(response, HeartbeatAck, "a heartbeat acknowledgement")

    @_remembered
    def status(self, tracking_id: str) -> StatusOut | None:
        """The public status of one report, or None when the central does not know it."""
        try:
            response = self._request("GET", f"/api/v1/reports/{tracking_id}/status")
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise
        return self._read(response, StatusOut, "a report status")
