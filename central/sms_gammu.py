"""Gammu SMSD (the Debian packages ``gammu`` and ``gammu-smsd``, with a USB GSM modem) as an
SMS gateway of the central (issue 16): gateway type ``gammu`` (docs/SMS.md, "Gammu SMSD").

One entry of the SMS file, ``[gateways.NAME]`` with ``type = "gammu"``, holds
(:meth:`Settings.from_mapping` refuses any other key, a typo included):

- ``config``: the gammu-smsdrc the daemon runs with (default ``/etc/gammu-smsdrc``);
- ``inject``: the ``gammu-smsd-inject`` program (default: the one on the PATH);
- ``timeout``: seconds one inject may take (default 30).

Incoming: gammu-smsd runs its ``RunOnReceive`` program once per received message, a
multi-part message once with all its parts, and waits for it. The program is
``python -m central sms gammu-receive``: :func:`receive_command` reads what the daemon
gives it (:func:`messages_from_hook`: ``SMS_MESSAGES``, ``SMS_<n>_NUMBER``,
``SMS_<n>_TEXT`` per part, ``DECODED_PARTS`` and ``DECODED_<n>_TEXT`` for the text Gammu
joined), and the names of the inbox files (or database rows) it stored the parts in as
arguments. A message's id is a keyed digest of those names: Gammu makes them unique per
message (time, serial, sender, part), and they hold the sender's number, which is never
stored in clear. A hook run twice on one message is one message to the core.

Without that environment (a technician's command line) the arguments are inbox files of
the ``files`` backend, or its inbox folder, read by :func:`messages_from_files` in any
``InboxFormat`` (standard, unicode, detail): the same message gets the same id whichever
way it came, so a run on the whole inbox folder files only what was not taken before.

Outgoing: :class:`GammuSender` hands a reply to ``gammu-smsd-inject``, which writes it to
the daemon's outbox (any backend; with the files backend, whole, see the class); the
daemon sends it. The text goes through stdin, with ``-unicode`` when it is not GSM-7 and
``-autolen`` so a long one becomes a multi-part SMS.

Nothing here logs a phone number, a text, a Tracking ID or an inbox file's name (it holds
the number); a reason given to the core has anything that may be a number masked.
"""
from __future__ import annotations

import collections
import configparser
import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from central.sms import SENDERS, IncomingSms, NotSent, Outgoing, masked
from central.sms_text import is_gsm7
from kiosk.kernel.clock import utc_now

log = logging.getLogger(__name__)

TYPE = "gammu"
#: The keys of its table (``type`` besides: the SMS file's); any other is a mistake.
KEYS = ("config", "inject", "timeout")
DEFAULT_CONFIG = "/etc/gammu-smsdrc"
DEFAULT_INJECT = "gammu-smsd-inject"
DEFAULT_TIMEOUT, TIMEOUT_MAX = 30.0, 300.0
#: What keys the digest of a message's inbox names (``SecretBox.derived``).
DIGEST_PURPOSE = "sms-gammu-message"
#: A file of a folder given on the command line that changed this recently may still be
#: written by the daemon (the parts of one message are written one after the other).
SETTLE_S = 5.0
#: The files backend's inbox names: ``IN<date>_<time>_<serial>_<sender>_<part>.<ext>``.
INBOX_NAME = re.compile(r"^IN(\d{8})_(\d{6})_(\d{2})_(.*)_(\d{2})\.(txt|bin)$")
#: A number ``gammu-smsd-inject`` can send to (the core gives +62...).
_SENDABLE = re.compile(r"^\+?\d{3,20}$")
#: A run of digits that may be a phone number (+62 812-3456-7890, 081234567890).
#: The folder in Gammu's outbox where inject writes an SMS before it is linked into the
#: outbox whole (the daemon reads only names that start with OUT); what a process left in
#: it longer than STAGED_MAX_AGE_S never reached the outbox and is cleared.
STAGING = ".central-staging"
STAGED_MAX_AGE_S = 3600.0
#: The locale the daemon's tools need to read and write anything but ASCII: without one,
#: gammu-smsd-inject cuts a text at its first non-ASCII character.
UTF8_LOCALE = "C.UTF-8"


# -- settings ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Settings:
    config: str = DEFAULT_CONFIG
    inject: str = DEFAULT_INJECT
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_mapping(cls, settings: Mapping) -> "Settings":
        """The settings of ``[gateways.NAME]`` (its ``type`` left out); ValueError naming the
        key and what is wrong (the caller adds the file and the table)."""
        unknown = set(settings) - set(KEYS) - {"type"}
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r}; a gammu gateway has {', '.join(KEYS)}")
        values = {}
        for key in ("config", "inject"):
            value = settings.get(key, getattr(cls, key))
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{key}: a path, as a string")
            values[key] = value.strip()
        timeout = settings.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= TIMEOUT_MAX:
            raise ValueError(f"timeout: a number of seconds above 0 and at most {TIMEOUT_MAX:g}, got {timeout!r}")
        return cls(config=values["config"], inject=values["inject"], timeout=float(timeout))


def smsd_section(rc: str) -> dict[str, str] | None:
    """The ``[smsd]`` section of the gammu-smsdrc at ``rc``, keys lowercased; None when the
    file cannot be read or has none."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    try:
        parser.read_string(Path(rc).read_text(encoding="utf-8", errors="replace"), source=rc)
    except (OSError, configparser.Error):
        return None
    for section in parser.sections():
        if section.strip().lower() == "smsd":
            return {key: value.strip().strip('"') for key, value in parser[section].items()}
    return None


def inbox_path(rc: str) -> Path | None:
    """The files backend's ``InboxPath`` in the gammu-smsdrc at ``rc``; None when the file
    cannot be read or names none (another backend)."""
    value = (smsd_section(rc) or {}).get("inboxpath", "")
    return Path(value) if value else None


def with_outbox(rc_text: str, outbox: Path) -> str:
    """The gammu-smsdrc ``rc_text`` with its ``[smsd]`` OutboxPath set to ``outbox``."""
    lines, section = [], None
    for line in rc_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip().lower()
        elif section == "smsd" and re.match(r"(?i)outboxpath\s*=", stripped):
            line = f"OutboxPath = {outbox}/"
        lines.append(line)
    return "\n".join(lines) + "\n"


# -- incoming: one RunOnReceive run ------------------------------------------------------------
def is_hook_call(environ: Mapping[str, str]) -> bool:
    """The environment gammu-smsd gives its RunOnReceive program."""
    return "SMS_MESSAGES" in environ


def message_id(names: Sequence[str], key: bytes) -> str:
    """The id of the message Gammu stored under ``names`` (inbox files or rows, in any
    order): a keyed digest, since a name holds the sender's number. "" without names."""
    names = sorted({os.path.basename(str(n).rstrip("/")) for n in names if str(n).strip()})
    if not names:
        return ""
    return "gammu:" + hmac.new(key, "\x00".join(names).encode("utf-8", "surrogateescape"),
                               hashlib.sha256).hexdigest()[:40]


def _clean(value: str) -> str:
    """An environment value as text: bytes that are not UTF-8 (a daemon started without a
    UTF-8 locale) become U+FFFD instead of failing later."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _count(environ: Mapping[str, str], name: str) -> int:
    try:
        return max(0, int(environ.get(name, "0").strip() or "0"))
    except ValueError:
        return 0


def messages_from_hook(environ: Mapping[str, str], argv: Sequence[str], gateway_name: str, now: dt.datetime, *,
                       key: bytes) -> list[IncomingSms]:
    """One RunOnReceive run as whole messages (usually one): the parts of a multi-part
    message joined (Gammu's decoded text when it gives one, else the parts in the order it
    gives them). Skipped: an MMS notice, and a message with no text part at all (8-bit
    data such as an operator's settings). ``argv``: the ids Gammu appended (inbox file
    names); ``key`` keys their digest. Pure: reads only its arguments."""
    count = _count(environ, "SMS_MESSAGES")
    parts = [(environ.get(f"SMS_{n}_NUMBER", "").strip(), environ.get(f"SMS_{n}_TEXT")) for n in range(1, count + 1)]
    decoded_parts = _count(environ, "DECODED_PARTS")
    if any(f"DECODED_{n}_MMS_ADDRESS" in environ for n in range(1, decoded_parts + 1)):
        return []
    if not parts or all(text is None for _, text in parts):
        return []
    senders = {number for number, _ in parts}
    if len(senders) == 1:
        decoded = [environ[f"DECODED_{n}_TEXT"] for n in range(1, decoded_parts + 1)
                   if f"DECODED_{n}_TEXT" in environ]
        text = "".join(decoded) if decoded else "".join(text or "" for _, text in parts)
        return [IncomingSms(gateway=gateway_name, message_id=message_id(argv, key), sender=_clean(senders.pop()),
                            text=_clean(text), received_at=now)]
    # Never seen from Gammu (one run is one message): each part on its own, its own id.
    names = list(argv) if len(argv) == len(parts) else [None] * len(parts)
    return [IncomingSms(gateway=gateway_name,
                        message_id=message_id([name] if name else [*argv, f"part {n}"], key),
                        sender=_clean(number), text=_clean(text or ""), received_at=now)
            for n, ((number, text), name) in enumerate(zip(parts, names), start=1) if text is not None]


# -- incoming: the files backend's inbox files ---------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Part:
    path: Path
    group: tuple[str, str, str, str]  # date, time, serial, sender: one message's parts share it
    sequence: int
    found_in_folder: bool = False  # not named: may be one the daemon is still writing


def _backup_sections(text: str) -> list[dict[str, str]]:
    """The ``[SMSBackupNNN]`` sections of a Gammu backup file (the ``detail`` format), in
    order, keys lowercased; when the daemon wrote a section again (it appends a copy to a
    file it updates), the last copy wins."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip().lower()
            current = None
            if name.startswith("smsbackup"):
                current = sections[name] = {}
        elif current is not None and "=" in line:
            name, _, value = line.partition("=")
            current[name.strip().lower()] = value.strip()
    return [sections[name] for name in sorted(sections)]


def _udh_sequence(udh: str) -> int | None:
    """The part number in a concatenation header (8- or 16-bit reference), else None."""
    try:
        data = bytes.fromhex(udh)
    except ValueError:
        return None
    at = 1
    while at + 1 < len(data):
        element, size = data[at], data[at + 1]
        if element == 0x00 and size == 3 and at + 4 < len(data):
            return data[at + 4]
        if element == 0x08 and size == 4 and at + 5 < len(data):
            return data[at + 5]
        at += 2 + size
    return None


def _section_text(section: Mapping[str, str]) -> str | None:
    """A backup section's text (UCS-2 hex over TextNN lines); None for 8-bit data."""
    if "8bit" in section.get("coding", "").lower():
        return None
    lines = sorted((k for k in section if re.fullmatch(r"text\d+", k)), key=lambda k: int(k[4:]))
    try:
        raw = bytes.fromhex("".join(section[k] for k in lines))
    except ValueError:
        return None
    return raw.decode("utf-16-be", "replace")


def _backup_number(section: Mapping[str, str]) -> str:
    unicode = section.get("numberunicode", "")
    if unicode:
        try:
            return bytes.fromhex(unicode).decode("utf-16-be", "replace")
        except ValueError:
            pass
    return section.get("number", "").strip().strip('"')


def _read_backup(raw: bytes) -> tuple[str, str | None]:
    """(sender, text) of a ``detail`` inbox file: every part is in it, ordered by its
    concatenation header."""
    sections = _backup_sections(raw.decode("utf-8", "replace"))
    if not sections:
        raise ValueError("a Gammu backup file without a message")
    ordered = sorted(enumerate(sections), key=lambda s: (_udh_sequence(s[1].get("udh", "")) or 0, s[0]))
    texts = [_section_text(section) for _, section in ordered]
    if all(text is None for text in texts):
        return _backup_number(sections[0]), None
    return _backup_number(sections[0]), "".join(text or "" for text in texts)


def _read_text(raw: bytes) -> str:
    """A ``unicode`` (UTF-16 with its byte order mark) or ``standard`` (the daemon's
    locale: UTF-8 where it was started as docs/SMS.md says) inbox file's text."""
    if raw[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return raw.decode("utf-16", "replace").rstrip("\x00")
    return raw.decode("utf-8", "replace").rstrip("\x00")


def _inbox_parts(paths: Sequence[str], inbox: Path | None) -> tuple[list[_Part], int]:
    """The inbox files named (a name alone is looked for in ``inbox`` too) or in a folder
    named, and how many names were no inbox file."""
    parts, problems = [], 0
    for given in paths:
        path = Path(given)
        if not path.exists() and inbox is not None and (inbox / given).exists():
            path = inbox / given
        if path.is_dir():
            for child in sorted(path.iterdir()):
                found = INBOX_NAME.match(child.name)
                if found and child.is_file():
                    parts.append(_Part(child, found.group(1, 2, 3, 4), int(found.group(5)), found_in_folder=True))
            continue
        found = INBOX_NAME.match(path.name)
        if not found or not path.is_file():
            problems += 1
            continue
        parts.append(_Part(path, found.group(1, 2, 3, 4), int(found.group(5))))
    return parts, problems


def messages_from_files(paths: Sequence[str], gateway_name: str, *, key: bytes, inbox: Path | None = None,
                        settle_s: float = SETTLE_S) -> tuple[list[IncomingSms], int]:
    """The messages in inbox files of the ``files`` backend (or in every file of an inbox
    folder but those changed in the last ``settle_s`` seconds), with the ids a hook run
    gives them; and how many files could not be read. The parts of one message (same
    time, serial and sender) are joined in their order; received: when the daemon wrote
    the last of them."""
    parts, problems = _inbox_parts(paths, inbox)
    settled_before = time.time() - settle_s
    groups: dict[tuple, dict[Path, _Part]] = collections.defaultdict(dict)
    for part in parts:
        groups[part.group][part.path.resolve()] = part
    messages = []
    for group, members in sorted(groups.items()):
        ordered = sorted(members.values(), key=lambda p: p.sequence)
        try:
            written = max(p.path.stat().st_mtime for p in ordered)
            if written >= settled_before and any(p.found_in_folder for p in ordered):
                continue  # taken by its hook run, or by the next run on the folder
            # The sender as the daemon named the file: a text of the standard format that
            # looks like a backup file must not choose where the reply goes.
            sender, texts = group[3], []
            for part in ordered:
                raw = part.path.read_bytes()
                if part.path.suffix == ".bin":
                    texts.append(None)  # 8-bit data: no text
                    continue
                try:
                    number, text = _read_backup(raw) if b"[SMSBackup" in raw[:4096] else ("", _read_text(raw))
                except ValueError:  # a text that only looks like one
                    number, text = "", _read_text(raw)
                sender = sender or number
                texts.append(text)
        except (OSError, ValueError):
            problems += len(ordered)
            continue
        if all(text is None for text in texts):
            continue
        messages.append(IncomingSms(gateway=gateway_name, message_id=message_id([p.path.name for p in ordered], key),
                                    sender=sender, text="".join(t or "" for t in texts),
                                    received_at=dt.datetime.fromtimestamp(written, dt.timezone.utc)))
    return messages, problems


# -- the hook's command --------------------------------------------------------------------------
def _gateway(config, name: str | None):
    gammu = config.of_type(TYPE)
    if name:
        gateway = config.gateways.get(name)
        if gateway is None or gateway.type != TYPE:
            raise ValueError(f"--gateway {name}: no [gateways.{name}] of type gammu in {config.path}")
        return gateway
    if len(gammu) != 1:
        raise ValueError(f"{config.path}: {'no' if not gammu else 'more than one'} [gateways.NAME] of type gammu"
                         f"{'' if not gammu else ': say which with --gateway NAME'}")
    return gammu[0]


def receive_command(desk, config, args) -> int:
    """``python -m central sms gammu-receive [--gateway NAME] [FILE ...]``: Gammu's
    RunOnReceive (the message in the environment, its inbox files as arguments), or a
    technician's run on inbox files or the inbox folder. Every message goes to
    ``desk.take``; taking one again is harmless. Never raises: 0 when every message was
    taken, 1 when one was not (it stays in Gammu's inbox: run the command again on the
    inbox folder), 2 for a wrong command."""
    try:
        gateway = _gateway(config, getattr(args, "gateway", None))
        settings = Settings.from_mapping(gateway.settings)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files = [str(f) for f in getattr(args, "files", None) or []]
    hooked = is_hook_call(os.environ)
    if not hooked and not files:
        print("error: no message: Gammu's RunOnReceive gives one in its environment; by hand, name inbox files "
              "or the inbox folder (docs/SMS.md, \"Gammu SMSD\")", file=sys.stderr)
        return 2
    try:
        key = desk.box.derived(DIGEST_PURPOSE)[0]
        if hooked:
            messages, problems = messages_from_hook(os.environ, files, gateway.name, utc_now(), key=key), 0
        else:
            messages, problems = messages_from_files(files, gateway.name, key=key, inbox=inbox_path(settings.config))
    except Exception as exc:  # never a traceback to the daemon's log: it may quote the message
        log.error("gammu %s: the received message could not be read (%s); it stays in Gammu's inbox",
                  gateway.name, type(exc).__name__)
        return 1
    outcomes, failed = collections.Counter(), 0
    for sms in messages:
        try:
            outcomes[desk.take(sms).outcome] += 1
        except Exception as exc:  # the database away: the next message may still go in, this one waits
            failed += 1
            log.error("gammu %s: an SMS was not taken (%s); it stays in Gammu's inbox", gateway.name,
                      type(exc).__name__)
    summary = ", ".join(f"{outcome} {n}" for outcome, n in sorted(outcomes.items())) or "none"
    if not hooked:
        print(f"messages taken: {sum(outcomes.values())} ({summary}); not taken: {failed}; files not read: {problems}")
    if failed or problems:
        log.warning("gammu %s: %d messages not taken, %d files not read: run python -m central sms gammu-receive "
                    "on Gammu's inbox folder once the cause is fixed", gateway.name, failed, problems)
        return 1
    return 0


# -- outgoing ------------------------------------------------------------------------------------
def _error_line(output: bytes) -> str:
    """What Gammu said went wrong: its last line that is not a notice of what it did."""
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    wrong = [line for line in lines if not re.search(r"Created outbox|Written message|No PIN code", line)]
    return masked(wrong[-1]) if wrong else "no message"


class GammuSender:
    """Replies through ``gammu-smsd-inject``: the SMS is in the daemon's outbox when it
    returns 0, and the daemon sends it. A failure of the setup (the program, the rc file,
    the outbox) is retried: a fix of the machine sends what waited; a text or number no
    retry can send fails for good.

    With the ``files`` backend, inject reserves a file in the outbox (empty) and writes the
    message into it afterwards, and the daemon reads the outbox meanwhile: it may take the
    empty or half-written file, move it to its error folder, and the SMS is lost (Gammu
    1.42, its daemon polling without a pause: 1 to 4 of 300 lost). So inject writes into a
    folder of its own inside the outbox (one file system; a name the daemon never reads),
    and the finished file is linked into the outbox at once, named after the outgoing SMS:
    a second hand-over of one SMS still waiting there finds it and adds nothing."""

    def __init__(self, name: str, settings: Mapping):
        self.name = name
        self.settings = Settings.from_mapping(settings)
        if shutil.which(self.settings.inject) is None:
            raise ValueError(f"inject: {self.settings.inject} not found (the gammu-smsd package installs "
                             "gammu-smsd-inject)")
        try:
            self._rc_text = Path(self.settings.config).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ValueError(f"config: {self.settings.config} cannot be read ({exc.strerror}): the gammu-smsdrc "
                             "the daemon runs with") from None
        smsd = smsd_section(self.settings.config) or {}
        self.outbox: Path | None = None
        if smsd.get("service", "").lower() == "files" and smsd.get("outboxpath"):
            self.outbox = Path(smsd["outboxpath"])
            try:
                self.staging.mkdir(mode=0o700, exist_ok=True)
                self._clear_stale()
            except OSError as exc:
                raise ValueError(f"config: Gammu's outbox {self.outbox} must be a folder the central may write "
                                 f"in ({exc.strerror})") from None

    @property
    def staging(self) -> Path:
        return self.outbox / STAGING

    def _clear_stale(self) -> None:
        """Hand-overs a process left half done (it died): they never reached the outbox."""
        for folder in self.staging.iterdir():
            if time.time() - folder.stat().st_mtime > STAGED_MAX_AGE_S:
                shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def note(outgoing: Outgoing) -> str:
        """The outbox file's name ends with this (the files backend ignores it): the SMS's id
        and a checksum, so a stale file of another database's SMS of that id is not it."""
        check = zlib.crc32(f"{outgoing.to}\x00{outgoing.text}".encode("utf-8"))
        return f"central{outgoing.id}x{check:08x}"

    def command(self, outgoing: Outgoing, rc: str | None = None) -> list[str]:
        """The inject command line (the text goes through stdin)."""
        places = len(outgoing.text.encode("utf-16-le")) // 2  # UCS-2 units: at least the GSM-7 characters
        unicode = [] if is_gsm7(outgoing.text) else ["-unicode"]
        return [self.settings.inject, "-c", rc or self.settings.config, "TEXT", outgoing.to.strip(), *unicode,
                "-autolen", str(max(1, places))]

    def send(self, outgoing: Outgoing) -> None:
        if not _SENDABLE.match(outgoing.to.strip()):
            raise NotSent("not a number Gammu can send to", retry=False)
        if not outgoing.text:
            raise NotSent("an empty text", retry=False)
        if self.outbox is None:
            self._inject(outgoing, self.settings.config)
            return
        note = self.note(outgoing)
        if any(self.outbox.glob(f"OUT*_{note}*")):
            return  # handed over before (the process died before it was settled): not twice
        try:
            folder = Path(tempfile.mkdtemp(prefix="send-", dir=self.staging))
            rc = folder / "gammu-smsdrc"
            rc.write_text(with_outbox(self._rc_text, folder), encoding="utf-8")
        except OSError as exc:
            raise NotSent(f"Gammu's outbox cannot be written ({exc.strerror})", retry=True) from None
        try:
            self._inject(outgoing, str(rc))
            staged = sorted(p for p in folder.iterdir() if p.name.startswith("OUT"))
            if not staged:
                raise NotSent(f"{self.settings.inject} wrote no outbox file", retry=True)
            for n, path in enumerate(staged):
                stem, _, extension = path.name.rpartition(".")
                prefix = stem.rsplit("_", 1)[0]  # OUTC<date>_<time>_<serial>_<number>
                part = f"p{n}" if len(staged) > 1 else ""
                try:
                    os.link(path, self.outbox / f"{prefix}_{note}{part}.{extension}")
                except FileExistsError:
                    pass  # this very SMS, handed over before
                except OSError as exc:
                    raise NotSent(f"Gammu's outbox cannot be written ({exc.strerror})", retry=True) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _inject(self, outgoing: Outgoing, rc: str) -> None:
        inject = self.settings.inject
        environ = {**os.environ, "LC_ALL": UTF8_LOCALE, "LANG": UTF8_LOCALE}
        try:
            done = subprocess.run(self.command(outgoing, rc), input=outgoing.text.encode("utf-8"),
                                  capture_output=True, timeout=self.settings.timeout, env=environ)
        except FileNotFoundError:
            raise NotSent(f"{inject} not found (is gammu-smsd installed?)", retry=True) from None
        except subprocess.TimeoutExpired:
            raise NotSent(f"{inject} did not finish in {self.settings.timeout:g} s", retry=True) from None
        except OSError as exc:
            raise NotSent(f"{inject} could not be run ({type(exc).__name__})", retry=True) from None
        if done.returncode != 0:
            raise NotSent(f"{inject} exited with {done.returncode}: {_error_line(done.stdout + done.stderr)}",
                          retry=True)


SENDERS[TYPE] = GammuSender
