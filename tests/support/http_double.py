"""The HTTP server under every double of an outside service (LAPOR!, an Android SMS
gateway) and the tests' own gates: threaded, HTTP/1.1, quiet, on a free port of 127.0.0.1.

A double says what to do with each request (``on_post(handler, body)``, ``on_get(handler)``)
and answers through :func:`reply`; the server's start, its thread and its stop are here once."""
from __future__ import annotations

import contextlib
import http.server
import threading
from typing import Callable, Iterator

from tests.support.servers import free_port

OnPost = Callable[[http.server.BaseHTTPRequestHandler, bytes], None]
OnGet = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextlib.contextmanager
def serving(name: str, *, on_post: OnPost | None = None, on_get: OnGet | None = None) -> Iterator[str]:
    """Serve until the block ends; yields the base URL. A method without a handler is
    answered 501 by ``http.server`` itself."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args):  # quiet: the doubles record what they saw
            pass

    if on_post is not None:
        def do_POST(handler):  # noqa: N802 - http.server's naming
            on_post(handler, handler.rfile.read(int(handler.headers.get("Content-Length") or 0)))

        Handler.do_POST = do_POST
    if on_get is not None:
        Handler.do_GET = lambda handler: on_get(handler)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):  # a client that gave up (killed, timed out): quiet
            pass

    server = Server(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def reply(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
          headers: dict[str, str] | None = None) -> None:
    """Answer ``status`` with ``body``, its type and length, and any further ``headers``."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)
