"""The workbench's inbox and search with 100,000 reports (goals: inbox p95 under 150 ms,
search p95 under 300 ms), on SQLite and on PostgreSQL.

The database is seeded with a year of reports (``benchmarks.common.load_year``: kinds,
categories, agencies, kecamatan, kiosks, statuses by age, deadlines and search documents as
the central keeps them),
``python -m central serve`` runs on 127.0.0.1 with one worker, and one signed-in browser
(``requests``, one thread: no queueing, so the time is the server's plus a local round
trip) opens each page again and again. The baseline, in the same run against the same
server: ``GET /healthz`` (HTTP plus a ``SELECT 1``). PostgreSQL is vacuumed and analyzed
after the bulk load, as autovacuum keeps a database in service.

``python -m benchmarks.workbench_inbox`` runs it alone and rewrites its section of
docs/PERFORMANCE.md; ``make bench`` runs it with the others.
"""
from __future__ import annotations

import os
import re
import time

from benchmarks.common import PASSWORD, REPORTS, load_year, on_both_databases, page_table, run_alone, timed_gets

REQUESTS = int(os.environ.get("BENCH_INBOX_REQUESTS", "60"))
START, END = "<!-- workbench-inbox:start -->", "<!-- workbench-inbox:end -->"


def _cursor(browser, base: str, path: str, pages: int) -> str:
    """The address of page ``pages + 1`` by following "next" (deep in the keyset), or of the
    last page when there are fewer."""
    import html

    for _ in range(pages):
        found = re.search(r'<p class="more"><a href="([^"]+)"', browser.get(base + path, timeout=60).text)
        if found is None:
            break
        path = html.unescape(found.group(1))
    return path


def scenarios(picked: dict[str, object]) -> dict[str, list[str]]:
    """What the officers open: each row of the table, one or more addresses."""
    kec, cat = picked["kecamatan"], picked["category"]
    return {
        "inbox: first page, newest first": ["/workbench/"],
        "inbox: one status": ["/workbench/?status=received", "/workbench/?status=in_progress"],
        "inbox: status + kecamatan + category + dates": [
            f"/workbench/?status=closed&kecamatan={kec}&category={cat}&from=2000-01-01&to=2100-01-01"],
        "inbox: overdue only, by deadline": ["/workbench/?overdue=1&sort=deadline"],
        "inbox: by deadline": ["/workbench/?sort=deadline"],
        "search: a rare word (one report)": ["/workbench/?q=12345"],
        "search: a common word (1 in 15 reports)": ["/workbench/?q=banjir"],
        "search: two words + filters": [f"/workbench/?q=lampu+pasar&kecamatan={kec}&sort=deadline"],
    }


def measure(backend: str, url: str, *, count: int = REPORTS, requests_each: int = REQUESTS) -> dict[str, object]:
    """Seed, serve, sign in, measure each scenario and the /healthz baseline."""
    import requests

    from tests.support.servers import running_central
    from tests.support.workbench import log_in

    t0 = time.perf_counter()
    picked = load_year(url, count)
    seeded_s = time.perf_counter() - t0
    results = {}
    with running_central(url) as base:
        viewer, agency = log_in(base, "bench-viewer", password=PASSWORD), log_in(base, "bench-dinkes", password=PASSWORD)
        for name, paths in scenarios(picked).items():
            results[name] = timed_gets(viewer, base, paths, requests_each)
        deep = _cursor(viewer, base, "/workbench/", 20)
        results["inbox: page 21 by keyset"] = timed_gets(viewer, base, [deep], requests_each)
        results["inbox of an agency officer (DINKES), by deadline"] = timed_gets(
            agency, base, ["/workbench/?sort=deadline"], requests_each)
        results["search by an agency officer"] = timed_gets(agency, base, ["/workbench/?q=obat"], requests_each)
        floor = timed_gets(requests.Session(), base, ["/healthz"], requests_each * 2)
    return {"backend": backend, "reports": count, "seed_s": seeded_s, "results": results, "healthz": floor}


def measure_all(count: int = REPORTS) -> list[dict[str, object]]:
    return on_both_databases(measure, count)


def lines(rows: list[dict[str, object]], machine: str | None = None) -> list[str]:
    """The section of docs/PERFORMANCE.md."""
    sqlite, postgres = rows
    goal = lambda name: "under 300 ms" if name.startswith("search") else "under 150 ms"  # noqa: E731
    out = [START, "",
           f"The officers' workbench with {sqlite['reports']:,} reports stored (a year: every kind, category,",
           "agency, kecamatan and status; one uvicorn worker on 127.0.0.1; one signed-in browser, one request at",
           f"a time, {REQUESTS} requests per row after a warm-up; `benchmarks/workbench_inbox.py`)"
           + (f", {machine}" if machine else "") + ":", "", *page_table(sqlite, postgres, goal)]
    out += ["", "Each inbox page is one keyset range scan plus the counts per status and the overdue count",
            "of the same filters, each from an index where one covers it; search goes through FTS5 (SQLite)",
            "or a GIN-indexed `tsvector` (PostgreSQL, vacuumed and analyzed after the bulk load, as",
            "autovacuum keeps a database in service); a rare word's few reports are named, a common word's",
            f"stay a subquery (`central/inbox.py`). Seeding took {sqlite['seed_s']:.0f} s (SQLite) and "
            f"{postgres['seed_s']:.0f} s (PostgreSQL).", "", END]
    return out


def main() -> int:
    return run_alone(measure_all, lines, START, END)


if __name__ == "__main__":
    raise SystemExit(main())
