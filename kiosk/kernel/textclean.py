"""One place that cleans text typed, scanned or received before it is kept, shown or printed.

- :func:`clean_input`: what a citizen types, before it is stored and shown on screen;
- :func:`clean_for_printer`: anything that goes to an ESC/POS printer, whose firmware
  acts on control bytes found in text (ESC @ resets, GS V cuts, ESC p opens a drawer).

Both share the character classes below (controls, format characters, line breaks);
every table is a literal, so importing this module does no work.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import re
import unicodedata

log = logging.getLogger(__name__)


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """The inside of a regex ``[...]`` class matching the given inclusive code point ranges."""
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" if hi > lo else f"\\U{lo:08x}" for lo, hi in ranges)


# C0 controls, DEL and C1 controls (general category Cc).
_CONTROL_RANGES = ((0x0000, 0x001F), (0x007F, 0x009F))

# Unicode format characters (general category Cf, Unicode 14.0 as in Python 3.11): soft
# hyphen, bidi embeddings/overrides/isolates, zero-width characters, BOM, tag characters.
# tests/unit/test_textclean.py checks this table against unicodedata.
_FORMAT_RANGES = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)

# What the kiosk font can draw: the code points Kivy's Roboto-Regular.ttf maps to a glyph
# (Latin, Latin-1, Latin Extended-A and the Vietnamese letters, a little of Extended-B,
# Greek, Cyrillic, general punctuation, currency), minus controls, format characters and
# private use. tests/unit/test_textclean.py checks this table against the font file itself.
_FONT_RANGES = (
    (0x0020, 0x007E), (0x00A0, 0x00AC), (0x00AE, 0x017F), (0x018F, 0x018F), (0x0192, 0x0192),
    (0x01A0, 0x01A1), (0x01AF, 0x01B0), (0x01F0, 0x01F0), (0x01FA, 0x01FF), (0x0218, 0x021B),
    (0x0237, 0x0237), (0x0259, 0x0259), (0x02BC, 0x02BC), (0x02C6, 0x02C7), (0x02C9, 0x02C9),
    (0x02D8, 0x02DD), (0x02F3, 0x02F3), (0x0300, 0x0301), (0x0303, 0x0303), (0x0309, 0x0309),
    (0x030F, 0x030F), (0x0323, 0x0323), (0x0384, 0x038A), (0x038C, 0x038C), (0x038E, 0x03A1),
    (0x03A3, 0x03CE), (0x03D1, 0x03D2), (0x03D6, 0x03D6), (0x0400, 0x0486), (0x0488, 0x0513),
    (0x1E00, 0x1E01), (0x1E3E, 0x1E3F), (0x1E80, 0x1E85), (0x1EA0, 0x1EF9), (0x1F4D, 0x1F4D),
    (0x2000, 0x200A), (0x2010, 0x2011), (0x2013, 0x2015), (0x2017, 0x201E), (0x2020, 0x2022),
    (0x2025, 0x2027), (0x2030, 0x2030), (0x2032, 0x2033), (0x2039, 0x203A), (0x203C, 0x203C),
    (0x2044, 0x2044), (0x2074, 0x2074), (0x207F, 0x207F), (0x20A3, 0x20A4), (0x20A6, 0x20AC),
    (0x20B1, 0x20B1), (0x20B9, 0x20BA), (0x20BC, 0x20BD), (0x2105, 0x2105), (0x2113, 0x2113),
    (0x2116, 0x2116), (0x2122, 0x2122), (0x2126, 0x2126), (0x212E, 0x212E), (0x215B, 0x215E),
    (0x2202, 0x2202), (0x2206, 0x2206), (0x220F, 0x220F), (0x2211, 0x2212), (0x221A, 0x221A),
    (0x221E, 0x221E), (0x222B, 0x222B), (0x2248, 0x2248), (0x2260, 0x2260), (0x2264, 0x2265),
    (0x25CA, 0x25CA), (0xFB01, 0xFB04), (0xFFFC, 0xFFFD),
)
# The combining marks among them (category M). A mark left behind by a removed character
# is removed with it, so cleaning never joins a mark onto a different letter and cleaning
# twice gives the same text.
_FONT_MARK_RANGES = (
    (0x0300, 0x0301), (0x0303, 0x0303), (0x0309, 0x0309), (0x030F, 0x030F), (0x0323, 0x0323),
    (0x0483, 0x0486), (0x0488, 0x0489),
)
_MAX_MARKS = 2  # combining marks kept on one letter ("Zalgo" text would spill over the screen)

_MARKS = "[" + _char_class(_FONT_MARK_RANGES) + "]"
# Line breaks other than LF are made LF first (str.replace: far faster than translate).
_LINE_BREAKS = (("\r\n", "\n"), ("\r", "\n"), ("\u2028", "\n"), ("\u2029", "\n"), ("\t", " "))
# Each pattern matches a run of unwanted characters with the marks that follow them.
_CONTROL_OR_FORMAT = re.compile(
    "(?:[" + _char_class(_CONTROL_RANGES + _FORMAT_RANGES) + "]" + _MARKS + "*)+"
)
_CONTROL_OR_FORMAT_BUT_NEWLINE = re.compile(
    "(?:[" + _char_class(((0x00, 0x09), (0x0B, 0x1F), (0x7F, 0x9F)) + _FORMAT_RANGES) + "]" + _MARKS + "*)+"
)
_UNSHOWABLE = re.compile("(?:[^\n" + _char_class(_FONT_RANGES) + "]" + _MARKS + "*)+")
_TOO_MANY_MARKS = re.compile(f"({_MARKS}{{{_MAX_MARKS}}}){_MARKS}+")
_SPACES = re.compile(" {2,}")


@dataclasses.dataclass(frozen=True)
class CleanResult:
    """Cleaned text and what cleaning did to it (the screen turns the flags into notices)."""

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


def _unify_lines(text: str, multiline: bool) -> str:
    """CRLF, CR, U+2028/2029 -> LF; tab -> space; LF -> space unless ``multiline``."""
    for old, new in _LINE_BREAKS:
        text = text.replace(old, new)
    return text if multiline else text.replace("\n", " ")


def _strip_controls(text: str, multiline: bool) -> str:
    """Drop C0/C1 controls, DEL and format characters (keeping LF when ``multiline``)."""
    pattern = _CONTROL_OR_FORMAT_BUT_NEWLINE if multiline else _CONTROL_OR_FORMAT
    return pattern.sub("", text)


def clean_input(text: str, *, max_len: int, multiline: bool) -> CleanResult:
    """Clean what a citizen typed or pasted: NFKC, no controls, only glyphs the font has,
    single spaces, at most ``max_len`` characters. Cleaning the result again changes nothing."""
    text = _unify_lines(unicodedata.normalize("NFKC", text or ""), multiline)
    stripped = _strip_controls(text, multiline)
    removed_controls = len(stripped) != len(text)
    showable = _TOO_MANY_MARKS.sub(r"\1", _UNSHOWABLE.sub("", stripped))
    removed_unsupported = len(showable) != len(stripped)
    showable = _SPACES.sub(" ", showable)
    truncated = len(showable) > max(0, max_len)
    if truncated:
        showable = showable[:max(0, max_len)]
    return CleanResult(showable, removed_controls, removed_unsupported, truncated)


# Typographic characters a receipt printer's code page lacks, mapped to plain ones.
_PRINTER_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "*", "\u00b7": "*", "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ",
    "\u200a": " ", "\u2002": " ", "\u2003": " ", "\u3000": " ",
})
# Letters with no decomposition, spelled in plain Latin when the code page lacks them.
_TRANSLIT = {
    "\u00f8": "o", "\u00d8": "O", "\u0111": "d", "\u0110": "D", "\u0142": "l", "\u0141": "L",
    "\u0131": "i", "\u0153": "oe", "\u0152": "OE", "\u00e6": "ae", "\u00c6": "AE", "\u00df": "ss",
    "\u00fe": "th", "\u00de": "Th", "\u00f0": "d", "\u00d0": "D", "\u20ac": "EUR",
}
_NOT_PLAIN_ASCII = re.compile("[^\n\x20-\x7e]")


@functools.lru_cache(maxsize=4096)
def _printable_char(char: str, encoding: str) -> str:
    """``char`` if the code page has it, else a plain spelling, else ``?`` (marks vanish)."""
    if _CONTROL_OR_FORMAT.fullmatch(char):
        return ""
    try:
        char.encode(encoding)
        return char
    except UnicodeEncodeError:
        pass
    for base in (_TRANSLIT.get(char, ""),
                 "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))):
        if base and not _CONTROL_OR_FORMAT.search(base):
            try:
                base.encode(encoding)
                return base
            except UnicodeEncodeError:
                pass
    return "" if unicodedata.combining(char) else "?"


def clean_for_printer(text: str, *, encoding: str = "cp437", multiline: bool = False) -> str:
    """Text safe for the printer: encodable in ``encoding``, no control byte but ``\\n``
    when ``multiline``; what the code page lacks is transliterated or becomes ``?``."""
    text = unicodedata.normalize("NFKC", text or "").translate(_PRINTER_MAP)
    text = _strip_controls(_unify_lines(text, multiline), multiline)
    return _NOT_PLAIN_ASCII.sub(lambda m: _printable_char(m.group(), encoding), text)
