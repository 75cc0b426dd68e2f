"""Translations through gettext catalogs (``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po``).

Message ids are English; both the ``id`` and the ``en`` catalogs are complete, so a
missing translation is caught by the tests rather than shown as English by accident.
The ``.mo`` files are compiled by ``make`` (``pybabel compile``); when one is missing
(a plain ``pip install -e .``) the ``.po`` file is compiled in memory with Babel.
"""
from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
import logging
from pathlib import Path

log = logging.getLogger(__name__)

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"  # kiosk/locale
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


@functools.lru_cache(maxsize=None)
def translations(language: str) -> gettext.NullTranslations:
    """The catalog for ``language`` (``id`` or ``en``), loaded once."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    mo = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    po = mo.with_suffix(".po")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def gettext_for(language: str):
    """A ``gettext`` function for one language."""
    return translations(language).gettext


def ngettext_for(language: str):
    return translations(language).ngettext


# -- dates in words ---------------------------------------------------------------------------
# CLDR's words for the two languages, as Babel gives them (``babel.dates``): a test compares
# every day of a year with Babel's ``format_date``. Babel itself is not asked at run time:
# loading its locale data for two languages kept 5 MiB in the kiosk for the process's life,
# after the first citizen saw a date (issue 17); these are sixty words.
_MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
#: Abbreviated day names, Monday first (as the kiosk's calendar and ``date.weekday()``).
_WEEKDAYS = {
    "id": ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def _date_language(language: str) -> str:
    return "id" if language == "id" else "en"


def long_date(value: dt.date, language: str) -> str:
    """``23 November 2026`` in Indonesian, ``November 23, 2026`` in English (CLDR's long
    date, Babel's ``format_date(value, "long")``)."""
    month = _MONTHS[_date_language(language)][value.month - 1]
    return f"{value.day} {month} {value.year}" if language == "id" else f"{month} {value.day}, {value.year}"


def month_year(value: dt.date, language: str) -> str:
    """``November 2026``: a calendar's heading (Babel's ``format_date(value, "LLLL y")``)."""
    return f"{_MONTHS[_date_language(language)][value.month - 1]} {value.year}"


def weekday_names(language: str) -> tuple[str, ...]:
    """Abbreviated day names, Monday first (Babel's ``get_day_names("abbreviated")``)."""
    return _WEEKDAYS[_date_language(language)]


@functools.lru_cache(maxsize=None)
def _msgids_by_text(language: str) -> dict[str, str]:
    catalog = getattr(translations(language), "_catalog", {})
    out: dict[str, str] = {}
    for msgid, text in catalog.items():
        if isinstance(msgid, str) and msgid and isinstance(text, str):
            out.setdefault(text, msgid)
    return out


def msgid_for(language: str, text: str) -> str | None:
    """The msgid that ``text`` was translated from in ``language``'s catalog, if any (the
    kiosk's voice finds a recorded clip by it, and labels its log with it instead of the
    words); None for text that is not a catalog message as a whole."""
    return _msgids_by_text(language).get(text)
