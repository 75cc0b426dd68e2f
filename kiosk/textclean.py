"""One place that cleans text typed, scanned or received before it is kept, shown or printed.

- :func:`clean_input`: what a citizen types, before it is stored and shown on screen;
- :func:`clean_for_printer`: anything that goes to an ESC/POS printer, whose firmware
  acts on control bytes found in text (ESC @ resets, GS V cuts, ESC p opens a drawer).
"""
from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata

# Typographic characters a receipt printer's code page lacks, mapped to plain ones.
_PRINTER_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "*", "\u00b7": "*", "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ",
    "\u200a": " ", "\u2002": " ", "\u2003": " ",
})

# C0 controls, DEL and C1 controls (never printable, never wanted in stored text).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROLS_NO_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t]{2,}")

# What the kiosk font (Roboto) can draw: Latin, Latin-1, Latin Extended-A/B, IPA,
# spacing modifiers, combining marks, Greek, Cyrillic, general punctuation, super/
# subscripts, currency, letterlike symbols, number forms, arrows.
_SHOWABLE_RANGES = (
    (0x0020, 0x007E), (0x00A0, 0x024F), (0x0250, 0x02FF), (0x0300, 0x036F), (0x0370, 0x03FF),
    (0x0400, 0x04FF), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x2070, 0x209F), (0x20A0, 0x20CF),
    (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x21FF),
)
_UNSHOWABLE = re.compile(
    "[^\n" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _SHOWABLE_RANGES) + "]"
)
# Format characters: bidi overrides and isolates, zero-width characters, BOM, soft hyphen.
_FORMAT = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


@dataclasses.dataclass(frozen=True)
class CleanResult:
    text: str
    removed_controls: bool
    removed_unsupported: bool
    truncated: bool

    def merged(self, earlier: "CleanResult") -> "CleanResult":
        """This result, also flagging what an earlier pass over the same text removed."""
        return CleanResult(
            self.text,
            self.removed_controls or earlier.removed_controls,
            self.removed_unsupported or earlier.removed_unsupported,
            self.truncated or earlier.truncated,
        )


def _strip_controls(text: str, multiline: bool) -> tuple[str, bool]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    pattern = _CONTROLS if multiline else _CONTROLS_NO_NEWLINE
    cleaned = pattern.sub("", text)
    cleaned2 = _FORMAT.sub("", cleaned)
    return cleaned2, len(cleaned2) != len(text)


def clean_input(text: str, *, max_len: int, multiline: bool) -> CleanResult:
    """Clean what a citizen typed or pasted: NFKC, no controls, only showable glyphs, capped."""
    text = unicodedata.normalize("NFKC", text or "")
    text, removed_controls = _strip_controls(text, multiline)
    showable = _UNSHOWABLE.sub("", text)
    removed_unsupported = len(showable) != len(text)
    showable = _SPACES.sub(" ", showable)
    truncated = len(showable) > max_len
    if truncated:
        showable = showable[:max_len]
    return CleanResult(showable, removed_controls, removed_unsupported, truncated)


@functools.lru_cache(maxsize=4096)
def _printable_char(char: str, encoding: str) -> str:
    try:
        char.encode(encoding)
        return char
    except UnicodeEncodeError:
        pass
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    try:
        base.encode(encoding)
        return base if base and not _CONTROLS_NO_NEWLINE.search(base) else "?"
    except UnicodeEncodeError:
        return "?"


def clean_for_printer(text: str, *, encoding: str = "cp437", multiline: bool = False) -> str:
    """Text safe for the printer: encodable in ``encoding``, no control byte but ``\\n``
    when ``multiline``; what the code page lacks is transliterated or becomes ``?``."""
    text = unicodedata.normalize("NFKC", text or "").translate(_PRINTER_MAP)
    text, _ = _strip_controls(text, multiline)
    return "".join(_printable_char(c, encoding) if ord(c) > 0x7E else c for c in text)
