"""HTTP client of the central service (``requests``), with one typed error per way a
request can fail, so the worker knows whether retrying can help.

Requests are built from the wire contract's models and answers are read through them
(``kiosk.kernel.wire``, the same models the central's routes use); an answer that does not
fit its model counts as a garbled answer: ``CentralUnavailable``, retried later."""
from __future__ import annotations

import email.utils
import datetime as dt
import logging
from typing import TypeVar

import requests
from pydantic import BaseModel, ValidationError

from kiosk.kernel.clock import utc_now
from kiosk.kernel.wire import BatchResult, HeartbeatAck, HeartbeatIn, ItemResult, ReportBatch, ReportIn, StatusOut

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
    """A 4xx that a retry cannot fix; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


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

    def __repr__(self) -> str:
        return f"CentralClient({self.base_url!r}, token=***)"

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = self._http.request(method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise CentralUnavailable(f"{type(exc).__name__} talking to {self.base_url}") from None
        status = response.status_code
        if status in (429, 503):
            raise RateLimited(f"central answered {status}",
                              _retry_after(response.headers.get("Retry-After"), utc_now()))
        if status >= 500:
            raise CentralUnavailable(f"central answered {status}")
        if status == 401:
            raise Unauthorized("central rejected this kiosk's token (401): check central_token")
        if 400 <= status < 500 and status != 304:
            raise Rejected(f"central answered {status}: {response.text[:300]}", status)
        return response

    @staticmethod
    def _read(response: requests.Response, model: type[Answer], what: str) -> Answer:
        """The answer as ``model``; CentralUnavailable naming ``what`` (never quoting the
        body) when it is not JSON or does not fit."""
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise CentralUnavailable(f"central answered with something that is not {what}") from None

    def send_reports(self, reports: list[ReportIn]) -> list[ItemResult]:
        """One result per report, in order (see the HTTP contract)."""
        batch = ReportBatch(reports=[report.model_dump(mode="json") for report in reports])
        response = self._request("POST", "/api/v1/reports", json=batch.model_dump(mode="json"))
        results = self._read(response, BatchResult, "a result list").results
        if len(results) != len(reports):
            raise CentralUnavailable("central answered a different number of results")
        return results

    def reference(self, etag: str | None) -> tuple[str, dict] | None:
        """(new ETag, data), or None when the kiosk's copy is current."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self._request("GET", "/api/v1/reference", headers=headers)
        if response.status_code == 304:
            return None
        return response.headers.get("ETag", ""), response.json()

    def heartbeat(self, heartbeat: HeartbeatIn) -> HeartbeatAck:
        """Send this kiosk's heartbeat (``kiosk.runtime.heartbeat``); the central's answer
        (``received_at``). Fails like the other calls (CentralError and its kinds)."""
        response = self._request("POST", "/api/v1/heartbeat", json=heartbeat.model_dump(mode="json"))
        return self._read(response, HeartbeatAck, "a heartbeat acknowledgement")

    def status(self, tracking_id: str) -> StatusOut | None:
        """The public status of one report, or None when the central does not know it."""
        try:
            response = self._request("GET", f"/api/v1/reports/{tracking_id}/status")
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise
        return self._read(response, StatusOut, "a report status")
