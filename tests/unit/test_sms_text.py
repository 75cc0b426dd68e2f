"""What an SMS holds (GSM-7, 160 places; UCS-2, 70), and every text the central sends by
SMS: GSM-7, one SMS, in Bahasa Indonesia, the Tracking ID whole and valid, whatever the
configured keywords, status page, agency name or officer's reply. Also how a message is
read (the keywords' tolerance) and how a sender's number is written."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from central import sms_text
from central.sms import FILED, HELP, STATUS, STOPPED, normalise_number, read_command
from central.sms_config import SmsConfig
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id, parse_tracking_id

_GROUPED = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{5}-[0-9A-Z]{5}\b")
TID = new_tracking_id("0767")
LONG_AGENCY = "Dinas Pekerjaan Umum, Penataan Ruang, Perumahan dan Kawasan Permukiman Kabupaten Barito Utara"
REPLY = ("Terima kasih atas laporan Anda. Petugas sudah memperbaiki lampu jalan di depan pasar pada hari Senin, "
         "dan kami akan memeriksa \u201clampu\u201d lain di sepanjang jalan itu \u2014 minggu depan \U0001F600.")
WORDS = [sms_text.Words(),
         sms_text.Words("LAPORBARITO1", "CEKSTATUS123", "BERHENTISMS1",
                        "https://pengaduan.baritoutarakab.go.id/layanan-publik/status-laporan-warga-kab"),
         sms_text.Words(status_url="https://lapor.example.go.id/status")]


def every_text(words: sms_text.Words) -> dict[str, str]:
    day = dt.date(2026, 12, 31)
    texts = {"filed": sms_text.filed(TID, words), "unknown": sms_text.unknown(TID, words),
             "mistyped": sms_text.mistyped(words), "stopped": sms_text.stopped(words),
             "help": sms_text.help_text(words), "help empty": sms_text.help_text(words, empty=True),
             "answered": sms_text.answered(TID, confidential=False, words=words),
             "answered confidential": sms_text.answered(TID, confidential=True, words=words)}
    for state in ("received", "verified", "forwarded", "rerouted", "in_progress", "answered", "closed",
                  "postponed", "rejected", "archived", "objected"):
        for confidential in (False, True):
            for reply in (None, REPLY):
                texts[f"status {state} {confidential} {bool(reply)}"] = sms_text.status(
                    TID, state, f"Sedang ditindaklanjuti oleh {LONG_AGENCY}", expected=day, reply=reply,
                    confidential=confidential, words=words)
    return texts


@pytest.mark.parametrize("words", WORDS)
def test_every_text_is_one_gsm7_sms_with_its_tracking_id_whole(words):
    for name, text in every_text(words).items():
        assert sms_text.is_gsm7(text), (name, text)
        assert sms_text.length(text) <= 160, (name, sms_text.length(text), text)
        for shown in _GROUPED.findall(text):
            assert parse_tracking_id(shown) == TID, (name, text)
        if name.startswith(("filed", "status", "answered", "unknown")):
            assert format_tracking_id(TID) in text, (name, text)


def test_a_confidential_reports_reply_is_never_in_its_status():
    for words in WORDS:
        for name, text in every_text(words).items():
            if " True " in name:
                assert "Terima kasih" not in text and "Petugas" not in text, text


def test_the_answer_and_the_next_step_read_in_indonesian():
    text = sms_text.status(TID, "forwarded", "Diteruskan ke Dinas Kesehatan", expected=dt.date(2026, 12, 7),
                           reply=None, confidential=False, words=WORDS[0])
    assert text == (f"Laporan {format_tracking_id(TID)}: Diteruskan ke Dinas Kesehatan. Berikutnya: tindak lanjut "
                    "instansi, paling lambat 7 Desember 2026.")
    answered = sms_text.status(TID, "answered", "Dijawab oleh Dinas Kesehatan", expected=None, reply=REPLY,
                               confidential=False, words=WORDS[2])
    assert "Jawaban: Terima kasih" in answered and answered.endswith(f"Lengkap: {WORDS[2].page_of(TID)}")
    assert "CEK " + format_tracking_id(TID) in sms_text.filed(TID, WORDS[0])


def test_lengths_count_the_extension_table_twice_and_switch_to_ucs2():
    assert sms_text.length("abc") == 3 and sms_text.length("a{b}") == 6 and sms_text.length("\u20ac") == 2
    assert sms_text.limit_of("Jalan rusak") == 160 and sms_text.fits_one("x" * 160) and not sms_text.fits_one("x" * 161)
    assert sms_text.limit_of("Jalan rusak \U0001F600") == 70 and sms_text.length("\U0001F600") == 2
    assert sms_text.limit_of("\u201cJalan\u201d") == 70  # one curly quote makes it UCS-2
    assert sms_text.to_gsm7("\u201cJalan\u201d \u2013 rusak\u2026 caf\u00e9\n\U0001F600") == '"Jalan" - rusak... cafe ?'


def test_fit_cuts_at_a_word_and_never_through_a_tracking_id():
    text = "kata " * 40
    cut = sms_text.fit(text, 50)
    assert sms_text.length(cut) <= 50 and cut.endswith("...") and "kat..." not in cut
    shown = format_tracking_id(TID)
    for n in range(0, 40):
        text = "x" * n + " nomor " + shown + " lagi"
        cut = sms_text.fit(text, 30)
        assert sms_text.length(cut) <= 30
        assert shown in cut or not any(c in cut for c in (shown[:4] + "-",)), cut


CONFIG = SmsConfig(path="sms.toml")


@pytest.mark.parametrize("text, verb, rest", [
    ("BARUT jalan rusak", FILED, "jalan rusak"), ("barut: jalan rusak", FILED, "jalan rusak"),
    ("  Barut   jalan rusak ", FILED, "jalan rusak"), ("BARUT.jalan", FILED, "jalan"),
    ("BARUT\njalan rusak", FILED, "jalan rusak"), ("Barut.", HELP, "empty"), ("BARUT", HELP, "empty"),
    ("BARUTjalan", HELP, ""), ("halo", HELP, ""), ("", HELP, ""), ("stop", STOPPED, ""), ("STOP.", STOPPED, ""),
])
def test_keywords_are_read_tolerantly(text, verb, rest):
    command = read_command(text, CONFIG)
    assert (command.verb, command.rest) == (verb, rest)


def test_cek_and_the_bare_id_in_any_spelling():
    shown = format_tracking_id(TID)
    for text in (f"CEK {shown}", f"cek {TID.lower()}", f"Cek: {TID[:4]} {TID[4:9]} {TID[9:]}", shown.lower(), TID,
                 f"CEK{TID}", f"cek-{shown}"):
        command = read_command(text, CONFIG)
        assert (command.verb, command.tracking_id, command.mistyped) == (STATUS, TID, False), text
    wrong = TID[:-1] + ("0" if TID[-1] != "0" else "1")
    for text in (f"CEK {wrong}", wrong, "CEK 0767-ABCDE", "cek 12345"):
        command = read_command(text, CONFIG)
        assert (command.verb, command.mistyped) == (STATUS, True), text
    assert read_command("CEK", CONFIG).verb == HELP


@pytest.mark.parametrize("raw, number", [
    ("081234567890", "+6281234567890"), ("+62 812-3456-7890", "+6281234567890"), ("6281234567890", "+6281234567890"),
    ("+62081234567890", "+6281234567890"), ("0062 812 3456 7890", "+6281234567890"), ("81234567890", "+6281234567890"),
    ("+44 20 7946 0958", "+442079460958"), ("TELKOMSEL", ""), ("3636", ""), ("", ""),
])
def test_numbers_are_written_plus_62(raw, number):
    assert normalise_number(raw) == number
