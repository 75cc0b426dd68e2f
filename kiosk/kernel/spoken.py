"""Words for the kiosk's voice: a Tracking ID as spoken symbols, and the file name of a
recorded clip for a message (pure functions; the player is ``devices.audio``).

A Tracking ID is spoken symbol by symbol, in the groups it is printed in
(``MT01-14D2P-F2DBX``): the symbols of a group joined by commas, the groups by full stops,
so the synthesizer pauses longer between groups than between symbols. Letters and digits
are written as their names in the citizen's language ("em, te, nol, satu. ..."), never as
bare letters, which a synthesizer may read as a word ("A" as an article).

A recorded clip for a message lives at ``<clips dir>/<language>/<slug>.wav``, the slug made
from the English msgid by :func:`clip_slug` (docs/SPEECH.md).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from kiosk.kernel.tracking_id import format_tracking_id

#: The name of every symbol the Tracking IDs use (kiosk.kernel.tracking_id.ALPHABET), per
#: language: Indonesian letter names as in school spelling (a, be, ce, de, ...).
SYMBOL_NAMES: dict[str, dict[str, str]] = {
    "id": {
        "0": "nol", "1": "satu", "2": "dua", "3": "tiga", "4": "empat", "5": "lima",
        "6": "enam", "7": "tujuh", "8": "delapan", "9": "sembilan",
        "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "ef", "G": "ge", "H": "ha",
        "J": "je", "K": "ka", "M": "em", "N": "en", "P": "pe", "Q": "ki", "R": "er", "S": "es",
        "T": "te", "V": "ve", "W": "we", "X": "eks", "Y": "ye", "Z": "zet",
    },
    "en": {
        "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
        "6": "six", "7": "seven", "8": "eight", "9": "nine",
        "A": "ay", "B": "bee", "C": "see", "D": "dee", "E": "ee", "F": "ef", "G": "jee",
        "H": "aitch", "J": "jay", "K": "kay", "M": "em", "N": "en", "P": "pee", "Q": "cue",
        "R": "ar", "S": "ess", "T": "tee", "V": "vee", "W": "double you", "X": "ex",
        "Y": "why", "Z": "zed",
    },
}

SYMBOL_SEPARATOR = ", "
GROUP_SEPARATOR = ".\n\n"  # a paragraph: espeak-ng pauses about 0.7 s (0.2 s at a comma)


def spoken_tracking_id(tracking_id: str, language: str) -> str:
    """The Tracking ID as text for the synthesizer: "em, te, nol, satu. satu, empat, ...".

    ``tracking_id`` in any form :func:`kiosk.kernel.tracking_id.parse_tracking_id` accepts
    (raises ``TrackingIdError`` otherwise); ``language`` is ``id`` or ``en``.
    """
    names = SYMBOL_NAMES[language]
    groups = format_tracking_id(tracking_id).split("-")
    return GROUP_SEPARATOR.join(SYMBOL_SEPARATOR.join(names[s] for s in group) for group in groups) + "."


#: The longest slug kept whole; a longer message is cut at a word and given a short hash.
SLUG_MAX = 60
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def clip_slug(message_id: str) -> str:
    """The file name (without ``.wav``) of a message's recorded clip.

    The rule, for a technician naming a recording: the English message in lower case,
    accents dropped, a question mark written ``q``, every run of other characters (spaces,
    punctuation, ``{placeholders}``' braces) one ``-``, none at either end.
    ``Create a report`` -> ``create-a-report``; ``What happened?`` -> ``what-happened-q``;
    ``Step {n} of {total}`` -> ``step-n-of-total``. A slug longer than 60 characters is
    cut at the last ``-`` before 60 and ends with ``-`` and the first 6 hex digits of the
    message's SHA-1, so two long messages that start alike never share a file.
    """
    ascii_text = unicodedata.normalize("NFKD", message_id).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_text.lower().replace("?", " q ")).strip("-")
    if len(slug) <= SLUG_MAX:
        return slug or "message-" + hashlib.sha1(message_id.encode()).hexdigest()[:6]
    cut = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return f"{cut}-{hashlib.sha1(message_id.encode()).hexdigest()[:6]}"


# A phone number as people write it: at least 8 digits in groups of 2 or more, separated by
# single spaces or dashes (0812 3456 7890, 0812-3456-7890, 081234567890).
_PHONE = re.compile(r"(?<![\w-])(?:\+?\d{2,}(?:[ -]\d{2,})+|0\d{7,})(?![\w-])")
# A Tracking ID in its printed form, with or without its dashes.
_TRACKING_ID = re.compile(r"(?<![\w-])[0-9A-Z]{4}-?[0-9A-Z]{5}-?[0-9A-Z]{5}(?![\w-])")


def speech_text(text: str, language: str) -> str:
    """``text`` as the synthesizer should read it: a phone number digit by digit
    ("nol, delapan, satu, dua, ...", not "eight hundred and twelve") and a Tracking ID
    symbol by symbol (:func:`spoken_tracking_id`); everything else as it is."""
    names = SYMBOL_NAMES[language]

    def phone(match: re.Match) -> str:
        groups = re.split(r"[ -]", match.group(0).lstrip("+"))
        return "; ".join(SYMBOL_SEPARATOR.join(names[d] for d in group) for group in groups)

    def tracking_id(match: re.Match) -> str:
        try:
            return spoken_tracking_id(match.group(0), language).replace(GROUP_SEPARATOR, "; ").rstrip(".")
        except ValueError:
            return match.group(0)

    return _PHONE.sub(phone, _TRACKING_ID.sub(tracking_id, text))
