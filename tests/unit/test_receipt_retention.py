"""The file printer's receipts (the report's title in plain) do not outlive their retention."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from devices.printer.file import FilePrinter
from devices.printer.registry import build_printer
from kiosk.core.receipt import ReceiptContent, print_receipt
from kiosk.kernel.tracking_id import new_tracking_id
from kiosk.runtime.config import ConfigError, load_config
from tests.support.clock import FakeClock

TITLE = "Pungutan liar di loket tujuh"


def content(title: str = TITLE) -> ReceiptContent:
    return ReceiptContent(
        tracking_id=new_tracking_id("MT01"), created_at=dt.datetime(2026, 11, 23, 3, 42, tzinfo=dt.timezone.utc),
        institution="Pemerintah Kabupaten Barito Utara", kiosk_location="Mal Pelayanan Publik Muara Teweh",
        kind_label="Pengaduan", category_label="Kesehatan", title=title, confidential=False, language="id",
    )


def print_one(printer: FilePrinter, receipt: ReceiptContent) -> Path:
    outcome = print_receipt(printer, receipt)
    assert outcome.ok, outcome.error
    return outcome.path


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def holds(folder: Path, text: str) -> list[str]:
    """The files in ``folder`` whose bytes contain ``text``."""
    return [p.name for p in folder.iterdir() if text.encode("cp437") in p.read_bytes()]


def test_receipts_older_than_the_retention_go_at_the_next_print(tmp_path):
    """GIVEN a receipt printed 8 days ago and one 3 days ago, retention 7 days, and a
    technician's own file in the folder WHEN the next receipt prints THEN only the old
    receipt (bytes and preview) is gone."""
    clock = FakeClock()
    folder = tmp_path / "receipts"
    printer = FilePrinter(folder, now=clock.now, retention_days=7)
    old = print_one(printer, content())
    assert holds(folder, TITLE) == [old.name]  # the title is there, in plain: why it must not stay
    clock.advance(5 * 86400)
    recent = print_one(printer, content("Jalan rusak"))
    (folder / "catatan-teknisi.txt").write_text("kertas diganti")
    (folder / "notes.bin").write_bytes(b"not a receipt")
    clock.advance(3 * 86400 + 1)
    newest = print_one(printer, content("Air keruh"))
    stems = {old.stem, recent.stem, newest.stem}
    assert names(folder) == {f"{s}{x}" for s in stems - {old.stem} for x in (".bin", ".png")} | {
        "catatan-teknisi.txt", "notes.bin"}
    assert holds(folder, TITLE) == []


def test_a_crashs_temporary_files_expire_too(tmp_path):
    clock = FakeClock()
    folder = tmp_path / "receipts"
    printer = FilePrinter(folder, now=clock.now, retention_days=1)
    print_one(printer, content())
    left = folder / f".{content().tracking_id}-20261123T033000-k2j3h4.bin.tmp"  # a crash between write and rename
    left.write_bytes(TITLE.encode())
    clock.advance(2 * 86400)
    assert printer.delete_expired() == 3
    assert names(folder) == set()


def test_retention_zero_keeps_only_the_newest_receipt(tmp_path):
    folder = tmp_path / "receipts"
    printer = FilePrinter(folder, now=FakeClock().now, retention_days=0)
    print_one(printer, content())
    newest = print_one(printer, content("Air keruh"))  # the same second: still the one before goes
    assert names(folder) == {newest.name, newest.with_suffix(".png").name}
    assert holds(folder, TITLE) == []


def test_the_kiosks_printer_applies_the_configured_retention_when_built(tmp_path):
    """Receipts past the retention go when the kiosk starts, even if it never prints again."""
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{tmp_path / "data"}"\nreceipt_retention_days = 2\n')
    config = load_config(config_file, environ={})
    printed_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)
    FilePrinter(config.receipts_path, now=lambda: printed_at).send(b"\x1b@" + TITLE.encode() + b"\n", job="MT01X")
    assert holds(config.receipts_path, TITLE)
    printer = build_printer(config.values, receipts_dir=config.receipts_path)
    assert printer.retention_days == 2
    assert holds(config.receipts_path, TITLE) == []


def test_retention_defaults_to_a_week_and_refuses_nonsense(tmp_path):
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{tmp_path}"\n')
    assert load_config(config_file, environ={}).values["receipt_retention_days"] == 7
    with pytest.raises(ConfigError) as refused:
        load_config(config_file, environ={"KIOSK_RECEIPT_RETENTION_DAYS": "-1"})
    assert refused.value.key == "receipt_retention_days"


def test_without_a_retention_every_receipt_is_kept(tmp_path):
    clock = FakeClock()
    printer = FilePrinter(tmp_path, now=clock.now)
    first = print_one(printer, content())
    clock.advance(400 * 86400)
    print_one(printer, content())
    assert first.exists() and printer.delete_expired() == 0


def test_a_kiosk_that_prints_nothing_still_lets_old_receipts_go(tmp_path):
    """GIVEN the kiosk's environment with the file printer, a 7-day retention, and a receipt
    printed 8 days ago WHEN nothing is printed but the printer's housekeeping runs (the app
    runs it hourly on the printer thread) THEN the old receipt is gone and the title with it."""
    from kiosk.runtime.env import build_env

    clock = FakeClock()
    config = load_config(None, environ={}, overrides={"data_dir": str(tmp_path / "data")})
    env = build_env(config, printer=FilePrinter(config.receipts_path, now=clock.now,
                                                retention_days=config.receipt_retention_days))
    try:
        old = print_one(env.printer, content())
        clock.advance(8 * 86400)
        assert env.tidy_printer().result(timeout=10) == 2  # its bytes and its preview
        assert not old.exists() and holds(config.receipts_path, TITLE) == []
    finally:
        env.close()
