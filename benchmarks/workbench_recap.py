"""The leadership's recap for a year of data (goal: under 1 s), on SQLite and PostgreSQL.

The database is seeded as ``benchmarks.workbench_inbox`` seeds it (100,000 reports over the
year before today: every kind, category, agency, kecamatan, kiosk and status), plus what
the recap reads besides: each report's status events up to its status (verified within
hours to days, forwarded, started, answered, closed), and a rating for a third of the
answered and closed reports. ``python -m central serve`` runs on 127.0.0.1 with one worker;
one signed-in viewer opens the recap of the whole year, of one month, and downloads the
year's CSV, one request at a time; the baseline is ``GET /healthz`` on the same server in
the same run.

``python -m benchmarks.workbench_recap`` runs it alone and rewrites its section of
docs/PERFORMANCE.md.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.workbench_inbox import PASSWORD, REPORTS, _loop, seed, write_section

REQUESTS = int(os.environ.get("BENCH_RECAP_REQUESTS", "12"))
START, END = "<!-- workbench-recap:start -->", "<!-- workbench-recap:end -->"
#: The status events a report has been through, by the status it has now.
_CHAINS = {
    "received": (), "verified": ("verified",), "forwarded": ("verified", "forwarded"),
    "rerouted": ("verified", "forwarded", "rerouted"), "in_progress": ("verified", "forwarded", "in_progress"),
    "answered": ("verified", "forwarded", "in_progress", "answered"),
    "closed": ("verified", "forwarded", "in_progress", "answered", "closed"),
    "postponed": ("postponed",), "rejected": ("rejected",), "archived": ("verified", "archived"),
}
#: How long each step waits after the one before it, in hours (uniform between the two).
_WAITS = {"verified": (0.5, 120), "forwarded": (1, 72), "rerouted": (4, 96), "in_progress": (1, 48),
          "answered": (4, 240), "closed": (240, 400), "postponed": (2, 72), "rejected": (1, 72), "archived": (24, 200)}


def seed_steps(url: str, rng: random.Random | None = None) -> int:
    """Give every seeded report its status events and some of them a rating; returns the
    number of events written."""
    from sqlalchemy import insert, select, text as sql

    from central.db import Database
    from central.models import Rating, Report, ReportEvent

    rng = rng or random.Random(17)
    db = Database(url)
    written = 0
    try:
        with db.session() as session:
            reports = session.execute(select(Report.tracking_id, Report.status, Report.received_at, Report.agency_code)
                                      .order_by(Report.received_at)).all()
        for chunk in range(0, len(reports), 5000):
            events, ratings = [], []
            for tracking_id, status, received, agency in reports[chunk:chunk + 5000]:
                at = received
                events.append({"tracking_id": tracking_id, "status": "received", "at": at, "actor": "system",
                               "note": "", "kind": "status"})
                for step in _CHAINS[status]:
                    at = at + dt.timedelta(hours=rng.uniform(*_WAITS[step]))
                    events.append({"tracking_id": tracking_id, "status": step, "at": at, "actor": "Bench Admin",
                                   "note": "", "kind": "status",
                                   "agency_code": agency if step in ("forwarded", "rerouted") else None})
                if status in ("answered", "closed") and rng.random() < 0.33:
                    ratings.append({"key": uuid.UUID(int=rng.getrandbits(128)).hex, "tracking_id": tracking_id,
                                    "kiosk_code": tracking_id[:4], "score": rng.choice((1, 2, 3, 4, 4, 5, 5, 5)),
                                    "body_sha256": "0" * 64, "filed_at": at + dt.timedelta(days=1),
                                    "received_at": at + dt.timedelta(days=1)})
            with db.session() as session, session.begin():
                session.execute(insert(ReportEvent), events)
                if ratings:
                    session.execute(insert(Rating), ratings)
            written += len(events)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sql("VACUUM ANALYZE"))
        return written
    finally:
        db.close()


def measure(backend: str, url: str, *, count: int = REPORTS, requests_each: int = REQUESTS) -> dict[str, object]:
    import requests

    from central import recap
    from central.db import Database
    from kiosk.kernel.clock import LOCAL_TZ
    from tests.support.servers import running_central
    from tests.support.workbench import log_in

    t0 = time.perf_counter()
    seed(url, count)
    events = seed_steps(url)
    seeded_s = time.perf_counter() - t0
    today = dt.datetime.now(LOCAL_TZ).date()
    year = {"from": (today - dt.timedelta(days=366)).isoformat(), "to": today.isoformat()}
    month = {"from": (today - dt.timedelta(days=31)).isoformat(), "to": today.isoformat()}
    db = Database(url)
    try:
        figures = recap.recap(db, recap.Period(dt.date.fromisoformat(year["from"]), today))
    finally:
        db.close()
    results = {}
    with running_central(url) as base:
        viewer = log_in(base, "bench-viewer", password=PASSWORD)
        query = lambda q: "&".join(f"{k}={v}" for k, v in q.items())  # noqa: E731
        results["recap page: a year"] = _loop(viewer, base, [f"/workbench/recap?{query(year)}"], requests_each)
        results["recap page: a month"] = _loop(viewer, base, [f"/workbench/recap?{query(month)}"], requests_each)
        results["CSV export: a year"] = _loop(viewer, base, [f"/workbench/recap.csv?{query(year)}"],
                                              max(3, requests_each // 4))
        floor = _loop(requests.Session(), base, ["/healthz"], requests_each * 4)
    return {"backend": backend, "reports": count, "events": events, "seed_s": seeded_s, "results": results,
            "healthz": floor, "total": figures.total, "timed": sum(t.count for t in figures.timings)}


def measure_all(count: int = REPORTS) -> list[dict[str, object]]:
    from tests.support.servers import throwaway_postgres

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(measure("SQLite", f"sqlite:///{Path(folder) / 'central.sqlite3'}", count=count))
    with throwaway_postgres() as url:
        rows.append(measure("PostgreSQL", url, count=count))
    return rows


def lines(rows: list[dict[str, object]], machine: str | None = None) -> list[str]:
    """The section of docs/PERFORMANCE.md."""
    sqlite, postgres = rows
    goal = {"recap page: a year": "under 1 s", "recap page: a month": "under 1 s", "CSV export: a year": "-"}
    out = [START, "",
           f"The leadership's recap of a year: {sqlite['reports']:,} reports with {sqlite['events']:,} status events",
           "and a rating for a third of the answered ones (`benchmarks/workbench_recap.py`; one uvicorn worker on",
           "127.0.0.1, one signed-in viewer, one request at a time, after a warm-up)"
           + (f", {machine}" if machine else "") + ":", "",
           "| page | SQLite p50 / p95 | PostgreSQL p50 / p95 | goal (p95) |", "|---|---|---|---|"]
    for name in sqlite["results"]:
        a, b = sqlite["results"][name], postgres["results"][name]
        out.append(f"| {name} ({a['count']} requests) | {a['p50_ms']:.0f} / {a['p95_ms']:.0f} ms "
                   f"| {b['p50_ms']:.0f} / {b['p95_ms']:.0f} ms | {goal[name]} |")
    out.append(f"| baseline: `GET /healthz` (same server, same run) | {sqlite['healthz']['p50_ms']:.1f} / "
               f"{sqlite['healthz']['p95_ms']:.1f} ms | {postgres['healthz']['p50_ms']:.1f} / "
               f"{postgres['healthz']['p95_ms']:.1f} ms | - |")
    out += ["", "The counts are six SQL group-bys over the period's reports; the times one grouped join of the",
            "reports with their status events that hands back, per report, four moments as epoch seconds",
            f"({sqlite['timed']:,} step durations for the year), whose percentiles Python takes from the sorted",
            "values, with working days from a per-day table of the calendar (`central/recap.py`).",
            f"Seeding took {sqlite['seed_s']:.0f} s (SQLite) and {postgres['seed_s']:.0f} s (PostgreSQL)."]
    slow = [row["backend"] for row in rows if row["results"]["recap page: a year"]["p95_ms"] > 1000]
    if slow:
        out += ["", f"**Goal not met** for a year on {' and '.join(slow)}: the per-report join with the status",
                "events and the Python work on each report's four moments grow with the period; storing each",
                "report's first verification, forwarding and answer on its row (a migration) would make the recap",
                "one scan of `reports`, and grouping the durations by (start day, end day) in SQL would leave",
                "Python a few thousand pairs instead of a row per report."]
    out += ["", END]
    return out


def main() -> int:
    from benchmarks.common import machine

    rows = measure_all(int(os.environ.get("BENCH_REPORTS", REPORTS)))
    section = lines(rows, f"measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}")
    write_section(section, START, END)
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
