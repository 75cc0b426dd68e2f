"""A full disk or a read-only data directory: the kiosk says it cannot take reports now
instead of accepting one it cannot keep.

Each test mounts a small tmpfs of its own (the test runs as root, as `make test` does
on the kiosk machines and in CI) and fills it with a file, so SQLite meets a really
full filesystem, and remounts it read-only for the start-up case.
"""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from kiosk.runtime.config import load_config
from kiosk.core.domain import Draft, ReportKind
from kiosk.runtime.env import build_env
from kiosk.core.store.db import CannotKeepReports, open_store
from tests.support.kiosk_ui import T, assert_out_of_service, fill_to_review, go_next

MB = 1024 * 1024


class SmallDisk:
    """A tmpfs of ``size_mb`` mounted on ``path``; ``fill`` leaves only so many bytes free."""

    def __init__(self, path: Path, size_mb: int):
        self.path = path
        path.mkdir(parents=True)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(path)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, (
            f"cannot mount a tmpfs for the disk-full tests ({proc.stderr.strip()}): run them as root "
            "(make test does, on the kiosk machines and in CI)")
        self.filler = path / "filler.bin"

    def free(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave: int = 0) -> None:
        """Write a file until the disk is full, then give back ``leave`` bytes."""
        chunk = b"\0" * (256 * 1024)
        with self.filler.open("ab") as fh:
            try:
                while True:
                    fh.write(chunk)
                    fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        if leave:
            with self.filler.open("r+b") as fh:
                fh.truncate(max(0, self.filler.stat().st_size - leave))
        assert self.free() <= leave + 4096

    def make_room(self) -> None:
        self.filler.unlink()

    def read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True, capture_output=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@pytest.fixture
def disk(tmp_path):
    small = SmallDisk(tmp_path / "disk", size_mb=16)
    yield small
    small.unmount()


def kiosk_config(tmp_path: Path, data_dir: Path, min_free_disk_mb: int):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{data_dir}"\nmin_free_disk_mb = {min_free_disk_mb}\n', encoding="utf-8")
    return load_config(path, environ={})


def draft_for(env, size: int = 2000) -> Draft:
    with env.store.engine.connect() as conn:
        category = conn.exec_driver_sql("SELECT code FROM categories LIMIT 1").scalar()
        kecamatan = conn.exec_driver_sql("SELECT code FROM kecamatan LIMIT 1").scalar()
    return Draft(kind=ReportKind.PENGADUAN, category_code=category, title="Lampu jalan mati",
                 description="Lampu jalan di depan pasar mati sejak sebulan. " * (size // 48),
                 incident_date=env.today(), kecamatan_code=kecamatan)


def stored(data_dir: Path) -> tuple[int, int, str]:
    """(reports, outbox entries, integrity check) as a fresh connection reads them."""
    store = open_store(data_dir / "kiosk.sqlite3", key_file=data_dir / "secret.key")
    try:
        with store.engine.connect() as conn:
            return (conn.exec_driver_sql("SELECT count(*) FROM reports").scalar(),
                    conn.exec_driver_sql("SELECT count(*) FROM outbox").scalar(),
                    conn.exec_driver_sql("PRAGMA integrity_check").scalar())
    finally:
        store.close()


# -- the store -------------------------------------------------------------------------
def test_a_report_is_refused_before_the_disk_is_full(tmp_path, disk, clock):
    """GIVEN min_free_disk_mb = 4 WHEN less than 4 MB are left THEN submitting says the
    kiosk cannot keep reports, saves nothing, and works again once there is room."""
    env = build_env(kiosk_config(tmp_path, disk.path / "data", 4), now=clock.now)
    try:
        assert env.reports.room_problem() is None
        disk.fill(leave=3 * MB)
        assert "MB must stay free" in env.reports.room_problem()
        with pytest.raises(CannotKeepReports, match="MB must stay free"):
            env.reports.submit(draft_for(env))
        disk.make_room()
        assert env.reports.room_problem() is None
        saved = env.reports.submit(draft_for(env))
    finally:
        env.close()
    assert stored(disk.path / "data") == (1, 1, "ok")
    assert saved.tracking_id


@pytest.mark.parametrize("leave", [0, 4096, 16384, 65536])
def test_a_really_full_disk_never_takes_a_report_it_cannot_keep(tmp_path, disk, clock, leave):
    """GIVEN no reserve (min_free_disk_mb = 0) and a disk with ``leave`` bytes left WHEN
    reports are submitted until one is refused THEN every accepted one is really on the
    disk (read back by a fresh connection), the refused one is not, the database is
    intact, and once there is room the next report is saved."""
    data = disk.path / "data"
    env = build_env(kiosk_config(tmp_path, data, 0), now=clock.now)
    accepted = []
    try:
        accepted.append(env.reports.submit(draft_for(env)).tracking_id)
        disk.fill(leave=leave)
        with pytest.raises(CannotKeepReports) as refused:
            for _ in range(200):
                accepted.append(env.reports.submit(draft_for(env, size=4000)).tracking_id)  # DESCRIPTION_MAX
        assert "disk is full" in str(refused.value) or "must stay free" in str(refused.value)
        disk.make_room()
        accepted.append(env.reports.submit(draft_for(env)).tracking_id)
    finally:
        env.close()
    assert stored(data) == (len(accepted), len(accepted), "ok")
    env = build_env(kiosk_config(tmp_path, data, 0), now=clock.now)
    try:
        assert all(env.reports.find(tid) is not None for tid in accepted)
    finally:
        env.close()


def test_a_read_only_data_directory_is_refused_at_start_up(tmp_path, disk, clock):
    """GIVEN a kiosk whose data directory became read-only (a failing disk remounted
    read-only by the kernel) WHEN it starts THEN the store says so, naming the directory."""
    data = disk.path / "data"
    build_env(kiosk_config(tmp_path, data, 0), now=clock.now).close()
    disk.read_only()
    with pytest.raises(CannotKeepReports, match=f"{data} is read-only"):
        build_env(kiosk_config(tmp_path, data, 0), now=clock.now)


# -- what the citizen sees -------------------------------------------------------------
def _driver(env, env_factory=None):
    from tests.support.ui_driver import KioskDriver

    return KioskDriver(env, env_factory=env_factory)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_disk_fills_while_a_citizen_files(tmp_path, disk, clock, kivy_window, lang):
    """GIVEN a citizen on the review screen WHEN the disk fills up (below the 1 MB
    reserve) and Send is tapped THEN they are told in their language that the report
    could not be saved, their answers stay on screen, nothing is saved and no receipt is
    printed; after the session Welcome offers no filing; once there is room again it does."""
    data = disk.path / "data"
    env = build_env(kiosk_config(tmp_path, data, 1), now=clock.now, monotonic=clock.monotonic)
    kiosk = _driver(env)
    try:
        assert kiosk.app.ready and not kiosk.app.no_room
        fill_to_review(kiosk, lang, "pipa air bocor", "pipa pdam bocor di jalan", screenshot=False)
        disk.fill(leave=MB // 2)
        go_next(kiosk)
        assert kiosk.current == "review"
        message = T(kiosk, "This kiosk's storage is full, so your report could not be saved and no receipt was "
                           "printed. Your answers are still here: please ask the staff at the counter.")
        assert message in kiosk.all_text()
        assert "pipa air bocor" in kiosk.all_text().lower()
        kiosk.screenshot("07-review-disk-full")
        assert env.reports.count_waiting() == 0
        assert not (data / "receipts").exists() or not any((data / "receipts").iterdir())

        clock.advance(env.config.idle_timeout_s + env.config.idle_warning_s + 1)  # the citizen walks away
        kiosk.wait_until(lambda: kiosk.current == "welcome", what="the idle reset")
        sorry = T(kiosk, "Sorry, this kiosk cannot take reports right now. Please ask the staff at the counter.")
        assert sorry in kiosk.all_text() and kiosk.screen.ids.start.disabled
        assert not kiosk.screen.ids.status.disabled  # a receipt holder can still look a report up
        assert kiosk.app.lang == "id"  # the next citizen starts in Indonesian
        kiosk.tap(kiosk.screen.ids.start)
        assert kiosk.current == "welcome"

        disk.make_room()
        kiosk.wait_until(lambda: not kiosk.app.no_room, max_frames=2000, what="Welcome's next room check")
        assert sorry not in kiosk.all_text() and not kiosk.screen.ids.start.disabled
        kiosk.tap(kiosk.screen.ids.start)
        assert kiosk.current == "kind"
    finally:
        kiosk.close()
        env.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_kiosk_started_on_a_full_disk_says_so_at_once(tmp_path, disk, clock, kivy_window, lang):
    """GIVEN less room than the reserve when the kiosk starts THEN Welcome already says it
    cannot take reports; Check status still works."""
    data = disk.path / "data"
    build_env(kiosk_config(tmp_path, data, 1), now=clock.now).close()
    disk.fill(leave=MB // 2)
    env = build_env(kiosk_config(tmp_path, data, 1), now=clock.now, monotonic=clock.monotonic)
    kiosk = _driver(env)
    try:
        assert kiosk.app.ready and kiosk.app.no_room
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        assert T(kiosk, "Sorry, this kiosk cannot take reports right now. Please ask the staff at the counter.") \
            in kiosk.all_text()
        assert kiosk.screen.ids.start.disabled
        kiosk.screenshot("01-welcome-disk-full")
        from tests.support.text_fit import assert_fits_at_kiosk_sizes

        assert_fits_at_kiosk_sizes(kiosk, kiosk.screen.ids.notice, "01-welcome-disk-full")  # not clipped
        kiosk.tap(kiosk.screen.ids.start)
        assert kiosk.current == "welcome"
        kiosk.tap(kiosk.screen.ids.status)
        assert kiosk.current == "status"
    finally:
        kiosk.close()
        env.close()


def test_kiosk_started_on_a_read_only_data_directory_is_out_of_service(tmp_path, disk, clock, kivy_window):
    """GIVEN a read-only data directory WHEN the real kiosk starts on it THEN Welcome says
    it cannot take reports and both buttons do nothing."""
    data = disk.path / "data"
    config = kiosk_config(tmp_path, data, 1)
    build_env(config, now=clock.now).close()
    disk.read_only()
    placeholder = type("Env", (), {"config": config, "monotonic": clock.monotonic})()
    kiosk = _driver(placeholder, env_factory=lambda: build_env(config, now=clock.now))
    try:
        assert_out_of_service(kiosk, "15-out-of-service-read-only")
        from tests.support.text_fit import assert_fits_at_kiosk_sizes

        assert_fits_at_kiosk_sizes(kiosk, kiosk.screen.ids.notice, "15-out-of-service-read-only")  # not clipped
    finally:
        kiosk.close()
