"""Gammu SMSD's side of the SMS channel (central/sms_gammu.py), without Gammu: what a
RunOnReceive run and the files backend's inbox files turn into. The environments and files
here are shaped as Gammu 1.42 really gave them (tests/e2e/test_sms_gammu.py runs the daemon)."""
from __future__ import annotations

import datetime as dt
import os
import sys
import time

import pytest

from central.sms import Outgoing
from central.sms_gammu import (GammuSender, Settings, inbox_path, is_hook_call, message_id, messages_from_files,
                               messages_from_hook)

KEY = b"k" * 32
NOW = dt.datetime(2026, 12, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
NUMBER = "+6281234567892"
NAMES = [f"IN20261202_220128_00_{NUMBER}_{n:02d}.txt" for n in range(3)]
PARTS = ("BARUT kata000 kata001 kat", "a002 kata003 kat", "a004")
WHOLE = "".join(PARTS)


def hook_environ(parts=PARTS, *, decoded: str | None = WHOLE, number: str = NUMBER) -> dict[str, str]:
    environ = {"SMS_MESSAGES": str(len(parts)), "DECODED_PARTS": "1" if decoded is not None else "0",
               "PHONE_ID": "modem", "PATH": "/usr/bin"}
    for n, text in enumerate(parts, start=1):
        environ |= {f"SMS_{n}_NUMBER": number, f"SMS_{n}_TEXT": text, f"SMS_{n}_CLASS": "-1",
                    f"SMS_{n}_REFERENCE": "0"}
    if decoded is not None:
        environ["DECODED_1_TEXT"] = decoded
    return environ


def test_a_run_of_a_multi_part_message_is_one_message_with_gammus_joined_text():
    (sms,) = messages_from_hook(hook_environ(), NAMES, "modem", NOW, key=KEY)
    assert (sms.gateway, sms.sender, sms.text, sms.received_at) == ("modem", NUMBER, WHOLE, NOW)
    assert sms.message_id == message_id(NAMES, KEY)


def test_without_a_decoded_text_the_parts_are_joined_in_gammus_order():
    (sms,) = messages_from_hook(hook_environ(decoded=None), NAMES, "modem", NOW, key=KEY)
    assert sms.text == WHOLE


def test_the_id_is_a_keyed_digest_of_the_names_without_the_number():
    same = message_id(list(reversed(NAMES)), KEY)
    assert same == message_id(NAMES, KEY) == message_id([f"/var/spool/gammu/inbox/{n}" for n in NAMES], KEY)
    assert same.startswith("gammu:") and "81234567892" not in same and len(same) <= 120
    assert message_id(NAMES[:1], KEY) != same and message_id(NAMES, b"x" * 32) != same
    assert message_id([], KEY) == ""


def test_an_mms_notice_and_an_8bit_message_are_no_message():
    mms = hook_environ(("",), decoded=None) | {"DECODED_PARTS": "1", "DECODED_1_MMS_ADDRESS": "http://mms/x"}
    assert messages_from_hook(mms, NAMES[:1], "modem", NOW, key=KEY) == []
    binary = {k: v for k, v in hook_environ(("x",), decoded=None).items() if k != "SMS_1_TEXT"}
    assert messages_from_hook(binary, NAMES[:1], "modem", NOW, key=KEY) == []
    assert is_hook_call(binary) and not is_hook_call({"PATH": "/usr/bin"})


def test_a_text_gammu_wrote_without_a_utf8_locale_does_not_break_the_run():
    broken = "BARUT caf\udce9"  # os.environ's surrogate escape of a Latin-1 byte
    (sms,) = messages_from_hook(hook_environ((broken,), decoded=None), NAMES[:1], "modem", NOW, key=KEY)
    assert sms.text == "BARUT caf\ufffd"


def _write(folder, name: str, data: bytes, *, age_s: float = 60) -> str:
    path = folder / name
    path.write_bytes(data)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return str(path)


def test_inbox_files_of_the_standard_format_are_the_same_message_as_the_hook_run(tmp_path):
    for name, text in reversed(list(zip(NAMES, PARTS))):
        _write(tmp_path, name, text.encode("utf-8"))
    messages, problems = messages_from_files([str(tmp_path)], "modem", key=KEY)
    assert problems == 0
    (sms,) = messages
    assert (sms.sender, sms.text, sms.message_id) == (NUMBER, WHOLE, message_id(NAMES, KEY))


def test_the_unicode_format_is_utf16_with_its_mark_and_trailing_zeros(tmp_path):
    text = "BARUT \u201crusak\u201d \u00e9 \U0001F600"
    path = _write(tmp_path, NAMES[0], b"\xfe\xff" + text.encode("utf-16-be") + b"\x00" * 8)
    (sms,), problems = messages_from_files([path], "modem", key=KEY)
    assert sms.text == text and problems == 0


def _backup(*sections: tuple[str, str], number: str = NUMBER) -> bytes:
    """A ``detail`` inbox file: one [SMSBackupNNN] per part, (UDH, text)."""
    lines = ["; This file format was designed for Gammu and is compatible with Gammu+", ""]
    for n, (udh, text) in enumerate(sections):
        hexed = text.encode("utf-16-be").hex().upper()
        lines += [f"[SMSBackup{n:03d}]", f"; {text}", "PDU = Submit", f'Number = "{number}"',
                  f"NumberUnicode = {number.encode('utf-16-be').hex().upper()}", f"UDH = {udh}",
                  f"Text00 = {hexed[:200]}", *([f"Text01 = {hexed[200:]}"] if hexed[200:] else []),
                  "Coding = Unicode_No_Compression", ""]
    return "\n".join(lines).encode("utf-8")


def test_the_detail_format_holds_every_part_in_one_file_ordered_by_its_header(tmp_path):
    data = _backup(("050003E30302", PARTS[1]), ("050003E30301", PARTS[0] + "\u00e9" * 60), ("050003E30303", PARTS[2]))
    (sms,), problems = messages_from_files([_write(tmp_path, NAMES[0], data)], "modem", key=KEY)
    assert sms.text == PARTS[0] + "\u00e9" * 60 + PARTS[1] + PARTS[2]
    assert sms.message_id == message_id(NAMES[:1], KEY) and problems == 0


def test_a_text_that_looks_like_a_backup_file_does_not_choose_the_sender(tmp_path):
    forged = _backup(("", "BARUT x"), number="+6289999999999")  # the standard format: the text as it came
    (sms,), _ = messages_from_files([_write(tmp_path, NAMES[0], forged)], "modem", key=KEY)
    assert sms.sender == NUMBER


def test_a_folder_leaves_what_gammu_may_still_be_writing_and_names_what_it_cannot_read(tmp_path):
    _write(tmp_path, NAMES[0], b"BARUT lama")
    _write(tmp_path, "IN20261202_220130_00_+6281111111111_00.txt", b"BARUT baru", age_s=0)
    _write(tmp_path, "IN20261202_220131_00_+6282222222222_00.bin", b"\x00\x01")  # 8-bit data: no text
    (tmp_path / "notes.txt").write_text("not Gammu's")
    messages, problems = messages_from_files([str(tmp_path)], "modem", key=KEY)
    assert [m.text for m in messages] == ["BARUT lama"] and problems == 0
    named, problems = messages_from_files([str(tmp_path / "IN20261202_220130_00_+6281111111111_00.txt"),
                                           str(tmp_path / "notes.txt"), str(tmp_path / "gone.txt")], "modem", key=KEY)
    assert [m.text for m in named] == ["BARUT baru"] and problems == 2


def test_a_bare_name_is_looked_for_in_the_daemons_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox, NAMES[0], b"CEK 1234")
    rc = tmp_path / "gammu-smsdrc"
    rc.write_text(f"[gammu]\ndevice = /dev/ttyUSB0\n\n[SMSD]\nService = files\nInboxPath = {inbox}/\n")
    assert inbox_path(str(rc)) == inbox and inbox_path(str(tmp_path / "none")) is None
    (sms,), _ = messages_from_files([NAMES[0]], "modem", key=KEY, inbox=inbox_path(str(rc)))
    assert sms.text == "CEK 1234"


def test_settings_are_checked_and_default_to_debians_paths():
    assert Settings.from_mapping({}) == Settings("/etc/gammu-smsdrc", "gammu-smsd-inject", 30.0)
    with pytest.raises(ValueError, match="unknown key 'confg'"):
        Settings.from_mapping({"confg": "/etc/gammu-smsdrc"})
    with pytest.raises(ValueError, match="timeout"):
        Settings.from_mapping({"timeout": 0})


def test_the_inject_command_asks_for_ucs2_only_when_the_text_needs_it(tmp_path):
    rc = tmp_path / "rc"
    rc.write_text("[smsd]\n")
    sender = GammuSender("modem", {"config": str(rc), "inject": sys.executable})
    plain = sender.command(Outgoing(1, "modem", "+6281", "Laporan [€] diterima"))
    assert plain == [sys.executable, "-c", str(rc), "TEXT", "+6281", "-autolen", "20"]
    assert "Laporan" not in " ".join(plain)  # the text goes through stdin
    wide = sender.command(Outgoing(2, "modem", "+6281", "Terima kasih \U0001F64F"))
    assert wide[-3:] == ["-unicode", "-autolen", "15"]


class RecordingDesk:
    """What ``receive_command`` needs of ``SmsDesk``: its key box, and ``take``."""

    def __init__(self, fail: bool = False):
        from cryptography.fernet import Fernet

        from central.crypto import SecretBox

        self.box = SecretBox([Fernet.generate_key()])
        self.taken, self.fail = [], fail

    def take(self, sms):
        from central.sms import Taken

        if self.fail:
            raise OSError("the database is away")
        self.taken.append(sms)
        return Taken("filed", "0767GKDVW2WDK5", "reply")


def _config(tmp_path, *names: str):
    from central.sms_config import load

    path = tmp_path / "sms.toml"
    path.write_text("".join(f'[gateways.{n}]\ntype = "gammu"\nconfig = "{tmp_path}/rc"\n' for n in names))
    return load(path)


def _args(*files: str, gateway: str | None = None):
    import argparse

    return argparse.Namespace(files=list(files), gateway=gateway)


def test_the_hook_takes_the_run_and_a_failure_names_no_one(tmp_path, monkeypatch, caplog):
    from central.sms_gammu import receive_command

    for name, value in hook_environ().items():
        monkeypatch.setenv(name, value)
    desk = RecordingDesk()
    assert receive_command(desk, _config(tmp_path, "modem"), _args(*NAMES)) == 0
    (sms,) = desk.taken
    assert (sms.gateway, sms.sender, sms.text) == ("modem", NUMBER, WHOLE)
    assert receive_command(RecordingDesk(fail=True), _config(tmp_path, "modem"), _args(*NAMES)) == 1
    assert "stays in Gammu's inbox" in caplog.text
    assert "81234567892" not in caplog.text and "kata" not in caplog.text and "IN2026" not in caplog.text


def test_by_hand_it_needs_files_and_which_gateway(tmp_path, monkeypatch, capsys):
    from central.sms_gammu import receive_command

    monkeypatch.delenv("SMS_MESSAGES", raising=False)
    assert receive_command(RecordingDesk(), _config(tmp_path, "modem"), _args()) == 2
    assert receive_command(RecordingDesk(), _config(tmp_path, "a", "b"), _args("x")) == 2
    assert "--gateway" in capsys.readouterr().err
    path = _write(tmp_path, NAMES[0], b"BARUT lampu mati")
    desk = RecordingDesk()
    assert receive_command(desk, _config(tmp_path, "a", "b"), _args(path, gateway="b")) == 0
    assert [(s.gateway, s.text) for s in desk.taken] == [("b", "BARUT lampu mati")]
    assert capsys.readouterr().out.startswith("messages taken: 1 (filed 1)")
