"""The workbench's inbox and search with 100,000 reports (goals: inbox p95 under 150 ms,
search p95 under 300 ms), on SQLite and on PostgreSQL.

The database is seeded with a year of reports (kinds, categories, agencies, kecamatan,
kiosks, statuses by age, deadlines and search documents as the central keeps them),
``python -m central serve`` runs on 127.0.0.1 with one worker, and one signed-in browser
(``requests``, one thread: no queueing, so the time is the server's plus a local round
trip) opens each page again and again. The baseline, in the same run against the same
server: ``GET /healthz`` (HTTP plus a ``SELECT 1``). PostgreSQL is vacuumed and analyzed
after the bulk load, as autovacuum keeps a database in service.

``python -m benchmarks.workbench_inbox`` runs it alone and rewrites its section of
docs/PERFORMANCE.md; ``make bench`` runs it with the others.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
import tempfile
import time
from pathlib import Path

REPORTS = 100_000
REQUESTS = int(os.environ.get("BENCH_INBOX_REQUESTS", "60"))
PASSWORD = "kata sandi benchmark panjang"
START, END = "<!-- workbench-inbox:start -->", "<!-- workbench-inbox:end -->"

_PROBLEMS = ["Jalan berlubang", "Lampu jalan mati", "Sampah menumpuk", "Air PDAM keruh", "Antrean puskesmas",
             "Pungutan liar", "Sekolah rusak", "Jembatan retak", "Banjir", "Izin usaha lambat", "KTP belum jadi",
             "Bantuan sosial tidak tepat", "Parkir liar", "Obat habis", "Guru jarang masuk"]
_PLACES = ["pasar", "terminal", "kantor camat", "puskesmas", "sekolah", "masjid", "pelabuhan", "desa"]
_WORDS = ("warga sudah lama menunggu tanpa kejelasan mohon segera ditindaklanjuti petugas kami kemarin pagi sore "
          "malam sangat mengganggu aktivitas anak anak pedagang kendaraan rusak parah setiap hari hujan").split()
_OPEN = ("received", "verified", "forwarded", "rerouted", "in_progress", "answered", "postponed")
_DONE = ("closed", "closed", "closed", "closed", "archived", "rejected")


def seed(url: str, count: int = REPORTS, rng: random.Random | None = None) -> dict[str, object]:
    """Store ``count`` reports over the year before today; returns what the pages ask for."""
    from sqlalchemy import insert, text as sql

    from central import accounts, deadlines, search, service
    from central.db import Database, migrate
    from central.lifecycle import agency_codes
    from central.models import Report
    from kiosk.kernel.tracking_id import new_tracking_id
    from kiosk.kernel.workdays import NATIONAL

    rng = rng or random.Random(13)
    db = Database(url)
    try:
        migrate(db.engine)
        ref = json.loads(service.current_reference(db)[1])
        categories = [c["code"] for c in ref["categories"]]
        agencies = [a["code"] for a in ref["agencies"]]
        kecamatan = [k["code"] for k in ref["kecamatan"]]
        kiosks = [f"K{n:03d}" for n in range(20)]
        for code in kiosks:
            service.add_kiosk(db, code, f"Bench hall {code}")
        accounts.add_account(db, "bench-viewer", "viewer", PASSWORD, None, agency_codes(db))
        accounts.add_account(db, "bench-dinkes", "agency", PASSWORD, "DINKES", agency_codes(db))
        end = dt.datetime.now(dt.timezone.utc)
        step = dt.timedelta(days=365) / count
        for chunk in range(0, count, 5000):
            rows, documents = [], []
            for n in range(chunk, min(count, chunk + 5000)):
                code = rng.choice(kiosks)
                tracking_id = new_tracking_id(code, randbits=rng.getrandbits)
                received = end - dt.timedelta(days=365) + step * n
                age_days = (end - received).days
                status = rng.choice(_OPEN) if age_days < 45 or rng.random() < 0.03 else rng.choice(_DONE)
                agency = rng.choice(agencies) if status not in ("received", "verified") or rng.random() < 0.5 else None
                title = f"{rng.choice(_PROBLEMS)} di {rng.choice(_PLACES)} {n}"
                body = {"tracking_id": tracking_id, "kind": rng.choice(("pengaduan", "pengaduan", "aspirasi",
                                                                        "permintaan_informasi")),
                        "category_code": rng.choice(categories), "agency_code": agency, "title": title,
                        "description": " ".join(rng.choice(_WORDS) for _ in range(40)),
                        "incident_date": received.date().isoformat(), "kecamatan_code": rng.choice(kecamatan),
                        "location_text": rng.choice(_PLACES), "reporter_name": "Warga Benchmark",
                        "reporter_phone": "081200000000", "anonymous": rng.random() < 0.3,
                        "confidential": rng.random() < 0.1, "language": "id", "created_at": received.isoformat()}
                text = json.dumps(body, sort_keys=True, separators=(",", ":"))
                report = Report(tracking_id=tracking_id, kiosk_code=code, body=text,
                                body_sha256=hashlib.sha256(text.encode()).hexdigest(), kind=body["kind"],
                                category_code=body["category_code"], agency_code=agency,
                                confidential=body["confidential"], anonymous=body["anonymous"], status=status,
                                received_at=received, kecamatan_code=body["kecamatan_code"])
                deadlines.follow(report, "forwarded" if status == "in_progress" else None,
                                 received + dt.timedelta(days=2), NATIONAL)
                rows.append({c.key: getattr(report, c.key) for c in Report.__table__.columns})
                documents.append((tracking_id, body))
            with db.session() as session, session.begin():
                session.execute(insert(Report), rows)
                search.index_many(session, documents)
        if db.engine.dialect.name == "postgresql":  # as autovacuum leaves a table in service
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sql("VACUUM ANALYZE"))
        return {"kecamatan": kecamatan[0], "category": categories[0]}
    finally:
        db.close()


def _loop(browser, base: str, paths: list[str], count: int) -> dict[str, float]:
    """p50/p95 of ``count`` GETs cycling through ``paths`` (after a warm-up of each)."""
    for path in paths:  # no redirect followed: a lost session must not time the login page
        assert browser.get(base + path, timeout=60, allow_redirects=False).status_code == 200, path
    latencies = []
    for n in range(count):
        t0 = time.perf_counter()
        answer = browser.get(base + paths[n % len(paths)], timeout=60, allow_redirects=False)
        latencies.append((time.perf_counter() - t0) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{paths[n % len(paths)]}: {answer.status_code}")
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))]  # noqa: E731
    return {"p50_ms": pct(50), "p95_ms": pct(95), "count": len(latencies)}


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
    picked = seed(url, count)
    seeded_s = time.perf_counter() - t0
    results = {}
    with running_central(url) as base:
        viewer, agency = log_in(base, "bench-viewer", password=PASSWORD), log_in(base, "bench-dinkes", password=PASSWORD)
        for name, paths in scenarios(picked).items():
            results[name] = _loop(viewer, base, paths, requests_each)
        deep = _cursor(viewer, base, "/workbench/", 20)
        results["inbox: page 21 by keyset"] = _loop(viewer, base, [deep], requests_each)
        results["inbox of an agency officer (DINKES), by deadline"] = _loop(agency, base, ["/workbench/?sort=deadline"],
                                                                            requests_each)
        results["search by an agency officer"] = _loop(agency, base, ["/workbench/?q=obat"], requests_each)
        floor = _loop(requests.Session(), base, ["/healthz"], requests_each * 2)
    return {"backend": backend, "reports": count, "seed_s": seeded_s, "results": results, "healthz": floor}


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
    goal = lambda name: "under 300 ms" if name.startswith("search") else "under 150 ms"  # noqa: E731
    out = [START, "",
           f"The officers' workbench with {sqlite['reports']:,} reports stored (a year: every kind, category,",
           "agency, kecamatan and status; one uvicorn worker on 127.0.0.1; one signed-in browser, one request at",
           f"a time, {REQUESTS} requests per row after a warm-up; `benchmarks/workbench_inbox.py`)"
           + (f", {machine}" if machine else "") + ":", "",
           "| page | SQLite p50 / p95 | PostgreSQL p50 / p95 | goal (p95) |", "|---|---|---|---|"]
    for name in sqlite["results"]:
        a, b = sqlite["results"][name], postgres["results"][name]
        out.append(f"| {name} | {a['p50_ms']:.1f} / {a['p95_ms']:.1f} ms | {b['p50_ms']:.1f} / {b['p95_ms']:.1f} ms "
                   f"| {goal(name)} |")
    out.append(f"| baseline: `GET /healthz` (same server, same run) | {sqlite['healthz']['p50_ms']:.1f} / "
               f"{sqlite['healthz']['p95_ms']:.1f} ms | {postgres['healthz']['p50_ms']:.1f} / "
               f"{postgres['healthz']['p95_ms']:.1f} ms | - |")
    out += ["", "Each inbox page is one keyset range scan plus the counts per status and the overdue count",
            "of the same filters, each from an index where one covers it; search goes through FTS5 (SQLite)",
            "or a GIN-indexed `tsvector` (PostgreSQL, vacuumed and analyzed after the bulk load, as",
            "autovacuum keeps a database in service); a rare word's few reports are named, a common word's",
            f"stay a subquery (`central/inbox.py`). Seeding took {sqlite['seed_s']:.0f} s (SQLite) and "
            f"{postgres['seed_s']:.0f} s (PostgreSQL).", "", END]
    return out


def write_section(section: list[str], start: str = START, end: str = END) -> None:
    """Replace (or append) a benchmark's section of docs/PERFORMANCE.md, between its markers
    (this benchmark's by default)."""
    from benchmarks.common import ROOT

    out = ROOT / "docs" / "PERFORMANCE.md"
    text = out.read_text(encoding="utf-8")
    block = "\n".join(section)
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    out.write_text(text, encoding="utf-8")


def main() -> int:
    from benchmarks.common import machine

    rows = measure_all(int(os.environ.get("BENCH_REPORTS", REPORTS)))
    section = lines(rows, f"measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}")
    write_section(section)
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
