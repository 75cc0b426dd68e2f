"""Every string a person sees is in both catalogs, complete, with matching placeholders."""
from __future__ import annotations

import re
import string

import pytest
from babel.messages.pofile import read_po

from kiosk.kernel.i18n import LANGUAGES, LOCALE_DIR, gettext_for
from tests.support.i18n_scan import source_msgids

SOURCE = source_msgids()


def catalog(lang: str) -> dict[str, str]:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "kiosk.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh, locale=lang) if m.id}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_sources_have_translatable_strings():
    assert len(SOURCE) > 50


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete_and_current(lang):
    entries = catalog(lang)
    missing = sorted(m for m in SOURCE if not entries.get(m))
    assert not missing, f"{lang}: untranslated {missing}"
    stale = sorted(set(entries) - set(SOURCE))
    assert not stale, f"{lang}: entries no source uses any more {stale}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match(lang):
    for msgid, msgstr in catalog(lang).items():
        assert fields(msgid) == fields(msgstr), f"{lang}: {msgid!r} -> {msgstr!r}"


def test_indonesian_is_really_translated():
    """The issue's own words appear in the Indonesian catalog."""
    _ = gettext_for("id")
    assert _("Create a report") == "Buat Laporan"
    assert _("Check status") == "Cek Status"
    assert _("Step {n} of {total}").format(n=2, total=5) == "Langkah 2 dari 5"
    assert _("The receipt could not be printed. Please write down this number.") == "Struk tidak dapat dicetak, catat nomor ini."
    same = [m for m, s in catalog("id").items() if m == s and re.search(r"[a-z]{4,}", m)]
    assert len(same) <= 3, f"probably untranslated: {same}"
