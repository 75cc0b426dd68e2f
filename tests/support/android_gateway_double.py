"""A test double of SMS Gateway for Android's send API, as the app's local server and the
cloud's ``3rdparty/v1`` answer it: a real HTTP server on 127.0.0.1.

- ``POST /message`` with Basic auth and ``{"id", "message" | "textMessage": {"text"},
  "phoneNumbers": [...]}``: 401 for other credentials, 400 for no text or no number (the
  app's ``{"message": ...}``), 409 for an ``id`` it holds already (the cloud's answer),
  else it keeps the message and answers 202 with its state ``Pending``.
- ``GET /message/{id}``: 200 with the state of a message it holds, 404 otherwise.

``inject(*faults)`` decides the next POSTs, one fault each: ``"500"`` (not kept),
``"500_kept"`` (kept, then 500), ``"timeout"`` (kept, no answer until the client gave up:
``hold_s``), ``"429"``, ``"401"``, ``"400"`` (a number refused, quoted in the answer as
the app does). Everything it kept is in ``messages``, in order."""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import threading
from typing import Iterator

from tests.support.http_double import reply, serving

USERNAME, PASSWORD = "sms", "Xq7-rT2p_Lw9"


@dataclasses.dataclass(frozen=True)
class Kept:
    id: str
    text: str
    phone_numbers: tuple[str, ...]
    body: dict


class AndroidGatewayDouble:
    def __init__(self, *, username: str = USERNAME, password: str = PASSWORD, hold_s: float = 3.0):
        self.username, self.password, self.hold_s = username, password, hold_s
        self.lock = threading.Lock()
        self.messages: list[Kept] = []
        self.posts = 0
        self.lookups = 0
        self.unauthorized = 0
        self._next: list[str] = []
        self._release = threading.Event()
        self.url = ""

    def inject(self, *faults: str) -> None:
        with self.lock:
            self._next += faults

    def texts_to(self, number: str) -> list[str]:
        with self.lock:
            return [m.text for m in self.messages if number in m.phone_numbers]

    @contextlib.contextmanager
    def running(self) -> Iterator["AndroidGatewayDouble"]:
        with serving("android-gateway-double", on_post=self._post, on_get=self._get) as url:
            self.url = url
            try:
                yield self
            finally:
                self._release.set()  # a held request ends before the server stops

    # -- answers ---------------------------------------------------------------------------------
    @staticmethod
    def _send(handler, status: int, document: dict | None = None) -> None:
        data = json.dumps(document if document is not None else {}).encode("utf-8")
        challenge = {"WWW-Authenticate": 'Basic realm="Access to SMS Gateway"'} if status == 401 else {}
        reply(handler, status, data, "application/json", challenge)

    def _authorized(self, handler) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if handler.headers.get("Authorization", "") == f"Basic {expected}":
            return True
        with self.lock:
            self.unauthorized += 1
        self._send(handler, 401, {"message": "Unauthorized"})
        return False

    @staticmethod
    def _state(kept: Kept) -> dict:
        return {"id": kept.id, "state": "Pending", "isHashed": False, "isEncrypted": False,
                "recipients": [{"phoneNumber": n, "state": "Pending"} for n in kept.phone_numbers],
                "states": {"Pending": "2026-11-23T10:30:00.000+07:00"}}

    def _get(self, handler) -> None:
        if not self._authorized(handler):
            return
        with self.lock:
            self.lookups += 1
            wanted = handler.path.removeprefix("/message/")
            kept = next((m for m in self.messages if handler.path.startswith("/message/") and m.id == wanted), None)
        if kept is None:
            return self._send(handler, 404, {"message": "message not found"})
        self._send(handler, 200, self._state(kept))

    def _post(self, handler, body: bytes) -> None:
        if handler.path.split("?")[0] != "/message":
            return self._send(handler, 404, {"message": "not found"})
        if not self._authorized(handler):
            return
        with self.lock:
            self.posts += 1
            fault = self._next.pop(0) if self._next else ""
        try:
            request = json.loads(body)
            text = request.get("message") or (request.get("textMessage") or {}).get("text")
            numbers = tuple(request.get("phoneNumbers") or ())
        except (ValueError, AttributeError):
            return self._send(handler, 400, {"message": "invalid JSON"})
        if not text:
            return self._send(handler, 400, {"message": "message is empty"})
        if not numbers:
            return self._send(handler, 400, {"message": "phoneNumbers is empty"})
        if fault in ("429", "401", "500"):
            return self._send(handler, int(fault), {"message": f"fault {fault}"})
        if fault == "400":
            return self._send(handler, 400, {"message": f"Invalid phone number: {numbers[0]}"})
        kept = Kept(str(request.get("id") or f"n{self.posts}"), text, numbers, request)
        with self.lock:
            if any(m.id == kept.id for m in self.messages):
                return self._send(handler, 409, {"message": "Message with such ID already exists"})
            self.messages.append(kept)
        if fault == "500_kept":
            return self._send(handler, 500, {"message": "fault 500 after keeping it"})
        if fault == "timeout":
            self._release.wait(self.hold_s)
            return
        self._send(handler, 202, self._state(kept))
