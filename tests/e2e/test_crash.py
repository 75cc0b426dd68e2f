"""Exactly once through crashes: a kiosk process filing and syncing 300 reports is killed
with SIGKILL at random moments at least 20 times and restarted."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys

import pytest

from tests.support.servers import ROOT

TARGET = 300
KILLS = 20


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(central, token, tmp_path):
    base, _, db_file = central
    rng = random.Random(20261123)
    committed: list[str] = []
    kills = 0

    def start():
        return subprocess.Popen(
            [sys.executable, "-m", "tests.support.file_and_sync", str(tmp_path), base, token, str(TARGET)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    while True:
        proc = start()
        kill_after = rng.randint(1, 20) if kills < KILLS else None
        lines = 0
        done = False
        for line in proc.stdout:
            line = line.strip()
            if line == "DONE":
                done = True
                break
            committed.append(line)
            lines += 1
            if kill_after is not None and lines >= kill_after:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
                break
        proc.kill()
        proc.wait()
        if done:
            break
        if kill_after is None:
            pytest.fail(f"kiosk process ended without DONE: {proc.stderr.read()[-2000:]}")

    assert kills >= KILLS
    with sqlite3.connect(tmp_path / "kiosk.sqlite3") as con:
        kiosk_ids = [r[0] for r in con.execute("SELECT tracking_id FROM reports")]
        waiting = con.execute("SELECT count(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
    with sqlite3.connect(db_file) as con:
        central_ids = [r[0] for r in con.execute(
            "SELECT tracking_id FROM reports WHERE tracking_id IN (%s)" % ",".join("?" * len(kiosk_ids)), kiosk_ids)]
    assert len(kiosk_ids) == TARGET
    assert set(committed) <= set(kiosk_ids)  # every ID printed as committed survived its kill
    assert sorted(central_ids) == sorted(kiosk_ids)  # each exactly once at the central
    assert waiting == 0  # the kiosk's outbox has nothing left to send
