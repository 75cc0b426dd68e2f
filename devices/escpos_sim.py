"""Our printer simulator: parse ESC/POS bytes back into lines, QR codes, images and cuts,
and render them as a thermal receipt would look (PNG).

The parser knows the commands our layout and python-escpos emit, and the common ones a
hostile text could smuggle in (ESC @, GS V, ESC p, DLE EOT ...), so those show up by name
in :attr:`ParsedReceipt.commands`. Anything it cannot account for, including any stray
control byte in text and any command cut short, lands in :attr:`ParsedReceipt.unknown`.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sys
from pathlib import Path
from typing import BinaryIO, Union

from PIL import Image, ImageDraw, ImageFont

from devices.paper import CHARS_PER_LINE, DOTS_PER_LINE

log = logging.getLogger(__name__)

ESC, GS, DLE, FS, LF, CR = 0x1B, 0x1D, 0x10, 0x1C, 0x0A, 0x0D
#: ESC x n commands with exactly one parameter byte, and their names.
_ESC_ONE = {0x74: "codepage", 0x61: "align", 0x45: "bold", 0x21: "print_mode", 0x2D: "underline",
            0x4D: "font", 0x7B: "upside_down", 0x47: "double_strike", 0x56: "rotate", 0x64: "feed",
            0x4A: "feed_dots", 0x65: "feed_reverse", 0x33: "line_spacing", 0x52: "charset",
            0x20: "char_spacing", 0x3D: "peripheral", 0x55: "unidirectional", 0x25: "user_charset",
            0x72: "color"}
#: ESC x with no parameter.
_ESC_NONE = {0x40: "init", 0x32: "line_spacing_default", 0x69: "cut", 0x6D: "cut", 0x0C: "print_page",
             0x3C: "return_home", 0x53: "standard_mode", 0x4C: "page_mode"}
#: ESC x n1 n2 commands.
_ESC_TWO = {0x42: "buzzer", 0x24: "position", 0x5C: "relative_position"}
#: GS x n commands with exactly one parameter byte.
_GS_ONE = {0x21: "size", 0x62: "smoothing", 0x42: "invert", 0x48: "hri_position", 0x66: "hri_font",
           0x68: "barcode_height", 0x77: "barcode_width", 0x49: "printer_id", 0x72: "status",
           0x61: "auto_status", 0x2F: "nv_image"}
#: GS x n1 n2 commands.
_GS_TWO = {0x4C: "left_margin", 0x57: "print_width", 0x50: "motion_units", 0x24: "vertical_position"}
#: ESC t n -> Python codec.
CODE_PAGE_CODECS = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252",
                    17: "cp866", 18: "cp852", 19: "cp858"}
_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
_QR_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}


@dataclasses.dataclass(frozen=True)
class PrintedLine:
    """One printed line of text, with the style of its first character."""

    text: str
    bold: bool = False
    double_width: bool = False
    double_height: bool = False
    align: str = "left"


@dataclasses.dataclass(frozen=True)
class QrBlock:
    """A QR code the printer draws itself (GS ( k)."""

    payload: str
    module_size: int = 3
    error_level: str = "L"
    align: str = "left"


@dataclasses.dataclass(frozen=True)
class ImageBlock:
    """A raster image (GS v 0, or GS ( L graphics)."""

    image: Image.Image
    align: str = "left"


@dataclasses.dataclass
class ParsedReceipt:
    """What the paper would carry, and every command met on the way."""

    elements: list[PrintedLine | QrBlock | ImageBlock] = dataclasses.field(default_factory=list)
    qr_payloads: list[str] = dataclasses.field(default_factory=list)
    images: list[Image.Image] = dataclasses.field(default_factory=list)
    cuts: int = 0
    commands: list[str] = dataclasses.field(default_factory=list)
    unknown: list[bytes] = dataclasses.field(default_factory=list)
    codepages: list[int] = dataclasses.field(default_factory=list)

    @property
    def lines(self) -> list[PrintedLine]:
        return [e for e in self.elements if isinstance(e, PrintedLine)]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclasses.dataclass
class _Style:
    align: str = "left"
    bold: bool = False
    dw: bool = False
    dh: bool = False


class _Parser:
    def __init__(self, data: bytes, encoding: str):
        self.data, self.i, self.default_encoding = data, 0, encoding
        self.out = ParsedReceipt()
        self.text = bytearray()
        self.line_style: _Style | None = None  # style of the line's first character
        self.reset()

    def reset(self) -> None:
        self.style = _Style()
        self.encoding = self.default_encoding
        self.qr_size, self.qr_ec, self.qr_data = 3, "L", None
        self.graphics: Image.Image | None = None

    # -- helpers ---------------------------------------------------------------------
    def need(self, count: int) -> bytes | None:
        """The next ``count`` bytes of a command, or None (flagged unknown) when cut short."""
        chunk = self.data[self.i:self.i + count]
        if len(chunk) < count:
            self.out.unknown.append(self.data[self.i:])
            self.i = len(self.data)
            return None
        self.i += count
        return chunk

    def command(self, name: str) -> None:
        self.out.commands.append(name)

    def flush(self, *, force: bool = False) -> None:
        """End the current line (LF): print the buffer, or an empty line when forced."""
        if self.text or force:
            style = self.line_style or self.style
            self.out.elements.append(PrintedLine(bytes(self.text).decode(self.encoding, "replace"),
                                                 style.bold, style.dw, style.dh, style.align))
        self.text.clear()
        self.line_style = None

    # -- main loop -------------------------------------------------------------------
    def run(self) -> ParsedReceipt:
        data = self.data
        while self.i < len(data):
            b = data[self.i]
            if b == LF:
                self.flush(force=True)
                self.i += 1
            elif b == CR:
                self.i += 1
            elif b == ESC:
                self.esc()
            elif b == GS:
                self.gs()
            elif b == DLE:
                self.dle()
            elif b == FS:
                self.fs()
            elif b < 0x20 or b == 0x7F:
                self.out.unknown.append(bytes([b]))
                self.i += 1
            else:
                if not self.text:
                    self.line_style = dataclasses.replace(self.style)
                self.text.append(b)
                self.i += 1
        self.flush()
        return self.out

    def esc(self) -> None:
        head = self.need(2)
        if head is None:
            return
        cmd = head[1]
        if cmd in _ESC_NONE:
            name = _ESC_NONE[cmd]
            self.command(name)
            if name == "init":
                self.flush()
                self.reset()
            elif name == "cut":
                self.flush()
                self.out.cuts += 1
        elif cmd in _ESC_ONE:
            arg = self.need(1)
            if arg is None:
                return
            self.esc_one(_ESC_ONE[cmd], arg[0])
        elif cmd in _ESC_TWO:
            if self.need(2) is not None:
                self.command(_ESC_TWO[cmd])
        elif cmd == 0x70:  # ESC p m t1 t2: pulse the cash drawer
            if self.need(3) is not None:
                self.command("cash_drawer")
        elif cmd == 0x63:  # ESC c x n: paper sensors, panel buttons
            if self.need(2) is not None:
                self.command("panel")
        elif cmd == 0x2A:  # ESC * m nL nH d...: column image
            params = self.need(3)
            if params is None:
                return
            dots = params[1] + 256 * params[2]
            if self.need(dots * (3 if params[0] in (32, 33) else 1)) is not None:
                self.command("column_image")
        else:
            self.out.unknown.append(bytes(head))

    def esc_one(self, name: str, arg: int) -> None:
        self.command(name)
        st = self.style
        if name == "align":
            st.align = _ALIGN.get(arg, "left")
        elif name == "bold":
            st.bold = bool(arg & 1)
        elif name == "print_mode":  # ESC ! n sets font, emphasis and size together
            st.bold, st.dh, st.dw = bool(arg & 8), bool(arg & 16), bool(arg & 32)
        elif name == "codepage":
            self.out.codepages.append(arg)
            self.flush()
            self.encoding = CODE_PAGE_CODECS.get(arg, self.default_encoding)
        elif name == "feed":  # ESC d n: print the buffer, then feed n lines in all
            blank = arg - 1 if self.text else arg
            self.flush()
            self.out.elements.extend(PrintedLine("") for _ in range(max(0, blank)))

    def gs(self) -> None:
        head = self.need(2)
        if head is None:
            return
        cmd = head[1]
        if cmd == 0x56:  # GS V m [n]: cut
            mode = self.need(1)
            if mode is None:
                return
            if mode[0] in (65, 66, 97, 98, 103, 104) and self.need(1) is None:
                return
            if mode[0] not in (0, 1, 48, 49, 65, 66, 97, 98, 103, 104):
                self.out.unknown.append(b"\x1dV" + mode)
                return
            self.flush()
            self.out.cuts += 1
            self.command("cut")
        elif cmd == 0x28 and self.i < len(self.data) and self.data[self.i] in (0x6B, 0x4C):  # GS ( k / GS ( L
            kind = self.data[self.i]
            header = self.need(3)
            if header is None:
                return
            body = self.need(header[1] + 256 * header[2])
            if body is None:
                return
            (self.qr_function if kind == 0x6B else self.graphics_function)(bytes(body))
        elif cmd == 0x76:  # GS v 0 m xL xH yL yH d...: raster image
            params = self.need(6)
            if params is None:
                return
            if params[0] != 0x30:
                self.out.unknown.append(b"\x1dv" + params)
                return
            width_bytes = params[2] + 256 * params[3]
            height = params[4] + 256 * params[5]
            raster = self.need(width_bytes * height)
            if raster is None:
                return
            self.command("raster_image")
            self.add_image(_raster_to_image(bytes(raster), width_bytes * 8, height))
        elif cmd == 0x6B:  # GS k m ...: barcode
            self.barcode()
        elif cmd in _GS_ONE:
            arg = self.need(1)
            if arg is None:
                return
            self.command(_GS_ONE[cmd])
            if cmd == 0x21:  # GS ! n: width and height multipliers
                self.style.dw, self.style.dh = (arg[0] >> 4) > 0, (arg[0] & 0x0F) > 0
        elif cmd in _GS_TWO:
            if self.need(2) is not None:
                self.command(_GS_TWO[cmd])
        else:
            self.out.unknown.append(bytes(head))

    def barcode(self) -> None:
        m = self.need(1)
        if m is None:
            return
        if m[0] <= 6:  # data ends with NUL
            end = self.data.find(b"\x00", self.i)
            if end < 0:
                self.out.unknown.append(b"\x1dk" + m + self.data[self.i:])
                self.i = len(self.data)
                return
            self.i = end + 1
        else:
            n = self.need(1)
            if n is None or self.need(n[0]) is None:
                return
        self.flush()
        self.command("barcode")

    def qr_function(self, body: bytes) -> None:
        if len(body) < 2 or body[0] != 0x31:  # cn '1' = QR code; other 2D codes are not ours
            self.out.unknown.append(b"\x1d(k" + body[:2])
            return
        fn = body[1]
        if fn == 0x41:
            self.command("qr_model")
        elif fn == 0x43 and len(body) > 2:
            self.qr_size = body[2]
            self.command("qr_size")
        elif fn == 0x45 and len(body) > 2:
            self.qr_ec = _QR_EC.get(body[2], "L")
            self.command("qr_ec")
        elif fn == 0x50:  # store data: cn fn m d...
            self.qr_data = body[3:].decode("utf-8", "replace")
            self.command("qr_store")
        elif fn == 0x51:
            self.command("qr_print")
            if self.qr_data is not None:
                self.flush()
                self.out.qr_payloads.append(self.qr_data)
                self.out.elements.append(QrBlock(self.qr_data, self.qr_size, self.qr_ec, self.style.align))
        else:
            self.out.unknown.append(b"\x1d(k" + body[:2])

    def graphics_function(self, body: bytes) -> None:
        fn = body[1] if len(body) > 1 else None
        if fn == 0x70 and len(body) >= 10:  # m fn a bx by c xL xH yL yH d...: store raster
            width, height = body[6] + 256 * body[7], body[8] + 256 * body[9]
            width_bytes = (width + 7) // 8
            raster = body[10:10 + width_bytes * height]
            if len(raster) == width_bytes * height:
                self.graphics = _raster_to_image(raster, width_bytes * 8, height).crop((0, 0, width, height))
                self.command("graphics_store")
                return
        elif fn == 0x32:  # print the stored graphics
            self.command("graphics_print")
            if self.graphics is not None:
                self.add_image(self.graphics)
                self.graphics = None
            return
        self.out.unknown.append(b"\x1d(L" + body[:2])

    def add_image(self, image: Image.Image) -> None:
        self.flush()
        self.out.images.append(image)
        self.out.elements.append(ImageBlock(image, self.style.align))

    def dle(self) -> None:
        head = self.need(2)
        if head is None:
            return
        cmd = head[1]
        if cmd in (0x04, 0x05):  # DLE EOT n (status), DLE ENQ n (recover)
            if self.need(1) is not None:
                self.command("dle_eot" if cmd == 0x04 else "dle_enq")
        elif cmd == 0x14:  # DLE DC4 fn m t (real-time pulse / commands)
            if self.need(3) is not None:
                self.command("dle_dc4")
        else:
            self.out.unknown.append(bytes(head))

    def fs(self) -> None:
        head = self.need(2)
        if head is None:
            return
        cmd = head[1]
        if cmd in (0x2E, 0x26):  # FS . / FS &: leave or enter Kanji mode
            self.command("kanji_mode")
        elif cmd == 0x70:  # FS p n m: print NV bit image
            if self.need(2) is not None:
                self.command("nv_image")
        else:
            self.out.unknown.append(bytes(head))


def _raster_to_image(raster: bytes, width: int, height: int) -> Image.Image:
    """ESC/POS raster (1 bits are black dots) as a grey-scale image, black on white."""
    image = Image.frombytes("1", (width, height), raster)  # Pillow: 1 bits are white
    return Image.eval(image.convert("L"), lambda v: 255 - v)


def parse_escpos(data: bytes, *, encoding: str = "cp437") -> ParsedReceipt:
    """Decode ESC/POS bytes into what the paper would carry.

    ``encoding`` is the code page in force until an ``ESC t`` selects another.
    """
    return _Parser(bytes(data), encoding).run()


#: Fonts that draw every character of our code pages (cp437, cp858: é à ü ñ, box drawing
#: ...), tried in order: Debian's fonts-dejavu-core (monospaced, like the printer), then
#: the DejaVu Sans that Kivy bundles with the kiosk. Pillow's built-in font draws a box
#: for each of those characters.
_FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",)
_KIVY_FONT = ("data", "fonts", "DejaVuSans.ttf")


def _font_files() -> list[Path]:
    files = [Path(f) for f in _FONT_FILES]
    import importlib.util

    kivy = importlib.util.find_spec("kivy")  # finds the package without importing it (no window, no Kivy in devices/)
    if kivy is not None and kivy.submodule_search_locations:
        files.append(Path(list(kivy.submodule_search_locations)[0], *_KIVY_FONT))
    return files


@functools.lru_cache(maxsize=8)
def _font(size: int):
    """The preview's font at ``size`` pixels: the first of :data:`_FONT_FILES` (and Kivy's)
    found, else Pillow's own (which shows accented letters as boxes)."""
    for path in _font_files():
        if path.is_file():
            try:
                return ImageFont.truetype(str(path), size)
            except OSError:
                log.warning("preview font %s unreadable", path.name)
    log.warning("no preview font with accented letters found: they show as boxes")
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow older than 10.1: one bitmap size
        return ImageFont.load_default()


def _font_for_cell(cell: int):
    """The largest preview font (up to 1.8 cells high) whose "M" fits one printer cell, so
    a full line of a monospaced font is as wide as the paper, as on the printer."""
    size = int(cell * 1.8)
    font = _font(size)
    while size > cell and hasattr(font, "getlength") and font.getlength("M") > cell:
        size -= 1
        font = _font(size)
    return font


def render_png(
    parsed: ParsedReceipt,
    path: Union[Path, str, BinaryIO],
    *,
    paper_width_mm: int = 80,
) -> Path | None:
    """Draw the receipt on white "paper" as the printer would, and save it as PNG.

    Double width/height text is the normal glyphs stretched, as on the printer. Native QR
    codes are drawn with :mod:`qrcode` from the stored payload, module size and error level.
    """
    import qrcode

    width = DOTS_PER_LINE[paper_width_mm]
    cell = width // CHARS_PER_LINE[paper_width_mm]  # 12 dots: font A
    font = _font_for_cell(cell)
    line_height = int(cell * 2.4)
    blocks: list[tuple[Image.Image, str]] = []
    for element in parsed.elements:
        if isinstance(element, PrintedLine):
            blocks.append((_text_block(element, font, width, line_height), element.align))
        elif isinstance(element, QrBlock):
            code = qrcode.QRCode(box_size=max(1, element.module_size), border=4,
                                 error_correction=getattr(qrcode.constants, f"ERROR_CORRECT_{element.error_level}"))
            code.add_data(element.payload)
            code.make(fit=True)
            matrix = code.get_matrix()
            image = Image.new("L", (len(matrix), len(matrix)), 255)
            image.putdata([0 if dark else 255 for row in matrix for dark in row])
            side = len(matrix) * code.box_size
            blocks.append((image.resize((side, side), Image.NEAREST), element.align))
        elif isinstance(element, ImageBlock):
            blocks.append((element.image.convert("L"), element.align))
    total = sum(block.height for block, _ in blocks) + 2 * line_height
    paper = Image.new("L", (width, total), 255)
    y = line_height
    for block, align in blocks:
        block = block.crop((0, 0, min(width, block.width), block.height))
        x = {"center": (width - block.width) // 2, "right": width - block.width}.get(align, 0)
        paper.paste(block, (x, y))
        y += block.height
    if isinstance(path, (str, Path)):
        path = Path(path)
        paper.save(path, format="PNG")
        return path
    paper.save(path, format="PNG")
    return None


def _text_block(line: PrintedLine, font, width: int, line_height: int) -> Image.Image:
    """One line of text, as wide as it prints (stretched when double size)."""
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    text_width = max(1, int(probe.textlength(line.text, font=font)) + 2)
    block = Image.new("L", (text_width, line_height), 255)
    ImageDraw.Draw(block).text((1, 0), line.text, fill=0, font=font,
                               stroke_width=1 if line.bold else 0, stroke_fill=0)
    scale_x, scale_y = (2 if line.double_width else 1), (2 if line.double_height else 1)
    if scale_x > 1 or scale_y > 1:
        block = block.resize((text_width * scale_x, line_height * scale_y), Image.NEAREST)
    if block.width > width:  # a proportional font can run wider than the printer's cells
        block = block.resize((width, block.height), Image.LANCZOS)
    return block


#: The word that makes the bundled kiosk this module's child (``kiosk.launcher.CHILDREN``):
#: the file printer draws each receipt's preview in a child of its own, so this renderer,
#: its fonts and its pictures never load into the kiosk's UI process.
CHILD_WORD = "receipt-preview"


def main(argv: list[str]) -> int:
    """The child: draw the ESC/POS bytes in ``argv[0]`` as the PNG ``argv[1]`` (written and
    flushed to disk; the parent renames it into place), in code page ``argv[2]`` on paper
    ``argv[3]`` mm wide. 0 when drawn; 1, with the reason's name on standard error, when not."""
    if len(argv) != 4:
        print(f"usage: python -m devices.escpos_sim RECEIPT.bin OUT.png ENCODING PAPER_MM ({CHILD_WORD})",
              file=sys.stderr)
        return 2
    source, target, encoding, paper = argv
    try:
        parsed = parse_escpos(Path(source).read_bytes(), encoding=encoding)
        with open(target, "wb") as out:
            render_png(parsed, out, paper_width_mm=int(paper))
            out.flush()
            os.fsync(out.fileno())
    except Exception as exc:  # noqa: BLE001 - the parent logs the preview as not written
        print(f"receipt-preview: {type(exc).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
