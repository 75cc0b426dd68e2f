"""The drain benchmark (`benchmarks/drain.py`) run small: it measures what it claims (every
report of the kiosk's store arrives in the central exactly once, through the real sync
worker, and the baseline posts the same reports; the kiosk app drawing frames while its own
sync worker drains, then idle, each process ending by itself), never how fast."""
from __future__ import annotations

import sqlite3

from benchmarks import drain
from sync_queue.worker import GENTLE_BATCH, GENTLE_PAUSE_S
from tests.support.central import query


def _outbox(data_dir) -> dict[str, str]:
    with sqlite3.connect(data_dir / "kiosk.sqlite3") as con:
        return dict(con.execute("SELECT tracking_id, state FROM outbox"))


def test_one_kiosk_drains_every_report_once_and_the_baseline_posts_the_same(tmp_path):
    """GIVEN a kiosk store of 300 reports filed through the kiosk's code WHEN the benchmark
    drains it in batches of 100 into a SQLite central and runs its baseline THEN the central
    holds each of the 300 once, the kiosk has them all sent, and the baseline posted the
    same 300 in the same 3 bodies."""
    template = drain.fill_store(tmp_path / "template", drain.CODE, 300)
    filed = set(_outbox(template))
    assert len(filed) == 300 and set(_outbox(template).values()) == {"pending"}
    bodies = drain.batch_bodies(template, drain.CODE, 100)
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"

    row = drain.measure_one("SQLite", url, template, bodies, tmp_path, 100)

    stored = [tid for (tid,) in query(url, "SELECT tracking_id FROM reports WHERE kiosk_code = :code", code=drain.CODE)]
    assert sorted(stored) == sorted(filed)  # each once, none other
    drained = _outbox(tmp_path / "kiosk-SQLite")
    assert set(drained) == filed and set(drained.values()) == {"sent"}
    assert row["drain"]["sent"] == row["stored"] == 300 and row["drain"]["per_s"] > 0
    assert row["baseline"]["sent"] == 300 and len(bodies) == 3
    section = drain.lines({"reports": 300, "batch": 100, "single": [row], "fleet": [], "frames": None})
    assert section[0] == drain.START and section[-1] == drain.END


def test_kiosks_at_once_each_deliver_their_own_reports_once(tmp_path):
    """GIVEN three kiosk stores of 40 reports each WHEN their processes drain at once into one
    central THEN it holds the 120 reports once each, every kiosk's under its own code, and
    every batch POST was timed."""
    from tests.support.servers import running_central

    codes = ["K000", "K001", "K002"]
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    tokens = drain.register(url, codes)
    stores = {code: (drain.fill_store(tmp_path / code, code, 40), tokens[code]) for code in codes}
    filed = {code: set(_outbox(folder)) for code, (folder, _token) in stores.items()}

    with running_central(url) as base:
        run = drain.fleet(base, stores, 25)

    assert run["sent"] == 120 and len(run["posts_ms"]) == 3 * 2  # 25 + 15 reports per kiosk
    for code in codes:
        stored = [tid for (tid,) in query(url, "SELECT tracking_id FROM reports WHERE kiosk_code = :c", c=code)]
        assert sorted(stored) == sorted(filed[code])
    assert drain.central_counts(url, codes) == (120, 120)


def test_the_kiosk_app_draws_frames_while_it_drains_then_idle_and_both_processes_end(tmp_path):
    """GIVEN a kiosk store of 600 reports (two of the worker's batches) WHEN the benchmark's
    frames part runs the real kiosk app with a SQLite central configured until its sync worker
    has sent the last one, then the same kiosk without a central THEN both kiosk processes
    end by themselves, both drew frames, the central holds each of the 600 once (stored ==
    distinct == queued == sent), the draining kiosk has them all sent with the names
    forgotten, the idle one sent nothing; with a citizen at the filing screen the worker
    sends whole gentle batches from the first one; the section shows all four rows."""
    template = drain.fill_store(tmp_path / "template", drain.CODE, 600)
    filed = set(_outbox(template))

    frames = drain.measure_frames(template, tmp_path, citizen_s=3.0)

    draining, idle = frames["draining"], frames["idle"]
    assert frames["queued"] == frames["stored"] == frames["distinct"] == draining["sent"] == 600
    url = f"sqlite:///{tmp_path / 'frames-central.sqlite3'}"
    stored = [tid for (tid,) in query(url, "SELECT tracking_id FROM reports WHERE kiosk_code = :c", c=drain.CODE)]
    assert sorted(stored) == sorted(filed)
    drained = _outbox(tmp_path / "frames-draining")
    assert set(drained) == filed and set(drained.values()) == {"sent"}
    with sqlite3.connect(tmp_path / "frames-draining" / "kiosk.sqlite3") as con:
        assert con.execute("SELECT COUNT(*) FROM reports WHERE reporter_name IS NOT NULL").fetchone() == (0,)
    assert set(_outbox(tmp_path / "frames-idle").values()) == {"pending"} and idle["sent"] == 0
    assert draining["drained_s"] > 0 and idle["drained_s"] is None and idle["seconds"] >= 3.0
    for run in (draining, idle):
        assert run["frames"] > 1 and 0 < run["p50_ms"] <= run["p95_ms"] <= run["max_ms"]
        assert run["quit_s"] is not None  # stopped by the benchmark, not by the process's deadline
    # With a citizen at the screen: batches of GENTLE_BATCH (the first one too), each report stored once.
    gentle, watched = frames["citizen_draining"], frames["citizen_idle"]
    assert 0 < gentle["sent"] == len(set(query(f"sqlite:///{tmp_path / 'frames-citizen-central.sqlite3'}",
                                                "SELECT tracking_id FROM reports")))
    # a pause after each batch: at most one batch a pause in the 3 s, and one in flight (not a first batch of 500)
    assert gentle["sent"] % GENTLE_BATCH == 0 and gentle["sent"] <= (3.0 / GENTLE_PAUSE_S + 2) * GENTLE_BATCH < 500
    assert watched["sent"] == 0
    for run in (gentle, watched):
        assert run["frames"] > 1 and run["quit_s"] is not None
    section = drain.lines({"reports": 600, "batch": 500, "single": [], "fleet": [], "frames": frames})
    rows = [line for line in section if line.startswith(("| draining", "| idle", "| no central"))]
    assert len(rows) == 4 and "| 600 / 600 / 600 |" in rows[0] and section[-1] == drain.END
