"""A foreign GeoReport v2 server of our own, for the Open311 destination's tests: one that
is not our central and answers as real servers do when they stray from the spec (issue 15).

It serves one service definition (the attributes given), answers ``POST requests.json``
with 201 and a wrapped object holding only a ``token`` (a "batch" server), and knows the
token's ``service_request_id`` from the next ``GET tokens/{token}.json`` on (unless
``pending``). It records
every request as (method, path, form pairs): a fake that records, read back by the tests.
JSON only. Stops with :meth:`Open311Double.close`.
"""
from __future__ import annotations

import http.server
import json
import threading
import urllib.parse


class Open311Double:
    def __init__(self, attributes: list[dict]):
        self.attributes = attributes
        #: While True, a token has no service_request_id yet (GET tokens answers 404).
        self.pending = False
        self.seen: list[tuple[str, str, list[tuple[str, str]]]] = []
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        double = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet: the tests read ``seen``
                pass

            def _answer(self, status: int, document) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                double._record("GET", path, [])
                if path.startswith("/v2/services/") and path.endswith(".json"):
                    code = path[len("/v2/services/"):-len(".json")]
                    return self._answer(200, {"service_code": code, "attributes": double.attributes})
                if path.startswith("/v2/tokens/") and path.endswith(".json"):
                    token = path[len("/v2/tokens/"):-len(".json")]
                    with double._lock:
                        found = double._tokens.get(token)
                    if found is not None and not double.pending:
                        return self._answer(200, [{"service_request_id": found, "token": token}])
                self._answer(404, [{"code": 404, "description": "not found"}])

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                pairs = urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
                path = urllib.parse.urlsplit(self.path).path
                double._record("POST", path, pairs)
                with double._lock:
                    token = f"tok{len(double._tokens) + 1}"
                    double._tokens[token] = f"{9000 + len(double._tokens) + 1}"
                self._answer(201, {"service_requests": [{"token": token, "service_notice": "queued"}]})

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _record(self, method: str, path: str, pairs: list[tuple[str, str]]) -> None:
        with self._lock:
            self.seen.append((method, path, pairs))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v2/"

    def posts(self) -> list[dict[str, str]]:
        with self._lock:
            return [dict(pairs) for method, _, pairs in self.seen if method == "POST"]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
