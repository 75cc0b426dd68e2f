"""`make bench` keeps working: its central and scan benchmarks run here, small, and their
measurements are checked for what they claim to measure (never for speed)."""
from __future__ import annotations

from benchmarks import scan_status, status_lookup


def test_lookup_and_scan_benchmarks_measure_real_answers(tmp_path):
    seen = {}

    def scans(base, ids, tokens):
        seen["ids"] = ids
        return scan_status.measure(base, tokens[0], ids, scans=3)

    [row] = [status_lookup.measure("SQLite", f"sqlite:///{tmp_path / 'central.sqlite3'}", count=300, seconds=0.5,
                                   while_running=scans)]
    assert len(seen["ids"]) == len(set(seen["ids"])) == 300
    assert row["lookups"]["count"] > 0 and row["lookups"]["errors"] == 0  # every lookup found its report
    assert row["healthz"]["count"] > 0 and row["healthz"]["errors"] == 0
    # Three receipts scanned at a real kiosk process, each answered "found" by the central.
    assert len(row["extra"]["kiosk"]) == len(row["extra"]["baseline"]) == 3


def test_the_workbench_benchmark_opens_real_pages(tmp_path):
    """The inbox and search benchmark signs in and gets every page it times (a 200 with
    rows, never the login page), on a small SQLite database."""
    from benchmarks import workbench_inbox

    row = workbench_inbox.measure("SQLite", f"sqlite:///{tmp_path / 'central.sqlite3'}", count=300, requests_each=2)
    assert set(row["results"]) >= set(workbench_inbox.scenarios({"kecamatan": "", "category": ""}))
    assert all(result["count"] == 2 for result in row["results"].values()) and row["healthz"]["count"] == 4
    section = workbench_inbox.lines([row, row])
    assert section[0] == workbench_inbox.START and section[-1] == workbench_inbox.END


def test_the_recap_benchmark_opens_real_pages(tmp_path):
    """The recap benchmark seeds steps and ratings, signs in and gets the recap and its CSV
    (a 200 each, never the login page), on a small SQLite database; its bulk load leaves
    each report's first steps on its row as the central keeps them (the recap reads those)."""
    from benchmarks import workbench_recap
    from tests.support.central import query

    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    row = workbench_recap.measure("SQLite", url, count=300, requests_each=2)
    assert row["total"] == 300 and row["events"] > 300 and row["timed"] > 0
    for status in ("verified", "forwarded", "answered", "closed"):
        [(taken, stored, wrong)] = query(url, f"""
            SELECT count(e.first), count(r.{status}_at), sum(e.first IS NOT r.{status}_at) FROM reports r
            LEFT JOIN (SELECT tracking_id, min(at) AS first FROM report_events
                       WHERE kind = 'status' AND status = '{status}' GROUP BY tracking_id) e
            ON e.tracking_id = r.tracking_id""")
        assert taken == stored > 0 and wrong == 0, status
    assert set(row["results"]) == {"recap page: a year", "recap page: a month", "CSV export: a year"}
    assert all(result["count"] >= 2 for result in row["results"].values())
    section = workbench_recap.lines([row, row])
    assert section[0] == workbench_recap.START and section[-1] == workbench_recap.END


def test_the_forwarding_benchmark_forwards_every_report(tmp_path):
    """The forwarding benchmark hands every report to the LAPOR! double and measures the bare
    loop against the same double; its section has its markers."""
    from benchmarks import forwarding

    row = forwarding.measure("SQLite", f"sqlite:///{tmp_path / 'central.sqlite3'}", count=20)
    assert row["forward_per_s"] > 0 and row["bare_per_s"] > 0
    section = forwarding.lines([row, row])
    assert section[0] == forwarding.START and section[-1] == forwarding.END


def test_the_sms_benchmark_takes_every_message_once(tmp_path):
    """The SMS intake benchmark posts signed Android webhooks and SMSSync forms to a real
    central, one client and several, and checks afterwards that every distinct message has
    its row and its one reply and every BARUT its report (it raises otherwise); its section
    has its markers."""
    from benchmarks import sms_intake

    row = sms_intake.measure("SQLite", f"sqlite:///{tmp_path / 'central.sqlite3'}", count=40)
    assert [run["clients"] for run in row["runs"]] == list(sms_intake.CLIENTS)
    for run in row["runs"]:
        assert run["mix"] == {"filed": 24, "status": 12, "repeat": 4}
        assert run["sms"]["per_s"] > 0 and run["healthz"]["per_s"] > 0
    section = sms_intake.lines([row, row])
    assert section[0] == sms_intake.START and section[-1] == sms_intake.END


def test_the_open311_listing_benchmark_checks_what_it_times(tmp_path):
    """The Open311 listing benchmark, small: each answer it times is checked first (the
    newest public requests, newest first, no confidential one, the closed ones of one
    service, the IDs asked for), and its section is well formed."""
    from benchmarks import open311_list

    row = open311_list.measure("SQLite", f"sqlite:///{tmp_path / 'central.sqlite3'}", count=5000, requests_each=1)
    assert row["confidential"] > 0 and all(result["count"] == 1 for result in row["results"].values())
    listed = {name: size[0] for name, size in row["sizes"].items()}
    assert listed["requests.json, no filters (newest 1,000 of 90 days)"] == 1000
    section = open311_list.lines([row, row])
    assert section[0] == open311_list.START and section[-1] == open311_list.END


def test_the_memory_probe_after_one_citizen_files_and_prints_one_report(tmp_path):
    """`make bench`'s "memory after one report": the kiosk process builds every screen and
    files one report through the real flow (its questions as they are today: a probe that
    stops on an unanswered one says so and ends, instead of leaving make bench waiting)."""
    import sqlite3

    from benchmarks.run import _start, _stop

    proc, first = _start("kiosk-used", str(tmp_path), marker="SESSION_DONE")
    try:
        assert first is not None and first > 0  # its first frame was announced, then the session
        with sqlite3.connect(tmp_path / "kiosk.sqlite3") as con:
            assert con.execute("SELECT COUNT(*) FROM reports").fetchone() == (1,)
        assert len(list((tmp_path / "receipts").glob("*.bin"))) == 1
    finally:
        _stop(proc)


def test_a_benchmark_leaves_no_kivy_home_behind():
    """Each kiosk process a benchmark starts gets a Kivy home of its own, and the benchmark
    removes them when it ends: `make bench` had left a directory in /tmp per process."""
    import subprocess
    import sys
    from pathlib import Path

    from benchmarks.common import ROOT

    script = ("import os\nfrom benchmarks.common import kivy_process_env\n"
              "homes = [kivy_process_env()['KIVY_HOME'] for _ in range(3)]\n"
              "assert all(os.path.isdir(h) for h in homes) and len(set(homes)) == 3\n"
              "print('\\n'.join(homes))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    homes = done.stdout.split()
    assert len(homes) == 3 and not any(Path(home).exists() for home in homes)


def test_the_camera_start_benchmark_times_real_first_frames():
    """The camera-start benchmark starts the real camera process and the in-process reader
    on the same source and times each to a real first frame; its section names both."""
    from benchmarks import camera_start

    result = camera_start.measure(runs=2)
    assert len(result["child"]) == len(result["baseline"]) == 2
    assert all(0 < s < camera_start.WAIT_S for s in result["child"] + result["baseline"])
    section = camera_start.lines(result)
    assert section[0] == camera_start.START and section[-1] == camera_start.END
    assert any(line.startswith("| in its own process") for line in section)
    assert any(line.startswith("| baseline: in the kiosk's process") for line in section)


def test_the_draw_cost_benchmark_tells_drawn_instructions_from_kept_ones():
    """A rectangle drawn costs the process many times what the same rectangle kept out of
    the canvas does (the renderer's buffers), and a Line without points, what the kiosk's
    hidden check marks and dashed outlines are now, costs far less drawn than a rectangle."""
    from benchmarks.draw_cost import measure

    rows = {row["kind"]: row for row in measure(count=1000, kinds=("rectangle", "line without points"))}
    rectangle, nothing = rows["rectangle"], rows["line without points"]
    assert rectangle["drawn_kib"] > 5 * rectangle["kept_kib"] > 0
    assert nothing["drawn_kib"] < rectangle["drawn_kib"] / 4


def test_the_submit_benchmark_files_and_prints_each_report(tmp_path):
    """The "Kirim -> printer" benchmark walks today's filing path to the review (it had
    stopped at the agency step since that step came) and times a receipt per submit, laid
    out by the child the review starts."""
    from benchmarks.submit import submit_latencies
    from devices.escpos_sim import parse_escpos

    latencies = submit_latencies(tmp_path, 3)
    assert len(latencies) == 3 and all(ms > 0 for ms in latencies)
    receipts = sorted((tmp_path / "receipts").glob("*.bin"))
    assert len(receipts) == 3
    assert all("Antrean pelayanan nomor" in parse_escpos(p.read_bytes()).text for p in receipts)
