"""Receipt bytes parsed back: what is printed, what is not, and the QR read from the preview."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import cv2
import pytest
import zxingcpp

from devices.escpos_sim import ParsedReceipt, parse_escpos
from devices.paper import CHARS_PER_LINE
from devices.printer.base import PrinterStatus, PrintOutcome, ReceiptPrinter
from devices.printer.errors import (
    PrinterCoverOpen,
    PrinterError,
    PrinterOutOfPaper,
    PrinterTimeout,
    PrinterUnavailable,
)
from devices.printer.file import FilePrinter
from kiosk.core.receipt import ReceiptContent, ReceiptLayout, print_receipt
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id

HOSTILE = ("Antrean\x1b@ lama\x1dV\x00 di\x10\x04 loket\x1bp\x00\x19\xfa \x9b\x00 \U0001F621 "
           "\u0627\u0644\u0637\u0631\u064a\u0642 \u201cdua\u201d \u2014 jam\u2026 caf\u00e9")
HOSTILE_FIELDS = ["title", "kiosk_location", "category_label", "institution", "kind_label"]
PRINTED_AT = dt.datetime(2026, 11, 23, 4, 50, 7, tzinfo=dt.timezone.utc)


def content(**changes) -> ReceiptContent:
    values = dict(
        tracking_id=new_tracking_id("MT01"), created_at=dt.datetime(2026, 11, 23, 3, 42, tzinfo=dt.timezone.utc),
        institution="Pemerintah Kabupaten Barito Utara", kiosk_location="Mal Pelayanan Publik Muara Teweh",
        kind_label="Pengaduan", category_label="Kesehatan", title="Antrean puskesmas lama", confidential=False,
        language="id",
    )
    values.update(changes)
    return ReceiptContent(**values)


def print_one(tmp_path: Path, receipt: ReceiptContent, **layout_options) -> tuple[PrintOutcome, bytes, ParsedReceipt]:
    layout = ReceiptLayout(**layout_options)
    printer = FilePrinter(tmp_path / "receipts", paper_width_mm=layout.paper_width_mm, encoding=layout.encoding)
    outcome = print_receipt(printer, receipt, layout=layout)
    assert outcome.ok, outcome.error
    data = outcome.path.read_bytes()
    return outcome, data, parse_escpos(data, encoding=printer.encoding)


def flat(parsed: ParsedReceipt) -> str:
    """The printed text with wrapped lines joined again."""
    return " ".join(parsed.text.split())


def decode_png(path: Path) -> list[str]:
    image = cv2.imread(str(path))
    assert image is not None, f"{path} is not a readable image"
    return [result.text for result in zxingcpp.read_barcodes(image)]


def columns(line) -> int:
    return len(line.text) * (2 if line.double_width else 1)


@pytest.mark.parametrize("width", [80, 58])
@pytest.mark.parametrize("qr_mode", ["native", "image"])
def test_receipt_parsed_back(tmp_path, width, qr_mode):
    receipt = content()
    outcome, data, parsed = print_one(tmp_path, receipt, qr_mode=qr_mode, paper_width_mm=width)
    text = flat(parsed)
    for expected in ("Pemerintah Kabupaten Barito Utara", "Tanda terima laporan", "Nomor laporan",
                     "23-11-2026 10:42 WIB", "Mal Pelayanan Publik Muara Teweh", "Pengaduan", "Kesehatan",
                     "Antrean puskesmas lama", "pindai QR", "1708", "Simpan struk ini"):
        assert expected in text, expected
    assert "SALINAN" not in text
    header = parsed.lines[0]
    assert header.bold and header.align == "center" and header.text.startswith("Pemerintah")
    big = [line for line in parsed.lines if line.double_width or line.double_height]
    assert [(line.text, line.double_width, line.double_height) for line in big] == [
        (format_tracking_id(receipt.tracking_id), True, True)]
    assert parsed.cuts == 1 and parsed.commands.count("cut") == 1 and parsed.commands[-1] == "cut"
    assert parsed.commands[:2] == ["init", "codepage"] and parsed.commands.count("codepage") == 1
    assert data.startswith(b"\x1b@\x1bt\x00"), "the code page is chosen before any text"
    assert max(columns(line) for line in parsed.lines) <= CHARS_PER_LINE[width]
    assert parsed.unknown == []
    if qr_mode == "native":
        assert parsed.qr_payloads == [receipt.tracking_id] and parsed.images == []
    else:
        assert parsed.qr_payloads == [] and len(parsed.images) == 1
    assert decode_png(outcome.path.with_suffix(".png")) == [receipt.tracking_id]


def test_native_qr_is_much_smaller_than_image_qr(tmp_path):
    receipt = content()
    sizes = {}
    for width in (80, 58):
        for mode in ("native", "image"):
            sizes[width, mode] = len(print_one(tmp_path, receipt, qr_mode=mode, paper_width_mm=width)[1])
    print("receipt bytes:", ", ".join(f"{w} mm {m}: {n}" for (w, m), n in sizes.items()))
    for width in (80, 58):
        assert sizes[width, "native"] < 2000
        assert sizes[width, "image"] > 5 * sizes[width, "native"]


@pytest.mark.parametrize("field", HOSTILE_FIELDS)
def test_hostile_text_never_becomes_a_command(tmp_path, field):
    """GIVEN control sequences a printer acts on (reset, cut, drawer, status), C1, NUL, emoji, Arabic
    WHEN they are typed into any printed field
    THEN the printer gets exactly the layout's own commands, and the words around them still print."""
    _, reference_data, reference = print_one(tmp_path, content())
    _, data, parsed = print_one(tmp_path, content(**{field: HOSTILE}))
    assert parsed.commands == reference.commands
    assert parsed.unknown == []
    assert parsed.codepages == [0] and parsed.cuts == 1
    for control in set(range(0x20)) - {0x0A}:  # only line feeds may differ: the text wraps differently
        assert data.count(control) == reference_data.count(control), hex(control)
    text = flat(parsed)
    for word in ("Antrean", "lama", "loket", '"dua" - jam...', "caf\u00e9"):
        assert word in text, word
    assert max(columns(line) for line in parsed.lines) <= 48


@pytest.mark.parametrize("width", [80, 58])
def test_ten_thousand_characters_wrap_within_the_paper(tmp_path, width):
    giant = ("panjang " + HOSTILE) * 100 + "x" * 3000
    assert len(giant) > 10_000
    _, _, reference = print_one(tmp_path, content(), paper_width_mm=width)
    _, _, parsed = print_one(tmp_path, content(title=giant, kiosk_location=giant[:2000]), paper_width_mm=width)
    assert max(columns(line) for line in parsed.lines) <= CHARS_PER_LINE[width]
    assert parsed.commands == reference.commands and parsed.unknown == []
    assert "x" * CHARS_PER_LINE[width] in parsed.text, "a long word is broken, not overflowed"


def test_confidential_receipt_does_not_print_the_content(tmp_path):
    secret_title = "Kepala dinas meminta uang"
    _, data, parsed = print_one(tmp_path, content(title=secret_title, confidential=True))
    assert b"meminta" not in data
    assert "Laporan rahasia: isi laporan tidak dicetak." in flat(parsed)
    _, data, parsed = print_one(tmp_path, content(title=secret_title, confidential=False))
    assert secret_title in flat(parsed)
    assert "rahasia" not in flat(parsed)


def test_english_receipt_and_copy_mark(tmp_path):
    _, _, parsed = print_one(tmp_path, content(language="en", copy=True, confidential=True))
    text = flat(parsed)
    for expected in ("Report receipt", "COPY", "Keep this receipt", "Confidential report", "Date: 23-11-2026 10:42 WIB"):
        assert expected in text, expected
    copy_line = next(line for line in parsed.lines if line.text == "COPY")
    assert copy_line.bold


def test_time_is_printed_in_wib_whatever_zone_it_was_stored_in(tmp_path):
    makassar = dt.timezone(dt.timedelta(hours=8))
    _, _, parsed = print_one(tmp_path, content(created_at=dt.datetime(2026, 1, 1, 0, 30, tzinfo=makassar)))
    assert "31-12-2025 23:30 WIB" in flat(parsed)


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        content(created_at=dt.datetime(2026, 11, 23, 10, 42))


def test_cp858_receipt_selects_its_code_page_once(tmp_path):
    """GIVEN a CP858 printer WHEN the receipt carries a euro sign and an image QR code
    THEN ESC t 19 is the only code page selection (python-escpos's text() would add ESC t 0)."""
    outcome, data, parsed = print_one(tmp_path, content(title="Pungutan 5\u20ac"), encoding="cp858", qr_mode="image")
    assert data.startswith(b"\x1b@\x1bt\x13") and parsed.codepages == [19]
    assert "Pungutan 5\u20ac" in flat(parsed)
    assert decode_png(outcome.path.with_suffix(".png")) == [outcome.path.name[:14]]


def test_receipt_files_are_written_lazily_and_atomically(tmp_path):
    target = tmp_path / "spool" / "receipts"
    printer = FilePrinter(target, now=lambda: PRINTED_AT)
    assert not target.exists(), "nothing is created before the first print"
    receipt = content()
    first = print_receipt(printer, receipt)
    again = print_receipt(printer, receipt)  # same second: a new file, not a replacement
    copy = print_receipt(printer, content(tracking_id=receipt.tracking_id, copy=True))
    assert first.ok and again.ok and copy.ok
    names = sorted(p.name for p in target.iterdir())
    stem = f"{receipt.tracking_id}-20261123T045007"
    assert names == sorted(f"{stem}{tail}" for tail in (".bin", ".png", "-2.bin", "-2.png", "-copy.bin", "-copy.png"))
    assert re.fullmatch(r"[0-9A-Z]{14}-\d{8}T\d{6}\.bin", first.path.name)
    assert first.bytes_sent == first.path.stat().st_size > 0
    assert parse_escpos(copy.path.read_bytes()).text.count("SALINAN") == 1


def test_unwritable_receipts_directory_is_an_outcome_not_a_crash(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    printer = FilePrinter(blocker / "receipts")
    outcome = print_receipt(printer, content())
    assert outcome == PrintOutcome(ok=False, path=None, error=outcome.error, bytes_sent=0)
    assert isinstance(outcome.error, PrinterUnavailable)
    assert str(blocker) in str(outcome.error)


class _BrokenPrinter(ReceiptPrinter):
    def __init__(self, error: Exception):
        self.error = error

    def _send(self, data, *, job):
        raise self.error

    def status(self) -> PrinterStatus:
        return PrinterStatus("fault", "unknown", can_read_status=False)


@pytest.mark.parametrize("error", [PrinterOutOfPaper(), PrinterCoverOpen(), PrinterTimeout(), RuntimeError("bug")])
def test_every_failure_comes_back_as_an_outcome(error, caplog):
    receipt = content(title="Rahasia sekali")
    outcome = print_receipt(_BrokenPrinter(error), receipt)
    assert not outcome.ok and isinstance(outcome.error, PrinterError)
    if isinstance(error, PrinterError):
        assert outcome.error is error
    assert "Rahasia" not in caplog.text, "no complaint text in logs"


def test_printer_errors_carry_a_technician_message():
    for cls in (PrinterUnavailable, PrinterOutOfPaper, PrinterCoverOpen, PrinterTimeout):
        assert issubclass(cls, PrinterError)
        assert str(cls()) == cls.technician_hint and len(cls.technician_hint) > 10
    assert str(PrinterUnavailable("no /dev/usb/lp0")) == "no /dev/usb/lp0"


def test_bad_printer_options_fail_at_construction(tmp_path):
    for options in ({"qr_mode": "svg"}, {"paper_width_mm": 76}, {"encoding": "utf-8"}):
        with pytest.raises(ValueError):
            ReceiptLayout(**options)
    with pytest.raises(ValueError):
        FilePrinter(tmp_path, paper_width_mm=76)  # its preview is drawn on that paper


def test_configured_code_page_reaches_the_printer(tmp_path):
    """GIVEN printer_code_page = cp858 in the kiosk config THEN the receipt selects
    code page 19 (ESC t 19) and its text decodes in CP858."""
    from kiosk.runtime.config import load_config
    from kiosk.runtime.env import build_env

    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{tmp_path / "data"}"\nprinter_code_page = "cp858"\n', encoding="utf-8")
    env = build_env(load_config(config_file, environ={}))
    try:
        outcome = env.print_async(content(category_label="Biaya 5 \u20ac")).result()
    finally:
        env.close()
    parsed = parse_escpos(outcome.path.read_bytes(), encoding="cp858")
    assert parsed.codepages == [19]
    assert "Biaya 5 \u20ac" in parsed.text


# -- issue 12: the status address, the printer test, the receipt screen's delivery note ----
def test_the_receipt_prints_the_kiosks_own_status_address_when_one_is_configured(tmp_path):
    """GIVEN status_base_url WHEN a receipt is printed THEN it gives that page's address for
    this report (lapor.go.id cannot look up a kiosk's Tracking ID); without one, as before."""
    tracking_id = new_tracking_id("MT01")
    address = f"https://lapor.baritoutarakab.go.id/status/{tracking_id}"
    _, _, parsed = print_one(tmp_path / "a", content(tracking_id=tracking_id, status_address=address,
                                                     qr_payload=address))
    printed = parsed.text.replace("\n", "")
    assert address in printed and "lapor.go.id" not in printed.replace("lapor.baritoutarakab.go.id", "")
    _, _, plain = print_one(tmp_path / "b", content())
    assert "lapor.go.id, SMS 1708" in flat(plain)


@pytest.mark.parametrize("width", [58, 80])
def test_the_receipt_says_how_to_check_by_sms_when_the_kabupaten_has_a_number(tmp_path, width):
    """GIVEN the kabupaten's SMS number (sms_number) WHEN a receipt is printed THEN it says
    where to send it ("Cek lewat SMS ke ..., ketik:") and, on a line of its own, exactly what to
    type ("CEK MT01-ABCDE-FGHJK"), on both paper widths; in English too; without a number,
    no SMS check line."""
    tracking_id = new_tracking_id("MT01")
    grouped = format_tracking_id(tracking_id)
    _, _, parsed = print_one(tmp_path / "id", content(tracking_id=tracking_id, sms_number=" 0812 3456 7890 "),
                             paper_width_mm=width)
    lines = [line.strip() for line in parsed.text.splitlines()]
    at = lines.index("Cek lewat SMS ke 0812 3456 7890, ketik:") if width == 80 else None
    assert "Cek lewat SMS ke 0812 3456 7890, ketik:" in flat(parsed)
    assert f"CEK {grouped}" in lines  # exactly what to type, on a line of its own
    assert at is None or lines[at + 1] == f"CEK {grouped}"
    _, _, english = print_one(tmp_path / "en", content(tracking_id=tracking_id, sms_number="0812 3456 7890",
                                                       language="en"), paper_width_mm=width)
    assert "Check by SMS to 0812 3456 7890, type:" in flat(english)
    assert f"CEK {grouped}" in [line.strip() for line in english.text.splitlines()]
    _, _, plain = print_one(tmp_path / "none", content(tracking_id=tracking_id), paper_width_mm=width)
    assert not re.search(r"\bCEK\b", plain.text)  # as a word: the random Tracking ID may hold C, E, K in a row


def test_the_printer_test_is_marked_as_a_test_at_top_and_bottom(tmp_path):
    from kiosk.core.receipt import PRINTER_TEST_BANNER

    _, _, parsed = print_one(tmp_path, content(printer_test=True))
    lines = [line for line in parsed.text.splitlines() if line.strip()]
    assert lines[0] == PRINTER_TEST_BANNER and lines[-1] == PRINTER_TEST_BANNER
    assert "Simpan struk ini" not in parsed.text
    _, _, receipt = print_one(tmp_path / "real", content())
    assert PRINTER_TEST_BANNER not in receipt.text and "Simpan struk ini" in receipt.text


def test_delivery_note_says_sent_once_the_central_confirmed(env):
    from kiosk.core.receipt_content import DELIVERED, KEPT_UNTIL_SENT, delivery_note
    from tests.support.kiosk_ui import saved_report

    tracking_id = saved_report(env)
    assert delivery_note(env.reports, tracking_id) == KEPT_UNTIL_SENT
    [claimed] = env.reports.outbox.claim(10)
    env.reports.outbox.mark_sent([claimed])
    assert delivery_note(env.reports, tracking_id) == DELIVERED
    assert delivery_note(env.reports, None) == KEPT_UNTIL_SENT
