"""The central against hostile traffic, run for real: bodies too big or without a token,
forged X-Forwarded-For, the browsable docs, and the CLI's options."""
from __future__ import annotations

import json
import select
import socket
import subprocess
import sys

import psutil
import pytest
import requests

from central.__main__ import _parser
from kiosk.kernel.tracking_id import new_tracking_id
from kiosk.kernel.wire import MAX_BATCH, MAX_BODY_BYTES, MAX_REPORT_BYTES
from tests.support.central import auth, central_cli, query, report, running_central, send
from tests.support.servers import ROOT
from tests.support import servers

HUNDRED_MB = 100 << 20


@pytest.fixture(scope="module")
def edge_central(tmp_path_factory):
    """A central of these tests alone: (base URL, database URL, kiosk token, officer token, its process)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('central-edges') / 'central.sqlite3'}"
    with running_central(url) as base:
        port = base.rsplit(":", 1)[1]
        [process] = [p for p in psutil.Process().children(recursive=True) if port in p.cmdline()]
        yield (base, url, central_cli(url, "kiosk", "add", "MT01", "--location", "Muara Teweh").stdout.strip(),
               central_cli(url, "officer", "add", "rina").stdout.strip(), process)


def post_raw(base: str, path: str, headers: dict[str, str], size: int, *, chunked: bool = False) -> tuple[int, dict, int]:
    """POST up to ``size`` bytes, announced or chunked, stopping as soon as the central
    answers; (status, JSON body, bytes sent before the answer)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
                *(f"{k}: {v}" for k, v in headers.items()),
                "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        piece = b" " * (1 << 20)
        sent = 0
        while sent < size and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            except OSError:  # the central answered and closed: what it said is waiting
                break
            sent += len(piece)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            data = sock.recv(65536)
            assert data, answer
            answer += data
    head_bytes, body = answer.split(b"\r\n\r\n", 1)
    lines = head_bytes.decode().split("\r\n")
    fields = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), {"headers": fields, "json": json.loads(body)}, sent


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def test_the_cap_fits_the_largest_legitimate_batch():
    """MAX_BATCH reports of the largest size, every character escaped as JSON does at worst,
    fit under the cap; and the cap is not far above it."""
    worst = {"reports": [report(title="\U0001F600" * 150, description="\U0001F600" * 4000, location_text="\U0001F600" * 200,
                                reporter_name="\U0001F600" * 100, reporter_phone="\U0001F600" * 20, category_code="\U0001F600" * 64,
                                agency_code="\U0001F600" * 64, kecamatan_code="\U0001F600" * 64)]}
    one = len(json.dumps(worst).encode())
    assert one <= MAX_REPORT_BYTES and MAX_BATCH * one <= MAX_BODY_BYTES < 1.1 * MAX_BATCH * one


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/heartbeat", f"/api/v1/officer/reports/{new_tracking_id('MT01')}/actions"])
@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_without_a_valid_token_is_refused_before_it_is_read(edge_central, path, chunked):
    """GIVEN 100 MB on its way with no token or a wrong one WHEN the headers arrive THEN the
    central answers 401 at once (it does not wait for the body), and its memory stays put."""
    base, _, _, _, process = edge_central
    before = process.memory_info().rss
    for headers in ({}, auth("not-a-token")):
        status, answer, sent = post_raw(base, path, headers, HUNDRED_MB, chunked=chunked)
        assert status == 401 and answer["json"]["detail"].startswith("unknown or revoked")
        assert answer["headers"]["www-authenticate"] == "Bearer"
        assert sent < HUNDRED_MB
    assert process.memory_info().rss - before < 16 << 20


def test_a_kiosk_token_does_not_open_the_officer_route_to_a_big_body(edge_central):
    base, _, kiosk_token, _, _ = edge_central
    status, _, sent = post_raw(base, f"/api/v1/officer/reports/{new_tracking_id('MT01')}/actions",
                               auth(kiosk_token), HUNDRED_MB)
    assert status == 401 and sent < HUNDRED_MB


def test_a_body_announced_past_the_cap_gets_413_before_it_is_read(edge_central):
    base, _, token, _, _ = edge_central
    status, answer, sent = post_raw(base, "/api/v1/reports", auth(token), MAX_BODY_BYTES + 1)
    assert status == 413 and answer["json"] == {"detail": f"request body larger than {MAX_BODY_BYTES} bytes"}
    assert sent < MAX_BODY_BYTES


def test_a_body_streamed_past_the_cap_gets_413_and_memory_stays_bounded(edge_central):
    """GIVEN a kiosk's token WHEN 100 MB arrive chunked (no length announced), three times
    THEN each gets 413 once the cap is passed, and the central's memory grows by no more
    than about one cap's worth (reading all of them would add 300 MB and more)."""
    base, _, token, _, process = edge_central
    before = process.memory_info().rss
    for _ in range(3):
        status, answer, sent = post_raw(base, "/api/v1/reports", auth(token), HUNDRED_MB, chunked=True)
        assert status == 413 and "larger than" in answer["json"]["detail"] and sent < HUNDRED_MB
    assert process.memory_info().rss - before < 2 * MAX_BODY_BYTES
    assert requests.get(f"{base}/healthz", timeout=30).status_code == 200


def test_a_full_batch_still_goes_through(edge_central):
    base, url, token, _, _ = edge_central
    batch = [report(description="Antrean di puskesmas sangat panjang. " * 100) for _ in range(MAX_BATCH)]
    assert [r["outcome"] for r in send(base, token, *batch)] == ["created"] * MAX_BATCH
    assert query(url, "SELECT count(*) FROM reports") == [(MAX_BATCH,)]


# -- who the client is -------------------------------------------------------------------------
def lookups(base: str, forwarded_for, n: int) -> list[int]:
    return [requests.get(f"{base}/status/{new_tracking_id('MT01')}", headers={"X-Forwarded-For": forwarded_for(i)},
                         timeout=30).status_code for i in range(n)]


def test_a_forged_forwarded_for_from_loopback_does_not_dodge_the_limit(edge_central):
    """GIVEN no trusted proxy (the default) WHEN one client rotates X-Forwarded-For THEN it
    is still one client: 429 after the burst."""
    base = edge_central[0]
    answers = lookups(base, lambda i: f"203.0.113.{i % 250}", 40)
    assert 429 in answers and answers.count(404) <= 30 + 2


@pytest.mark.parametrize("workers", [1, 2])
def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(tmp_path, workers):
    """GIVEN ``--trusted-proxies 127.0.0.1`` (here through its environment variable), with one
    worker and with two (``central.asgi``; the buckets are shared by the workers since
    c0007: tests/integration/test_limits_across_workers.py) WHEN two clients come through the proxy THEN
    each has its own limit, and a client cannot choose its address by putting one in front
    of what the proxy appended."""
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    with servers.running_central(url, workers=workers,
                                 env={"CENTRAL_TRUSTED_PROXIES": "127.0.0.1", "CENTRAL_DOCS": "1"}) as base:
        first = lookups(base, lambda i: f"198.51.100.{i}, 203.0.113.7", 40 * workers)  # the proxy appends the real one
        assert 429 in first and first.count(404) <= 30 * workers + 2
        assert lookups(base, lambda i: "203.0.113.8", 1) == [404]  # another client, a full bucket
        assert requests.get(f"{base}/docs", timeout=30).status_code == 200
    assert _parser().parse_args(["serve", "--trusted-proxies", "10.0.0.0/8,127.0.0.1"]).trusted_proxies == "10.0.0.0/8,127.0.0.1"


def test_browsable_docs_are_off_unless_asked_for_and_the_schema_stays(edge_central):
    base = edge_central[0]
    assert requests.get(f"{base}/docs", timeout=30).status_code == 404
    assert requests.get(f"{base}/redoc", timeout=30).status_code == 404
    assert requests.get(f"{base}/openapi.json", timeout=30).status_code == 200


def test_the_schema_gives_the_tracking_id_pattern_and_the_413(edge_central):
    import re

    base = edge_central[0]
    schema = requests.get(f"{base}/openapi.json", timeout=30).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "tracking_id":
                    assert re.fullmatch(parameter["schema"]["pattern"], "MT01-14D2P-F2DBX"), (method, path)
            if "requestBody" in operation:
                assert "413" in operation["responses"], (method, path)


def test_database_url_may_follow_the_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    added = subprocess.run([sys.executable, "-m", "central", "kiosk", "add", "MT07", "--location", "Lahei",
                            "--database-url", url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    assert query(url, "SELECT code FROM kiosks") == [("MT07",)]
    assert _parser().parse_args(["serve", "--database-url", url]).database_url == url
    assert _parser().parse_args(["--database-url", url, "serve"]).database_url == url
