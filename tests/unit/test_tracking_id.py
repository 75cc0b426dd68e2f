"""Tracking IDs: unique by kiosk code, unguessable, and a check symbol that catches typos.

The check symbol is recomputed here with an independent GF(32) multiply (shift and
reduce, no tables), so a wrong table in the module cannot hide behind itself.
"""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.kernel import tracking_id as tid_module
from kiosk.kernel.tracking_id import (
    ALPHABET, CANONICAL_LEN, DISPLAY_LEN, RANDOM_BITS, TrackingIdError, format_tracking_id,
    is_valid_tracking_id, kiosk_code_of, new_tracking_id, normalize_kiosk_code, parse_tracking_id,
)

kiosk_codes = st.text(alphabet=ALPHABET, min_size=4, max_size=4)
random_numbers = st.integers(min_value=0, max_value=2**RANDOM_BITS - 1)


def gf_mul(a: int, b: int) -> int:
    """GF(32) product by shift-and-add, reducing by x^5 + x^2 + 1."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= 0b100101
    return product


def weight(i: int) -> int:
    """alpha**i, alpha = x."""
    w = 1
    for _ in range(i):
        w = gf_mul(w, 0b10)
    return w


WEIGHTS = [weight(i) for i in range(CANONICAL_LEN)]  # WEIGHTS[i] for position i from the right


def checksum(symbols: str) -> int:
    total = 0
    for i, char in enumerate(reversed(symbols)):
        total ^= gf_mul(WEIGHTS[i], ALPHABET.index(char))
    return total


def make(code: str, number: int) -> str:
    return new_tracking_id(code, randbits=lambda bits: number)


# --- the field and the weights ------------------------------------------------------


def test_module_multiply_matches_independent_multiply():
    for a, b in itertools.product(range(32), repeat=2):
        assert tid_module._mul(a, b) == gf_mul(a, b), (a, b)


def test_weights_are_distinct_nonzero_and_alpha_is_primitive():
    assert len(set(WEIGHTS)) == CANONICAL_LEN and 0 not in WEIGHTS
    assert len({weight(i) for i in range(31)}) == 31  # x generates all 31 non-zero elements


def test_every_substitution_and_every_neighbour_swap_changes_the_sum_exhaustively():
    """GIVEN the check is linear over GF(32)
    WHEN any one symbol changes (any position, any pair of values), or two different
    neighbours swap (any position pair, check symbol included, any pair of values)
    THEN the sum changes — for every ID at once, since the change does not depend on
    the other symbols. 14*32*31 substitutions and 13*32*31 swaps, all enumerated."""
    for i in range(CANONICAL_LEN):
        for a, b in itertools.permutations(range(32), 2):
            assert gf_mul(WEIGHTS[i], a) ^ gf_mul(WEIGHTS[i], b) != 0
    for i in range(CANONICAL_LEN - 1):
        for a, b in itertools.permutations(range(32), 2):
            before = gf_mul(WEIGHTS[i + 1], a) ^ gf_mul(WEIGHTS[i], b)
            after = gf_mul(WEIGHTS[i + 1], b) ^ gf_mul(WEIGHTS[i], a)
            assert before != after, (i, a, b)


# --- issued IDs ---------------------------------------------------------------------


@given(kiosk_codes, random_numbers)
def test_issued_id_has_the_documented_shape_and_sums_to_zero(code, number):
    tid = make(code, number)
    assert len(tid) == CANONICAL_LEN and set(tid) <= set(ALPHABET)
    assert tid[:4] == code
    assert int("".join(f"{ALPHABET.index(c):05b}" for c in tid[4:13]), 2) == number
    assert checksum(tid) == 0


@given(kiosk_codes, random_numbers)
def test_round_trip_through_display_form(code, number):
    tid = make(code, number)
    shown = format_tracking_id(tid)
    assert len(shown) == DISPLAY_LEN
    assert [len(group) for group in shown.split("-")] == [4, 5, 5]
    assert parse_tracking_id(shown) == tid
    assert parse_tracking_id(tid) == tid
    assert kiosk_code_of(shown) == kiosk_code_of(tid) == code


@settings(max_examples=60)
@given(kiosk_codes, random_numbers)
def test_every_single_substitution_is_caught(code, number):
    tid = make(code, number)
    for position in range(CANONICAL_LEN):
        for other in ALPHABET:
            if other == tid[position]:
                continue
            typo = tid[:position] + other + tid[position + 1:]
            with pytest.raises(TrackingIdError) as info:
                parse_tracking_id(typo)
            assert info.value.code == "check", (tid, position, other)


@given(kiosk_codes, random_numbers)
def test_every_adjacent_swap_is_caught(code, number):
    tid = make(code, number)
    for i in range(CANONICAL_LEN - 1):
        if tid[i] == tid[i + 1]:
            continue
        swapped = tid[:i] + tid[i + 1] + tid[i] + tid[i + 2:]
        assert not is_valid_tracking_id(swapped), (tid, i)


@given(kiosk_codes, st.integers(0, CANONICAL_LEN - 2), st.data())
def test_swap_with_equal_neighbours_forced_at_every_position(code, i, data):
    """The swap test above meets equal neighbours often; here position i and i+1 always differ."""
    for number in data.draw(st.lists(random_numbers, min_size=1, max_size=5)):
        tid = make(code, number)
        if tid[i] != tid[i + 1]:
            assert not is_valid_tracking_id(tid[:i] + tid[i + 1] + tid[i] + tid[i + 2:])


@given(kiosk_codes, random_numbers, st.data())
def test_typing_tolerance(code, number, data):
    tid = make(code, number)
    separator = data.draw(st.sampled_from([" ", "-", "", " - ", "_", ".", "\u2013", "  "]))
    typed = format_tracking_id(tid).replace("-", separator)
    typed = data.draw(st.sampled_from([str.lower, str.upper, str.swapcase]))(typed)
    typed = typed.replace("0", data.draw(st.sampled_from(["0", "o", "O"])))
    typed = typed.replace("1", data.draw(st.sampled_from(["1", "i", "l", "L", "I"])))
    assert parse_tracking_id(f"  {typed}\t\n") == tid


def test_full_width_characters_from_an_ime_are_read():
    assert parse_tracking_id("\uff2d\uff34\uff10\uff11-14D2P-F2DBX") == "MT0114D2PF2DBX"


@pytest.mark.parametrize(
    "text,code",
    [("", "empty"), ("   ", "empty"), (" - _ . ", "empty"), ("MT01-14D2P", "length"),
     ("MT01-14D2P-F2DBXX", "length"), ("MT01-14D2P-F2DBU", "symbol"), ("MT01-14D2P-F2DB*", "symbol"),
     ("MT01-14D2P-F2DB\u00df", "symbol"),  # ß must not become "SS"
     ("MT01-14D2P-F2DB\u0131", "symbol"),  # dotless i must not become "I" (= 1)
     ("MT01-14D2P-F2DBY", "check"), ("MT01-14D2P-F2DXB", "check")],
)
def test_bad_input_says_why(text, code):
    with pytest.raises(TrackingIdError) as info:
        parse_tracking_id(text)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)


def test_error_message_does_not_repeat_what_was_typed():
    with pytest.raises(TrackingIdError) as info:
        parse_tracking_id("MT01-14D2P-F2DBY")
    assert "14D2P" not in str(info.value)


def test_documented_example_is_valid():
    assert parse_tracking_id("MT01-14D2P-F2DBX") == "MT0114D2PF2DBX"
    assert format_tracking_id("mt0114d2pf2dbx") == "MT01-14D2P-F2DBX"


def test_all_random_bits_are_used():
    asked = []

    def randbits(bits):
        asked.append(bits)
        return 2**bits - 1

    high = new_tracking_id("MT01", randbits=randbits)
    low = new_tracking_id("MT01", randbits=lambda bits: 0)
    assert asked == [RANDOM_BITS] == [45]
    assert high[4:13] == "Z" * 9 and low[4:13] == "0" * 9 and high != low
    assert is_valid_tracking_id(high) and is_valid_tracking_id(low)


@given(random_numbers, st.integers(0, RANDOM_BITS - 1))
def test_each_random_bit_changes_the_id(number, bit):
    assert make("MT01", number) != make("MT01", number ^ (1 << bit))


@pytest.mark.parametrize("bad", [-1, 2**RANDOM_BITS])
def test_out_of_range_random_number_is_refused(bad):
    with pytest.raises(ValueError):
        make("MT01", bad)


@settings(max_examples=50)
@given(st.lists(kiosk_codes, min_size=2, max_size=5, unique=True), st.lists(random_numbers, min_size=1, max_size=5))
def test_different_kiosks_never_collide(codes, numbers):
    """Whatever each kiosk draws, IDs from different kiosk codes differ (the prefix differs)."""
    issued = {code: {make(code, n) for n in numbers} for code in codes}
    for a, b in itertools.combinations(codes, 2):
        assert not issued[a] & issued[b]


def test_real_randomness_gives_distinct_ids():
    ids = {new_tracking_id("MT01") for _ in range(20_000)}
    assert len(ids) == 20_000 and all(is_valid_tracking_id(i) for i in ids)


@pytest.mark.parametrize("bad", ["", "  ", "MT1", "MT012", "MTU1", "MT-!0", "MT0!", "M\u00df1"])
def test_kiosk_code_must_be_four_symbols(bad):
    with pytest.raises(TrackingIdError) as info:
        normalize_kiosk_code(bad)
    assert info.value.code == "kiosk_code"
    assert "kiosk code" in str(info.value)


def test_kiosk_code_is_normalised_like_a_tracking_id():
    assert normalize_kiosk_code("mto1") == "MT01"
    assert normalize_kiosk_code(" pl-07 ") == "P107"
    assert new_tracking_id("mt-o1")[:4] == "MT01"


def test_unknown_error_code_is_a_programming_error():
    with pytest.raises(ValueError):
        TrackingIdError("bogus", "x")


def test_examples_in_the_documentation_are_real():
    """Every issued example in docs/TRACKING_ID.md is valid, and its shown form matches."""
    import pathlib
    import re

    doc = (pathlib.Path(__file__).parents[2] / "docs" / "TRACKING_ID.md").read_text(encoding="utf-8")
    examples = re.findall(r'-> "([0-9A-Z]{14})"\s+shown ([0-9A-Z-]{16})', doc)
    assert len(examples) >= 5
    for canonical, shown in examples:
        assert parse_tracking_id(canonical) == canonical and format_tracking_id(canonical) == shown
    assert make("MT01", 0) == "MT010000000005" and make("MT01", 2**45 - 1) == "MT01ZZZZZZZZZR"


@given(kiosk_codes, random_numbers)
def test_check_symbol_is_the_last_symbol(code, number):
    tid = make(code, number)
    assert tid_module.check_symbol(tid[:-1]) == tid[-1]
    with pytest.raises(ValueError):
        tid_module.check_symbol(tid[:-2])
