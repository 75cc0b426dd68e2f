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


@pytest.mark.parametrize("lang", LANGUAGES)
def test_dates_in_words_are_cldr_s_as_babel_says_them(lang):
    """The kiosk writes dates from its own sixty words (Babel's locale data cost it 5 MiB
    for life): every day of a leap year reads as Babel's long date, every month heading as
    its ``LLLL y``, and the calendar's day names as its abbreviated ones, Monday first."""
    import datetime as dt

    from babel.dates import format_date, get_day_names

    from kiosk.kernel.i18n import long_date, month_year, weekday_names

    day = dt.date(2028, 1, 1)
    while day.year == 2028:
        assert long_date(day, lang) == format_date(day, "long", locale=lang)
        assert month_year(day, lang) == format_date(day, "LLLL y", locale=lang)
        day += dt.timedelta(days=1)
    names = get_day_names("abbreviated", locale=lang)
    assert weekday_names(lang) == tuple(names[weekday] for weekday in range(7))


def test_writing_a_date_loads_no_locale_data():
    """A fresh process writing dates imports no part of Babel."""
    import subprocess
    import sys

    script = ("import datetime as dt, sys\nfrom kiosk.kernel.i18n import long_date, month_year, weekday_names\n"
              "words = [long_date(dt.date(2026, 12, 1), 'id'), month_year(dt.date(2026, 12, 1), 'en'), "
              "weekday_names('id')[0]]\n"
              "print(words, sorted(m for m in sys.modules if m.split('.')[0] == 'babel'))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=LOCALE_DIR.parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['1 Desember 2026', 'December 2026', 'Sen'] []"
