"""Status lookups per second on the central service with 100,000 reports stored.

For SQLite and for PostgreSQL: the database is seeded with reports (and a lifecycle of
one to five events each), ``python -m central serve`` runs on 127.0.0.1 with one worker,
and client threads look up random stored Tracking IDs through the kiosk API, as kiosks do
(``GET /api/v1/reports/{id}/status``). The baseline, in the same run against the same
server: the same client loop on ``GET /healthz`` (HTTP plus a ``SELECT 1``).

The kiosk API allows 600 lookups a minute per kiosk (a burst of 600), so the lookups are
spread over enough registered kiosks that the rate limit never answers: this measures
the service, not the limit.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import requests

REPORTS = 100_000
KIOSKS = 50
THREADS = 4
SECONDS = 5.0
_LIFECYCLE = ("received", "verified", "forwarded", "in_progress", "answered")


def seed(url: str, count: int = REPORTS, kiosks: int = KIOSKS, rng: random.Random | None = None) -> tuple[list[str], list[str]]:
    """Store ``count`` reports; returns (tracking IDs, kiosk tokens)."""
    from sqlalchemy import insert

    from central import service
    from central.db import Database, migrate
    from central.models import Report, ReportEvent, new_open311_id
    from kiosk.kernel.tracking_id import new_tracking_id

    rng = rng or random.Random(5)
    db = Database(url)
    try:
        migrate(db.engine)
        codes = [f"B{n:03d}" for n in range(kiosks)]
        tokens = [service.add_kiosk(db, code, f"Bench hall {code}") for code in codes]
        ids: list[str] = []
        start = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
        for chunk in range(0, count, 5000):
            reports, events = [], []
            for n in range(chunk, min(count, chunk + 5000)):
                code = codes[n % kiosks]
                tracking_id = new_tracking_id(code, randbits=rng.getrandbits)
                received = start + dt.timedelta(minutes=n)
                confidential = n % 7 == 0
                body = {"tracking_id": tracking_id, "kind": "pengaduan", "category_code": "infrastruktur",
                        "title": f"Jalan rusak nomor {n}", "description": "Jalan berlubang di depan pasar. " * 8,
                        "incident_date": "2026-01-02", "kecamatan_code": "6205010", "location_text": "Pasar",
                        "reporter_name": "", "reporter_phone": "", "anonymous": True,
                        "confidential": confidential, "language": "id", "created_at": received.isoformat()}
                text = json.dumps(body, sort_keys=True, separators=(",", ":"))
                steps = _LIFECYCLE[: 1 + n % len(_LIFECYCLE)]
                reports.append(dict(tracking_id=tracking_id, kiosk_code=code, body=text,
                                    body_sha256=hashlib.sha256(text.encode()).hexdigest(), kind="pengaduan",
                                    category_code="infrastruktur", agency_code="DPUPR" if len(steps) > 2 else None,
                                    confidential=confidential, anonymous=True, status=steps[-1], received_at=received,
                                    open311_id=new_open311_id()))  # as central.service.add_report draws it
                for i, status in enumerate(steps):
                    events.append(dict(tracking_id=tracking_id, status=status, at=received + dt.timedelta(days=i),
                                       actor="system" if i == 0 else "Petugas", note="",
                                       public_reply="Sudah ditambal." if status == "answered" else None,
                                       agency_code="DPUPR" if status == "forwarded" else None))
                ids.append(tracking_id)
            with db.session() as session, session.begin():
                session.execute(insert(Report), reports)
                session.execute(insert(ReportEvent), events)
        return ids, tokens
    finally:
        db.close()


def _loop(base: str, paths: list[str], tokens: list[str], seconds: float, threads: int) -> dict[str, float]:
    """Requests per second and latency percentiles of ``threads`` clients for ``seconds``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = [0.0]
    ready = threading.Barrier(threads + 1)

    def client(index: int) -> None:
        rng = random.Random(index)
        session = requests.Session()
        mine, failed = [], 0
        for path in rng.sample(paths, min(len(paths), 20)):  # warm up: connection, caches
            session.get(base + path, headers={"Authorization": f"Bearer {rng.choice(tokens)}"}, timeout=30)
        ready.wait()
        while True:  # at least one measured lookup per client, however slow the warm-up was
            path = rng.choice(paths)
            t0 = time.perf_counter()
            answer = session.get(base + path, headers={"Authorization": f"Bearer {rng.choice(tokens)}"}, timeout=30)
            mine.append(time.perf_counter() - t0)
            failed += answer.status_code != 200
            if time.perf_counter() >= deadline[0]:
                break
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    deadline[0] = time.perf_counter() + seconds + 0.05
    ready.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))] * 1000  # noqa: E731
    return {"per_s": len(latencies) / elapsed, "p50_ms": pct(50), "p95_ms": pct(95), "errors": errors[0],
            "count": len(latencies)}


def measure(backend: str, url: str, *, count: int = REPORTS, seconds: float = SECONDS,
            while_running: Callable[[str, list[str], list[str]], object] | None = None) -> dict[str, object]:
    """Seed, serve, measure; ``while_running(base, ids, tokens)`` runs against the same server."""
    from tests.support.servers import running_central

    t0 = time.perf_counter()
    ids, tokens = seed(url, count)
    seeded_s = time.perf_counter() - t0
    with running_central(url) as base:
        lookups = _loop(base, [f"/api/v1/reports/{tid}/status" for tid in ids], tokens, seconds, THREADS)
        floor = _loop(base, ["/healthz"], tokens, seconds, THREADS)
        extra = while_running(base, ids, tokens) if while_running else None
    if lookups["errors"] or floor["errors"]:
        raise RuntimeError(f"{backend}: {lookups['errors']} lookups and {floor['errors']} health checks failed")
    return {"backend": backend, "reports": count, "seed_s": seeded_s, "lookups": lookups, "healthz": floor,
            "extra": extra}


def measure_all(count: int = REPORTS, seconds: float = SECONDS, on_sqlite=None) -> list[dict[str, object]]:
    """SQLite (``on_sqlite`` runs while its server is up), then a throwaway PostgreSQL."""
    from tests.support.servers import throwaway_postgres

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(measure("SQLite", f"sqlite:///{Path(folder) / 'central.sqlite3'}", count=count, seconds=seconds,
                            while_running=on_sqlite))
    with throwaway_postgres() as url:
        rows.append(measure("PostgreSQL", url, count=count, seconds=seconds))
    return rows
