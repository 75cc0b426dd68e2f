"""The leadership's recap for a year of data (goal: under 1 s), on SQLite and PostgreSQL.

The database is seeded by ``benchmarks.common.load_year`` with its history: the 100,000
reports of the inbox's benchmark (a year before today: every kind, category, agency,
kecamatan, kiosk and status), plus what the recap reads besides: each report's status
events up to its status (verified within hours to days, forwarded, started, answered,
closed) with the first time of each step on its row, and a rating for a third of the
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
import time

from benchmarks.common import PASSWORD, REPORTS, load_year, on_both_databases, page_table, run_alone, timed_gets

REQUESTS = int(os.environ.get("BENCH_RECAP_REQUESTS", "12"))
START, END = "<!-- workbench-recap:start -->", "<!-- workbench-recap:end -->"


def measure(backend: str, url: str, *, count: int = REPORTS, requests_each: int = REQUESTS) -> dict[str, object]:
    import requests

    from central import recap
    from central.db import Database
    from kiosk.kernel.clock import LOCAL_TZ
    from tests.support.servers import running_central
    from tests.support.workbench import log_in

    t0 = time.perf_counter()
    events = load_year(url, count, history=True)["events"]
    seeded_s = time.perf_counter() - t0
    today = dt.datetime.now(LOCAL_TZ).date()
    year = {"from": (today - dt.timedelta(days=366)).isoformat(), "to": today.isoformat()}
    month = {"from": (today - dt.timedelta(days=31)).isoformat(), "to": today.isoformat()}
    db = Database(url)
    try:  # the figures alone, in this process: what the page spends outside the database and numpy
        period = recap.Period(dt.date.fromisoformat(year["from"]), today)
        figures = recap.recap(db, period)
        alone = []
        for _ in range(5):
            t0 = time.perf_counter()
            recap.recap(db, period)
            alone.append((time.perf_counter() - t0) * 1000)
    finally:
        db.close()
    results = {}
    with running_central(url) as base:
        viewer = log_in(base, "bench-viewer", password=PASSWORD)
        query = lambda q: "&".join(f"{k}={v}" for k, v in q.items())  # noqa: E731
        results["recap page: a year"] = timed_gets(viewer, base, [f"/workbench/recap?{query(year)}"], requests_each)
        results["recap page: a month"] = timed_gets(viewer, base, [f"/workbench/recap?{query(month)}"], requests_each)
        results["CSV export: a year"] = timed_gets(viewer, base, [f"/workbench/recap.csv?{query(year)}"],
                                                   max(3, requests_each // 4))
        floor = timed_gets(requests.Session(), base, ["/healthz"], requests_each * 4)
    return {"backend": backend, "reports": count, "events": events, "seed_s": seeded_s, "results": results,
            "healthz": floor, "total": figures.total, "timed": sum(t.count for t in figures.timings),
            "recap_ms": sorted(alone)[len(alone) // 2]}


def measure_all(count: int = REPORTS) -> list[dict[str, object]]:
    return on_both_databases(measure, count)


def lines(rows: list[dict[str, object]], machine: str | None = None) -> list[str]:
    """The section of docs/PERFORMANCE.md."""
    sqlite, postgres = rows
    goal = {"recap page: a year": "under 1 s", "recap page: a month": "under 1 s", "CSV export: a year": "-"}
    out = [START, "",
           f"The leadership's recap of a year: {sqlite['reports']:,} reports with {sqlite['events']:,} status events",
           "and a rating for a third of the answered ones (`benchmarks/workbench_recap.py`; one uvicorn worker on",
           "127.0.0.1, one signed-in viewer, one request at a time, after a warm-up)"
           + (f", {machine}" if machine else "") + ":", "",
           *page_table(sqlite, postgres, goal.get, digits=0, counts=True)]
    out += ["", "The counts are six SQL group-bys over the period's reports and the times one query of each",
            "report's arrival and first verification, forwarding and answer, all read from two indexes of",
            "`reports` alone (each step's first time is kept on the report's row, c0008); numpy turns them",
            f"into {sqlite['timed']:,} step durations for the year, sorts them and counts their working days",
            "from a running count of the calendar's (`central/recap.py`). The figures of a year alone, in the",
            f"benchmark's process without HTTP, took {sqlite['recap_ms']:.0f} ms (SQLite) and "
            f"{postgres['recap_ms']:.0f} ms (PostgreSQL), median of 5.",
            f"Seeding took {sqlite['seed_s']:.0f} s (SQLite) and {postgres['seed_s']:.0f} s (PostgreSQL)."]
    slow = [row["backend"] for row in rows if row["results"]["recap page: a year"]["p95_ms"] > 1000]
    if slow:
        out += ["", f"**Goal not met** for a year on {' and '.join(slow)} in this run."]
    out += ["", END]
    return out


def main() -> int:
    return run_alone(measure_all, lines, START, END)


if __name__ == "__main__":
    raise SystemExit(main())
