"""A recorded complaint delivered exactly once although the kiosk's sync process dies in the
middle of its upload: real kiosk processes (``tests/support/delivering_kiosk.py``), a real
central on 127.0.0.1, and a proxy between them that lets the central take the upload and
holds back its answer until the process is killed."""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import threading

from kiosk.core.domain import Draft, ReportKind
from kiosk.runtime.config import load_config
from kiosk.runtime.env import build_env
from tests.e2e.test_delivery_lock import start_app, write_config
from tests.support.fault_proxy import FaultProxy
from tests.support.spoken import recorded, speech_wav


class HoldingProxy(FaultProxy):
    """Passes everything, but the first upload of a recording: forwarded (the central keeps
    it), then its answer held back (``delay``) and ``uploaded`` set."""

    def __init__(self, upstream):
        super().__init__(upstream, {"pass": 1}, delay_s=120)
        self.uploaded = threading.Event()

    def _fate(self, request: bytes) -> str:
        fate = super()._fate(request)
        if request.startswith(b"PUT ") and not self.uploaded.is_set():
            with self._lock:
                self.seen[-1] = ("delay", *self.seen[-1][1:])
            return "delay"
        return fate

    def _forward(self, request: bytes) -> bytes:
        answer = super()._forward(request)
        if request.startswith(b"PUT "):
            self.uploaded.set()  # the central has answered: it holds the recording now
        return answer


def test_a_recording_whose_upload_was_cut_by_a_kill_arrives_once_and_leaves_the_kiosk(central, token, tmp_path):
    """GIVEN a spoken report filed on a kiosk WHEN its sync process is killed (SIGKILL) while
    the central has taken the recording but before the answer came back, and the process is
    started again THEN the report and the recording are at the central once each, the
    recording the one spoken, and the kiosk no longer holds it."""
    base, _, db_file = central
    host, port = base.removeprefix("http://").split(":")
    proxy = HoldingProxy((host, int(port)))
    try:
        note = recorded(speech_wav(tmp_path / "complaint.wav"))
        config = write_config(tmp_path, proxy.url, token)
        env = build_env(load_config(config, environ={}))
        try:
            tid = env.reports.submit(Draft(kind=ReportKind.PENGADUAN, category_code="KESEHATAN",
                                           incident_date=dt.date(2026, 11, 20), kecamatan_code="LAHEI",
                                           voice=note)).tracking_id
        finally:
            env.close()

        app = start_app(config)
        try:
            assert proxy.uploaded.wait(60), proxy.seen
        finally:
            os.kill(app.pid, signal.SIGKILL)
            app.wait(60)
            app.stdin.close()
        kiosk_db = tmp_path / "data" / "kiosk.sqlite3"
        with sqlite3.connect(kiosk_db) as con:
            assert dict(con.execute("SELECT kind, state FROM outbox")) == {"report": "sent", "voice": "sending"}
            assert con.execute("SELECT audio IS NOT NULL FROM voice_notes").fetchone() == (1,)

        app = start_app(config)  # started again: the cut upload goes again
        try:
            assert app.stdout.readline().strip() == "DELIVERED"
        finally:
            app.stdin.close()
            app.wait(60)
        assert app.returncode == 0, app.stderr.read()[-2000:]
    finally:
        proxy.close()

    puts = [s for s in proxy.seen if s[1] == "PUT"]
    assert [fate for fate, *_ in puts] == ["delay", "pass"]  # sent twice...
    with sqlite3.connect(db_file) as con:  # ...kept once
        assert con.execute("SELECT count(*) FROM reports WHERE tracking_id = ?", (tid,)).fetchone() == (1,)
        assert con.execute("SELECT count(*), min(sha256), min(content) FROM voice_notes WHERE tracking_id = ?",
                           (tid,)).fetchone() == (1, note.sha256, note.ogg)
    with sqlite3.connect(kiosk_db) as con:
        assert dict(con.execute("SELECT kind, state FROM outbox")) == {"report": "sent", "voice": "sent"}
        assert con.execute("SELECT audio FROM voice_notes").fetchone() == (None,)
