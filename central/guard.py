"""What every request meets before a route (a pure ASGI middleware, so nothing has read
the body yet): a request to a route that takes a body has its token checked from the
headers and its body capped, and every answer carries the security headers.

FastAPI reads and parses a route's body before it runs the route's dependencies, so
without this a client with no token could make the central hold a body of any size. The
route decides what applies: the token check is the route's own bearer dependency
(``central.deps.TOKEN_CHECKS``), the cap is ``kiosk.kernel.wire.MAX_BODY_BYTES``.
"""
from __future__ import annotations

import gc
import json
import logging
from typing import Any, Awaitable, Callable, Iterable

from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match

from central import deps

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: On every answer: no MIME sniffing, no Referer (a status page's URL holds a Tracking ID).
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))


def _problem(status: int, detail: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> list[Message]:
    body = json.dumps({"detail": detail}).encode()
    return [{"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         (b"connection", b"close"), *headers]},
            {"type": "http.response.body", "body": body}]


def too_large_detail(limit: int) -> str:
    return f"request body larger than {limit} bytes"


class RequestGuard:
    """Token before body, a cap on the body, security headers on every answer."""

    def __init__(self, app, *, routes: Iterable[BaseRoute], max_body: int):
        self.app, self.max_body = app, max_body
        #: Each route that takes a body, with the token it requires (None: public).
        self._guarded = [(route, deps.token_check_of(route)) for route in routes
                         if isinstance(route, APIRoute) and route.body_field is not None]

    def _route_of(self, scope: Scope) -> tuple[bool, deps.TokenCheck | None]:
        """(takes a body, its token check) for the route that will answer the request."""
        for route, check in self._guarded:
            if route.matches(scope)[0] is Match.FULL:
                return True, check
        return False, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *SECURITY_HEADERS]}
            await send(message)

        takes_body, check = self._route_of(scope)
        if not takes_body:
            await self.app(scope, receive, send_with_headers)
            return
        headers = dict(scope["headers"])
        if check is not None and not await self._authorized(scope, headers, check):
            for message in _problem(401, deps.unauthorized_detail(check.who), ((b"www-authenticate", b"Bearer"),)):
                await send_with_headers(message)
            return
        announced = headers.get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > self.max_body:
            for message in _problem(413, too_large_detail(self.max_body)):
                await send_with_headers(message)
            return
        await self._capped(scope, receive, send_with_headers)

    async def _authorized(self, scope: Scope, headers: dict[bytes, bytes], check: deps.TokenCheck) -> bool:
        scheme, token = get_authorization_scheme_param(headers.get(b"authorization", b"").decode("latin-1"))
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        return await run_in_threadpool(check.holder, scope["app"].state.db, token) is not None

    async def _capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The route reads at most ``max_body`` bytes: past it the client gets 413 and the
        route sees a disconnect (its own answer to that is dropped)."""
        received = 0
        refused = False
        started = False

        async def capped_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    refused = True
                    if not started:
                        for answer in _problem(413, too_large_detail(self.max_body)):
                            await send(answer)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; the route's answer to the disconnect is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, capped_receive, guarded_send)
        if refused:
            # What the route had read sits in a cycle (the disconnect's exception chain holds
            # the reading frames), which the collector would only find after many more
            # allocations: free it now, or each refused body would stay in memory for a while.
            gc.collect()
