"""Real servers for tests and benchmarks: the central service and a throwaway PostgreSQL.

Both are context managers that raise ``RuntimeError`` when a server cannot start; the
pytest fixtures in ``tests/conftest.py`` turn that into a test failure.
"""
from __future__ import annotations

import collections
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_central(url: str, *, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """``python -m central serve`` on a free port of 127.0.0.1; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "central", "--database-url", url, "serve", "--port", str(port),
         "--workers", str(workers)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )
    tail: collections.deque[str] = collections.deque(maxlen=50)
    try:
        listening, started = False, 0
        for line in proc.stderr:  # uvicorn says when it listens: no polling, no sleeping
            tail.append(line)
            listening = listening or "Uvicorn running on" in line
            started += "Application startup complete" in line  # once per worker process
            if listening and started >= workers:
                break
        else:
            raise RuntimeError(f"central exited with {proc.wait()}:\n{''.join(tail)}")
        # Keep reading its log, or a full pipe would stall the server after a few thousand requests.
        threading.Thread(target=lambda: tail.extend(proc.stderr), name="central-log", daemon=True).start()
        yield f"http://127.0.0.1:{port}"
    except BaseException:
        # A test that failed against this central shows what the central said (pytest
        # prints captured stderr of a failed test): an "Internal Server Error" alone says little.
        print(f"--- the central's last {len(tail)} log lines ---\n{''.join(tail)}", file=sys.stderr)
        raise
    finally:
        proc.terminate()
        proc.wait(timeout=30)

class LogLines(list):
    """The lines a server wrote so far (a list), filled by a reader thread; ``wait_for``
    blocks until one holds a text."""

    def __init__(self):
        super().__init__()
        self._cond = threading.Condition()

    def add(self, line: str) -> None:
        with self._cond:
            self.append(line)
            self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: any(text in line for line in self), timeout):
                raise AssertionError(f"the server never wrote {text!r}")


@contextlib.contextmanager
def central_keeping_its_log(url: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, LogLines]]:
    """``python -m central serve`` as :func:`running_central` starts it, with every line it
    writes kept (uvicorn's access log, on stdout, included): for the tests of what it logs."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "central", "--database-url", url, "serve", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    lines = LogLines()
    try:
        for line in proc.stdout:
            lines.add(line)
            if "Uvicorn running on" in line:
                break
        else:
            raise RuntimeError(f"central exited with {proc.wait()}:\n{''.join(lines[-50:])}")

        def read() -> None:
            for rest in proc.stdout:
                lines.add(rest)

        threading.Thread(target=read, name="central-log", daemon=True).start()
        yield f"http://127.0.0.1:{port}", lines
    finally:
        proc.terminate()
        proc.wait(timeout=30)



def _pg_bin(name: str) -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql package")
    return found[-1]


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster on 127.0.0.1 (trust auth), removed afterwards; yields its URL.
    PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` user."""
    # Not under pytest's tmp dir: its parents are private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="kiosk-test-pg-"))
    data = folder / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*cmd):
        return subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)

    try:
        init = run(str(_pg_bin("initdb")), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        if init.returncode:
            raise RuntimeError(f"initdb failed: {init.stderr}")
        start = run(str(_pg_bin("pg_ctl")), "-D", str(data), "-w", "-l", str(folder / "log"),
                    "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        if start.returncode:
            raise RuntimeError(f"PostgreSQL did not start: {start.stderr}{start.stdout}")
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(str(_pg_bin("pg_ctl")), "-D", str(data), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str, prefix: str = "test") -> str:
    """A new, empty database on the PostgreSQL server at ``server_url``; returns its URL."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name
