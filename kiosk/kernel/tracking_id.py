"""Tracking IDs issued on the kiosk with no network (format: docs/TRACKING_ID.md).

Canonical form: 14 Crockford base32 symbols = 4-symbol kiosk code + 9 random symbols
(45 bits from :mod:`secrets`) + 1 check symbol. Displayed as ``MT01-14D2P-F2DBX``.

The check symbol works in GF(32): position ``i`` (counted from the right, the check
symbol being 0) weighs ``alpha**i``; a valid ID sums to zero. All 14 weights are distinct
and non-zero, so any single wrong symbol and any swap of two different neighbours
(the check symbol included) changes the sum and is caught.
"""
from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from typing import Callable

log = logging.getLogger(__name__)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Crockford decoding: letters easily confused with digits are read as those digits.
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Whitespace of any kind, and the dashes, underscores and dots people type between groups.
_SEPARATORS = re.compile(r"[\s\-_.\u2010-\u2015\u2212]+")

KIOSK_CODE_LEN = 4
RANDOM_LEN = 9
RANDOM_BITS = RANDOM_LEN * 5  # 45
CANONICAL_LEN = KIOSK_CODE_LEN + RANDOM_LEN + 1  # 14
DISPLAY_LEN = CANONICAL_LEN + 2  # 16, with two dashes
_GROUPS = (4, 5, 5)

_POLY = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)


def _exp_table() -> tuple[int, ...]:
    """alpha**0 .. alpha**30 in GF(32) = GF(2)[x] / (x^5 + x^2 + 1), alpha = x."""
    table, value = [], 1
    for _ in range(31):
        table.append(value)
        value <<= 1
        if value & 0b100000:
            value ^= _POLY
    return tuple(table)


_EXP = _exp_table()  # alpha**i for i in 0..30 (pure computation, no I/O)
_LOG = {value: i for i, value in enumerate(_EXP)}


def _mul(a: int, b: int) -> int:
    """Product of two GF(32) elements (0..31) through the log/antilog tables."""
    if a == 0 or b == 0:
        return 0
    return _EXP[(_LOG[a] + _LOG[b]) % 31]


def _weighted_sum(values: list[int]) -> int:
    """Sum over positions counted from the right, position i weighing alpha**i."""
    total = 0
    for i, value in enumerate(reversed(values)):
        total ^= _mul(_EXP[i], value)
    return total


class TrackingIdError(ValueError):
    """A typed Tracking ID (or kiosk code) is not valid; ``code`` says why, one of
    ``empty``, ``length``, ``symbol``, ``check``, ``kiosk_code`` (the UI translates it).
    The message is English, for logs and technicians, and never repeats a typed ID."""

    CODES = frozenset({"empty", "length", "symbol", "check", "kiosk_code"})

    def __init__(self, code: str, message: str):
        if code not in self.CODES:
            raise ValueError(f"unknown TrackingIdError code {code!r}")
        super().__init__(message)
        self.code = code


def _normalise(text: str) -> str:
    """Upper-case symbols with separators dropped and O/I/L read as 0/1/1.

    NFKC first, so full-width characters from some on-screen keyboards count; non-ASCII
    characters are kept as they are (and then refused), because ``str.upper`` would turn
    e.g. ``ß`` into ``SS``, two valid symbols.
    """
    value = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))
    if not value.isascii():
        return value
    return value.upper().translate(_TYPO)


def _first_bad_symbol(value: str) -> int | None:
    """1-based position of the first character that is not a symbol, or None."""
    for position, char in enumerate(value, start=1):
        if char not in _VALUE:
            return position
    return None


def normalize_kiosk_code(code: str) -> str:
    """The kiosk code in canonical form: exactly four Crockford base32 symbols.

    Read with the same tolerance as a typed Tracking ID (``mt-o1`` -> ``MT01``).
    """
    value = _normalise(code)
    shown = repr(code)[:24]
    if not value:
        raise TrackingIdError("kiosk_code", "the kiosk code is empty; it must be 4 symbols such as MT01")
    bad = _first_bad_symbol(value)
    if bad is not None:
        raise TrackingIdError(
            "kiosk_code",
            f"the kiosk code {shown} has a character that is not allowed at symbol {bad}; "
            f"use only {ALPHABET} (no I, L, O or U)",
        )
    if len(value) != KIOSK_CODE_LEN:
        raise TrackingIdError(
            "kiosk_code",
            f"the kiosk code {shown} has {len(value)} symbols; it must have exactly {KIOSK_CODE_LEN}",
        )
    return value


def check_symbol(data: str) -> str:
    """The check symbol for the 13 canonical data symbols (kiosk code + random part)."""
    if len(data) != CANONICAL_LEN - 1 or _first_bad_symbol(data) is not None:
        raise ValueError(f"check_symbol needs {CANONICAL_LEN - 1} canonical symbols")
    values = [_VALUE[c] for c in data] + [0]
    return ALPHABET[_weighted_sum(values)]


def new_tracking_id(kiosk_code: str, *, randbits: Callable[[int], int] = secrets.randbits) -> str:
    """A fresh canonical Tracking ID for this kiosk (45 random bits)."""
    code = normalize_kiosk_code(kiosk_code)
    number = randbits(RANDOM_BITS)
    if not 0 <= number < 1 << RANDOM_BITS:
        raise ValueError(f"randbits({RANDOM_BITS}) returned a number out of range")
    random_part = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(RANDOM_LEN)))
    data = code + random_part
    return data + check_symbol(data)


def parse_tracking_id(text: str) -> str:
    """The canonical ID from what a person typed or a QR code held.

    Tolerates case, spaces, dashes, underscores, dots, and O/I/L typed for 0/1/1.
    """
    value = _normalise(text)
    if not value:
        raise TrackingIdError("empty", "no tracking id given")
    bad = _first_bad_symbol(value)
    if bad is not None:
        raise TrackingIdError(
            "symbol", f"tracking id has a character outside Crockford base32 at symbol {bad}"
        )
    if len(value) != CANONICAL_LEN:
        raise TrackingIdError("length", f"tracking id has {len(value)} symbols, expected {CANONICAL_LEN}")
    if _weighted_sum([_VALUE[c] for c in value]) != 0:
        raise TrackingIdError("check", "tracking id check symbol does not match")
    return value


def is_valid_tracking_id(text: str) -> bool:
    """True when :func:`parse_tracking_id` accepts ``text``."""
    try:
        parse_tracking_id(text)
    except TrackingIdError:
        return False
    return True


def format_tracking_id(tracking_id: str) -> str:
    """``MT0114D2PF2DBX`` -> ``MT01-14D2P-F2DBX`` (for reading aloud and printing)."""
    value = parse_tracking_id(tracking_id)
    parts, start = [], 0
    for size in _GROUPS:
        parts.append(value[start:start + size])
        start += size
    return "-".join(parts)


def kiosk_code_of(tracking_id: str) -> str:
    """The 4-symbol code of the kiosk that issued ``tracking_id`` (which must be valid)."""
    return parse_tracking_id(tracking_id)[:KIOSK_CODE_LEN]
