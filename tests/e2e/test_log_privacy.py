"""Logs carry no complaint text and no personal data, in the rotated files of the data
directory and on stderr (the journal under systemd), on the happy path and the error paths.

A real kiosk process (logging set up by ``kiosk.runtime.cli.setup_logging``, the environment by
``kiosk.runtime.env.build_env``) files reports full of recognisable strings, prints them on the
file printer and on a printer that is not there, syncs them to a real central service,
then tries a central that cannot be reached and looks a report up through it. Every log
file, rotated ones included, and the captured stderr are then searched for every string.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys

import pytest

from tests.support.kiosk_ui import fill_to_identity, go_next, type_into

from tests.support.servers import ROOT  # noqa: E402

#: The kiosk process. Argument: a JSON file with the config path and the reports to file.
KIOSK = r"""
import datetime as dt, json, sys, socket
from pathlib import Path
from kiosk.runtime.cli import setup_logging
from kiosk.runtime.config import load_config
from kiosk.core.domain import Draft, ReportKind
from kiosk.runtime.env import build_env
from kiosk.core.receipt import print_receipt
from kiosk.core.receipt_content import receipt_content
from kiosk.core.status_lookup import look_up
from sync_queue.client import CentralClient
from devices.printer.network import NetworkPrinter

job = json.loads(Path(sys.argv[1]).read_text())
config = load_config(Path(job["config"]), environ={})
setup_logging(config)
env = build_env(config)
with env.store.engine.connect() as conn:
    category = conn.exec_driver_sql("SELECT code FROM categories LIMIT 1").scalar()
    kecamatan = conn.exec_driver_sql("SELECT code FROM kecamatan LIMIT 1").scalar()
closed = socket.socket(); closed.bind(("127.0.0.1", 0)); port = closed.getsockname()[1]; closed.close()
absent_printer = NetworkPrinter("127.0.0.1", port, timeout=1.0)
ids = []
for r in job["reports"]:
    saved = env.reports.submit(Draft(
        kind=ReportKind.PENGADUAN, category_code=category, agency_code=None, title=r["title"],
        description=r["description"], incident_date=env.today(), kecamatan_code=kecamatan,
        location_text=r["location"], reporter_name=r["name"], reporter_phone=r["phone"],
        anonymous=False, confidential=r["confidential"], language="id"))
    ids.append(saved.tracking_id)
    content = receipt_content(saved, env, "id")
    assert env.print_async(content).result().ok
    assert not print_receipt(absent_printer, content).ok
while env.reports.count_waiting():
    assert env.sync.run_once().online
unreachable = CentralClient(f"http://127.0.0.1:{port}", config.central_token, timeout=1.0)
env.sync.client = unreachable
saved = env.reports.submit(Draft(
    kind=ReportKind.ASPIRASI, category_code=category, title=job["reports"][0]["title"],
    description=job["reports"][0]["description"], incident_date=env.today(), kecamatan_code=kecamatan,
    location_text=job["reports"][0]["location"], reporter_name=job["reports"][0]["name"],
    reporter_phone=job["reports"][0]["phone"]))
assert not env.sync.run_once().online
assert look_up(saved.tracking_id, env=env, language="id").kind == "local"
env.close()
print(json.dumps(ids))
"""


def markers(n: int) -> list[dict]:
    """Reports whose every field holds a string found nowhere else."""
    out = []
    for i in range(n):
        tag = secrets.token_hex(4)
        out.append({
            "title": f"Jalan rusak Qz{tag}T dekat sekolah",
            "description": f"Lubang besar Qz{tag}D di jalan, sudah tiga bulan. " * 3,
            "location": f"RT 03 Qz{tag}L Muara Teweh",
            "name": f"Siti Rahmawati Qz{tag}N",
            "phone": f"0812{secrets.randbelow(10**8):08d}",
            "confidential": i % 2 == 1,
        })
    return out


def secrets_of(reports: list[dict]) -> list[str]:
    found = []
    for r in reports:
        found += [r["title"].split()[2], r["description"].split()[2], r["location"].split()[2],
                  r["name"].split()[-1], r["phone"], r["phone"][4:], "Rahmawati", "Lubang besar", "Jalan rusak"]
    return found


def test_logs_hold_no_complaint_text_or_personal_data(tmp_path, central, token):
    """GIVEN reports full of recognisable strings WHEN the kiosk files, prints (also on a
    printer that is not there), syncs, loses the central and looks a report up THEN no
    log file (rotated ones too) and nothing on stderr holds any of those strings, while
    the logs did record what happened and were rotated."""
    base, _, _ = central
    data = tmp_path / "data"
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\ndata_dir = "{data}"\ncentral_url = "{base}"\ncentral_token = "{token}"\n'
        "log_max_bytes = 10000\nlog_backups = 20\n", encoding="utf-8")
    reports = markers(120)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"config": str(config), "reports": reports}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "JOURNAL_"))}
    proc = subprocess.run([sys.executable, "-c", KIOSK, str(job)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(json.loads(proc.stdout)) == len(reports)

    logs = sorted((data / "logs").glob("kiosk.log*"))
    assert len(logs) > 2, "the log was rotated"
    everything = {path.name: path.read_text(encoding="utf-8") for path in logs}
    everything["stderr"] = proc.stderr
    joined = "\n".join(everything.values())
    for wanted in ("report saved and queued", "sync pass: ", "receipt not printed", "sync pass failed"):
        assert wanted in joined, f"the logs say nothing about {wanted!r}"
    for needle in secrets_of(reports):
        holders = [name for name, text in everything.items() if needle.lower() in text.lower()]
        assert not holders, f"{needle!r} found in {holders}"
    assert token not in joined


def test_stderr_suits_the_journal_under_systemd(tmp_path):
    """GIVEN stderr connected to the journal (JOURNAL_STREAM names that stream, as systemd
    sets it) THEN lines carry a syslog priority and no timestamp of their own; a stream
    that is not the journal keeps the timestamps."""
    script = ("import logging, sys; from kiosk.runtime.cli import setup_logging; from kiosk.runtime.config import load_config; "
              "setup_logging(load_config(sys.argv[1], environ={})); "
              "logging.getLogger('kiosk.x').info('hello'); logging.getLogger('kiosk.x').error('bad')")
    config = tmp_path / "kiosk.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    for journal in (True, False):
        out = tmp_path / f"stderr-{journal}.txt"
        with out.open("wb") as fh:
            stat = os.fstat(fh.fileno())
            env = dict(os.environ, JOURNAL_STREAM=f"{stat.st_dev}:{stat.st_ino}" if journal else "1:1")
            subprocess.run([sys.executable, "-c", script, str(config)], cwd=ROOT, env=env, stderr=fh, check=True,
                           timeout=60)
        lines = out.read_text(encoding="utf-8").splitlines()
        if journal:
            assert lines == ["<6>INFO kiosk.x: hello", "<3>ERROR kiosk.x: bad"]
        else:
            assert lines[0].endswith("INFO kiosk.x: hello") and lines[0][:4].isdigit()  # 2026-11-23 10:30:00,123
    file_lines = (tmp_path / "data" / "logs" / "kiosk.log").read_text(encoding="utf-8").splitlines()
    assert file_lines[0][:4].isdigit()  # the file keeps its timestamps


@pytest.mark.parametrize("lang", ["id"])
def test_filing_through_the_screen_logs_nothing_the_citizen_typed(kiosk, env, lang, caplog):
    """The same through the real UI: name, phone, title and description typed on the
    on-screen keyboard, Send, the receipt printed; nothing of it in any log record."""
    caplog.set_level(logging.DEBUG)
    tag = secrets.token_hex(3)
    title, description, name, phone = f"atap bocor qz{tag}t", f"air masuk kelas qz{tag}d", f"budi qz{tag}n", "081299887766"
    kiosk.tap(kiosk.screen.ids.start)
    fill_to_identity(kiosk, title, description)
    type_into(kiosk, kiosk.screen.ids.name, name)
    type_into(kiosk, kiosk.screen.ids.phone, phone)
    go_next(kiosk)
    assert kiosk.current == "review"
    go_next(kiosk)
    assert kiosk.current == "receipt"
    kiosk.wait_until(lambda: kiosk.screen.print_state != "printing", what="the receipt printed")
    assert env.reports.count_waiting() == 1
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records).lower()
    assert "report saved and queued" in logged
    for needle in (f"qz{tag}t", f"qz{tag}d", f"qz{tag}n", phone, "atap bocor", "budi"):
        assert needle not in logged, needle
