"""What the kiosk says for a Tracking ID, and the file name a recorded clip must have."""
from __future__ import annotations

import re

import pytest

from kiosk.kernel.spoken import SLUG_MAX, SYMBOL_NAMES, clip_slug, speech_text, spoken_tracking_id
from kiosk.kernel.tracking_id import ALPHABET, TrackingIdError, check_symbol, format_tracking_id
from tests.support.speech import kiosk_msgids


def ids_covering_every_symbol() -> list[str]:
    """Valid Tracking IDs that together use each of the 32 symbols in each position group."""
    ids = []
    for shift in range(len(ALPHABET)):
        data = "".join(ALPHABET[(shift + i) % len(ALPHABET)] for i in range(13))
        ids.append(data + check_symbol(data))
    return ids


def test_every_symbol_has_a_distinct_name_in_both_languages():
    for language, names in SYMBOL_NAMES.items():
        assert set(names) == set(ALPHABET), language
        spoken = list(names.values())
        assert len(set(spoken)) == len(spoken), f"{language}: two symbols sound alike"
        assert all(re.fullmatch(r"[a-z ]+", word) for word in spoken), language


def test_tracking_id_in_indonesian_letter_names():
    assert spoken_tracking_id("MT01-14D2P-F2DBX", "id") == (
        "em, te, nol, satu.\n\nsatu, empat, de, dua, pe.\n\nef, dua, de, be, eks.")
    assert spoken_tracking_id("MT01-14D2P-F2DBX", "en") == (
        "em, tee, zero, one.\n\none, four, dee, two, pee.\n\nef, two, dee, bee, ex.")


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_symbol_is_spoken_in_its_group(language):
    """GIVEN IDs that use every symbol of the alphabet WHEN spoken THEN the words, read back
    through the name table, give the printed groups (4, 5, 5 symbols) in order."""
    back = {name: symbol for symbol, name in SYMBOL_NAMES[language].items()}
    seen = set()
    for tracking_id in ids_covering_every_symbol():
        text = spoken_tracking_id(tracking_id, language)
        assert text.endswith(".")
        groups = [group.split(", ") for group in text[:-1].split(".\n\n")]
        assert ["".join(back[w] for w in group) for group in groups] == format_tracking_id(tracking_id).split("-")
        seen.update(tracking_id)
    assert seen == set(ALPHABET)


def test_typed_forms_are_spoken_the_same_and_a_wrong_id_is_refused():
    assert spoken_tracking_id("mt01 14d2p fzdbx".replace("z", "2"), "id") == spoken_tracking_id("MT0114D2PF2DBX", "id")
    with pytest.raises(TrackingIdError):
        spoken_tracking_id("MT01-14D2P-F2DBY", "id")


def test_clip_slug_rule():
    assert clip_slug("Create a report") == "create-a-report"
    assert clip_slug("Step {n} of {total}") == "step-n-of-total"
    assert clip_slug("Anonymous: yes") == "anonymous-yes"
    assert clip_slug("What happened?") == "what-happened-q" != clip_slug("What happened")
    assert clip_slug("  Café, résumé!  ") == "cafe-resume"
    long = "A report number has 14 letters and numbers, for example MT01-14D2P-F2DBX."
    assert clip_slug(long) == "a-report-number-has-14-letters-and-numbers-for-example-mt01-37782e"
    assert clip_slug(long + " More.") != clip_slug(long)


def test_no_two_kiosk_messages_share_a_clip():
    slugs: dict[str, str] = {}
    for msgid in kiosk_msgids():
        slug = clip_slug(msgid)
        assert slug not in slugs, f"{msgid!r} and {slugs[slug]!r} would share {slug}.wav"
        assert 0 < len(slug) <= SLUG_MAX + 7
        slugs[slug] = msgid


def test_phone_numbers_and_tracking_ids_in_a_message_are_spelled():
    """espeak-ng reads "0812 3456 7890" as thousands (10 s of "eight hundred and twelve...");
    the kiosk has it read digit by digit, groups kept apart; dates and counts stay numbers."""
    assert speech_text("Contoh: 0812 3456 7890.", "id") == (
        "Contoh: nol, delapan, satu, dua; tiga, empat, lima, enam; tujuh, delapan, sembilan, nol.")
    assert speech_text("Call 081234567890", "en").endswith("seven, eight, nine, zero")
    assert speech_text("for example MT01-14D2P-F2DBX.", "id") == (
        "for example em, te, nol, satu; satu, empat, de, dua, pe; ef, dua, de, be, eks.")
    for kept in ("Tanggal 4 Desember 2026", "Step 2 of 6", "at most 500 characters", "MT01-14D2P-F2DBY"):
        assert speech_text(kept, "id") == kept
