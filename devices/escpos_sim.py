"""Our printer simulator: parse ESC/POS bytes back into lines, QR codes, images and cuts,
and render them as a thermal receipt would look (PNG).

The parser knows the commands our layout and python-escpos emit; anything else, and any
control byte found in text, lands in :attr:`ParsedReceipt.unknown` so tests can prove that
nothing a citizen typed reaches the printer as a command.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

ESC, GS, DLE, LF, CR = 0x1B, 0x1D, 0x10, 0x0A, 0x0D
#: ESC x n and GS x n commands with exactly one parameter byte, and their names.
_ESC_ONE = {0x74: "codepage", 0x61: "align", 0x45: "bold", 0x21: "print_mode", 0x2D: "underline",
            0x4D: "font", 0x7B: "upside_down", 0x47: "double_strike", 0x56: "rotate", 0x64: "feed",
            0x4A: "feed_dots", 0x33: "line_spacing", 0x52: "charset"}
_GS_ONE = {0x21: "size", 0x62: "smoothing", 0x42: "invert", 0x48: "hri_position", 0x66: "hri_font",
           0x68: "barcode_height", 0x77: "barcode_width"}
PAPER_PIXELS = {80: 576, 58: 384}


@dataclasses.dataclass(frozen=True)
class PrintedLine:
    text: str
    bold: bool = False
    double_width: bool = False
    double_height: bool = False
    align: str = "left"


@dataclasses.dataclass
class ParsedReceipt:
    elements: list = dataclasses.field(default_factory=list)  # PrintedLine | ("qr", payload, size) | Image
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


class _State:
    def __init__(self):
        self.reset()

    def reset(self):
        self.align, self.bold, self.dw, self.dh = "left", False, False, False
        self.qr_size, self.qr_data = 3, None


def parse_escpos(data: bytes, *, encoding: str = "cp437") -> ParsedReceipt:
    """Decode ESC/POS bytes into what the paper would carry."""
    out, st = ParsedReceipt(), _State()
    text = bytearray()
    i, n = 0, len(data)

    def flush(force: bool = False):
        if text or force:
            out.elements.append(PrintedLine(bytes(text).decode(encoding, "replace"), st.bold, st.dw, st.dh, st.align))
            text.clear()

    while i < n:
        b = data[i]
        if b == LF:
            flush(force=True)
            i += 1
        elif b == CR:
            i += 1
        elif b == ESC and i + 1 < n:
            cmd = data[i + 1]
            if cmd == 0x40:
                flush()
                st.reset()
                out.commands.append("init")
                i += 2
            elif cmd == 0x70 and i + 4 < n + 1:
                out.commands.append("cash_drawer")
                i += 5
            elif cmd in _ESC_ONE and i + 2 < n:
                name, arg = _ESC_ONE[cmd], data[i + 2]
                flush()
                out.commands.append(name)
                if name == "align":
                    st.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(arg, "left")
                elif name == "bold":
                    st.bold = bool(arg & 1)
                elif name == "print_mode":
                    st.bold, st.dh, st.dw = bool(arg & 8), bool(arg & 16), bool(arg & 32)
                elif name == "codepage":
                    out.codepages.append(arg)
                elif name == "feed":
                    out.elements.extend(PrintedLine("") for _ in range(arg))
                i += 3
            else:
                out.unknown.append(data[i:i + 2])
                i += 2
        elif b == GS and i + 1 < n:
            cmd = data[i + 1]
            if cmd == 0x56 and i + 2 < n:  # GS V: cut
                flush()
                out.cuts += 1
                out.commands.append("cut")
                i += 4 if data[i + 2] in (65, 66, 97, 98) else 3
            elif cmd == 0x28 and i + 4 < n and data[i + 2] == 0x6B:  # GS ( k
                length = data[i + 3] + 256 * data[i + 4]
                body = data[i + 5:i + 5 + length]
                i += 5 + length
                _two_d_code(body, out, st, flush)
            elif cmd == 0x76 and i + 7 < n and data[i + 2] == 0x30:  # GS v 0 raster
                width_bytes = data[i + 4] + 256 * data[i + 5]
                height = data[i + 6] + 256 * data[i + 7]
                raster = data[i + 8:i + 8 + width_bytes * height]
                i += 8 + width_bytes * height
                flush()
                image = Image.frombytes("1", (width_bytes * 8, height), bytes(raster))
                image = Image.eval(image.convert("L"), lambda v: 255 - v)  # 1 bits are black dots
                out.images.append(image)
                out.elements.append(image)
                out.commands.append("raster_image")
            elif cmd in _GS_ONE and i + 2 < n:
                flush()
                name, arg = _GS_ONE[cmd], data[i + 2]
                out.commands.append(name)
                if name == "size":
                    st.dw, st.dh = (arg >> 4) > 0, (arg & 0x0F) > 0
                i += 3
            else:
                out.unknown.append(data[i:i + 2])
                i += 2
        elif b == DLE and i + 2 < n + 1:
            out.commands.append("dle_eot" if i + 1 < n and data[i + 1] == 0x04 else "dle")
            out.unknown.append(data[i:i + 3])
            i += 3
        elif b < 0x20 or b == 0x7F:
            out.unknown.append(bytes([b]))
            i += 1
        else:
            text.append(b)
            i += 1
    flush()
    return out


def _two_d_code(body: bytes, out: ParsedReceipt, st: _State, flush) -> None:
    if len(body) < 2 or body[0] != 0x31:  # cn '1' = QR code
        out.unknown.append(b"\x1d(k" + body[:2])
        return
    fn = body[1]
    if fn == 0x41:
        out.commands.append("qr_model")
    elif fn == 0x43:
        st.qr_size = body[2] if len(body) > 2 else 3
        out.commands.append("qr_size")
    elif fn == 0x45:
        out.commands.append("qr_ec")
    elif fn == 0x50:  # store data: cn fn m d...
        st.qr_data = body[3:].decode("utf-8", "replace")
        out.commands.append("qr_store")
    elif fn == 0x51:
        out.commands.append("qr_print")
        if st.qr_data is not None:
            flush()
            out.qr_payloads.append(st.qr_data)
            out.elements.append(("qr", st.qr_data, st.qr_size))
    else:
        out.unknown.append(b"\x1d(k" + body[:2])


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def render_png(parsed: ParsedReceipt, path: Path, *, paper_width_mm: int = 80) -> Path:
    """Draw the receipt on white "paper", as the printer would, and save it as PNG."""
    import qrcode

    width = PAPER_PIXELS[paper_width_mm]
    chars = 48 if paper_width_mm == 80 else 32
    normal = _font(int(width / chars * 1.7))
    big = _font(int(width / chars * 3.4))
    blocks: list[Image.Image] = []
    for element in parsed.elements:
        if isinstance(element, PrintedLine):
            font = big if (element.double_width or element.double_height) else normal
            height = int(font.size * 1.35)
            block = Image.new("L", (width, height), 255)
            draw = ImageDraw.Draw(block)
            text_width = draw.textlength(element.text, font=font)
            x = {"center": (width - text_width) / 2, "right": width - text_width}.get(element.align, 0)
            draw.text((max(0, x), 0), element.text, fill=0, font=font,
                      stroke_width=1 if element.bold else 0, stroke_fill=0)
            blocks.append(block)
        elif isinstance(element, tuple) and element[0] == "qr":
            _, payload, module = element
            qr = qrcode.QRCode(box_size=module, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
            qr.add_data(payload)
            qr.make(fit=True)
            blocks.append(_centered(qr.make_image().convert("L"), width))
        elif isinstance(element, Image.Image):
            blocks.append(_centered(element, width))
    total = sum(b.height for b in blocks) + 40
    paper = Image.new("L", (width, total), 255)
    y = 20
    for block in blocks:
        paper.paste(block, (0, y))
        y += block.height
    path = Path(path)
    paper.save(path)
    return path


def _centered(image: Image.Image, width: int) -> Image.Image:
    canvas = Image.new("L", (width, image.height), 255)
    canvas.paste(image.crop((0, 0, min(width, image.width), image.height)), (max(0, (width - image.width) // 2), 0))
    return canvas
