"""A fault-injecting HTTP/TCP proxy of our own, on 127.0.0.1, between kiosk and central.

Each connection carries one request (the proxy closes after answering) and gets one fate,
drawn from seeded weights:

- ``pass``: forwarded, the central's answer returned;
- ``drop``: closed before anything is forwarded;
- ``reset``: closed with a TCP RST before anything is forwarded;
- ``delay``: forwarded, the answer held past the client's timeout, then dropped;
- ``error_after``: forwarded (the central stored it!), but the kiosk gets a 500;
- ``rate_limit``: not forwarded, answered 429 with Retry-After;
- ``html_200``: not forwarded, answered 200 with a hotspot's login page (a captive portal);
- ``html_403``: not forwarded, answered 403 with a firewall's HTML page.

With ``body_limit`` set, a request whose body is longer than that many bytes is answered
413 with an HTML page and not forwarded, whatever its fate (a proxy's body limit, as
nginx's ``client_max_body_size``). :meth:`FaultProxy.set_weights` changes the fates while
it runs (a portal that goes away); ``seen`` lists (fate, method, path, body length) of
every request, in order.

It stops with :meth:`FaultProxy.close`; every loop in it is bounded.
"""
from __future__ import annotations

import random
import socket
import struct
import threading

FATES = ("pass", "drop", "reset", "delay", "error_after", "rate_limit", "html_200", "html_403")
#: What the proxy calls a request refused by ``body_limit`` in ``counts`` and ``seen``.
TOO_LARGE = "too_large"

LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>WiFi Gratis - Login</title></head><body>"
              b"<form method='post' action='/login'><input name='voucher'><button>Masuk</button></form></body></html>")
FORBIDDEN_PAGE = b"<html><head><title>403 Forbidden</title></head><body><h1>Access denied by policy</h1></body></html>"
TOO_LARGE_PAGE = (b"<html><head><title>413 Request Entity Too Large</title></head><body><center>"
                  b"<h1>413 Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>")
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:")]
    return b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + body


def _response(status: int, reason: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], weights: dict[str, float], *, seed: int = 1,
                 delay_s: float = 3.0, retry_after_s: int = 1, body_limit: int | None = None):
        self.upstream, self.delay_s, self.retry_after_s = upstream, delay_s, retry_after_s
        self.body_limit = body_limit
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.set_weights(weights)
        self.counts = {f: 0 for f in (*FATES, TOO_LARGE)}
        self.seen: list[tuple[str, str, str, int]] = []
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_weights(self, weights: dict[str, float]) -> None:
        """From the next request on, draw fates from ``weights``."""
        fates = [f for f in FATES if weights.get(f)]
        with self._lock:
            self._fates, self._weights = fates, [weights[f] for f in fates]

    def _fate(self, request: bytes) -> str:
        method, path = (request.split(b"\r\n", 1)[0].decode("latin-1").split(" ") + ["", ""])[:2]
        length = len(request.partition(b"\r\n\r\n")[2])
        with self._lock:
            if self.body_limit is not None and length > self.body_limit:
                fate = TOO_LARGE
            else:
                fate = self._rng.choices(self._fates, self._weights)[0]
            self.counts[fate] += 1
            self.seen.append((fate, method, path, length))
            return fate

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            request = _read_request(conn)
            if request is None:
                return
            fate = self._fate(request)
            if fate == TOO_LARGE:
                conn.sendall(_response(413, "Request Entity Too Large", HTML, TOO_LARGE_PAGE))
                return
            if fate == "html_200":
                conn.sendall(_response(200, "OK", HTML, LOGIN_PAGE))
                return
            if fate == "html_403":
                conn.sendall(_response(403, "Forbidden", HTML, FORBIDDEN_PAGE))
                return
            if fate == "drop":
                return
            if fate == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if fate == "rate_limit":
                conn.sendall(_response(429, "Too Many Requests", {"Retry-After": str(self.retry_after_s)}, b"slow down"))
                return
            answer = self._forward(request)
            if fate == "delay":
                self._closed.wait(self.delay_s)  # longer than the client waits
                return
            if fate == "error_after":
                conn.sendall(_response(500, "Internal Server Error", {}, b"injected"))
                return
            conn.sendall(answer)
        except OSError:
            pass
        finally:
            conn.close()

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=10) as up:
            up.sendall(request)
            chunks = []
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self._thread.join(5)
