"""A technician's ``kiosk upgrade --rollback`` and ``kiosk upgrade --recover PATH``
(kiosk/runtime/upgrade.py), on real stores made by the kiosk's own code: queued reports
survive a rollback, a refused rollback changes nothing, and the reports a failed release's
database holds alone come back once, waiting to be sent.

systemd's part is played by ``ReleaseUnit``: "running" the release ``current`` names means
what the real kiosk needs to start, the store's schema revision among those the release's
migrations know and the store opening with the kiosk's key.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sqlite3
from pathlib import Path

import pytest

from kiosk.core import reference
from kiosk.core.domain import VoiceNote
from kiosk.core.feedback import FeedbackService
from kiosk.core.reports import ReportService
from kiosk.core.store.db import SCHEMA_HEAD, open_store
from kiosk.runtime import upgrade
from kiosk.runtime.cli import main
from sync_queue.outbox import Outbox
from tests.support.clock import FakeClock
from tests.support.reports import file_reports
from tests.support.servers import ROOT

_spec = importlib.util.spec_from_file_location("build_release", ROOT / "deploy" / "build_release.py")
build_release = importlib.util.module_from_spec(_spec)  # deploy/ is no package: the script itself
_spec.loader.exec_module(build_release)

#: Every store revision this source tree's migrations know (what its release's manifest lists).
REVISIONS = build_release.schema_revisions(ROOT)


class ReleaseUnit:
    """systemd's side for the test: records stop and start; healthy when the release
    ``current`` names knows the store's revision and the store opens with the key (what
    the real kiosk needs before it says "ready"), unless the test made that release broken."""

    def __init__(self, root: Path, data: Path, broken: tuple[str, ...] = ()):
        self.layout, self.data, self.broken = upgrade.Layout(root), data, broken
        self.calls: list[str] = []

    def stop(self) -> None:
        self.calls.append("stop")

    def start(self) -> None:
        self.calls.append(f"start {self.layout.target(self.layout.current).name}")

    def wait_healthy(self, timeout_s: float) -> bool:
        release = self.layout.target(self.layout.current)
        known = json.loads((release / upgrade.MANIFEST).read_text(encoding="utf-8"))["schema_revisions"]
        if release.name in self.broken or upgrade.schema_revision(self.data / "kiosk.sqlite3") not in known:
            return False
        open_store(self.data / "kiosk.sqlite3", key_file=self.data / "secret.key").close()
        return True


def install(root: Path, version: str, revisions: list[str]) -> Path:
    """``releases/<version>`` as ``kiosk upgrade`` leaves it: code and the signed manifest."""
    release = root / "releases" / version
    (release / "app" / "kiosk").mkdir(parents=True)
    (release / "app" / "kiosk" / "launcher.py").write_text("# the release's code\n", encoding="utf-8")
    manifest = {"format": upgrade.MANIFEST_FORMAT, "version": version, "runtime": "0123456789abcdef",
                "schema_revisions": revisions,
                "archives": [{"kind": "code", "name": f"lapor-kiosk-code-{version}.tar.gz", "sha256": "0" * 64,
                              "size": 1}]}
    (release / upgrade.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return release


def kiosk_root(tmp_path: Path, *, previous_revisions: list[str] | None = REVISIONS) -> Path:
    """/opt/lapor-kiosk with 1.0.1 current and, unless None, 1.0.0 previous knowing these revisions."""
    root = tmp_path / "opt-lapor-kiosk"
    install(root, "1.0.1", REVISIONS)
    (root / "current").symlink_to("releases/1.0.1")
    (root / "kiosk").symlink_to("current/kiosk")
    if previous_revisions is not None:
        install(root, "1.0.0", previous_revisions)
        (root / "previous").symlink_to("releases/1.0.0")
    return root


def links(root: Path) -> tuple[str | None, str | None]:
    return tuple(os.readlink(root / name) if (root / name).is_symlink() else None for name in ("current", "previous"))


def new_store(data: Path):
    store = open_store(data / "kiosk.sqlite3", key_file=data / "secret.key")
    reference.load_seed_if_empty(store)
    return store


def a_recording() -> VoiceNote:
    ogg = b"OggS" + bytes(range(256)) * 8  # the store keeps the bytes sealed; it never decodes them
    return VoiceNote(ogg=ogg, sha256=hashlib.sha256(ogg).hexdigest(), duration_s=2.0)


def queue(store) -> dict[str, str]:
    """Every outbox entry as ``kiosk queue --all`` lists it: key -> state."""
    return {item.tracking_id: item.state.value for item in Outbox(store.engine).entries(include_sent=True)}


def kiosk(config_file: Path, *args: str) -> int:
    return main(["--config", str(config_file), "upgrade", *args])


# --- kiosk upgrade --rollback -------------------------------------------------------------

def test_a_rollback_goes_back_and_every_queued_report_survives(tmp_path, capsys):
    """GIVEN release 1.0.1 current, 1.0.0 previous (its migrations know the store's
    revision), and reports waiting to be sent, one of them spoken
    WHEN the technician runs ``kiosk upgrade --rollback``
    THEN the service is stopped, 1.0.0 becomes current and 1.0.1 previous, the service runs
    healthy, one line says so with the same number waiting, and every report is still
    pending; the same command again goes forward to 1.0.1."""
    data, clock = tmp_path / "data", FakeClock()
    store = new_store(data)
    waiting = file_reports(store, clock, 2) + file_reports(store, clock, 1, voice=a_recording(), description="")
    before = queue(store)
    store.close()
    root = kiosk_root(tmp_path)
    unit = ReleaseUnit(root, data)

    assert upgrade.run_rollback(database=data / "kiosk.sqlite3", root=root, service=unit) == 0
    assert capsys.readouterr().out == (
        "kiosk upgrade: back on release 1.0.0 from 1.0.1, running and healthy; 3 waiting to be sent, as before; "
        "`kiosk upgrade --rollback` again returns to 1.0.1\n")
    assert links(root) == ("releases/1.0.0", "releases/1.0.1")
    assert unit.calls == ["stop", "start 1.0.0"]
    assert (root / "kiosk").resolve() == root / "releases" / "1.0.0" / "kiosk"
    assert not upgrade.snapshot_path(data / "kiosk.sqlite3").exists()
    store = open_store(data / "kiosk.sqlite3", key_file=data / "secret.key")
    assert queue(store) == before == {**{tid: "pending" for tid in waiting}, f"{waiting[2]}/voice": "pending"}
    store.close()

    assert upgrade.run_rollback(database=data / "kiosk.sqlite3", root=root, service=unit) == 0
    assert "back on release 1.0.1 from 1.0.0" in capsys.readouterr().out
    assert links(root) == ("releases/1.0.1", "releases/1.0.0")


def test_a_rollback_to_a_release_that_does_not_start_comes_back(tmp_path, capsys):
    """GIVEN a previous release that does not become healthy (broken in a way no check sees)
    WHEN the technician rolls back THEN the kiosk is on 1.0.1 again, running, exit code 1."""
    data = tmp_path / "data"
    store = new_store(data)
    [tid] = file_reports(store, FakeClock(), 1)
    store.close()
    root = kiosk_root(tmp_path)
    unit = ReleaseUnit(root, data, broken=("1.0.0",))

    assert upgrade.run_rollback(database=data / "kiosk.sqlite3", root=root, service=unit) == 1
    assert capsys.readouterr().out == "kiosk upgrade: release 1.0.0 did not become healthy; back on release 1.0.1\n"
    assert links(root) == ("releases/1.0.1", "releases/1.0.0")
    assert unit.calls == ["stop", "start 1.0.0", "stop", "start 1.0.1"]
    store = open_store(data / "kiosk.sqlite3", key_file=data / "secret.key")
    assert queue(store) == {tid: "pending"}
    store.close()


def test_a_rollback_with_no_previous_release_is_refused_with_nothing_changed(tmp_path, config_file, capsys):
    """GIVEN a kiosk whose first release is current (nothing before it)
    WHEN ``kiosk upgrade --rollback`` THEN exit code 2, the reason, and nothing changed."""
    root = kiosk_root(tmp_path, previous_revisions=None)
    assert kiosk(config_file, "--rollback", "--root", str(root)) == 2
    assert capsys.readouterr().out == (
        f"kiosk upgrade: there is no previous release to go back to ({root / 'previous'} is missing): "
        "nothing was changed\n")
    assert links(root) == ("releases/1.0.1", None)


def test_a_rollback_past_a_migration_is_refused_and_says_what_to_do(tmp_path, config_file, capsys):
    """GIVEN a previous release whose migrations stop before the store's revision (1.0.1
    migrated the store when it started)
    WHEN ``kiosk upgrade --rollback`` THEN exit code 2: its code could not open the store,
    so the technician is told to fix forward; links, service and database are untouched."""
    data = tmp_path / "data"
    store = new_store(data)
    file_reports(store, FakeClock(), 2)
    store.close()
    database = data / "kiosk.sqlite3"
    stored = hashlib.sha256(database.read_bytes()).hexdigest()
    root = kiosk_root(tmp_path, previous_revisions=REVISIONS[:-1])

    assert kiosk(config_file, "--rollback", "--root", str(root)) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"kiosk upgrade: release 1.0.0 does not know the store's schema revision {SCHEMA_HEAD} "
                          "(release 1.0.1 migrated it)"), out
    assert "Fix forward instead: `kiosk upgrade <folder or URL>`" in out and out.endswith("nothing was changed\n")
    assert links(root) == ("releases/1.0.1", "releases/1.0.0")
    assert hashlib.sha256(database.read_bytes()).hexdigest() == stored
    assert sorted(p.name for p in data.iterdir()) == ["kiosk.sqlite3", "secret.key"]


# --- kiosk upgrade --recover PATH ---------------------------------------------------------

def failed_release_database(data: Path, store) -> Path:
    """``kiosk.sqlite3.from-1.0.2`` as a failed upgrade leaves it: the database as it was
    at the switch, plus what citizens filed in the minute release 1.0.2 ran."""
    set_aside = data / "kiosk.sqlite3.from-1.0.2"
    upgrade._copy_database(store.path, set_aside)
    return set_aside


def test_recover_brings_back_exactly_the_missing_reports_once(tmp_path, config_file, capsys):
    """GIVEN a kiosk with three reports at an upgrade; in the minute the failed release ran,
    a typed report, a spoken one and an objection were filed into its database (set aside
    by the rollback); since, the kiosk delivered its three and took one more
    WHEN ``kiosk upgrade --recover`` that file, with the kiosk's store open (it runs)
    THEN exactly the two reports, the recording and the objection are copied, pending and
    due, readable with the kiosk's key; the reports both files hold stay once and sent; the
    file is renamed ``.recovered``; a second run copies nothing."""
    data, clock = tmp_path / "data", FakeClock()
    live = new_store(data)
    shared = file_reports(live, clock, 3)
    set_aside = failed_release_database(data, live)
    failed = open_store(set_aside, key_file=data / "secret.key")  # the failed release, running
    [typed] = file_reports(failed, clock, 1, title="Lampu jalan mati")
    [spoken] = file_reports(failed, clock, 1, voice=a_recording(), description="")
    objection = FeedbackService(failed, clock=clock.now).object(shared[0], "Belum selesai.").key
    failed.close()
    clock.advance(60)
    service = ReportService(live, kiosk_code="MT01", clock=clock.now)
    [later] = file_reports(live, clock, 1)
    assert service.outbox.mark_sent(service.outbox.claim(10)) == 4

    assert kiosk(config_file, "--recover", str(set_aside)) == 0
    assert capsys.readouterr().out == (
        "kiosk upgrade: recovered 2 reports and 1 objections or ratings from kiosk.sqlite3.from-1.0.2 into "
        "kiosk.sqlite3, waiting to be sent; 3 were already there; the file is now "
        "kiosk.sqlite3.from-1.0.2.recovered\n")
    recovered = data / "kiosk.sqlite3.from-1.0.2.recovered"
    assert recovered.is_file() and not set_aside.exists()
    expected = {**{tid: "sent" for tid in shared + [later]}, typed: "pending", spoken: "pending",
                f"{spoken}/voice": "pending", objection: "pending"}
    assert queue(live) == expected
    assert service.load_draft(typed).title == "Lampu jalan mati"
    assert service.voice_payload(spoken) == (a_recording().ogg, a_recording().sha256)
    assert FeedbackService(live, clock=clock.now).payload(objection).text == "Belum selesai."

    assert kiosk(config_file, "--recover", str(set_aside)) == 2
    assert capsys.readouterr().out == (
        f"kiosk upgrade: {set_aside} does not exist (recovered already: kiosk.sqlite3.from-1.0.2.recovered)\n")
    assert kiosk(config_file, "--recover", str(recovered)) == 0
    assert capsys.readouterr().out == (
        "kiosk upgrade: recovered 0 reports from kiosk.sqlite3.from-1.0.2.recovered into kiosk.sqlite3, waiting "
        "to be sent; 5 were already there; the file is now kiosk.sqlite3.from-1.0.2.recovered\n")
    assert queue(live) == expected

    # what the sync worker takes next: the recovered ones, in the order they were filed
    assert Outbox(live.engine, now=clock.now).claim(10) == [typed, spoken, objection]
    [after] = file_reports(live, clock, 1)  # the running kiosk goes on filing
    assert queue(live)[after] == "pending"
    live.close()


def test_recover_from_a_newer_schema_copies_the_columns_the_database_has(tmp_path, config_file, capsys):
    """GIVEN a set-aside database the failed release migrated past this release's schema
    (revision 0099: a new NOT NULL column in reports, one in the outbox), holding two
    reports filed under it, one of which it delivered
    WHEN it is recovered THEN the waiting report comes back with the columns this schema
    has; the delivered one is not copied (the central has it), and the line says so."""
    data, clock = tmp_path / "data", FakeClock()
    live = new_store(data)
    [shared] = file_reports(live, clock, 1)
    set_aside = failed_release_database(data, live)
    failed = open_store(set_aside, key_file=data / "secret.key")
    [delivered] = file_reports(failed, clock, 1)
    sent = ReportService(failed, kiosk_code="MT01", clock=clock.now).outbox
    assert sent.mark_sent(sent.claim(10)) == 2  # the shared one too: the kiosk's own state stays
    [filed] = file_reports(failed, clock, 1, title="Jembatan retak")
    failed.close()
    with sqlite3.connect(set_aside) as conn:  # what release 1.0.2's migration 0099 did
        conn.execute("ALTER TABLE reports ADD COLUMN priority INTEGER NOT NULL DEFAULT 3")
        conn.execute("ALTER TABLE outbox ADD COLUMN lane VARCHAR(8)")
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.close()

    assert kiosk(config_file, "--recover", str(set_aside)) == 0
    assert capsys.readouterr().out == (
        "kiosk upgrade: recovered 1 reports from kiosk.sqlite3.from-1.0.2 into kiosk.sqlite3, waiting to be sent; "
        "1 were already there, 1 delivered before and not copied; the file is now "
        "kiosk.sqlite3.from-1.0.2.recovered\n")
    assert queue(live) == {shared: "pending", filed: "pending"}
    assert ReportService(live, kiosk_code="MT01", clock=clock.now).load_draft(filed).title == "Jembatan retak"
    assert live.schema_revision() == SCHEMA_HEAD
    live.close()


def test_recover_refuses_a_file_without_a_column_the_database_requires(tmp_path, config_file, capsys):
    """GIVEN a set-aside file whose reports table lacks ``kind`` (NOT NULL, no default here)
    WHEN it is recovered THEN exit code 2, the table and column named, nothing copied, and
    the file keeps its name."""
    data, clock = tmp_path / "data", FakeClock()
    live = new_store(data)
    file_reports(live, clock, 1)
    set_aside = failed_release_database(data, live)
    failed = open_store(set_aside, key_file=data / "secret.key")
    file_reports(failed, clock, 1)
    failed.close()
    with sqlite3.connect(set_aside) as conn:
        conn.execute("ALTER TABLE reports DROP COLUMN kind")
    conn.close()
    before = queue(live)

    assert kiosk(config_file, "--recover", str(set_aside)) == 2
    assert capsys.readouterr().out == (
        "kiosk upgrade: the file's table reports has no kind, which this release's database requires: nothing was "
        "copied (recover with a release whose schema the file has)\n")
    assert queue(live) == before and set_aside.is_file()
    assert not (data / "kiosk.sqlite3.from-1.0.2.recovered").exists()
    live.close()


@pytest.mark.parametrize("name", ["kiosk.sqlite3", "nothing-here.sqlite3"])
def test_recover_refuses_the_database_itself_or_no_file(tmp_path, config_file, capsys, name):
    data = tmp_path / "data"
    new_store(data).close()
    assert kiosk(config_file, "--recover", str(data / name)) == 2
    assert capsys.readouterr().out in (f"kiosk upgrade: {data / name} is the kiosk's own database\n",
                                       f"kiosk upgrade: {data / name} does not exist\n")


def test_recover_waits_for_the_running_kiosk_and_copies_nothing_if_it_cannot(tmp_path):
    """GIVEN the running kiosk in the middle of a write (it holds SQLite's write lock)
    WHEN a recovery cannot get the lock within its busy timeout THEN it copies nothing,
    says why, and the file keeps its name; once the kiosk's write is done, it recovers."""
    data, clock = tmp_path / "data", FakeClock()
    live = new_store(data)
    file_reports(live, clock, 1)
    set_aside = failed_release_database(data, live)
    failed = open_store(set_aside, key_file=data / "secret.key")
    [filed] = file_reports(failed, clock, 1)
    failed.close()
    writer = sqlite3.connect(live.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(upgrade.UpgradeError, match="database is locked.*nothing was copied"):
            upgrade.recover_reports(set_aside, database=live.path, busy_timeout_s=0.05)
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert set_aside.is_file() and filed not in queue(live)
    assert upgrade.recover_reports(set_aside, database=live.path).reports == 1
    assert queue(live)[filed] == "pending"
    live.close()
