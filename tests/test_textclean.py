"""One cleaning module for everything typed, scanned or received."""
from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.textclean import clean_for_printer, clean_input

HOSTILE = ["\x1b@", "\x1dV\x00", "\x10\x04", "\x1bp\x00\x19\xfa", "\x9b", "\x00", "\x7f"]


@pytest.mark.parametrize("bad", HOSTILE)
def test_printer_control_sequences_vanish_from_input(bad):
    result = clean_input(f"Jalan{bad}rusak", max_len=100, multiline=False)
    assert not any(ch in result.text for ch in "\x1b\x1d\x10\x00\x7f\x9b")
    assert result.removed_controls


@pytest.mark.parametrize("text", ["\U0001F621 marah", "\u0627\u0644\u0637\u0631\u064a\u0642 jalan", "\u05e9\u05dc\u05d5\u05dd jalan", "\u4e2d\u6587 jalan"])
def test_unshowable_scripts_and_emoji_are_removed_with_a_flag(text):
    result = clean_input(text, max_len=100, multiline=False)
    assert result.removed_unsupported
    assert result.text.strip() in ("marah", "jalan")


def test_indonesian_and_accented_text_is_kept():
    text = "Pelayanan di Kecamatan Teweh Tengah—lambat; café «ok» résumé"
    result = clean_input(text, max_len=200, multiline=False)
    assert result.text == text
    assert not (result.removed_controls or result.removed_unsupported or result.truncated)


def test_bidi_overrides_and_zero_width_are_removed():
    result = clean_input("ab\u202ecd\u200bef\ufeff", max_len=100, multiline=False)
    assert result.text == "abcdef" and result.removed_controls


def test_newlines_only_when_multiline():
    assert clean_input("a\r\nb\rc", max_len=10, multiline=True).text == "a\nb\nc"
    assert clean_input("a\r\nb", max_len=10, multiline=False).text == "a b"


def test_giant_paste_is_cut_fast():
    garbage = ("Jalan rusak \x1b@ \U0001F621 \u0627 é\n" * 5000)[:100_000]
    started = time.perf_counter()
    result = clean_input(garbage, max_len=4000, multiline=True)
    elapsed = time.perf_counter() - started
    assert len(result.text) == 4000 and result.truncated
    assert elapsed < 1.0  # generous: measured ~10 ms; this only guards against quadratic work


@given(st.text(), st.integers(0, 500), st.booleans())
def test_clean_input_properties(text, max_len, multiline):
    result = clean_input(text, max_len=max_len, multiline=multiline)
    assert len(result.text) <= max_len
    assert not any(ord(c) < 0x20 and c != "\n" for c in result.text)
    assert multiline or "\n" not in result.text
    assert clean_input(result.text, max_len=max_len, multiline=multiline).text == result.text or result.truncated


@pytest.mark.parametrize("encoding", ["cp437", "cp858"])
@given(text=st.text(), multiline=st.booleans())
def test_printer_text_always_encodes_without_control_bytes(encoding, text, multiline):
    cleaned = clean_for_printer(text, encoding=encoding, multiline=multiline)
    data = cleaned.encode(encoding)
    allowed = {0x0A} if multiline else set()
    assert all(b >= 0x20 or b in allowed for b in data)
    assert 0x7F not in data


def test_printer_mapping_is_sensible():
    assert clean_for_printer("“Kantor” – ‘baik’…") == "\"Kantor\" - 'baik'..."
    assert clean_for_printer("Kecamatan Teweh Şelatan") == "Kecamatan Teweh Selatan"
    assert clean_for_printer("\U0001F621") == "?"
    for bad in HOSTILE:
        assert all(byte >= 0x20 and byte != 0x7F for byte in clean_for_printer(f"a{bad}b").encode("cp437"))
