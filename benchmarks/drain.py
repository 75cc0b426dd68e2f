"""Draining a kiosk's backlog (issue 17; goal: at least 2,000 reports a second).

A kiosk that was offline for days holds thousands of reports. Here a real kiosk store is
filled through the kiosk's own code path (``ReportService.submit``: the report and its
outbox entry in one transaction, text sealed; only the store's fsync is turned off while
filling, to save a minute per 10,000) and then drained by the real sync worker
(``sync_queue.worker.SyncWorker`` and ``sync_queue.client.CentralClient``, the same loop
the worker's thread runs: claim, send, settle) into a central service on 127.0.0.1
(``python -m central serve``) on SQLite and on PostgreSQL (a throwaway cluster,
``fsync=off``). The clock runs from the first claim to the last entry marked sent. Each
run is checked: every report is in the central exactly once, every outbox entry is
``sent``, and the reporter's name is forgotten on the kiosk.

The baseline, in the same run: a bare ``requests`` loop posting the very same batch bodies
(serialized beforehand) to a trivial endpoint on its own uvicorn (``trivial_app``: reads
the JSON, answers how many reports it held). The difference is the kiosk's and the
central's own work.

Then the central alone under a fleet: ``KIOSKS`` kiosk processes (each its own store of
``REPORTS / KIOSKS`` reports, its own code and token, started together once all are
ready) drain into one central on PostgreSQL with 1, 2 and 4 uvicorn workers: reports a
second from the first claim to the last kiosk done, and the p50 / p95 of one batch POST
(``requests``' own ``elapsed``: from sending to the answer's headers), checked the same way.

And the kiosk's UI while it drains: a headless kiosk process (the real ``KioskApp``, its
sync worker started by the app once its environment is open) with the backlog, its window
asked to redraw every frame (``idle_fps`` 60, so its cap stays 60 frames a second), each
frame finished before the next (``frames_process``): the time between frames from the app
ready to the last report sent, against the same kiosk without a central configured for as
long; checked as above (every report in the central once, the outbox all ``sent``, names
forgotten).

    python -m benchmarks.drain        # rewrites its section of docs/PERFORMANCE.md

Sizes: ``BENCH_DRAIN_REPORTS`` (10,000), ``BENCH_DRAIN_KIOSKS`` (20),
``BENCH_DRAIN_WORKERS`` ("1,2,4"), ``BENCH_DRAIN_BATCH`` (the worker's own, 500),
``BENCH_DRAIN_FRAMES`` ("1"; "0" skips the frames, about two minutes at 10,000 reports),
``BENCH_DRAIN_CITIZEN_S`` (20: the frames with a citizen at the screen).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

from benchmarks.common import ROOT, kivy_process_env, percentile, run_alone

REPORTS = int(os.environ.get("BENCH_DRAIN_REPORTS", "10000"))
KIOSKS = int(os.environ.get("BENCH_DRAIN_KIOSKS", "20"))
WORKERS = tuple(int(n) for n in os.environ.get("BENCH_DRAIN_WORKERS", "1,2,4").split(","))
FRAMES = os.environ.get("BENCH_DRAIN_FRAMES", "1") == "1"
GOAL_PER_S = 2000
START, END = "<!-- drain:start -->", "<!-- drain:end -->"
#: Where the time went before the batch intake, and what the rows left show (written with the section).
NOTE = [
    'Where the time went, and what changed (2026-12-03): the same drain, 1,000 reports in batches of 100 into a',
    'SQLite central, went at 202 reports/s: the central took each report in a transaction of its own (on SQLite',
    'a durable commit each, 2.5 ms a report), and the kiosk read each report in three queries (1.7 ms). Now the',
    "central stores a batch's valid reports in one transaction, one multi-row INSERT per table",
    '(`central.service.take_reports`, `add_reports`), and takes them again one at a time only when the database',
    'refuses the batch (another worker stored one meanwhile: a duplicate; a value it cannot hold: that report',
    '`invalid` alone); the kiosk reads a batch in two queries (`ReportService.payloads`) and sends 500 at once',
    "(`sync_queue.worker.BATCH_SIZE`, the central's `MAX_BATCH`): 732/s at batches of 100, 1,641/s at 500, then",
    '1,987/s on PostgreSQL with the kiosk and the central taking turns: the worker opened a batch (about 100',
    'ms of Python per 500 reports, most of it Fernet, five fields a report) and then waited for the central',
    "(about 125 ms: validating and encoding each body, PostgreSQL's `to_tsvector`). Now the worker's thread",
    "claims and opens the next batch while the last one's POST is in flight (`SyncWorker._send`, read ahead),",
    "hence the rows above. On Welcome the frames pay for it: the worker's Python no longer pauses while the",
    'central works, and it shares the interpreter with the UI thread. Nobody is at the screen then; with a',
    'citizen there, batches stay gentle and are not read ahead.',
    "The fleet's rows ran 20 kiosk processes, the central and PostgreSQL on the same 2 cores (load average",
    "near 9 at the end): more uvicorn workers add no CPU to share, and changed little (not profiled",
    "further); the rate counts from the first kiosk's start to the last one's end.",
]
CODE = "MT01"


def batch_size() -> int:
    from sync_queue.worker import BATCH_SIZE

    return int(os.environ.get("BENCH_DRAIN_BATCH", BATCH_SIZE))


# -- the kiosk's store --------------------------------------------------------------------
def fill_store(data_dir: Path, code: str, count: int) -> Path:
    """A kiosk's data directory holding ``count`` reports waiting in its outbox, filed one by
    one through ``ReportService.submit`` (the store's fsync off meanwhile); closed, so the
    file can be copied."""
    import datetime as _dt

    from sqlalchemy import event

    from kiosk.core import reference
    from kiosk.core.domain import Draft, ReportKind
    from kiosk.core.reports import ReportService
    from kiosk.core.store.db import open_store
    from kiosk.kernel.clock import utc_now

    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(data_dir / "kiosk.sqlite3", key_file=data_dir / "secret.key")
    # Filling only: what each submit does, less the wait for the disk.
    event.listen(store.engine, "connect", lambda con, _record: con.execute("PRAGMA synchronous=OFF"))
    store.engine.dispose()
    try:
        reference.load_seed_if_empty(store)
        service = ReportService(store, kiosk_code=code, clock=utc_now)
        for n in range(count):
            service.submit(Draft(
                kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title=f"Antrean puskesmas {n}",
                description="Antrean di puskesmas sangat panjang setiap pagi, petugas datang terlambat.",
                incident_date=_dt.date(2026, 11, 20), kecamatan_code="LAHEI", location_text="Puskesmas Lahei",
                reporter_name="Siti Aminah", reporter_phone="081234567890"))
    finally:
        store.close()
    return data_dir


def _copy(template: Path, where: Path) -> Path:
    shutil.copytree(template, where)
    return where


def register(url: str, codes: list[str]) -> dict[str, str]:
    """A migrated central database at ``url`` knowing these kiosks; their tokens."""
    from central import service
    from central.db import Database, migrate

    db = Database(url)
    try:
        migrate(db.engine)
        return {code: service.add_kiosk(db, code, f"Bench hall {code}") for code in codes}
    finally:
        db.close()


def drain(data_dir: Path, code: str, base: str, token: str, batch: int) -> dict[str, object]:
    """Drain the kiosk store in ``data_dir`` into the central at ``base`` with the real sync
    worker's passes, until a pass finds nothing due; checked on the kiosk's side."""
    import requests

    from kiosk.core.reports import ReportService
    from kiosk.core.store.db import open_store
    from kiosk.kernel.clock import utc_now
    from sync_queue.client import CentralClient
    from sync_queue.worker import SyncWorker

    store = open_store(data_dir / "kiosk.sqlite3", key_file=data_dir / "secret.key")
    try:
        service = ReportService(store, kiosk_code=code, clock=utc_now)
        waiting = service.count_waiting()
        posts: list[float] = []
        session = requests.Session()
        session.hooks["response"].append(lambda answer, *_a, **_k: posts.append(answer.elapsed.total_seconds() * 1000))
        worker = SyncWorker(store, service, CentralClient(base, token, timeout=120, session=session), now=utc_now,
                            batch_size=batch)
        sent, t0 = 0, time.perf_counter()
        while True:
            result = worker.run_once(read_ahead=True)  # as the worker's thread runs it
            if result.failed or result.online is False:
                raise RuntimeError(f"kiosk {code}: {result}")
            if not result.sent:
                break
            sent += result.sent
        seconds = time.perf_counter() - t0
        if worker.release_ahead():
            raise AssertionError(f"kiosk {code}: a batch was still read ahead after the last pass")
        left = service.count_waiting()
        with store.engine.connect() as conn:
            named = conn.exec_driver_sql("SELECT COUNT(*) FROM reports WHERE reporter_name IS NOT NULL").scalar()
        if sent != waiting or left or named:
            raise AssertionError(f"kiosk {code}: {waiting} waiting, {sent} sent, {left} left, {named} still named")
        return {"sent": sent, "seconds": seconds, "posts_ms": posts}
    finally:
        store.close()


def batch_bodies(data_dir: Path, code: str, batch: int) -> list[bytes]:
    """The batch bodies the worker sends for this store, serialized as its client does."""
    from sqlalchemy import select

    from kiosk.core.reports import ReportService
    from kiosk.core.store.db import open_store
    from kiosk.core.store.models import Report
    from kiosk.kernel.clock import utc_now
    from kiosk.kernel.wire import ReportBatch

    store = open_store(data_dir / "kiosk.sqlite3", key_file=data_dir / "secret.key")
    try:
        with store.session() as session:
            ids = list(session.scalars(select(Report.tracking_id).order_by(Report.created_at)))
        service = ReportService(store, kiosk_code=code, clock=utc_now)
        bodies = []
        for start in range(0, len(ids), batch):
            chunk = service.payloads(ids[start:start + batch])
            batch_model = ReportBatch(reports=[chunk[tid].body() for tid in ids[start:start + batch]])
            bodies.append(json.dumps(batch_model.model_dump(mode="json")).encode("utf-8"))
        return bodies
    finally:
        store.close()


def central_counts(url: str, codes: list[str]) -> tuple[int, int]:
    """(reports, distinct Tracking IDs) of these kiosks in the central's database."""
    from tests.support.central import query

    marks = ", ".join(f"'{code}'" for code in codes)
    return query(url, f"SELECT COUNT(*), COUNT(DISTINCT tracking_id) FROM reports WHERE kiosk_code IN ({marks})")[0]


# -- the baseline: a bare requests loop to a trivial endpoint -----------------------------------
def trivial_app():
    """The baseline's server (``uvicorn --factory``): reads the batch's JSON, answers its size
    (Starlette, which FastAPI is built on, without the central's routes or database)."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def take(request):
        return JSONResponse({"received": len((await request.json())["reports"])})

    return Starlette(routes=[Route("/api/v1/reports", take, methods=["POST"])])


@contextlib.contextmanager
def running_trivial() -> Iterator[str]:
    """``trivial_app`` on uvicorn on a free port of 127.0.0.1; its base URL."""
    from tests.support.servers import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "benchmarks.drain:trivial_app",
                             "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:  # uvicorn says when it listens
            if "Uvicorn running on" in line:
                break
        else:
            raise RuntimeError(f"the trivial server exited with {proc.wait()}")
        threading.Thread(target=lambda: [None for _ in proc.stderr], name="trivial-log", daemon=True).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def baseline(base: str, bodies: list[bytes]) -> dict[str, object]:
    """Post every body once, one after the other: reports a second and each POST's time."""
    import requests

    session = requests.Session()
    headers = {"Content-Type": "application/json"}
    session.post(base + "/api/v1/reports", data=bodies[0], headers=headers, timeout=60).raise_for_status()  # warm
    posts, received, t0 = [], 0, time.perf_counter()
    for body in bodies:
        answer = session.post(base + "/api/v1/reports", data=body, headers=headers, timeout=60)
        answer.raise_for_status()
        received += answer.json()["received"]
        posts.append(answer.elapsed.total_seconds() * 1000)
    return {"sent": received, "seconds": time.perf_counter() - t0, "posts_ms": posts}


def _rate(run: dict[str, object]) -> dict[str, float]:
    return {"per_s": run["sent"] / run["seconds"], "p50_ms": percentile(run["posts_ms"], 50, empty=float("nan")),
            "p95_ms": percentile(run["posts_ms"], 95, empty=float("nan")), "sent": run["sent"], "seconds": run["seconds"]}


# -- one kiosk, each database --------------------------------------------------------------------
def measure_one(backend: str, url: str, template: Path, bodies: list[bytes], folder: Path,
                batch: int) -> dict[str, object]:
    """One kiosk's backlog (a copy of ``template``) drained into a fresh central at ``url``,
    then the baseline's loop of the same bodies."""
    from tests.support.servers import running_central

    token = register(url, [CODE])[CODE]
    kiosk = _copy(template, folder / f"kiosk-{backend}")
    with running_central(url) as base:
        run = drain(kiosk, CODE, base, token, batch)
    stored, distinct = central_counts(url, [CODE])
    if stored != run["sent"] or distinct != stored:
        raise AssertionError(f"{backend}: {run['sent']} sent, {stored} stored, {distinct} distinct")
    with running_trivial() as trivial:
        bare = baseline(trivial, bodies)
    if bare["sent"] != run["sent"]:
        raise AssertionError(f"the baseline posted {bare['sent']} reports, the kiosk {run['sent']}")
    return {"backend": backend, "drain": _rate(run), "baseline": _rate(bare), "stored": stored}


# -- a fleet of kiosks at once -------------------------------------------------------------------
def kiosk_process(data_dir: str, code: str, base: str, token: str, batch: int) -> None:
    """``python -m benchmarks.drain kiosk ...``: says READY once imported and opened, drains
    when told GO on stdin, prints its result as JSON."""
    import requests  # noqa: F401 - imported before READY, as the rest

    from kiosk.core.store.db import open_store  # noqa: F401
    from sync_queue.worker import SyncWorker  # noqa: F401

    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return
    started = time.time()
    run = drain(Path(data_dir), code, base, token, batch)
    print(json.dumps({**run, "started": started, "ended": time.time()}), flush=True)


def fleet(base: str, kiosks: dict[str, tuple[Path, str]], batch: int) -> dict[str, object]:
    """Every kiosk process started and ready, then all told to go at once; the rate from the
    first start to the last kiosk done, over every report, and every POST's time."""
    procs = {code: subprocess.Popen(
        [sys.executable, "-m", "benchmarks.drain", "kiosk", str(folder), code, base, token, str(batch)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for code, (folder, token) in kiosks.items()}
    try:
        for code, proc in procs.items():
            if proc.stdout.readline().strip() != "READY":
                raise RuntimeError(f"kiosk {code} did not start: {proc.wait()}")
        for proc in procs.values():
            proc.stdin.write("GO\n")
            proc.stdin.flush()
        results = []
        for code, proc in procs.items():
            line = proc.stdout.readline()
            if proc.wait(timeout=600) or not line:
                raise RuntimeError(f"kiosk {code} failed ({proc.returncode})")
            results.append(json.loads(line))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    sent = sum(r["sent"] for r in results)
    seconds = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {"sent": sent, "seconds": seconds, "posts_ms": [ms for r in results for ms in r["posts_ms"]],
            "slowest_kiosk_s": max(r["seconds"] for r in results)}


def measure_fleet(server_url: str, folder: Path, count: int, kiosks: int, batch: int) -> list[dict[str, object]]:
    """``kiosks`` stores of ``count // kiosks`` reports, drained at once into a central on a
    fresh PostgreSQL database with each number of workers in ``WORKERS``."""
    from tests.support.servers import fresh_database, running_central

    codes = [f"K{n:03d}" for n in range(kiosks)]
    templates = {code: fill_store(folder / "fleet" / code, code, count // kiosks) for code in codes}
    rows = []
    for workers in WORKERS:
        url = fresh_database(server_url, "drain")
        tokens = register(url, codes)
        stores = {code: (_copy(templates[code], folder / f"fleet-{workers}" / code), tokens[code]) for code in codes}
        with running_central(url, workers=workers) as base:
            run = fleet(base, stores, batch)
        stored, distinct = central_counts(url, codes)
        if stored != run["sent"] or distinct != stored or stored != kiosks * (count // kiosks):
            raise AssertionError(f"{workers} workers: {run['sent']} sent, {stored} stored, {distinct} distinct")
        rows.append({"workers": workers, "kiosks": kiosks, "stored": stored, **_rate(run),
                     "slowest_kiosk_s": run["slowest_kiosk_s"]})
    return rows


# -- the kiosk's frames while it drains -------------------------------------------------------------
#: A gap this long is a visible stutter (five frames missed at 60 a second).
SLOW_GAP_MS = 100.0
#: How long the frames are measured with a citizen at the screen (draining gently, and not).
CITIZEN_S = float(os.environ.get("BENCH_DRAIN_CITIZEN_S", "20"))


def frames_process(config_path: str, seconds: float, citizen: bool = False) -> None:
    """``python -m benchmarks.drain frames CONFIG SECONDS``: the real kiosk app (``build_app``:
    Welcome first, its environment built by ``build_env`` after the first frame, the sync
    worker started by the app), its window asked to redraw every frame. The time of each
    frame from the moment the app is ready (environment open; with a central, the app starts
    its sync worker in that same call) until, with a central configured, the worker's pass
    that sent the last queued report returns (or ``seconds`` passed: ``drained_s`` null);
    without one, for ``seconds``. Then the app is stopped and its environment closed as
    ``kiosk run`` does (``screens.app.run_kiosk``); one JSON line, with how long quitting took.
    With ``citizen``, a citizen is at the screen: the filing screen is opened once the app is
    ready and the frames count from there (the worker then drains gently,
    ``sync_queue.worker.GENTLE_BATCH``), until all is sent or ``seconds`` passed.

    Each frame is finished (``glFinish``) before it counts: headless (SDL's ``offscreen``
    driver) the swap does not wait for the frame, and Mesa's llvmpipe draws the frames only
    when something forces it. Without it the next texture upload (the Welcome line "N
    menunggu dikirim" changing, every 5 s while the kiosk drains) paid for every frame since
    the one before, up to 13 s in one gap (a label changed every 1 s: 0.6 s; every 3 s:
    3.6 s; idle, no sync), while the other gaps showed only how fast frames were queued
    (15 ms). A real screen's swap waits for its frame."""
    import faulthandler

    from kiosk.runtime.config import load_config
    from screens.app import build_app, configure_kivy

    # Should the kiosk not quit, every thread's stack goes to stderr and the process ends.
    faulthandler.dump_traceback_later(seconds + 120, exit=True)
    config = load_config(Path(config_path), environ={})
    configure_kivy(config)
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    app = build_app(config)
    flips: list[float] = []
    state: dict[str, object] = {"start": None, "cpu": None, "drained_at": None, "stop_at": None, "cpu_s": None,
                                "queued": None, "sent": 0, "error": None}

    def on_flip(*_args) -> None:
        glFinish()  # this frame drawn, as a screen's swap waits for it (see above)
        Window.canvas.ask_update()  # the next frame draws too, as on a screen that moves
        if state["start"] is not None:
            flips.append(time.perf_counter())
            if flips[-1] - state["start"] >= seconds:  # (Kivy's clock would count from the frame's start)
                finish()

    def finish(*_args) -> None:
        if state["stop_at"] is not None:
            return
        state["stop_at"] = time.perf_counter()
        if state["cpu"] is not None:
            state["cpu_s"] = time.process_time() - state["cpu"]
        Window.unbind(on_flip=on_flip)
        app.stop()

    def counted(run_once):
        """The worker's own pass, counted on its thread: the pass that sends the last
        queued report ends the drain."""
        def run_and_count(**kwargs):
            result = run_once(**kwargs)
            state["sent"] += result.sent
            if state["drained_at"] is None and state["sent"] >= state["queued"]:
                state["drained_at"] = time.perf_counter()
                Clock.schedule_once(finish, 0)  # Kivy's clock takes callbacks from any thread
            return result
        return run_and_count

    def begin(*_args) -> None:
        if citizen:
            app.start_filing()  # the describe-your-report screen, its idle watch armed
            if not app.session.watched:
                state["error"] = "the filing screen did not open"
                Clock.schedule_once(finish, 0)
                return
        state["start"], state["cpu"] = time.perf_counter(), time.process_time()

    def on_ready(_app, ready) -> None:
        # Inside KioskApp.finish_start: the environment is open, the sync worker not yet started.
        if not ready or state["start"] is not None:
            return
        sync = app.env.sync
        if sync is not None:
            state["queued"] = sync.outbox.count_waiting()
            sync.run_once = counted(sync.run_once)
        begin()  # (the filing screen opens before the worker starts: its first batch is gentle too)

    def on_out_of_service(_app, out) -> None:
        if out:
            state["error"] = "the kiosk's store could not be opened"
            Clock.schedule_once(finish, 0)

    # Handlers only (returning None): a handler of on_start returning a true value (the
    # tuple of a lambda, say) would stop the event before KioskApp.on_start, which opens
    # the environment; the kiosk then never became ready and this process never ended.
    Window.bind(on_flip=on_flip)
    app.bind(ready=on_ready, out_of_service=on_out_of_service)
    try:
        app.run()
    finally:
        if app.env is not None:
            app.env.close()  # stops the sync worker (joins its threads) and closes the store
    gaps = [(b - a) * 1000 for a, b in zip(flips, flips[1:])]
    start, stop = state["start"], state["stop_at"]
    print(json.dumps({
        "error": state["error"], "frames": len(flips), "gaps_ms": gaps,
        "seconds": None if start is None or stop is None else stop - start,
        "drained_s": None if state["drained_at"] is None else state["drained_at"] - start,
        "queued": state["queued"], "sent": state["sent"], "cpu_s": state["cpu_s"],
        "quit_s": None if stop is None else time.perf_counter() - stop}), flush=True)


def _frames(template: Path, folder: Path, base: str | None, token: str | None, seconds: float,
            citizen: bool = False) -> dict[str, object]:
    """One frames process (``frames_process``) on a copy of ``template``, with or without a
    central, with or without a citizen at the screen; its figures, and where its data
    directory is."""
    data = _copy(template, folder)
    values = {"data_dir": str(data), "kiosk_code": CODE, "idle_fps": 60.0}
    if citizen:
        values["idle_timeout_s"] = 3600.0  # the citizen stays for the whole measure
    if base:
        values.update(central_url=base, central_token=token)
    config = folder.parent / f"{folder.name}.toml"
    config.write_text("[kiosk]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), encoding="utf-8")
    env = kivy_process_env()
    try:
        out = subprocess.run([sys.executable, "-m", "benchmarks.drain", "frames", str(config), str(seconds),
                              *(["citizen"] if citizen else [])],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 300)
    finally:
        shutil.rmtree(env["KIVY_HOME"], ignore_errors=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        raise RuntimeError(f"the kiosk's frames process failed ({out.returncode}): {out.stderr[-4000:]}")
    result = json.loads(lines[-1])
    gaps = result["gaps_ms"]
    if result["error"] or not gaps:
        raise RuntimeError(f"the kiosk's frames process: {result['error'] or 'no frames'}: {out.stderr[-2000:]}")
    return {"frames": result["frames"], "p50_ms": percentile(gaps, 50, empty=float("nan")),
            "p95_ms": percentile(gaps, 95, empty=float("nan")), "max_ms": max(gaps),
            "slow": sum(gap > SLOW_GAP_MS for gap in gaps), "seconds": result["seconds"],
            "drained_s": result["drained_s"], "sent": result["sent"], "cpu_s": result["cpu_s"],
            "quit_s": result["quit_s"], "data_dir": str(data)}


def _kiosk_after(data_dir: Path) -> tuple[dict[str, int], int]:
    """(outbox entries by state, reports still holding a reporter's name) of a kiosk's store."""
    import sqlite3

    con = sqlite3.connect(data_dir / "kiosk.sqlite3")
    try:
        states = dict(con.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))
        named = con.execute("SELECT COUNT(*) FROM reports WHERE reporter_name IS NOT NULL").fetchone()[0]
        return states, named
    finally:
        con.close()


def measure_frames(template: Path, folder: Path, deadline: float = 300.0,
                   citizen_s: float = CITIZEN_S) -> dict[str, object]:
    """Frames of the kiosk draining its backlog (``template``'s) into a SQLite central, then
    of the same kiosk idle (no central configured) for as long as the drain took (at least
    3 s). Checked: every queued report stored in the central once, the kiosk's outbox all
    ``sent``, every reporter's name forgotten."""
    from tests.support.servers import running_central

    queued = _kiosk_after(template)[0].get("pending", 0)
    url = f"sqlite:///{folder / 'frames-central.sqlite3'}"
    token = register(url, [CODE])[CODE]
    with running_central(url) as base:
        draining = _frames(template, folder / "frames-draining", base, token, deadline)
    if draining["drained_s"] is None:
        raise RuntimeError(f"the kiosk did not drain its backlog within {deadline} s ({draining['sent']} sent)")
    stored, distinct = central_counts(url, [CODE])
    states, named = _kiosk_after(Path(draining["data_dir"]))
    if not queued or not stored == distinct == draining["sent"] == queued or states != {"sent": queued} or named:
        raise AssertionError(f"frames: {queued} queued, {draining['sent']} sent, {stored} stored, {distinct} "
                             f"distinct, outbox {states}, {named} still named")
    idle = _frames(template, folder / "frames-idle", None, None, max(3.0, draining["drained_s"]))
    # A citizen at the screen (the filing screen) for ``citizen_s``: the worker drains gently.
    url = f"sqlite:///{folder / 'frames-citizen-central.sqlite3'}"
    token = register(url, [CODE])[CODE]
    with running_central(url) as base:
        gentle = _frames(template, folder / "frames-citizen-draining", base, token, citizen_s, citizen=True)
    gentle_stored, gentle_distinct = central_counts(url, [CODE])
    if not gentle["sent"] or not gentle_stored == gentle_distinct == gentle["sent"]:
        raise AssertionError(f"frames with a citizen: {gentle['sent']} sent, {gentle_stored} stored, "
                             f"{gentle_distinct} distinct")
    watched = _frames(template, folder / "frames-citizen-idle", None, None, citizen_s, citizen=True)
    return {"queued": queued, "draining": draining, "idle": idle, "stored": stored, "distinct": distinct,
            "citizen_s": citizen_s, "citizen_draining": gentle, "citizen_idle": watched}


# -- everything ---------------------------------------------------------------------------------
def measure_all(count: int = REPORTS, *, kiosks: int = KIOSKS, frames: bool = FRAMES,
                postgres: bool = True) -> dict[str, object]:
    """One kiosk on SQLite and PostgreSQL with its baseline, the fleet on PostgreSQL with each
    number of workers, and the frames while draining."""
    from tests.support.servers import throwaway_postgres

    batch = batch_size()
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        template = fill_store(folder / "template", CODE, count)
        filled_s = time.perf_counter() - t0
        bodies = batch_bodies(template, CODE, batch)
        single = [measure_one("SQLite", f"sqlite:///{folder / 'central.sqlite3'}", template, bodies, folder, batch)]
        fleet_rows = []
        if postgres:
            with throwaway_postgres() as server_url:
                from tests.support.servers import fresh_database

                single.append(measure_one("PostgreSQL", fresh_database(server_url, "drain"), template, bodies,
                                          folder, batch))
                if kiosks:
                    fleet_rows = measure_fleet(server_url, folder, count, kiosks, batch)
        frame_rows = measure_frames(template, folder) if frames else None
    return {"reports": count, "batch": batch, "filled_s": filled_s, "single": single, "fleet": fleet_rows,
            "frames": frame_rows}


def lines(rows: dict[str, object], when: str | None = None) -> list[str]:
    """The section of docs/PERFORMANCE.md."""
    count, batch = rows["reports"], rows["batch"]
    out = [START, "",
           f"Draining a kiosk's backlog of {count:,} reports (batches of {batch}; `benchmarks/drain.py`)"
           + (f", {when}" if when else "") + f". Goal: at least {GOAL_PER_S:,} reports a second.", "",
           "| database | kiosk -> central, first claim to last entry sent | p50 / p95 of a batch POST "
           "| baseline: bare `requests` loop, same bodies, trivial endpoint | p50 / p95 | share of the baseline |",
           "|---|---|---|---|---|---|"]
    for row in rows["single"]:
        d, b = row["drain"], row["baseline"]
        out.append(f"| {row['backend']} | {d['per_s']:,.0f} reports/s ({d['seconds']:.1f} s) "
                   f"| {d['p50_ms']:.0f} / {d['p95_ms']:.0f} ms | {b['per_s']:,.0f} reports/s "
                   f"| {b['p50_ms']:.0f} / {b['p95_ms']:.0f} ms | {d['per_s'] / b['per_s']:.0%} |")
    if rows["fleet"]:
        first = rows["fleet"][0]
        out += ["", f"{first['kiosks']} kiosks at once ({first['kiosks']} processes, {first['stored'] // first['kiosks']:,} "
                    "reports each, started together), one central on PostgreSQL:", "",
                "| uvicorn workers | reports/s, first claim to last kiosk done | p50 / p95 of a batch POST "
                "| slowest kiosk | stored (each once) |", "|---|---|---|---|---|"]
        for row in rows["fleet"]:
            out.append(f"| {row['workers']} | {row['per_s']:,.0f}/s ({row['seconds']:.1f} s) "
                       f"| {row['p50_ms']:.0f} / {row['p95_ms']:.0f} ms | {row['slowest_kiosk_s']:.1f} s "
                       f"| {row['stored']:,} |")
    if rows["frames"]:
        f = rows["frames"]
        d, i = f["draining"], f["idle"]
        counts = f"{f['queued']:,} / {f['stored']:,} / {f['distinct']:,}"
        out += ["", f"The kiosk's own frames while its sync worker drains a backlog of {f['queued']:,} reports into a "
                    "SQLite central (the real `KioskApp` on Welcome, headless on Mesa llvmpipe, redrawing every frame "
                    "at its cap of 60 a second, each frame finished before the next one starts), from the app ready "
                    "to the last report sent, against the same kiosk without a central for as long. Goal: the frames "
                    "while it drains as without sync.", "",
                "| kiosk | frames | seconds | time between frames p50 / p95 | max gap | gaps over "
                f"{SLOW_GAP_MS:.0f} ms | reports queued / stored in the central / distinct | kiosk process CPU |",
                "|---|---|---|---|---|---|---|---|",
                f"| draining into a SQLite central | {d['frames']:,} | {d['drained_s']:.1f} s to drain "
                f"| {d['p50_ms']:.1f} / {d['p95_ms']:.1f} ms | {d['max_ms']:.0f} ms | {d['slow']} | {counts} "
                f"| {d['cpu_s']:.1f} s |",
                f"| idle, no central | {i['frames']:,} | {i['seconds']:.1f} s | {i['p50_ms']:.1f} / {i['p95_ms']:.1f} ms "
                f"| {i['max_ms']:.0f} ms | {i['slow']} | {f['queued']:,} / - / - (none sent) | {i['cpu_s']:.1f} s |",
                "", f"Draining against idle: p50 {d['p50_ms'] / i['p50_ms']:.2f}x, p95 {d['p95_ms'] / i['p95_ms']:.2f}x, "
                    f"max gap {d['max_ms'] / i['max_ms']:.2f}x. Asked to stop once the last report was sent, the "
                    f"draining kiosk quit (app stopped, environment closed) in {d['quit_s']:.2f} s, the idle one in "
                    f"{i['quit_s']:.2f} s (before the worker stopped its housekeeping on quitting: 2.2 s, the status "
                    "of up to 200 delivered reports asked one by one). What is left between the two rows: the UI "
                    "thread shares Python's GIL with the worker while it opens, encodes and settles a batch (about "
                    "130 ms of CPU per 500 reports), and llvmpipe's rasterizer shares the same 2 cores. The count of "
                    "waiting reports on Welcome no longer waits for the worker's write lock "
                    "(`kiosk.kernel.storage.reading`): it made a 100-250 ms gap every 5 s."]
        if f.get("citizen_draining"):
            from sync_queue.worker import GENTLE_BATCH, GENTLE_PAUSE_S

            g, w = f["citizen_draining"], f["citizen_idle"]
            out += ["", f"With a citizen at the screen (the filing screen open, its idle watch armed) for "
                        f"{f['citizen_s']:.0f} s: the worker sends {GENTLE_BATCH} reports a batch with a "
                        f"{GENTLE_PAUSE_S:.2f} s pause after each (`sync_queue.worker.GENTLE_BATCH`), and full "
                        "batches again once the kiosk is left alone.", "",
                    "| kiosk, a citizen at the screen | frames | time between frames p50 / p95 | max gap "
                    f"| gaps over {SLOW_GAP_MS:.0f} ms | reports sent (stored once) | kiosk process CPU |",
                    "|---|---|---|---|---|---|---|",
                    f"| draining gently into a SQLite central | {g['frames']:,} | {g['p50_ms']:.1f} / "
                    f"{g['p95_ms']:.1f} ms | {g['max_ms']:.0f} ms | {g['slow']} | {g['sent']:,} "
                    f"({g['sent'] / g['seconds']:,.0f}/s) | {g['cpu_s']:.1f} s |",
                    f"| no central | {w['frames']:,} | {w['p50_ms']:.1f} / {w['p95_ms']:.1f} ms | {w['max_ms']:.0f} ms "
                    f"| {w['slow']} | - | {w['cpu_s']:.1f} s |",
                    "", f"Draining gently against not at all, a citizen at the screen: p50 "
                        f"{g['p50_ms'] / w['p50_ms']:.2f}x, p95 {g['p95_ms'] / w['p95_ms']:.2f}x, max gap "
                        f"{g['max_ms'] / w['max_ms']:.2f}x."]
    out += ["", *NOTE]
    out += ["", "Each run is checked: every report in the central once (`COUNT(*)` and `COUNT(DISTINCT "
                "tracking_id)` against what the kiosks sent), every outbox entry `sent`, every reporter's name "
                "forgotten on the kiosk.", "", END]
    return out


def main() -> int:
    return run_alone(lambda _reports: measure_all(), lines, START, END)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "kiosk":
        kiosk_process(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif len(sys.argv) > 1 and sys.argv[1] == "frames":
        frames_process(sys.argv[2], float(sys.argv[3]), citizen=sys.argv[4:] == ["citizen"])
    else:
        raise SystemExit(main())
