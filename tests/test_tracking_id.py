"""Tracking IDs: unique by kiosk code, unguessable, and a check symbol that catches typos."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.tracking_id import (
    ALPHABET, CANONICAL_LEN, DISPLAY_LEN, RANDOM_BITS, TrackingIdError, format_tracking_id,
    is_valid_tracking_id, kiosk_code_of, new_tracking_id, normalize_kiosk_code, parse_tracking_id,
)

kiosk_codes = st.text(alphabet=ALPHABET, min_size=4, max_size=4)
random_numbers = st.integers(min_value=0, max_value=2**RANDOM_BITS - 1)


def make(code: str, number: int) -> str:
    return new_tracking_id(code, randbits=lambda bits: number)


@given(kiosk_codes, random_numbers)
def test_round_trip_through_display_form(code, number):
    tid = make(code, number)
    shown = format_tracking_id(tid)
    assert len(tid) == CANONICAL_LEN and len(shown) == DISPLAY_LEN
    assert parse_tracking_id(shown) == tid
    assert kiosk_code_of(tid) == code


@given(kiosk_codes, random_numbers, st.data())
def test_every_single_substitution_is_caught(code, number, data):
    tid = make(code, number)
    position = data.draw(st.integers(0, CANONICAL_LEN - 1))
    other = data.draw(st.sampled_from([c for c in ALPHABET if c != tid[position]]))
    typo = tid[:position] + other + tid[position + 1:]
    with pytest.raises(TrackingIdError) as info:
        parse_tracking_id(typo)
    assert info.value.code == "check"


@given(kiosk_codes, random_numbers)
def test_every_adjacent_swap_is_caught(code, number):
    tid = make(code, number)
    for i in range(CANONICAL_LEN - 1):
        if tid[i] == tid[i + 1]:
            continue
        swapped = tid[:i] + tid[i + 1] + tid[i] + tid[i + 2:]
        assert not is_valid_tracking_id(swapped), (tid, i)


def test_exhaustive_substitutions_for_one_id():
    tid = new_tracking_id("MT01")
    for position in range(CANONICAL_LEN):
        for other in ALPHABET:
            if other != tid[position]:
                assert not is_valid_tracking_id(tid[:position] + other + tid[position + 1:])


@given(kiosk_codes, random_numbers, st.data())
def test_typing_tolerance(code, number, data):
    tid = make(code, number)
    typed = format_tracking_id(tid).lower().replace("-", data.draw(st.sampled_from([" ", "-", "", " - ", "_", "."])))
    typed = typed.replace("0", data.draw(st.sampled_from(["0", "o", "O"]))).replace("1", data.draw(st.sampled_from(["1", "i", "l", "L", "I"])))
    assert parse_tracking_id(f"  {typed} ") == tid


@pytest.mark.parametrize(
    "text,code",
    [("", "empty"), ("   ", "empty"), ("MT01-14D2P", "length"), ("MT01-14D2P-F2DBXX", "length"),
     ("MT01-14D2P-F2DBU", "symbol"), ("MT01-14D2P-F2DB*", "symbol"), ("MT01-14D2P-F2DBY", "check")],
)
def test_bad_input_says_why(text, code):
    with pytest.raises(TrackingIdError) as info:
        parse_tracking_id(text)
    assert info.value.code == code


def test_documented_example_is_valid():
    assert parse_tracking_id("MT01-14D2P-F2DBX") == "MT0114D2PF2DBX"


def test_all_random_bits_are_used():
    asked = []

    def randbits(bits):
        asked.append(bits)
        return 2**bits - 1

    high = new_tracking_id("MT01", randbits=randbits)
    low = new_tracking_id("MT01", randbits=lambda bits: 0)
    assert asked == [RANDOM_BITS] and RANDOM_BITS >= 40
    assert high[4:13] == "Z" * 9 and low[4:13] == "0" * 9
    assert is_valid_tracking_id(high) and is_valid_tracking_id(low)


@settings(max_examples=50)
@given(st.lists(kiosk_codes, min_size=2, max_size=5, unique=True), random_numbers)
def test_different_kiosks_never_collide(codes, number):
    """Same random draw on different kiosks still gives different IDs."""
    assert len({make(code, number) for code in codes}) == len(codes)


def test_real_randomness_gives_distinct_ids():
    ids = {new_tracking_id("MT01") for _ in range(20_000)}
    assert len(ids) == 20_000


@pytest.mark.parametrize("bad", ["", "MT1", "MT012", "MTU1", "MT-0", "MT0!"])
def test_kiosk_code_must_be_four_symbols(bad):
    with pytest.raises(TrackingIdError) as info:
        normalize_kiosk_code(bad)
    assert info.value.code == "kiosk_code"


def test_kiosk_code_is_normalised():
    assert normalize_kiosk_code("mto1") == "MT01"
