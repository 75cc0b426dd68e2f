"""Receipt bytes parsed back: what is printed, what is not, and the QR read from the preview."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import cv2
import pytest
import zxingcpp

from devices.escpos_sim import parse_escpos
from devices.printer.errors import PrinterUnavailable
from devices.printer.file import FilePrinter
from kiosk.i18n import gettext_for
from kiosk.receipt import LINE_WIDTH, ReceiptContent
from kiosk.tracking_id import format_tracking_id, new_tracking_id

HOSTILE = "Antrean\x1b@ lama\x1dV\x00 di\x10\x04 loket\x1bp\x00\x19\xfa \x9b\x00 \U0001F621 \u0627\u0644\u0637\u0631\u064a\u0642"
LAYOUT_COMMANDS = {"init", "codepage", "print_mode", "bold", "align", "qr_model", "qr_size", "qr_ec", "qr_store",
                   "qr_print", "raster_image", "feed", "cut"}


def content(**changes) -> ReceiptContent:
    values = dict(
        tracking_id=new_tracking_id("MT01"), created_at=dt.datetime(2026, 11, 23, 3, 42, tzinfo=dt.timezone.utc),
        institution="Pemerintah Kabupaten Barito Utara", kiosk_location="Mal Pelayanan Publik Muara Teweh",
        kind_label="Pengaduan", category_label="Kesehatan", title="Antrean puskesmas lama", confidential=False,
        language="id",
    )
    values.update(changes)
    return ReceiptContent(**values)


def print_one(tmp_path: Path, receipt: ReceiptContent, **printer_options):
    printer = FilePrinter(tmp_path / "receipts", **printer_options)
    outcome = printer.print_receipt(receipt, gettext=gettext_for(receipt.language))
    assert outcome.ok, outcome.error
    data = outcome.path.read_bytes()
    return outcome, data, parse_escpos(data)


def decode_png(path: Path) -> list[str]:
    image = cv2.imread(str(path))
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("width", [80, 58])
@pytest.mark.parametrize("qr_mode", ["native", "image"])
def test_receipt_parsed_back(tmp_path, width, qr_mode):
    receipt = content()
    outcome, data, parsed = print_one(tmp_path, receipt, qr_mode=qr_mode, paper_width_mm=width)
    text = parsed.text
    for expected in ("Pemerintah Kabupaten Barito Utara", "23-11-2026 10:42 WIB", "Pengaduan", "Kesehatan",
                     "Simpan struk ini", "Nomor laporan"):
        assert expected in text.replace("\n", " "), expected
    big = [line for line in parsed.lines if line.double_width and line.double_height]
    assert [line.text for line in big] == [format_tracking_id(receipt.tracking_id)]
    assert parsed.cuts == 1 and parsed.commands[-1] == "cut"
    assert parsed.commands[:2] == ["init", "codepage"], "one code page chosen before any text"
    assert all(len(line.text) <= LINE_WIDTH[width] for line in parsed.lines)
    assert parsed.unknown == []
    if qr_mode == "native":
        assert parsed.qr_payloads == [receipt.tracking_id]
    else:
        assert parsed.qr_payloads == [] and len(parsed.images) == 1
    assert decode_png(outcome.path.with_suffix(".png")) == [receipt.tracking_id]


def test_native_qr_is_much_smaller_than_image_qr(tmp_path):
    receipt = content()
    _, native, _ = print_one(tmp_path, receipt, qr_mode="native")
    _, image, _ = print_one(tmp_path, receipt, qr_mode="image")
    print(f"receipt bytes: native QR {len(native)}, image QR {len(image)}")
    assert len(native) < 1000 < 4 * len(native) < len(image)


@pytest.mark.parametrize("field", ["title", "kiosk_location", "category_label", "institution", "kind_label"])
def test_hostile_text_never_becomes_a_command(tmp_path, field):
    _, data, parsed = print_one(tmp_path, content(**{field: HOSTILE}))
    assert parsed.unknown == []
    assert set(parsed.commands) <= LAYOUT_COMMANDS
    assert parsed.commands.count("init") == 1 and parsed.cuts == 1
    assert "cash_drawer" not in parsed.commands and "dle_eot" not in parsed.commands
    assert "Antrean" in parsed.text and "loket" in parsed.text


def test_ten_thousand_characters_wrap_within_the_paper(tmp_path):
    _, _, parsed = print_one(tmp_path, content(title="panjang " * 1250), paper_width_mm=58)
    assert all(len(line.text) <= 32 for line in parsed.lines)
    assert parsed.cuts == 1


def test_confidential_receipt_does_not_print_the_content(tmp_path):
    secret_title = "Kepala dinas meminta uang"
    _, data, parsed = print_one(tmp_path, content(title=secret_title, confidential=True))
    assert secret_title.encode() not in data
    assert "Laporan rahasia: isi laporan tidak dicetak." in parsed.text.replace("\n", " ")
    _, data, parsed = print_one(tmp_path, content(title=secret_title, confidential=False))
    assert secret_title in parsed.text.replace("\n", " ")


def test_english_receipt_and_copy_mark(tmp_path):
    _, _, parsed = print_one(tmp_path, content(language="en", copy=True))
    text = parsed.text.replace("\n", " ")
    assert "Keep this receipt" in text and "COPY" in text


def test_unwritable_receipts_directory_is_an_outcome_not_a_crash(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    printer = FilePrinter(blocker / "receipts")
    outcome = printer.print_receipt(content(), gettext=gettext_for("id"))
    assert not outcome.ok and isinstance(outcome.error, PrinterUnavailable)


def test_receipt_files_are_written_lazily_and_atomically(tmp_path):
    target = tmp_path / "receipts"
    printer = FilePrinter(target)
    assert not target.exists()  # nothing created before the first print
    outcome = printer.print_receipt(content(), gettext=gettext_for("id"))
    assert sorted(p.suffix for p in target.iterdir()) == [".bin", ".png"]
    assert outcome.bytes_sent == outcome.path.stat().st_size


def test_simulator_flags_stray_control_bytes():
    parsed = parse_escpos(b"\x1b@\x1bt\x00Halo\x1bp\x00\x19\xfa\n\x10\x04\x01\x07Dunia\n\x1dV\x00")
    assert parsed.commands == ["init", "codepage", "cash_drawer", "dle_eot", "cut"]
    assert b"\x07" in parsed.unknown
    assert [line.text for line in parsed.lines][:2] == ["Halo", "Dunia"]
