"""The soak benchmark (``benchmarks/soak.py``) measures what it claims: a few citizens
through a real kiosk process, every sample complete and its counts real (never speed or
memory thresholds)."""
from __future__ import annotations

import re

import pytest

from benchmarks import soak
from benchmarks.soak_kiosk import KINDS

pytestmark = pytest.mark.slow

FIELDS = ("session", "rss_mib", "uss_mib", "fds", "threads", "textures", "instructions", "widgets", "kiosk_apps",
          "rule_handlers", "rule_handler_widgets", "frame_p95_ms", "frames", "db_bytes", "wal_bytes",
          "receipt_files", "receipt_bytes", "outbox_waiting", "gc_objects", "rss_peak_mib", "harness_modules",
          "children")


def test_a_short_soak_counts_real_sessions_receipts_and_objects():
    """GIVEN a local central and a kiosk process driven by touches
    WHEN six citizens take their turns (file, scan, keypad, walk away, file, scan), sampled every three
    THEN each session ended, each filing printed a receipt the central received, and every
    sample holds every measure, with counts of things that exist."""
    result = soak.measure(6, 3)

    assert result["sessions"] == 6
    assert result["kinds"] == {"file": 2, "scan": 2, "keypad": 1, "walk-away": 1}
    assert set(result["kinds"]) == set(KINDS)
    receipts = result["receipts"]
    assert len(receipts) == len(set(receipts)) == 2  # one receipt per filing, each its own report
    assert all(re.fullmatch(rf"{soak.KIOSK_CODE}[0-9A-Z]+", r) for r in receipts), receipts
    assert result["delivered"] == 2  # the outbox delivered both to the central

    samples = result["samples"]
    assert [s["session"] for s in samples] == [0, 3, 6]
    for s in samples:
        assert set(FIELDS) <= set(s), set(FIELDS) - set(s)
        assert s["kiosk_apps"] == 1  # exactly the running app
        assert s["widgets"] > 20 and s["textures"] > 0 and s["instructions"] > s["widgets"]
        assert s["rule_handlers"] > 0 and 0 < s["rule_handler_widgets"] <= s["widgets"] + 20
        assert 0 < s["uss_mib"] <= s["rss_mib"] and s["fds"] > 3 and s["threads"] >= 2
        assert s["db_bytes"] > 0
        assert s["harness_modules"] == []  # the kiosk's own memory, without pytest's
        assert s["children"] == 0  # between citizens: no receipt layout or camera process waits
    last = samples[-1]
    assert last["frames"] > 0 and last["frame_p95_ms"] > 0
    assert last["receipt_files"] >= 2 and last["receipt_bytes"] > 0  # the file printer's receipts
    assert last["outbox_waiting"] == 0
    # The screens behind Welcome were built for each citizen and dropped once they left
    # (KioskApp.release_screens): each sample holds Welcome, its overlays and the docked
    # keyboard (about 50 widgets of its own), not the 500 of every screen shown; the
    # high-water mark holds the screens a citizen had.
    assert all(s["widgets"] < samples[0]["widgets"] + 60 for s in samples), [s["widgets"] for s in samples]
    assert all(s["rss_peak_mib"] >= s["rss_mib"] for s in samples)
    assert result["bare"]["rss_mib"] > 0

    section = soak.lines(result, "in a test")
    assert section[0] == soak.START and section[-1] == soak.END
    assert sum(1 for line in section if re.match(r"\| \d+ \|", line)) == 3
