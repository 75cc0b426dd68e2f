"""The printer simulator on hand-written ESC/POS and on python-escpos's own output."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import zxingcpp
from escpos.printer import Dummy

from devices.escpos_sim import ImageBlock, PrintedLine, QrBlock, parse_escpos, render_png


def test_text_lines_take_the_style_in_force():
    parsed = parse_escpos(
        b"\x1b@\x1bt\x00"
        b"\x1ba\x01\x1bE\x01Kop\n"  # centred, bold
        b"\x1bE\x00\x1d!\x11BU01-7K3MQ-9XQ2H\n"  # GS ! 0x11: double width and height
        b"\x1d!\x00\x1b!\x38Besar\n"  # ESC ! 0x38: emphasized, double height, double width
        b"\x1b!\x00\x1ba\x02kanan\n"
        b"\n"
        b"tanpa LF"
    )
    assert parsed.lines == [
        PrintedLine("Kop", bold=True, align="center"),
        PrintedLine("BU01-7K3MQ-9XQ2H", double_width=True, double_height=True, align="center"),
        PrintedLine("Besar", bold=True, double_width=True, double_height=True, align="center"),
        PrintedLine("kanan", align="right"),
        PrintedLine("", align="right"),
        PrintedLine("tanpa LF", align="right"),
    ]
    assert parsed.commands == ["init", "codepage", "align", "bold", "bold", "size", "size", "print_mode",
                               "print_mode", "align"]
    assert parsed.text.splitlines()[0] == "Kop" and parsed.unknown == []


def test_esc_bang_zero_clears_bold_like_a_printer_does():
    parsed = parse_escpos(b"\x1bE\x01\x1b!\x00tipis\n")
    assert parsed.lines == [PrintedLine("tipis", bold=False)]


def test_init_resets_style():
    parsed = parse_escpos(b"\x1bE\x01\x1ba\x01\x1d!\x11\x1b@biasa\n")
    assert parsed.lines == [PrintedLine("biasa")]


@pytest.mark.parametrize("data, expected", [
    (b"\x1bt\x00caf\x82\n", "caf\u00e9"),  # CP437
    (b"\x1bt\x13Rp 5\xd5\n", "Rp 5\u20ac"),  # CP858 has the euro sign where CP850 has a dotless i
    (b"\x1bt\x00\x1bt\x10\x80\n", "\u20ac"),  # the last selection wins (16 = CP1252)
])
def test_text_is_decoded_in_the_selected_code_page(data, expected):
    parsed = parse_escpos(data)
    assert parsed.lines[0].text == expected and parsed.commands.count("codepage") == data.count(b"\x1bt")


def test_default_encoding_applies_until_esc_t():
    assert parse_escpos(b"\xd5\n", encoding="cp858").text == "\u20ac"
    assert parse_escpos(b"\xd5\n").text == "\u2552"


@pytest.mark.parametrize("cut", [b"\x1dV\x00", b"\x1dV\x01", b"\x1dV0", b"\x1dV1", b"\x1dVA\x10", b"\x1dVB\x00",
                                 b"\x1dVa\x05", b"\x1dVb\x00", b"\x1dVg\x03", b"\x1dVh\x00", b"\x1bi", b"\x1bm"])
def test_every_cut_variant_is_a_cut(cut):
    parsed = parse_escpos(b"satu\n" + cut + b"dua\n")
    assert parsed.cuts == 1 and parsed.commands == ["cut"]
    assert parsed.unknown == [] and [line.text for line in parsed.lines] == ["satu", "dua"]


def test_dangerous_commands_are_named_and_stray_controls_are_unknown():
    parsed = parse_escpos(b"\x1b@\x1bt\x00Halo\x1bp\x00\x19\xfa\n\x10\x04\x01\x07Dunia\x00\n\x1dV\x00\x1b@")
    assert parsed.commands == ["init", "codepage", "cash_drawer", "dle_eot", "cut", "init"]
    assert parsed.unknown == [b"\x07", b"\x00"]
    assert [line.text for line in parsed.lines] == ["Halo", "Dunia"]


@pytest.mark.parametrize("data", [b"\x1b", b"\x1ba", b"\x1bp\x00\x19", b"\x1dV", b"\x1dVA", b"\x10\x04",
                                  b"\x1d(k\x05\x001P0", b"\x1dv0\x00\x02\x00\x02\x00\xff", b"\x1b\xfe", b"\x1d\xfe",
                                  b"\x1c\xfe", b"\x10\xfe", b"\x1dVZ"])
def test_truncated_or_unknown_commands_are_reported_not_swallowed(data):
    parsed = parse_escpos(b"ok\n" + data)
    assert parsed.unknown and b"".join(parsed.unknown) in data
    assert parsed.cuts == 0 and parsed.qr_payloads == [] and parsed.images == []
    assert parsed.lines[0].text == "ok"


def test_feed_prints_the_buffer_then_feeds():
    parsed = parse_escpos(b"a\x1bd\x03b\n\x1bd\x02")
    assert [line.text for line in parsed.lines] == ["a", "", "", "b", "", ""]


def test_native_qr_from_python_escpos():
    printer = Dummy()
    printer.set(align="center")
    printer.qr("BU017K3MQ9XQ2H", native=True, size=7, ec=3)
    parsed = parse_escpos(printer.output)
    assert parsed.commands == ["align", "qr_model", "qr_size", "qr_ec", "qr_store", "qr_print"]
    assert parsed.qr_payloads == ["BU017K3MQ9XQ2H"]
    assert parsed.elements == [QrBlock("BU017K3MQ9XQ2H", module_size=7, error_level="H", align="center")]
    assert parsed.unknown == []


def test_qr_store_without_print_prints_nothing():
    parsed = parse_escpos(b"\x1d(k\x05\x001P0AB")
    assert parsed.qr_payloads == [] and parsed.commands == ["qr_store"]


def test_hand_written_raster_image():
    # GS v 0, 2 bytes wide (16 dots), 3 rows: a black row, a white row, a left half black.
    parsed = parse_escpos(b"\x1dv0\x00\x02\x00\x03\x00" b"\xff\xff" b"\x00\x00" b"\xff\x00" b"ok\n")
    assert parsed.commands == ["raster_image"] and parsed.unknown == []
    image = np.array(parsed.images[0])
    assert image.shape == (3, 16)
    assert (image[0] == 0).all() and (image[1] == 255).all()
    assert (image[2, :8] == 0).all() and (image[2, 8:] == 255).all()
    assert parsed.lines == [PrintedLine("ok")]


@pytest.mark.parametrize("impl, command", [("bitImageRaster", "raster_image"), ("graphics", "graphics_print"),
                                           ("bitImageColumn", "column_image")])
def test_python_escpos_image_commands_are_accounted_for(impl, command):
    from PIL import Image

    picture = Image.new("RGB", (40, 30), "white")
    picture.paste((0, 0, 0), (0, 0, 20, 30))
    printer = Dummy()
    printer.image(picture, impl=impl)
    parsed = parse_escpos(printer.output)
    assert command in parsed.commands and parsed.unknown == []
    if impl != "bitImageColumn":  # column images are skipped, not drawn
        image = np.array(parsed.images[0])
        assert (image[:, :20] == 0).all() and (image[:, 20:40] == 255).all()


def test_python_escpos_image_qr_switches_the_code_page_behind_our_back(tmp_path):
    """Why the layout rasterises its own QR code: ``qr(native=False)`` writes newlines
    through the magic encoder, which sends ESC t 0 even after we chose CP858."""
    printer = Dummy()
    printer._raw(b"\x1b@\x1bt\x13")
    printer.qr("BU017K3MQ9XQ2H", native=False, size=6)
    parsed = parse_escpos(printer.output)
    assert parsed.codepages == [19, 0]
    assert len(parsed.images) == 1 and parsed.unknown == []
    png = render_png(parsed, tmp_path / "qr.png", paper_width_mm=58)
    assert [r.text for r in zxingcpp.read_barcodes(cv2.imread(str(png)))] == ["BU017K3MQ9XQ2H"]


def test_barcode_and_other_python_escpos_commands():
    printer = Dummy()
    printer.barcode("4006381333931", "EAN13")
    printer.line_spacing(30)
    printer.line_spacing()
    printer.buzzer()
    printer.cashdraw(2)
    parsed = parse_escpos(printer.output)
    assert parsed.unknown == [], parsed.unknown
    assert {"barcode", "line_spacing", "line_spacing_default", "buzzer", "cash_drawer"} <= set(parsed.commands)


def _dark_columns(image: np.ndarray) -> int:
    dark = np.where((image < 128).any(axis=0))[0]
    return int(dark[-1] - dark[0] + 1) if len(dark) else 0


def test_render_draws_text_double_size_and_native_qr(tmp_path):
    parsed = parse_escpos(b"\x1b@\x1ba\x01BU01-7K3MQ\n\x1d!\x11BU01-7K3MQ\n\x1d!\x00"
                          b"\x1d(k\x03\x001C\x08\x1d(k\x03\x001E1\x1d(k\x11\x001P0BU017K3MQ9XQ2H\x1d(k\x03\x001Q0\n")
    png = render_png(parsed, tmp_path / "r.png", paper_width_mm=80)
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert image.shape[1] == 576
    assert [r.text for r in zxingcpp.read_barcodes(image)] == ["BU017K3MQ9XQ2H"]
    rows = np.where((image < 128).any(axis=1))[0]
    first_block_end = rows[np.argmax(np.diff(rows) > 1)] + 1  # end of the first (normal) line
    normal = _dark_columns(image[:first_block_end])
    double = _dark_columns(image[first_block_end:first_block_end + 80])
    assert 1.8 * normal < double < 2.2 * normal
    assert isinstance(parsed.elements[-2], QrBlock) and isinstance(parsed.elements[0], PrintedLine)


def test_render_places_images_by_alignment(tmp_path):
    raster = b"\x1dv0\x00\x01\x00\x08\x00" + b"\xff" * 8
    parsed = parse_escpos(b"\x1ba\x02" + raster)
    assert parsed.elements == [ImageBlock(parsed.images[0], align="right")]
    image = cv2.imread(str(render_png(parsed, tmp_path / "i.png", paper_width_mm=58)), cv2.IMREAD_GRAYSCALE)
    dark = np.where((image < 128).any(axis=0))[0]
    assert image.shape[1] == 384 and list(dark) == list(range(376, 384))


def test_accented_letters_of_the_code_page_are_drawn_not_boxed(tmp_path):
    """GIVEN "é à ü ñ" in cp437 WHEN the preview is drawn THEN each is its own glyph: a font
    without them draws the same box four times (Pillow's built-in one did)."""
    from devices.escpos_sim import _font_files

    assert any(path.is_file() for path in _font_files()), "no preview font with accented letters"

    def glyph(char: str) -> np.ndarray:
        data = b"\x1b@\x1bt\x00" + char.encode("cp437") + b"\n"
        path = render_png(parse_escpos(data), tmp_path / f"{ord(char)}.png")
        ink = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) < 128
        rows, cols = np.nonzero(ink)
        assert rows.size, f"{char!r} drew nothing"
        return ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]

    drawn = {char: glyph(char) for char in "éàüñ"}
    plain = glyph("e")
    for char, ink in drawn.items():
        others = [other for c, other in drawn.items() if c != char]
        assert all(ink.shape != other.shape or (ink != other).any() for other in others), f"{char!r} is a box"
    assert drawn["é"].shape[0] > plain.shape[0]  # the accent sits above the letter
