"""What an SMS can hold, and every text the central sends by SMS (issue 16, docs/SMS.md).

An SMS is 160 characters of the GSM-7 alphabet (GSM 03.38), or 70 UCS-2 characters as
soon as one character is outside it (an emoji, a curly quote). The extension table
(``^ { } \\ [ ] ~ | €``) is GSM-7 too, but each of its characters takes two places.
Every text the central sends is GSM-7 and fits one SMS: what an officer or the reference
data wrote is spelled in GSM-7 first (:func:`to_gsm7`), then shortened at a word
(:func:`fit`), never through a Tracking ID.

The texts are in Bahasa Indonesia only: the kabupaten's language, which every citizen who
sends an SMS to it reads. Pure: no database, no clock, no configuration file.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

from kiosk.kernel.textclean import clean_for_printer
from kiosk.kernel.tracking_id import format_tracking_id

#: GSM 03.38's basic table (without ESC, which only announces the extension table).
GSM7_BASIC = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                       "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
#: The extension table: each character is sent as ESC and itself, two places.
GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")
#: One SMS: 160 GSM-7 characters, or 70 UCS-2 code units.
GSM7_LIMIT = 160
UCS2_LIMIT = 70
#: The marker of a shortened text (three dots: the ellipsis character is not GSM-7).
CUT = "..."

#: A Tracking ID as the central writes it in a text, grouped or canonical: :func:`fit`
#: never cuts through one.
_TRACKING_ID = re.compile(r"\b[0-9A-Z]{4}-?[0-9A-Z]{5}-?[0-9A-Z]{5}\b")


def is_gsm7(text: str) -> bool:
    """Every character is in the GSM-7 basic or extension table."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def length(text: str) -> int:
    """The places the text takes in its encoding: GSM-7 septets (an extension character
    counts two), else UCS-2 code units (a character outside the BMP counts two)."""
    if is_gsm7(text):
        return sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def limit_of(text: str) -> int:
    """How much one SMS of this text holds: 160 when it is GSM-7, else 70."""
    return GSM7_LIMIT if is_gsm7(text) else UCS2_LIMIT


def fits_one(text: str) -> bool:
    return length(text) <= limit_of(text)


def to_gsm7(text: str) -> str:
    """The text spelled in GSM-7: kept as it is when it already is; else spelled in plain
    ASCII (typographic quotes and dashes made plain, accents dropped, anything else ``?``,
    as for the receipt printer). Line breaks and runs of spaces become one space."""
    if not is_gsm7(text):
        text = clean_for_printer(text, encoding="ascii", multiline=False).replace("`", "'")
    return " ".join(text.split())


def fit(text: str, limit: int = GSM7_LIMIT) -> str:
    """``text`` (GSM-7) at most ``limit`` places long: cut at a word with ``...`` when it
    is longer, never through a Tracking ID (a cut that would fall in one falls before it)."""
    if length(text) <= limit:
        return text
    room, used, end = limit - length(CUT), 0, 0
    gsm = is_gsm7(text)
    for char in text:  # the longest prefix that fits
        used += (2 if char in GSM7_EXTENSION else 1) if gsm else len(char.encode("utf-16-le")) // 2
        if used > room:
            break
        end += 1
    for found in _TRACKING_ID.finditer(text):
        if found.start() < end < found.end():
            end = found.start()
    cut = text[:end]
    if end < len(text) and text[end] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + CUT


def grouped(tracking_id: str) -> str:
    """The Tracking ID as people read it: ``MT01-GKDVW-2WDK5``."""
    return format_tracking_id(tracking_id)


def compose(*parts: str, optional: tuple[str, ...] = (), limit: int = GSM7_LIMIT) -> str:
    """``parts`` joined by spaces, then each of ``optional`` added in order while the whole
    still fits; the parts themselves are cut by :func:`fit` when they do not."""
    text = fit(" ".join(p for p in parts if p), limit)
    for extra in optional:
        if extra and length(f"{text} {extra}") <= limit:
            text = f"{text} {extra}"
    return text


# -- the texts ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Words:
    """The configured words a text names: the keywords, and where the status page is."""

    keyword: str = "BARUT"
    check_keyword: str = "CEK"
    stop_keyword: str = "STOP"
    status_url: str | None = None

    def page_of(self, tracking_id: str) -> str | None:
        """The report's public status page (``/status/<id>``), when a base is configured."""
        return f"{self.status_url.rstrip('/')}/{tracking_id}" if self.status_url else None


def filed(tracking_id: str, words: Words) -> str:
    """The answer to a report filed by SMS: its number, grouped, and how to follow it."""
    gid = grouped(tracking_id)
    page = words.page_of(tracking_id)
    return compose(f"Aduan Anda diterima. Nomor laporan: {gid}. Simpan nomor ini. "
                   f"Untuk cek status, balas: {words.check_keyword} {gid}",
                   optional=(f"atau buka {page}",) if page else ())


#: What comes next, in a few words (the public page's sentences are too long for an SMS).
NEXT_STEP = {
    "received": "Berikutnya: verifikasi",
    "verified": "Berikutnya: diteruskan ke instansi",
    "forwarded": "Berikutnya: tindak lanjut instansi",
    "rerouted": "Berikutnya: tindak lanjut instansi",
    "in_progress": "Berikutnya: jawaban instansi",
    "answered": "Berikutnya: ditutup bila tidak ada keberatan",
    "postponed": "Berikutnya: dilanjutkan kantor pusat",
}


def long_date_id(day: dt.date) -> str:
    """``23 November 2026`` (the kabupaten's way of writing a date)."""
    from kiosk.kernel.i18n import long_date

    return long_date(day, "id")


def status(tracking_id: str, state: str, step: str, *, expected: dt.date | None, reply: str | None,
           confidential: bool, words: Words) -> str:
    """The answer to CEK: the current step in the public page's words (``step``), then the
    answer's first words when there is one the public may read, else what comes next and
    by when. Never the report's content; for a confidential report never its reply."""
    gid = grouped(tracking_id)
    head = f"Laporan {gid}: {to_gsm7(step)}."
    if confidential and state == "answered":
        tail = "Laporan rahasia: jawabannya dibaca di kios LAPOR! dengan struk Anda."
        return compose(fit(head, GSM7_LIMIT - length(tail) - 1), tail)
    if reply and not confidential:
        answer = f"Jawaban: {to_gsm7(reply)}"
        page = words.page_of(tracking_id)
        more = f"Lengkap: {page}" if page else ""
        room = GSM7_LIMIT - length(head) - 1
        if more and length(answer) > room and room - length(more) - 1 >= 30:  # a cut answer: where to read it all
            return compose(head, fit(answer, room - length(more) - 1), more)
        return compose(head, answer)
    nxt = NEXT_STEP.get(state)
    if nxt and expected is not None:
        nxt = f"{nxt}, paling lambat {long_date_id(expected)}."
    elif nxt:
        nxt += "."
    if not nxt:
        return fit(head)
    return compose(fit(head, GSM7_LIMIT - length(nxt) - 1), nxt)


def unknown(tracking_id: str, words: Words) -> str:
    """CEK of a well-formed number no report has."""
    return fit(f"Laporan {grouped(tracking_id)} tidak ditemukan. Periksa kembali nomor pada struk atau SMS Anda.")


def mistyped(words: Words) -> str:
    """CEK of a number whose check symbol (or length) is wrong: a typing mistake."""
    return fit(f"Nomor laporan salah ketik. Periksa kembali huruf dan angkanya pada struk atau SMS Anda, "
            f"lalu kirim: {words.check_keyword} (spasi) nomor laporan.")


def stopped(words: Words) -> str:
    """The one answer to STOP."""
    return fit("Baik, nomor ini tidak akan menerima SMS pemberitahuan lagi. "
            f"Anda tetap dapat melapor dengan {words.keyword} dan cek status dengan {words.check_keyword}.")


def help_text(words: Words, *, empty: bool = False) -> str:
    """An unknown keyword, or the report keyword with no text: how to write each command."""
    first = "Isi aduan kosong. " if empty else ""
    return fit(f"{first}Kirim {words.keyword} (spasi) isi aduan untuk melapor. {words.check_keyword} (spasi) "
            f"nomor laporan untuk cek status. {words.stop_keyword} untuk berhenti menerima SMS.")


def answered(tracking_id: str, *, confidential: bool, words: Words) -> str:
    """The one notice that a report was answered, and how to read the answer."""
    gid = grouped(tracking_id)
    if confidential:
        return compose(f"Laporan {gid} sudah dijawab. Laporan rahasia: jawabannya dibaca di kios LAPOR! "
                       "dengan struk Anda.")
    page = words.page_of(tracking_id)
    return compose(f"Laporan {gid} sudah dijawab. Untuk membaca jawabannya, balas: {words.check_keyword} {gid}",
                   optional=(f"atau buka {page}",) if page else ())
