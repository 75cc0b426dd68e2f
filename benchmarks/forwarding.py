"""Forwarding throughput: reports per second one ``central.forwarder.Forwarder`` hands to a
local LAPOR! double without faults (``tests/support/lapor_double.py``), on SQLite and on
PostgreSQL, against a bare ``requests`` loop POSTing the same XML bodies to the same double
in the same run (the floor: HTTP and the double alone, no outbox).

The reports come in through the real intake (``central.service.take_report``: each with its
forwarding entry, routed by the forwarding file); the worker claims them in batches of 10
and settles each in its own transaction (claim, begin, settle: three commits per report,
durable on SQLite). ``python -m benchmarks.forwarding`` runs it alone and rewrites its
section of docs/PERFORMANCE.md; ``make bench`` runs it with the others.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import on_both_databases, run_alone

REPORTS = int(os.environ.get("BENCH_FORWARD_REPORTS", "500"))
START, END = "<!-- forwarding:start -->", "<!-- forwarding:end -->"


def measure(backend: str, url: str, *, count: int = REPORTS) -> dict[str, object]:
    import requests

    from central import service
    from central.db import Database, migrate
    from central.destinations.lapor import submission
    from central.forwarder import Forwarder, Settings, outgoing
    from central.forwarding_config import load
    from central.models import Report
    from tests.support.central import report
    from tests.support.lapor_double import LaporDouble, forwarding_file

    with LaporDouble().running() as double, tempfile.TemporaryDirectory() as folder:
        config = load(forwarding_file(Path(folder), double, timeout_s=10))
        db = Database(url)
        try:
            migrate(db.engine)
            service.add_kiosk(db, "MT01", "benchmark")
            db.forwarding = config
            bodies = [report(anonymous=n % 3 == 0) for n in range(count)]
            for body in bodies:
                service.take_report(db, "MT01", body)
            worker = Forwarder(db, config, Settings(batch=10, pull_every_s=None))
            t0 = time.perf_counter()
            handled = worker.drain()
            forward_s = time.perf_counter() - t0
            assert handled == count and len(double.stored) == count, (handled, len(double.stored))
            with db.session() as session:
                documents = [submission(outgoing(session.get(Report, b["tracking_id"])), double.token) for b in bodies]
        finally:
            db.close()
        http = requests.Session()
        t0 = time.perf_counter()
        for document in documents:
            answer = http.post(double.url + "/api/stream/addstream", data=document, timeout=10,
                               headers={"Content-Type": "text/xml; charset=utf-8"})
            assert answer.status_code == 200
        bare_s = time.perf_counter() - t0
    return {"backend": backend, "reports": count, "forward_per_s": count / forward_s, "bare_per_s": count / bare_s}


def measure_all(count: int = REPORTS) -> list[dict[str, object]]:
    return on_both_databases(measure, count)


def lines(rows: list[dict[str, object]], machine: str | None = None) -> list[str]:
    out = [START, "",
           f"Forwarding to a local LAPOR! double without faults ({rows[0]['reports']} reports, one worker, batches of",
           "10; `benchmarks/forwarding.py`)" + (f", {machine}" if machine else "") + ":", "",
           "| database | forwarded | baseline: bare `requests` loop, same XML, same double | share of the baseline |",
           "|---|---|---|---|"]
    out += [f"| {r['backend']} | {r['forward_per_s']:.0f} reports/s | {r['bare_per_s']:.0f} reports/s "
            f"| {r['forward_per_s'] / r['bare_per_s']:.0%} |" for r in rows]
    out += ["", "The difference is the outbox: per report a claim (shared by its batch), the move to `sending`",
            "and the settling UPDATE, each a commit (on SQLite a durable one, `synchronous=FULL`), and reading",
            "the report to build its XML. A kabupaten files a few hundred reports a day: one worker forwards a",
            "day's reports in seconds; LAPOR!'s own answer time, not ours, sets the pace in service.", "", END]
    return out


def main() -> int:
    # Its own count (BENCH_FORWARD_REPORTS), not run_alone's BENCH_REPORTS: 100,000 by
    # default, the size of the workbench's year, which would forward for most of an hour.
    return run_alone(lambda _year: measure_all(), lines, START, END)


if __name__ == "__main__":
    raise SystemExit(main())
