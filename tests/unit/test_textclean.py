"""One cleaning module for everything typed, scanned or received."""
from __future__ import annotations

import importlib.util
import pathlib
import struct
import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.kernel import textclean
from kiosk.kernel.textclean import CleanResult, clean_for_printer, clean_input

HOSTILE = ["\x1b@", "\x1dV\x00", "\x1dVA\x10", "\x10\x04\x01", "\x1bp\x00\x19\xfa", "\x9b", "\x00", "\x7f", "\x85"]
PRINTER_BYTES_SEEN = set("\x1b\x1d\x10\x00\x7f\x9b\x85")


def in_ranges(cp: int, ranges) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


FONT_CHARS = frozenset(
    chr(cp) for lo, hi in textclean._FONT_RANGES for cp in range(lo, hi + 1)
)


def roboto_code_points() -> set[int]:
    """Code points Kivy's Roboto-Regular.ttf maps (cmap formats 4 and 12), read without Kivy."""
    spec = importlib.util.find_spec("kivy")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("Kivy (and its Roboto font) is not installed")
    path = pathlib.Path(spec.submodule_search_locations[0], "data", "fonts", "Roboto-Regular.ttf")
    data = path.read_bytes()
    tables = {}
    for i in range(struct.unpack(">H", data[4:6])[0]):
        tag, _, offset, _ = struct.unpack(">4sIII", data[12 + 16 * i:28 + 16 * i])
        tables[tag] = offset
    base = tables[b"cmap"]
    found: set[int] = set()
    for i in range(struct.unpack(">H", data[base + 2:base + 4])[0]):
        _, _, offset = struct.unpack(">HHI", data[base + 4 + 8 * i:base + 12 + 8 * i])
        t = base + offset
        fmt = struct.unpack(">H", data[t:t + 2])[0]
        if fmt == 4:
            seg2 = struct.unpack(">H", data[t + 6:t + 8])[0]
            seg = seg2 // 2
            ends = struct.unpack(f">{seg}H", data[t + 14:t + 14 + seg2])
            starts = struct.unpack(f">{seg}H", data[t + 16 + seg2:t + 16 + 2 * seg2])
            deltas = struct.unpack(f">{seg}h", data[t + 16 + 2 * seg2:t + 16 + 3 * seg2])
            ro_at = t + 16 + 3 * seg2
            range_offsets = struct.unpack(f">{seg}H", data[ro_at:ro_at + seg2])
            for k, (start, end, delta, ro) in enumerate(zip(starts, ends, deltas, range_offsets)):
                for cp in range(start, min(end, 0xFFFE) + 1):
                    if ro == 0:
                        glyph = (cp + delta) & 0xFFFF
                    else:
                        at = ro_at + 2 * k + ro + 2 * (cp - start)
                        glyph = struct.unpack(">H", data[at:at + 2])[0]
                        glyph = (glyph + delta) & 0xFFFF if glyph else 0
                    if glyph:
                        found.add(cp)
        elif fmt == 12:
            for j in range(struct.unpack(">I", data[t + 12:t + 16])[0]):
                start, end, _ = struct.unpack(">III", data[t + 16 + 12 * j:t + 28 + 12 * j])
                found.update(range(start, end + 1))
    return found


# --- the tables -----------------------------------------------------------------------


def test_format_table_is_exactly_unicode_category_cf():
    cf = {cp for cp in range(0x110000) if unicodedata.category(chr(cp)) == "Cf"}
    table = {cp for lo, hi in textclean._FORMAT_RANGES for cp in range(lo, hi + 1)}
    assert table == cf, f"Unicode {unicodedata.unidata_version}: regenerate _FORMAT_RANGES"


def test_font_table_is_exactly_what_the_kiosk_font_draws():
    """GIVEN Kivy's default font, the one every screen uses
    THEN the showable table is its cmap minus controls, format chars, line/paragraph
    separators and private use: nothing shown as a box, nothing drawable thrown away."""
    excluded = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
    expected = {cp for cp in roboto_code_points() if unicodedata.category(chr(cp)) not in excluded}
    assert {ord(c) for c in FONT_CHARS} == expected


def test_mark_table_is_the_marks_the_font_draws():
    marks = {ord(c) for c in FONT_CHARS if unicodedata.category(c).startswith("M")}
    assert {cp for lo, hi in textclean._FONT_MARK_RANGES for cp in range(lo, hi + 1)} == marks


# --- clean_input --------------------------------------------------------------------


@pytest.mark.parametrize("multiline", [False, True])
@pytest.mark.parametrize("bad", HOSTILE)
def test_printer_control_sequences_vanish_from_input(bad, multiline):
    result = clean_input(f"Jalan{bad}rusak", max_len=100, multiline=multiline)
    assert not PRINTER_BYTES_SEEN & set(result.text)
    assert result.removed_controls and not result.truncated
    assert result.text.startswith("Jalan") and result.text.endswith("rusak")


@pytest.mark.parametrize("text,kept", [
    ("\U0001F621 marah", "marah"),
    ("\U0001F1EE\U0001F1E9 bendera", "bendera"),  # flag emoji (regional indicators)
    ("\u0627\u0644\u0637\u0631\u064a\u0642 jalan", "jalan"),  # Arabic
    ("\u05e9\u05b8\u05dc\u05d5\u05b9\u05dd jalan", "jalan"),  # Hebrew with points
    ("\u4e2d\u6587 jalan", "jalan"),  # CJK
    ("\ue000\U000f0000 jalan", "jalan"),  # private use
    ("\u2192 jalan", "jalan"),  # an arrow Roboto does not have
])
def test_unshowable_characters_are_removed_with_a_flag(text, kept):
    result = clean_input(text, max_len=100, multiline=False)
    assert result.removed_unsupported and not result.removed_controls
    assert result.text.strip() == kept


def test_lone_surrogates_are_removed():
    result = clean_input("a\ud800b\udfffc", max_len=10, multiline=False)
    assert result.text == "abc" and result.removed_unsupported


def test_indonesian_and_accented_text_is_kept():
    text = ("Pelayanan KTP-el di Kecamatan Teweh Tengah—lambat; «antre» 3 jam, biaya Rp 50.000 "
            "tanpa kuitansi. Café, résumé, naïve, Việt, Łódź, Ελλάδα, Москва, 10 € / 5 $.")
    result = clean_input(text, max_len=500, multiline=False)
    assert result == CleanResult(text, False, False, False)


def test_bidi_overrides_zero_width_and_tags_are_removed_as_controls():
    result = clean_input("ab\u202ecd\u200bef\ufeffg\u2066h\u2069\U000E0001\U000E0041i", max_len=100, multiline=False)
    assert result.text == "abcdefghi" and result.removed_controls and not result.removed_unsupported


def test_newlines_only_when_multiline():
    assert clean_input("a\r\nb\rc\u2028d\u2029e", max_len=20, multiline=True).text == "a\nb\nc\nd\ne"
    assert clean_input("a\r\nb\nc", max_len=20, multiline=False).text == "a b c"


def test_tabs_and_runs_of_spaces_become_one_space():
    result = clean_input("a \t  b\u00a0\u2003c", max_len=20, multiline=False)
    assert result.text == "a b c" and not result.removed_controls


def test_compatibility_forms_are_normalised():
    assert clean_input("\uff2a\uff41\uff4c\uff41\uff4e \ufb01le", max_len=20, multiline=False).text == "Jalan file"


def test_accent_is_not_moved_onto_another_letter_by_removing_a_control():
    """GIVEN 'e', a NUL, then a combining acute accent
    THEN the accent goes with the NUL it followed, rather than turning 'e' into 'é'
    (which a second cleaning would otherwise do: cleaning must be stable)."""
    result = clean_input("e\x00\u0301", max_len=10, multiline=False)
    assert result.text == "e" and result.removed_controls


def test_stacked_combining_marks_are_capped():
    result = clean_input("a" + "\u0301\u0300\u0303" * 50 + "b", max_len=500, multiline=False)
    assert len(result.text) == 1 + 1 + 2 + 1 - 1  # 'á' (one char after NFKC) + 2 marks + 'b'
    assert result.removed_unsupported


@pytest.mark.parametrize("max_len", [0, 1, 5])
def test_max_len_is_a_hard_cap(max_len):
    result = clean_input("abcdefgh", max_len=max_len, multiline=False)
    assert result.text == "abcdefgh"[:max_len] and result.truncated


def test_merged_keeps_the_flags_of_both_passes():
    later = CleanResult("x", False, False, True)
    merged = later.merged(CleanResult("y", True, False, False))
    assert merged == CleanResult("x", True, False, True)


GARBAGE_PIECES = [
    "Jalan rusak ", "\x1b@", "\x1dV\x00", "\x10\x04", "\x1bp\x00", "\x9b", "\U0001F621", "\u0627\u0644",
    "\u05e9", "\u4e2d", "\u202e", "\u200b", "\ufeff", "é", "e\u0301", "\u0301\u0300\u0303", "\r\n",
    "\t", "   ", "\ud800", "\ue000", "\uff21", "\ufb01", "Ş", "ệ",
]


def assert_clean(result: CleanResult, max_len: int, multiline: bool) -> None:
    assert len(result.text) <= max_len
    assert all(c in FONT_CHARS or (multiline and c == "\n") for c in result.text)
    assert "  " not in result.text
    again = clean_input(result.text, max_len=max_len, multiline=multiline)
    assert again == CleanResult(result.text, False, False, False), "cleaning twice must change nothing"


def test_giant_paste_is_cut_fast():
    garbage = ("".join(GARBAGE_PIECES) * 3000)[:100_000]
    assert len(garbage) == 100_000
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        result = clean_input(garbage, max_len=4000, multiline=True)
        timings.append(time.perf_counter() - started)
    assert result.truncated and result.removed_controls and result.removed_unsupported
    assert len(result.text) == 4000
    assert_clean(result, 4000, True)
    assert min(timings) < 0.050, f"clean_input on 100k chars took {min(timings) * 1000:.1f} ms"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(GARBAGE_PIECES) | st.text(max_size=4), min_size=1, max_size=40),
       st.integers(0, 5000), st.booleans())
def test_100k_of_generated_garbage(pieces, max_len, multiline):
    chunk = "".join(pieces) or "x"
    text = (chunk * (100_000 // len(chunk) + 1))[:100_000]
    started = time.perf_counter()
    result = clean_input(text, max_len=max_len, multiline=multiline)
    elapsed = time.perf_counter() - started
    assert_clean(result, max_len, multiline)
    assert elapsed < 0.25  # a generous bound that still catches quadratic work


@given(st.text(st.characters(blacklist_categories=())), st.integers(0, 300), st.booleans())
def test_clean_input_properties(text, max_len, multiline):
    result = clean_input(text, max_len=max_len, multiline=multiline)
    assert_clean(result, max_len, multiline)
    assert result.truncated == (len(clean_input(text, max_len=10**9, multiline=multiline).text) > max_len)


# --- clean_for_printer ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp437", "cp858"])
@given(text=st.text(st.characters(blacklist_categories=())), multiline=st.booleans())
def test_printer_text_always_encodes_without_control_bytes(encoding, text, multiline):
    cleaned = clean_for_printer(text, encoding=encoding, multiline=multiline)
    data = cleaned.encode(encoding)
    allowed = {0x0A} if multiline else set()
    assert all(b >= 0x20 or b in allowed for b in data)
    assert 0x7F not in data


@pytest.mark.parametrize("encoding", ["cp437", "cp858"])
@pytest.mark.parametrize("bad", HOSTILE)
def test_printer_commands_in_text_vanish(encoding, bad):
    """The command introducers go; their printable parameter bytes stay as harmless text."""
    harmless = "".join(c for c in bad if " " <= c < "\x7f" or c > "\x9f")
    assert clean_for_printer(f"a{bad}b", encoding=encoding) == f"a{harmless}b"


def test_printer_mapping_is_sensible():
    assert clean_for_printer("\u201cKantor\u201d \u2013 \u2018baik\u2019\u2026 \u2022 a\u2014b\u22121") == "\"Kantor\" - 'baik'... * a-b-1"
    assert clean_for_printer("Kecamatan Teweh \u015eelatan, \u015f") == "Kecamatan Teweh Selatan, s"
    assert clean_for_printer("caf\u00e9 na\u00efve \u00c7") == "caf\u00e9 na\u00efve \u00c7"  # cp437 has them
    assert clean_for_printer("e\u0301") == "\u00e9"
    assert clean_for_printer("\u0141\u00f3d\u017a \u00f8") == "L\u00f3dz o"
    assert clean_for_printer("\U0001F621") == "?"
    assert clean_for_printer("a\u200bb\u202ec") == "abc"
    assert clean_for_printer("a\u00a0b\u2003c") == "a b c"


def test_printer_euro_depends_on_the_code_page():
    assert clean_for_printer("10 \u20ac", encoding="cp437") == "10 EUR"
    assert clean_for_printer("10 \u20ac", encoding="cp858") == "10 \u20ac"


def test_printer_newlines():
    assert clean_for_printer("a\r\nb", multiline=True) == "a\nb"
    assert clean_for_printer("a\r\nb\tc", multiline=False) == "a b c"
