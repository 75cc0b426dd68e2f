"""What every benchmark shares: the repository root, a headless Kivy environment for
the kiosk processes it starts, the machine's description and the sections of
docs/PERFORMANCE.md, and for the workbench's benchmarks (``workbench_inbox``,
``workbench_recap``) one loader of a year of reports, one loop of timed page requests and
one run on SQLite and on PostgreSQL."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
#: A year of a kabupaten's reports, as the workbench's benchmarks load them.
REPORTS = 100_000
#: The password of the accounts ``load_year`` makes (``bench-viewer``, ``bench-dinkes``).
PASSWORD = "kata sandi benchmark panjang"


def percentile(values: list[float], pct: int, *, empty: float | None = None) -> float:
    """The ``pct``-th percentile of ``values`` by nearest rank (the value at ``pct`` per cent
    of the sorted list's last index); ``empty`` when there are none (an IndexError if not
    given)."""
    ordered = sorted(values)
    if not ordered and empty is not None:
        return empty
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


#: The Kivy homes handed to child processes; each is removed when this process ends.
_KIVY_HOMES: list[tempfile.TemporaryDirectory] = []


def kivy_process_env() -> dict[str, str]:
    """This process's environment plus a headless, hermetic Kivy: a KIVY_HOME of its own
    (Kivy writes its config and icons there), removed when this process exits."""
    env = dict(os.environ)
    env.update(KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON", KIVY_NO_FILELOG="1")
    home = tempfile.TemporaryDirectory(prefix="bench-kivy-")
    _KIVY_HOMES.append(home)
    env["KIVY_HOME"] = home.name
    return env


def machine() -> str:
    """CPU, cores, memory, kernel and Python, as each measurement is written with."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return f"{cpu}, {psutil.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"


# -- a year of reports for the workbench's benchmarks -----------------------------------------
_PROBLEMS = ["Jalan berlubang", "Lampu jalan mati", "Sampah menumpuk", "Air PDAM keruh", "Antrean puskesmas",
             "Pungutan liar", "Sekolah rusak", "Jembatan retak", "Banjir", "Izin usaha lambat", "KTP belum jadi",
             "Bantuan sosial tidak tepat", "Parkir liar", "Obat habis", "Guru jarang masuk"]
_PLACES = ["pasar", "terminal", "kantor camat", "puskesmas", "sekolah", "masjid", "pelabuhan", "desa"]
_WORDS = ("warga sudah lama menunggu tanpa kejelasan mohon segera ditindaklanjuti petugas kami kemarin pagi sore "
          "malam sangat mengganggu aktivitas anak anak pedagang kendaraan rusak parah setiap hari hujan").split()
_OPEN = ("received", "verified", "forwarded", "rerouted", "in_progress", "answered", "postponed")
_DONE = ("closed", "closed", "closed", "closed", "archived", "rejected")
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


def load_year(url: str, count: int = REPORTS, *, history: bool = False) -> dict[str, object]:
    """Store ``count`` reports over the year before today as the central keeps them (every
    kind, category, agency, kecamatan, kiosk and status by age; deadlines; search documents),
    two accounts (``bench-viewer``, ``bench-dinkes`` with ``PASSWORD``) and, with
    ``history``, each report's status events up to its status (verified within hours to days,
    forwarded, started, answered, closed), the first time of each step on its row as the
    central keeps it (``central.models``: a bulk insert passes by the ORM that sets them), and
    a rating for a third of the answered and closed reports. PostgreSQL is vacuumed and
    analyzed afterwards, as autovacuum keeps a database in service. Returns what the pages
    ask for and how many status events were written."""
    from sqlalchemy import insert, text as sql

    from central import accounts, deadlines, search, service
    from central.db import Database, migrate
    from central.lifecycle import agency_codes
    from central.models import FIRST_STEPS, Rating, Report, ReportEvent, new_open311_id
    from kiosk.kernel.tracking_id import new_tracking_id
    from kiosk.kernel.workdays import NATIONAL

    rng, steps_rng = random.Random(13), random.Random(17)
    db = Database(url)
    events_written = 0
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
            rows, documents, events, ratings = [], [], [], []
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
                                received_at=received, kecamatan_code=body["kecamatan_code"],
                                open311_id=new_open311_id())  # as central.service.add_report draws it
                deadlines.follow(report, "forwarded" if status == "in_progress" else None,
                                 received + dt.timedelta(days=2), NATIONAL)
                if history:
                    at = received
                    events.append({"tracking_id": tracking_id, "status": "received", "at": at, "actor": "system",
                                   "note": "", "kind": "status"})
                    for taken in _CHAINS[status]:
                        at = at + dt.timedelta(hours=steps_rng.uniform(*_WAITS[taken]))
                        events.append({"tracking_id": tracking_id, "status": taken, "at": at, "actor": "Bench Admin",
                                       "note": "", "kind": "status",
                                       "agency_code": agency if taken in ("forwarded", "rerouted") else None})
                        if taken in FIRST_STEPS:
                            setattr(report, FIRST_STEPS[taken], at)
                    if status in ("answered", "closed") and steps_rng.random() < 0.33:
                        ratings.append({"key": uuid.UUID(int=steps_rng.getrandbits(128)).hex,
                                        "tracking_id": tracking_id, "kiosk_code": code,
                                        "score": steps_rng.choice((1, 2, 3, 4, 4, 5, 5, 5)), "body_sha256": "0" * 64,
                                        "filed_at": at + dt.timedelta(days=1), "received_at": at + dt.timedelta(days=1)})
                rows.append({c.key: getattr(report, c.key) for c in Report.__table__.columns})
                documents.append((tracking_id, body))
            with db.session() as session, session.begin():
                session.execute(insert(Report), rows)
                search.index_many(session, documents)
                if events:
                    session.execute(insert(ReportEvent), events)
                if ratings:
                    session.execute(insert(Rating), ratings)
            events_written += len(events)
        if db.engine.dialect.name == "postgresql":  # as autovacuum leaves a table in service
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sql("VACUUM ANALYZE"))
        return {"kecamatan": kecamatan[0], "category": categories[0], "events": events_written}
    finally:
        db.close()


def timed_gets(browser, base: str, paths: list[str], count: int) -> dict[str, float]:
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


def on_both_databases(measure: Callable[..., dict[str, object]], count: int) -> list[dict[str, object]]:
    """``measure(backend, url, count=count)`` on a new SQLite file, then on a throwaway
    PostgreSQL cluster."""
    from tests.support.servers import throwaway_postgres

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(measure("SQLite", f"sqlite:///{Path(folder) / 'central.sqlite3'}", count=count))
    with throwaway_postgres() as url:
        rows.append(measure("PostgreSQL", url, count=count))
    return rows


def page_table(sqlite: dict, postgres: dict, goal: Callable[[str], str], *, digits: int = 1,
               counts: bool = False) -> list[str]:
    """The table of a workbench benchmark's section: each page's p50 / p95 on both databases
    and its goal, then the ``/healthz`` baseline of the same servers."""
    ms = lambda r: f"{r['p50_ms']:.{digits}f} / {r['p95_ms']:.{digits}f} ms"  # noqa: E731
    out = ["| page | SQLite p50 / p95 | PostgreSQL p50 / p95 | goal (p95) |", "|---|---|---|---|"]
    for name, result in sqlite["results"].items():
        label = f"{name} ({result['count']} requests)" if counts else name
        out.append(f"| {label} | {ms(result)} | {ms(postgres['results'][name])} | {goal(name)} |")
    health = lambda r: f"{r['healthz']['p50_ms']:.1f} / {r['healthz']['p95_ms']:.1f} ms"  # noqa: E731
    out.append(f"| baseline: `GET /healthz` (same server, same run) | {health(sqlite)} | {health(postgres)} | - |")
    return out


def put_section(text: str, section: list[str], start: str, end: str) -> str:
    """``text`` with the block between ``start`` and ``end`` (markers included) replaced by
    ``section`` (which carries them), or ``section`` added at the end."""
    block = "\n".join(section)
    if start in text and end in text:
        return text[:text.index(start)] + block + text[text.index(end) + len(end):]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def write_section(section: list[str], start: str, end: str) -> None:
    """Replace (or append) a benchmark's section of docs/PERFORMANCE.md, between its markers."""
    out = ROOT / "docs" / "PERFORMANCE.md"
    out.write_text(put_section(out.read_text(encoding="utf-8"), section, start, end), encoding="utf-8")


def run_alone(measure_all: Callable[[int], list], lines: Callable[..., list[str]], start: str, end: str) -> int:
    """``python -m benchmarks.<one>``: measure on both databases, rewrite its section of
    docs/PERFORMANCE.md with the machine and the date, and print it."""
    rows = measure_all(int(os.environ.get("BENCH_REPORTS", REPORTS)))
    # The load average tells whether other work shared the cores (2 here) during the run.
    section = lines(rows, f"measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}, "
                          f"load average {os.getloadavg()[2]:.1f} over the last 15 minutes")
    write_section(section, start, end)
    print("\n".join(section))
    return 0
