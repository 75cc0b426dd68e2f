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
