"""Signed upgrades (kiosk/runtime/upgrade.py, deploy/build_release.py): queued reports survive
every upgrade and every rollback, and nothing is replaced unless the release checks out.

The slow test installs the real bundle (tests/e2e/test_bundle.py builds it once per run) as
a kiosk would: a full release with its runtime, then a code-only release, then a broken
one. systemd's part is played by ``KioskUnit``: it runs ``<root>/kiosk run`` headless and
listens where NOTIFY_SOCKET points, as systemd does for the ``Type=notify`` unit, so
"healthy" is the real kiosk's own READY=1 after Welcome's first frame with the store open.
The refusals need no bundle: a release is built from the source tree's own packages.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.runtime import upgrade
from tests.support.servers import ROOT

_spec = importlib.util.spec_from_file_location("build_release", ROOT / "deploy" / "build_release.py")
build_release = importlib.util.module_from_spec(_spec)  # deploy/ is no package: the script itself
_spec.loader.exec_module(build_release)

OWN = ("kiosk", "screens", "devices", "sync_queue", "assets")


class KioskUnit:
    """systemd's side of deploy/lapor-kiosk.service for the test: starts ``<root>/kiosk run``
    with a notify socket and a watchdog period (the unit's ``WatchdogSec=``, shortened);
    healthy once the kiosk said READY=1, then a status starting with "ready" (its pings
    carry it), and still runs: what ``SystemdService`` reads from systemd."""

    def __init__(self, root: Path, config: Path, environ: dict[str, str], work: Path):
        self.root, self.config, self.environ, self.work = root, config, environ, work
        self.socket_path = work / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.socket_path))
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(4096)  # what an earlier process said is not this one's word
        except BlockingIOError:
            pass
        self.starts += 1
        log = open(self.work / f"kiosk-{self.starts}.log", "wb")
        self.proc = subprocess.Popen([str(self.root / "kiosk"), "--config", str(self.config), "run"], cwd=self.work,
                                     env={**self.environ, "NOTIFY_SOCKET": str(self.socket_path),
                                          "WATCHDOG_USEC": "2000000"},
                                     stdout=log, stderr=log)
        log.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def wait_healthy(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        ready, status = False, ""
        while time.monotonic() < deadline and self.proc is not None and self.proc.poll() is None:
            self.sock.settimeout(0.5)
            try:
                message = dict(line.split("=", 1) for line in self.sock.recv(4096).decode().splitlines() if "=" in line)
            except socket.timeout:
                continue
            ready = ready or message.get("READY") == "1"
            status = message.get("STATUS", status)
            if ready and status.startswith("ready"):
                time.sleep(1)  # still up a moment later
                return self.proc.poll() is None
        return False

    def close(self) -> None:
        self.stop()
        self.sock.close()


def _public_key(path: Path):
    return upgrade.load_public_key(path)


def _waiting(db_file: Path) -> dict[str, str]:
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute("SELECT tracking_id, state FROM outbox WHERE tracking_id IS NOT NULL").fetchall()
    conn.close()
    return dict(rows)


def _queue_reports(data: Path, count: int) -> list[str]:
    """Reports filed by the kiosk's own code (no screen) into the data directory's store."""
    from kiosk.core.store.db import open_store
    from tests.support.clock import FakeClock
    from tests.support.reports import file_reports

    from kiosk.core import reference

    store = open_store(data / "kiosk.sqlite3", key_file=data / "secret.key")
    try:
        reference.load_seed_if_empty(store)
        return file_reports(store, FakeClock(dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.timezone.utc)), count)
    finally:
        store.close()


def _store_opens(data: Path) -> str | None:
    from kiosk.core.store.db import open_store

    store = open_store(data / "kiosk.sqlite3", key_file=data / "secret.key")
    try:
        return store.schema_revision()
    finally:
        store.close()


# A release that migrates the store, then dies before its status says ready: the kind of
# release a rollback must undo, database included.
BROKEN_MIGRATION = '''"""Test release only: a column the release before does not know."""
from alembic import op
import sqlalchemy as sa

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("upgrade_probe", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE reports DROP COLUMN upgrade_probe")
'''


def _broken_bundle(bundle_dir: Path, work: Path) -> Path:
    """A copy of the bundle's code (no runtime) that migrates the store to 0099, then exits."""
    from kiosk.core.store.db import SCHEMA_HEAD

    broken = work / "broken-bundle"
    shutil.copytree(bundle_dir / "app", broken / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(bundle_dir / "runtime.json", broken / "runtime.json")
    app = broken / "app"
    (app / "kiosk/core/store/migrations/versions/0099_upgrade_probe.py").write_text(
        BROKEN_MIGRATION.format(head=SCHEMA_HEAD), encoding="utf-8")
    schema = app / "kiosk/core/store/schema.py"
    head = f'SCHEMA_HEAD = "{SCHEMA_HEAD}"'
    assert head in schema.read_text(encoding="utf-8")
    schema.write_text(schema.read_text(encoding="utf-8").replace(head, 'SCHEMA_HEAD = "0099"'), encoding="utf-8")
    db = app / "kiosk/core/store/db.py"
    source = db.read_text(encoding="utf-8")
    opened = '    log.info("store open at schema revision %s", SCHEMA_HEAD)\n'
    assert opened in source
    dies = '    __import__("os")._exit(70)  # the broken release: dies once it migrated\n'
    db.write_text(source.replace(opened, opened + dies), encoding="utf-8")
    return broken


@pytest.mark.slow
def test_upgrades_and_a_rollback_keep_every_queued_report(tmp_path_factory, tmp_path):
    """GIVEN a kiosk data directory with reports waiting to be sent
    WHEN the bundle is installed as a full signed release, then upgraded with a code-only
    release, then with a release that migrates the store and dies before it is healthy
    THEN the first two run healthy, the code-only release is small, the broken one is
    rolled back with the database as it was, and every report is still queued in a store
    the running code opens."""
    from tests.e2e.test_bundle import _environ, built_bundle

    bundle_dir = built_bundle(tmp_path_factory).parent
    keys = tmp_path / "keys"
    keys.mkdir()
    build_release.keygen(keys / "release.key", keys / "release.pub")
    public = _public_key(keys / "release.pub")

    data = tmp_path / "data"
    queued = _queue_reports(data, 5)
    database = data / "kiosk.sqlite3"
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{data}"\nkiosk_code = "MT01"\n', encoding="utf-8")
    root = tmp_path / "opt-lapor-kiosk"
    unit = KioskUnit(root, config, _environ(tmp_path), tmp_path)
    try:
        full = build_release.build(bundle_dir, keys / "release.key", tmp_path / "r1", version="1.0.0",
                                   with_runtime=True).parent
        first = upgrade.upgrade(str(full), root=root, public_key=public, service=unit, database=database)
        assert first.healthy, (tmp_path / "kiosk-1.log").read_text(errors="replace")[-3000:]
        assert (root / "kiosk").resolve() == root / "releases" / "1.0.0" / "kiosk"

        code_only = build_release.build(bundle_dir, keys / "release.key", tmp_path / "r2", version="1.0.1").parent
        manifest = json.loads((code_only / "manifest.json").read_text(encoding="utf-8"))
        assert [a["kind"] for a in manifest["archives"]] == ["code"]
        assert manifest["archives"][0]["size"] < 10_000_000, "a code-only upgrade must stay under 10 MB"
        second = upgrade.upgrade(str(code_only), root=root, public_key=public, service=unit, database=database)
        assert second.healthy, (tmp_path / f"kiosk-{unit.starts}.log").read_text(errors="replace")[-3000:]
        assert os.readlink(root / "current") == "releases/1.0.1"
        assert os.readlink(root / "previous") == "releases/1.0.0"
        # hard links: the runtime's 300 MB exist once on disk, whatever the number of releases
        assert (root / "releases/1.0.1/kiosk").stat().st_ino == (root / "releases/1.0.0/kiosk").stat().st_ino
        assert (root / "releases/1.0.1/app/lapor_kiosk-1.0.1.dist-info").is_dir()

        broken = build_release.build(_broken_bundle(bundle_dir, tmp_path), keys / "release.key", tmp_path / "r3",
                                     version="1.0.2").parent
        third = upgrade.upgrade(str(broken), root=root, public_key=public, service=unit, database=database,
                                health_timeout_s=90)
        broken_log = (tmp_path / f"kiosk-{unit.starts - 1}.log").read_text(errors="replace")
        assert not third.healthy and third.rolled_back_to == "1.0.1", broken_log[-3000:]
        assert "Running upgrade" in broken_log and "0099" in broken_log, "the broken release did not migrate"
        assert third.database_restored and third.back_healthy and third.reports_set_aside == 0
        assert upgrade.schema_revision(data / "kiosk.sqlite3.from-1.0.2") == "0099"  # kept, never deleted
        assert os.readlink(root / "current") == "releases/1.0.1"
        assert os.readlink(root / "previous") == "releases/1.0.0"
    finally:
        unit.close()

    assert _waiting(database) == {tid: "pending" for tid in queued}
    from kiosk.core.store.db import SCHEMA_HEAD

    assert _store_opens(data) == SCHEMA_HEAD

    # The runtime's own ``kiosk upgrade`` refuses a release signed by another key.
    other = tmp_path / "other"
    other.mkdir()
    build_release.keygen(other / "release.key", other / "release.pub")
    refused = subprocess.run([str(root / "kiosk"), "--config", str(config), "upgrade", str(broken), "--root",
                              str(root), "--public-key", str(other / "release.pub")],
                             env=_environ(tmp_path), capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "signature does not match" in refused.stdout, refused.stdout + refused.stderr
    assert os.readlink(root / "current") == "releases/1.0.1"


# --- refusals: nothing replaced -----------------------------------------------------------

class RecordingService:
    """Records what the upgrade asked of the service (a refusal asks nothing)."""

    def __init__(self):
        self.calls: list[str] = []

    def stop(self) -> None:
        self.calls.append("stop")

    def start(self) -> None:
        self.calls.append("start")

    def wait_healthy(self, timeout_s: float) -> bool:
        self.calls.append("wait_healthy")
        return True


@pytest.fixture
def source_release(tmp_path) -> dict:
    """A kiosk root with release 1.0.0 current, and a signed code-only release 1.0.1 of the
    source tree's own packages (no PyInstaller needed)."""
    bundle = tmp_path / "bundle"
    for package in OWN:
        shutil.copytree(ROOT / package, bundle / "app" / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.po", "*.pot"))
    (bundle / "app" / "lapor_kiosk-0.0.0.dist-info").mkdir()
    (bundle / "app" / "lapor_kiosk-0.0.0.dist-info" / "METADATA").write_text("Name: lapor-kiosk\nVersion: 0.0.0\n")
    runtime = "0123456789abcdef"
    (bundle / "runtime.json").write_text(json.dumps({"runtime": runtime, "python": "%d.%d.0" % sys.version_info[:2]}))
    build_release.keygen(tmp_path / "release.key", tmp_path / "release.pub")
    release = build_release.build(bundle, tmp_path / "release.key", tmp_path / "release", version="1.0.1").parent

    root = tmp_path / "root"
    (root / "runtimes" / runtime).mkdir(parents=True)
    (root / "runtimes" / runtime / "runtime.json").write_text(json.dumps({"runtime": runtime}))
    (root / "releases" / "1.0.0" / "app").mkdir(parents=True)
    (root / "current").symlink_to("releases/1.0.0")
    return {"release": release, "root": root, "key": tmp_path / "release.key",
            "public": upgrade.load_public_key(tmp_path / "release.pub"), "runtime": runtime,
            "database": tmp_path / "data" / "kiosk.sqlite3"}


def _nothing_replaced(setup: dict, service: RecordingService) -> None:
    root = setup["root"]
    assert os.readlink(root / "current") == "releases/1.0.0"
    assert sorted(p.name for p in (root / "releases").iterdir()) == ["1.0.0"]
    assert not (root / "previous").is_symlink()
    assert service.calls == []


def test_a_good_release_installs(source_release):
    """The control for the refusals below: the same release, untouched, is installed."""
    service = RecordingService()
    outcome = upgrade.upgrade(str(source_release["release"]), root=source_release["root"],
                              public_key=source_release["public"], service=service,
                              database=source_release["database"])
    assert outcome.healthy and service.calls == ["stop", "start", "wait_healthy"]
    assert os.readlink(source_release["root"] / "current") == "releases/1.0.1"
    assert (source_release["root"] / "releases/1.0.1/app/kiosk/launcher.py").is_file()


def test_a_tampered_archive_is_refused_with_nothing_replaced(source_release):
    """GIVEN a release whose code archive lost a byte to a bad link or was changed
    WHEN it is installed THEN the SHA-256 stops it before the service is touched."""
    release = source_release["release"]
    archive = next(release.glob("lapor-kiosk-code-*.tar.gz"))
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    service = RecordingService()
    with pytest.raises(upgrade.UpgradeError, match="does not match the signed manifest"):
        upgrade.upgrade(str(release), root=source_release["root"], public_key=source_release["public"],
                        service=service, database=source_release["database"])
    _nothing_replaced(source_release, service)


def test_an_edited_manifest_or_another_key_is_refused_with_nothing_replaced(source_release, tmp_path):
    """GIVEN a manifest changed after signing, or signed with a key the kiosk does not hold
    WHEN it is installed THEN the signature check refuses it first."""
    release = source_release["release"]
    service = RecordingService()
    signed = (release / "manifest.json").read_bytes()
    (release / "manifest.json").write_bytes(signed.replace(b'"1.0.1"', b'"1.0.9"'))
    with pytest.raises(upgrade.UpgradeError, match="signature does not match"):
        upgrade.upgrade(str(release), root=source_release["root"], public_key=source_release["public"],
                        service=service, database=source_release["database"])
    (release / "manifest.json").write_bytes(signed)
    build_release.keygen(tmp_path / "other.key", tmp_path / "other.pub")
    with pytest.raises(upgrade.UpgradeError, match="signature does not match"):
        upgrade.upgrade(str(release), root=source_release["root"], public_key=upgrade.load_public_key(
            tmp_path / "other.pub"), service=service, database=source_release["database"])
    (release / "manifest.json.sig").write_bytes(b"not base64 at all\n")
    with pytest.raises(upgrade.UpgradeError, match="signature does not match"):
        upgrade.upgrade(str(release), root=source_release["root"], public_key=source_release["public"],
                        service=service, database=source_release["database"])
    _nothing_replaced(source_release, service)


def test_a_code_release_for_a_missing_runtime_is_refused(source_release):
    """A code-only release needs its runtime on the kiosk; without it, nothing changes."""
    shutil.rmtree(source_release["root"] / "runtimes" / source_release["runtime"])
    service = RecordingService()
    with pytest.raises(upgrade.UpgradeError, match="does not have and the release does not carry"):
        upgrade.upgrade(str(source_release["release"]), root=source_release["root"],
                        public_key=source_release["public"], service=service, database=source_release["database"])
    _nothing_replaced(source_release, service)


def test_a_release_that_does_not_know_the_stores_schema_is_refused(source_release):
    """GIVEN a store already migrated past what the release's migrations know (a downgrade)
    WHEN it is installed THEN it is refused: its code could not open the store."""
    database = source_release["database"]
    database.parent.mkdir()
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('0099')")
    conn.close()
    service = RecordingService()
    with pytest.raises(upgrade.UpgradeError, match="does not know the store's schema revision 0099"):
        upgrade.upgrade(str(source_release["release"]), root=source_release["root"],
                        public_key=source_release["public"], service=service, database=database)
    _nothing_replaced(source_release, service)


def _store_file(path: Path, revision: str, tracking_ids: list[str]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
        conn.execute("CREATE TABLE reports (tracking_id VARCHAR(14) PRIMARY KEY)")
        conn.executemany("INSERT INTO reports VALUES (?)", [(t,) for t in tracking_ids])
    conn.close()


def test_a_restore_sets_aside_reports_only_the_failed_release_kept(tmp_path):
    """GIVEN the copy taken before an upgrade, and the database a failed release migrated
    after a citizen filed one more report through it
    WHEN the copy is put back
    THEN the store is the copy again, and the failed release's database is kept beside it
    with that report, which the rollback counts (``kiosk upgrade`` says so)."""
    database = tmp_path / "kiosk.sqlite3"
    _store_file(upgrade.snapshot_path(database), "0008", ["MT01A", "MT01B"])
    _store_file(database, "0099", ["MT01A", "MT01B", "MT01C"])
    assert upgrade.restore_database(database, "1.0.2") == 1
    assert upgrade.schema_revision(database) == "0008"
    kept = tmp_path / "kiosk.sqlite3.from-1.0.2"
    assert upgrade.schema_revision(kept) == "0099"
    with sqlite3.connect(kept) as conn:
        assert conn.execute("SELECT count(*) FROM reports").fetchone() == (3,)
    conn.close()


def test_systemd_health_is_active_with_a_ready_status_and_no_restart(monkeypatch):
    """``SystemdService`` reads systemd's view: active (READY=1 came) and "ready" status
    (the store is open); a restart on the way, or a failed unit, is not healthy."""
    answers = iter([
        "ActiveState=inactive\nNRestarts=2\n",  # start(): before
        "",  # start --no-block
        "ActiveState=activating\nSubState=start\nStatusText=\nNRestarts=2\n",
        "ActiveState=active\nSubState=running\nStatusText=out of service: the database cannot be opened\nNRestarts=2\n",
        "ActiveState=active\nSubState=running\nStatusText=ready; 5 waiting to send\nNRestarts=2\n",
    ])
    service = upgrade.SystemdService()
    monkeypatch.setattr(service, "_systemctl", lambda *args: next(answers))
    monkeypatch.setattr(upgrade.time, "sleep", lambda _s: None)
    service.start()
    assert service.wait_healthy(60)

    crashing = iter(["ActiveState=inactive\nNRestarts=0\n"] + ["", "ActiveState=activating\nNRestarts=1\n"])
    service = upgrade.SystemdService()
    monkeypatch.setattr(service, "_systemctl", lambda *args: next(crashing))
    service.start()
    assert not service.wait_healthy(60)


def test_a_release_over_a_link_that_breaks_resumes_and_installs(source_release):
    """GIVEN a release served over HTTP by a server that cuts the first transfer of each
    archive halfway (a weak link), and honours ``Range`` as static web servers do
    WHEN it is installed from the URL
    THEN the download resumes where it stopped (only the rest is sent again) and the
    release installs."""
    import http.server
    import threading

    release = source_release["release"]
    served: list[tuple[str, int]] = []

    class FlakyRanges(http.server.BaseHTTPRequestHandler):
        cut: set[str] = set()

        def do_GET(self):  # noqa: N802 - http.server's name
            path = release / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers["Range"] else 0
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            served.append((path.name, start))
            if path.suffix == ".gz" and path.name not in self.cut:
                self.cut.add(path.name)
                self.wfile.write(body[start:len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # the link drops mid-file
                return
            self.wfile.write(body[start:])

        def log_message(self, *_args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FlakyRanges)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        outcome = upgrade.upgrade(f"http://127.0.0.1:{server.server_port}/", root=source_release["root"],
                                  public_key=source_release["public"], service=RecordingService(),
                                  database=source_release["database"])
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.healthy
    code = next(release.glob("lapor-kiosk-code-*.tar.gz"))
    assert [(name, start) for name, start in served if name == code.name] == [
        (code.name, 0), (code.name, code.stat().st_size // 2)]
    assert os.readlink(source_release["root"] / "current") == "releases/1.0.1"
