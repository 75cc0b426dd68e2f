"""Open311 ``GET requests`` with 100,000 reports stored (goal: 1,000 requests listed, p95
under 300 ms), on SQLite and on PostgreSQL.

The database is seeded by ``benchmarks.common.load_year`` with its history: the 100,000
reports of the workbench's benchmarks (a year before today, a tenth of them confidential,
each with its public Open311 id) and each report's status events up to its status, which
every listed request reads for its ``updated_datetime`` and ``status_notes``.
``python -m central serve`` runs on 127.0.0.1 with one worker, and an Open311 client
(``requests``, one thread, one request at a time) asks for:

- ``requests.json`` without filters: the newest 1,000 of the last 90 days (``LIST_MAX``,
  ``LIST_DAYS``; about 22,000 are public), and the same as ``.xml``;
- ``requests.json`` of one service, closed, over 90 days in the middle of the year;
- ``requests.json?service_request_id=`` with the most IDs one request may list
  (``PUBLIC_BURST``, 30), three of them confidential.

Before the clock runs each answer is checked: the lists without filters name exactly the
1,000 newest public reports, newest first; none lists a confidential report; the service's
list holds only closed requests of that service, as many as the database has (at most
1,000); the list of IDs leaves the confidential ones out.

The GET methods take from the public status page's bucket of the client's address (30
lookups a burst, 30 a minute; a list of IDs one lookup per ID), so one client may not ask
60 lists in a minute. The requests therefore come from clients on their own loopback
addresses (127.0.1.1, 127.0.1.2, ...: on Linux all of 127/8 is the loopback), each asking
no more than its bucket holds: every request still pays its rate-limit upsert and is
answered 200, never 429. The baseline, in the same run against the same server: ``GET
/healthz`` (HTTP plus a ``SELECT 1``).

``python -m benchmarks.open311_list`` runs it alone and rewrites its section of
docs/PERFORMANCE.md; ``make bench`` runs it with the others.
"""
from __future__ import annotations

import datetime as dt
import itertools
import os
import time
import xml.etree.ElementTree as ET

from benchmarks.common import REPORTS, load_year, on_both_databases, page_table, run_alone, timed_gets

REQUESTS = int(os.environ.get("BENCH_OPEN311_REQUESTS", "60"))
START, END = "<!-- open311-list:start -->", "<!-- open311-list:end -->"
LIST = "/open311/v2/requests"
#: A loopback address for each client, never the same twice in one process.
_ADDRESSES = (f"127.0.{n // 250 + 1}.{n % 250 + 1}" for n in itertools.count())


class _Clients:
    """What ``timed_gets`` takes for a browser: each GET from a client on its own loopback
    address, a new client once the last one has asked as many lookups as its bucket holds."""

    def __init__(self, cost: int):
        from central.deps import PUBLIC_BURST

        self.per_client = max(1, PUBLIC_BURST // cost)
        self.session, self.asked = None, 0

    def get(self, url: str, **kwargs):
        if self.session is None or self.asked == self.per_client:
            self.session, self.asked = _client(next(_ADDRESSES)), 0
        self.asked += 1
        return self.session.get(url, **kwargs)


def _client(address: str):
    """A ``requests`` session whose connections leave from ``address``."""
    import requests
    from requests.adapters import HTTPAdapter

    class Bound(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs, source_address=(address, 0))

    session = requests.Session()
    session.mount("http://", Bound())
    return session


def _window() -> tuple[dt.date, dt.date]:
    """90 days (LIST_DAYS, the longest a request may ask for) in the middle of the year."""
    from kiosk.kernel.clock import LOCAL_TZ

    today = dt.datetime.now(LOCAL_TZ).date()
    return today - dt.timedelta(days=225), today - dt.timedelta(days=135)


def _picked(url: str, count: int, category: str) -> dict[str, object]:
    """The confidential reports' public ids; the newest LIST_MAX public ones, newest first;
    the IDs one list asks for: the most one request may name, spread over the year, the last
    three of them confidential; how many public, closed reports of ``category`` the window holds."""
    from sqlalchemy import func, select

    from central.db import Database
    from central.deps import PUBLIC_BURST
    from central.models import Report
    from central.open311 import CLOSED, LIST_MAX
    from kiosk.kernel.clock import LOCAL_TZ

    start, end = (dt.datetime.combine(day, dt.time(), LOCAL_TZ) for day in _window())
    db = Database(url)
    try:
        with db.session() as session:
            rows = session.execute(select(Report.open311_id, Report.confidential)
                                   .order_by(Report.received_at)).all()
            closed = session.scalar(select(func.count()).select_from(Report).where(
                Report.confidential.is_(False), Report.category_code == category, Report.status.in_(CLOSED),
                Report.received_at >= start, Report.received_at <= end))
    finally:
        db.close()
    assert len(rows) == count and all(r.open311_id for r in rows), "load_year gives every report its public id"
    confidential = {r.open311_id for r in rows if r.confidential}
    public = [r.open311_id for r in rows if not r.confidential]
    asked = public[::len(public) // (PUBLIC_BURST - 3)][:PUBLIC_BURST - 3] + sorted(confidential)[:3]
    return {"confidential": confidential, "newest": public[:-LIST_MAX - 1:-1], "ids": asked,
            "shown": set(asked) - confidential, "closed": closed}


def scenarios(picked: dict[str, object], category: str) -> dict[str, tuple[str, int]]:
    """Each row of the table: its address and how many lookups of the client's bucket it takes."""
    start, end = _window()
    window = f"start_date={start}&end_date={end}"
    ids = picked["ids"]
    return {
        "requests.json, no filters (newest 1,000 of 90 days)": (f"{LIST}.json", 1),
        "requests.xml, no filters (newest 1,000 of 90 days)": (f"{LIST}.xml", 1),
        "requests.json, one service, closed, 90 days mid-year": (
            f"{LIST}.json?status=closed&service_code={category}&{window}", 1),
        f"requests.json, {len(ids)} IDs (3 confidential)": (
            f"{LIST}.json?service_request_id={','.join(ids)}", len(ids)),
    }


def _check(name: str, answer, picked: dict[str, object], category: str) -> int:
    """Assert what the answer lists; returns how many requests it lists."""
    from central.open311 import LIST_MAX

    assert answer.status_code == 200, (name, answer.status_code, answer.text[:300])
    if ".xml" in name:
        found = [{"service_request_id": r.findtext("service_request_id"), "status": r.findtext("status"),
                  "service_code": r.findtext("service_code"), "requested_datetime": r.findtext("requested_datetime")}
                 for r in ET.fromstring(answer.content).iter("request")]
    else:
        found = answer.json()
    ids = [r["service_request_id"] for r in found]
    assert not set(ids) & picked["confidential"], f"{name}: a confidential report is listed"
    moments = [dt.datetime.fromisoformat(r["requested_datetime"]) for r in found]
    assert moments == sorted(moments, reverse=True), f"{name}: not newest first"
    if "IDs" in name:
        assert set(ids) == picked["shown"], f"{name}: {len(ids)} listed, {len(picked['shown'])} public asked"
    elif "closed" in name:
        assert len(found) == min(LIST_MAX, picked["closed"]), f"{name}: {len(found)} of {picked['closed']} listed"
        assert {(r["status"], r["service_code"]) for r in found} == {("closed", category)}, name
    else:
        assert ids == picked["newest"], f"{name}: {len(found)} requests listed, not the newest {LIST_MAX}"
    return len(found)


def measure(backend: str, url: str, *, count: int = REPORTS, requests_each: int = REQUESTS) -> dict[str, object]:
    """Seed, serve, check each answer, measure each row and the /healthz baseline."""
    import requests

    from tests.support.servers import running_central

    t0 = time.perf_counter()
    seeded = load_year(url, count, history=True)
    seeded_s = time.perf_counter() - t0
    picked = _picked(url, count, seeded["category"])
    results, sizes = {}, {}
    with running_central(url) as base:
        for name, (path, cost) in scenarios(picked, seeded["category"]).items():
            answer = _Clients(cost).get(base + path, timeout=60)
            listed = _check(name, answer, picked, seeded["category"])
            sizes[name] = (listed, len(answer.content))
            results[name] = timed_gets(_Clients(cost), base, [path], requests_each)
        floor = timed_gets(requests.Session(), base, ["/healthz"], requests_each * 2)
    return {"backend": backend, "reports": count, "events": seeded["events"], "seed_s": seeded_s,
            "confidential": len(picked["confidential"]), "sizes": sizes, "results": results, "healthz": floor}


def measure_all(count: int = REPORTS) -> list[dict[str, object]]:
    return on_both_databases(measure, count)


def lines(rows: list[dict[str, object]], machine: str | None = None) -> list[str]:
    """The section of docs/PERFORMANCE.md."""
    sqlite, postgres = rows
    json_kib, xml_kib = (size / 1024 for name, (_, size) in sqlite["sizes"].items() if "no filters" in name)
    closed = next(listed for name, (listed, _) in sqlite["sizes"].items() if "closed" in name)
    out = [START, "",
           f"Open311 `GET requests` with {sqlite['reports']:,} reports stored ({sqlite['confidential']:,} of them "
           f"confidential, never listed) and",
           f"{sqlite['events']:,} status events (a year, as the workbench's benchmarks load it; one uvicorn worker on",
           f"127.0.0.1; one request at a time, {REQUESTS} requests per row after a checked warm-up;",
           "`benchmarks/open311_list.py`)" + (f", {machine}" if machine else "") + ":", "",
           *page_table(sqlite, postgres, lambda name: "under 300 ms")]
    out += ["", f"1,000 requests are {json_kib:,.0f} KiB of JSON and {xml_kib:,.0f} KiB of XML; the service's "
            f"closed requests list {closed:,}.",
            "Each answer is one range scan of the reports, newest first, from an index, and one query of their",
            "status events (`updated_datetime`, `status_notes`), then each report's body is read and the document",
            "encoded (`central/open311.py`, `central/open311_format.py`). Each request also takes a lookup from",
            "its client address's bucket (30 a burst, 30 a minute, a list of IDs one per ID), so the requests come",
            "from clients on their own loopback addresses, each within its bucket.",
            f"Seeding took {sqlite['seed_s']:.0f} s (SQLite) and {postgres['seed_s']:.0f} s (PostgreSQL).", "", END]
    return out


def main() -> int:
    return run_alone(measure_all, lines, START, END)


if __name__ == "__main__":
    raise SystemExit(main())
