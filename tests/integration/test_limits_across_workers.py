"""The central run as in production: two uvicorn worker processes on one PostgreSQL. The
status-lookup rate limit, login throttling and sessions hold across both, because they
live in the database: a client that lands on both workers gets the limit once, not twice.

Which worker answered is read from the kernel, not guessed: the server end of each
connection is a socket that one worker process holds (/proc/net/tcp and /proc/PID/fd)."""
from __future__ import annotations

import http.client
import math
import os
import re
import time
import urllib.parse
from pathlib import Path

import pytest

from kiosk.kernel.tracking_id import new_tracking_id
from tests.support.central import running_central
from tests.support.servers import fresh_database
from tests.support.workbench import PASSWORD, add_officer

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _workers_of(port: int) -> set[int]:
    """The processes the central listening on ``port`` started (its workers among them)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"central" in argv and b"--port" in argv and argv[argv.index(b"--port") + 1] == str(port).encode():
            children = (proc / "task" / proc.name / "children").read_text().split()
            return {int(pid) for pid in children}
    raise AssertionError(f"no central on port {port}")


def _server_pid(conn: http.client.HTTPConnection, port: int, workers: set[int]) -> int:
    """The worker holding the server end of ``conn``."""
    client_port = conn.sock.getsockname()[1]
    wanted = f"0100007F:{port:04X} 0100007F:{client_port:04X}"
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if f"{fields[1]} {fields[2]}" == wanted:
            inode = fields[9]
    assert inode, "the connection is not in /proc/net/tcp"
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError("no worker holds the connection")


class Client:
    """One keep-alive connection, and the worker that serves it."""

    def __init__(self, base: str, workers: set[int]):
        self.port = urllib.parse.urlsplit(base).port
        self.workers = workers
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.conn.connect()
        # A worker holds the socket once it has accepted it: an answer on this connection
        # proves that (right after connect() it may still wait in the listen queue).
        self.conn.request("GET", "/healthz")
        self.conn.getresponse().read()
        self.pid = _server_pid(self.conn, self.port, workers)

    def request(self, method: str, path: str, body: dict | None = None, cookies: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())} if cookies else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        answer = self.conn.getresponse()
        text = answer.read().decode("utf-8", "replace")
        assert _server_pid(self.conn, self.port, self.workers) == self.pid  # still the same worker
        return answer, text


def _one_per_worker(base: str) -> tuple[Client, Client]:
    """Two connections served by the two different workers (new connections until the kernel
    has handed one to each; bounded)."""
    port = urllib.parse.urlsplit(base).port
    workers = _workers_of(port)  # the two workers, and any helper process of multiprocessing
    found: dict[int, Client] = {}
    for _ in range(200):
        client = Client(base, workers)
        if client.pid in found:
            client.conn.close()
        else:
            found[client.pid] = client
        if len(found) == 2:
            return tuple(found.values())
    raise AssertionError("the kernel gave every connection to one worker")


@pytest.fixture(scope="module")
def two_workers(postgres_url):
    url = fresh_database(postgres_url, "workers")
    with running_central(url, workers=2) as base:
        add_officer(url, "viewer-dua", "viewer")
        add_officer(url, "viewer-kunci", "viewer")
        yield base


def test_the_status_lookup_limit_holds_once_across_two_workers(two_workers):
    """GIVEN two workers WHEN one client's lookups alternate between them THEN the burst of
    30 (plus what refills meanwhile, one every 2 s) is allowed once in all, not per worker;
    both workers refuse once it is spent."""
    first, second = _one_per_worker(two_workers)
    started = time.monotonic()
    answers = {first.pid: [], second.pid: []}
    for i in range(50):
        client = (first, second)[i % 2]
        answer, _ = client.request("GET", f"/status/{new_tracking_id('MT01')}")
        answers[client.pid].append(answer.status)
    refilled = math.ceil((time.monotonic() - started) / 2) + 1
    allowed = sum(statuses.count(404) for statuses in answers.values())
    assert 30 <= allowed <= 30 + refilled, answers  # in memory per worker, it was up to 50
    assert all(429 in statuses for statuses in answers.values()), answers


def test_a_session_made_on_one_worker_works_and_ends_on_the_other(two_workers):
    first, second = _one_per_worker(two_workers)
    answer, page = first.request("GET", "/workbench/login")
    login_csrf = answer.getheader("Set-Cookie").split("wb_login_csrf=", 1)[1].split(";", 1)[0]
    answer, _ = first.request("POST", "/workbench/login", {"csrf": _CSRF.search(page).group(1), "name": "viewer-dua",
                                                            "password": PASSWORD}, {"wb_login_csrf": login_csrf})
    assert answer.status == 303
    session = {"wb_session": answer.getheader("Set-Cookie").split("wb_session=", 1)[1].split(";", 1)[0]}
    answer, inbox = second.request("GET", "/workbench/", cookies=session)
    assert answer.status == 200 and "viewer-dua" in inbox  # signed in on the other worker
    answer, _ = second.request("POST", "/workbench/logout", {"csrf": _CSRF.search(inbox).group(1)}, session)
    assert answer.status == 303
    answer, _ = first.request("GET", "/workbench/", cookies=session)
    assert answer.status == 303 and answer.getheader("Location") == "/workbench/login"  # ended everywhere


def test_failed_logins_on_both_workers_lock_the_account_once(two_workers):
    """Five wrong passwords, alternating between the workers, lock the account (each worker
    alone saw fewer than five)."""
    first, second = _one_per_worker(two_workers)
    statuses = []
    for i in range(6):
        client = (first, second)[i % 2]
        answer, page = client.request("GET", "/workbench/login")
        login_csrf = answer.getheader("Set-Cookie").split("wb_login_csrf=", 1)[1].split(";", 1)[0]
        answer, _ = client.request("POST", "/workbench/login", {"csrf": _CSRF.search(page).group(1),
                                                                 "name": "viewer-kunci", "password": "salah sekali"},
                                   {"wb_login_csrf": login_csrf})
        statuses.append(answer.status)
    assert statuses == [401, 401, 401, 401, 429, 429]
