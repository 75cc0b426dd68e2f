"""A real Gammu SMS daemon for the tests (issue 16): ``gammu-smsd`` with Gammu's dummy phone
(a folder standing for the modem) and the ``files`` backend, all in a folder of the test's.

What it does, as measured with Gammu 1.42 (Debian's ``gammu`` and ``gammu-smsd``):

- The dummy phone keeps each message as a Gammu backup file ``<device>/sms/<folder>/<n>``
  (folder 1: the SIM's inbox). gammu-smsd reads and deletes them, writes each message to
  its inbox folder (``IN<date>_<time>_<serial>_<sender>_<part>.txt``), then runs
  ``RunOnReceive`` once per message (a multi-part message once, with every part's file)
  and waits for it. :meth:`GammuPhone.receive` places a message with ``gammu savesms``
  into a phone of its own, then renames the file into the daemon's phone: the daemon
  never reads a file half written.
- Sending: ``gammu-smsd-inject`` writes the outbox; the daemon sends one message per loop
  and moves it to the sent folder (a backup file: number and text, every part; a copy is
  appended as each part goes, the last one whole). The dummy phone keeps nothing it sent.
  ``LoopSleep = 0`` sends a hundred in well under a second, and keeps a core busy while
  the daemon runs: the tests use it only for that, at the lowest priority.
- Every RunOnReceive run goes through :data:`RECORDER`: it keeps the run's arguments and
  Gammu's environment (``hooks/<n>.args``, ``.env``), then runs the test's hook command and
  keeps its exit status (``.status``), so a test can hand the same run over again.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

PROGRAMS = ("gammu", "gammu-smsd", "gammu-smsd-inject")
#: A Gammu that has not started in this long will not.
START_TIMEOUT_S = 20.0
#: The SIM's inbox folder of the dummy phone.
INBOX_FOLDER = 1
#: The RunOnReceive program: records the run, then runs the hook command (if any).
RECORDER = """#!/bin/sh
# A RunOnReceive run of the test's gammu-smsd: what Gammu gave, then the hook's status.
run="{hooks}/$(date +%s%N)-$$"
printf '%s\\0' "$@" > "$run.args.tmp" && mv "$run.args.tmp" "$run.args"
env -0 > "$run.env"
{command}
status=$?
echo "$status" > "$run.status.tmp" && mv "$run.status.tmp" "$run.status"
exit "$status"
"""
#: What the daemon's environment gives a hook about the message (the rest is the daemon's own).
HOOK_VARIABLE = re.compile(r"^(SMS_|DECODED_|PHONE_ID$)")


def installed() -> bool:
    return all(shutil.which(p) for p in PROGRAMS)


def utf8_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Gammu's programs need: without a UTF-8 locale they turn every
    character outside ASCII into "?" (the daemon) or cut the text there (inject)."""
    return {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **(extra or {})}


@dataclasses.dataclass(frozen=True)
class SentSms:
    number: str
    text: str
    parts: int
    file: str


@dataclasses.dataclass(frozen=True)
class HookRun:
    args: list[str]
    environ: dict[str, str]  # everything the hook saw (Gammu's variables, and the daemon's own)
    status: int | None  # None while the hook runs

    @property
    def message_variables(self) -> dict[str, str]:
        return {k: v for k, v in self.environ.items() if HOOK_VARIABLE.match(k)}


def _sections(text: str) -> list[dict[str, str]]:
    """The message sections of a Gammu backup file, keys lowercased, in their order. The
    daemon appends a copy of the message to a sent file as each part goes (Gammu 1.42: a
    three-part SMS leaves four copies, the last one whole): the last copy of a section wins."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(";") or not line:
            continue
        if line.startswith("["):
            name = line.strip("[]").lower()
            current = sections[name] = {}
        elif current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key.strip().lower()] = value.strip()
    return [s for name, s in sorted(sections.items()) if name.startswith("smsbackup")]


def read_backup(path: Path) -> SentSms:
    """Number and text of a backup file (the sent folder's): the parts in their order."""
    sections = _sections(path.read_text(encoding="utf-8", errors="replace"))
    if not sections:
        raise ValueError(f"{path.name}: no message in it")

    def part_number(section: dict[str, str]) -> int:
        udh = section.get("udh", "")
        return int(udh[10:12], 16) if len(udh) >= 12 and udh[2:4] == "00" else 0

    text = ""
    for section in sorted(sections, key=part_number):
        lines = sorted((k for k in section if re.fullmatch(r"text\d+", k)), key=lambda k: int(k[4:]))
        text += bytes.fromhex("".join(section[k] for k in lines)).decode("utf-16-be")
    number = bytes.fromhex(sections[0]["numberunicode"]).decode("utf-16-be")
    return SentSms(number=number, text=text, parts=len(sections), file=path.name)


class GammuPhone:
    """A gammu-smsd with the dummy phone in ``root``; ``hook``: the RunOnReceive command
    (Gammu appends the inbox files' names), None to record the runs only."""

    def __init__(self, root: Path, *, hook: Sequence[str] | None = None, loop_sleep: int = 1,
                 multipart_timeout: int = 600):
        self.root = Path(root)
        self.phone, self.staging = self.root / "phone", self.root / "staging"
        self.inbox, self.outbox, self.sent_dir, self.error_dir = (self.root / n for n in ("inbox", "outbox", "sent",
                                                                                       "error"))
        self.hooks = self.root / "hooks"
        self.rc, self.staging_rc = self.root / "gammu-smsdrc", self.root / "staging-rc"
        self.log = self.root / "smsd.log"
        for folder in (self.phone, self.staging, self.inbox, self.outbox, self.sent_dir, self.error_dir, self.hooks):
            folder.mkdir(parents=True, exist_ok=True)
        recorder = self.root / "run-on-receive"
        command = f'{shlex.join(hook)} "$@" > "$run.out" 2>&1' if hook else ": nothing but the record"
        recorder.write_text(RECORDER.format(hooks=self.hooks, command=command), encoding="utf-8")
        recorder.chmod(0o755)
        self.loop_sleep, self.multipart_timeout = loop_sleep, multipart_timeout
        self._write_rc(recorder)
        self.staging_rc.write_text(f"[gammu]\nmodel = dummy\nconnection = none\ndevice = {self.staging}\n",
                                   encoding="utf-8")
        self.process: subprocess.Popen | None = None
        self._next_location = 1

    def _write_rc(self, recorder: Path) -> None:
        self.rc.write_text(
            "[gammu]\nmodel = dummy\nconnection = none\n"
            f"device = {self.phone}\n\n"
            "[smsd]\nservice = files\n"
            f"logfile = {self.log}\ndebuglevel = 1\n"
            f"inboxpath = {self.inbox}/\noutboxpath = {self.outbox}/\n"
            f"sentsmspath = {self.sent_dir}/\nerrorsmspath = {self.error_dir}/\n"
            f"RunOnReceive = {recorder}\n"
            # Poll the phone every second, look at the outbox at every loop, no status checks.
            f"ReceiveFrequency = 1\nCommTimeout = 0\nLoopSleep = {self.loop_sleep}\nStatusFrequency = 0\n"
            "CheckSecurity = 0\nCheckBattery = 0\nCheckSignal = 0\nCheckNetwork = 0\n"
            f"MultipartTimeout = {self.multipart_timeout}\nPhoneID = test-modem\n",
            encoding="utf-8")

    # -- the daemon ----------------------------------------------------------------------------
    def start(self) -> "GammuPhone":
        """Start gammu-smsd; returns once its log says it talks to the phone."""
        if self.process is not None:
            raise RuntimeError("gammu-smsd runs already")
        offset = self.log.stat().st_size if self.log.exists() else 0
        # Without a sleep in its loop the daemon keeps a core busy: the lowest priority then.
        nice = ["nice", "-n", "19"] if self.loop_sleep == 0 else []
        self.process = subprocess.Popen([*nice, "gammu-smsd", "-c", str(self.rc)], cwd=self.root, env=utf8_environ(),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            self.wait_for_log("Starting phone communication", after=offset, timeout=START_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM (the daemon finishes its loop and frees its shared memory), then waits."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> "GammuPhone":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_text(self, after: int = 0) -> str:
        try:
            with self.log.open("rb") as f:
                f.seek(after)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, needle: str, *, after: int = 0, timeout: float) -> None:
        self._wait(lambda: needle in self.log_text(after), timeout, f"gammu-smsd's log to say {needle!r}")

    def _wait(self, done, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gammu-smsd exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:g} s for {what}:\n{self.log_text()[-3000:]}")
            time.sleep(0.02)

    # -- the phone receives --------------------------------------------------------------------
    def _save(self, sender: str, text: str, *options: str) -> int:
        """``gammu savesms`` into the staging phone, then each part renamed into the
        daemon's phone; returns how many parts the message took."""
        done = subprocess.run(["gammu", "-c", str(self.staging_rc), "savesms", "TEXT", "-folder", str(INBOX_FOLDER),
                               "-unread", "-sender", sender, *options, "-text", text],
                              capture_output=True, env=utf8_environ(), timeout=30)
        if done.returncode:
            raise RuntimeError(f"gammu savesms exited with {done.returncode}: {done.stdout!r} {done.stderr!r}")
        saved = sorted((self.staging / "sms" / str(INBOX_FOLDER)).iterdir(), key=lambda p: int(p.name))
        for part in saved:
            os.rename(part, self.phone / "sms" / str(INBOX_FOLDER) / str(self._next_location))
            self._next_location += 1
        return len(saved)

    def receive(self, sender: str, text: str) -> None:
        """One SMS from ``sender`` arrives on the phone (UCS-2 when the text needs it)."""
        unicode = [] if text.isascii() else ["-unicode"]
        parts = self._save(sender, text, *unicode, "-len", str(len(text.encode("utf-16-le")) // 2))
        if parts != 1:
            raise ValueError(f"the text takes {parts} SMS: use receive_multipart")

    def receive_multipart(self, sender: str, text: str) -> int:
        """A long SMS from ``sender`` (concatenated parts with their header); returns how
        many parts it took."""
        unicode = [] if text.isascii() else ["-unicode"]  # -len keeps it: -autolen would choose
        return self._save(sender, text, *unicode, "-len", str(len(text.encode("utf-16-le")) // 2))

    def _sms_folder(self) -> Path:
        return self.phone / "sms" / str(INBOX_FOLDER)

    def waiting_on_phone(self) -> int:
        folder = self._sms_folder()
        return sum(1 for _ in folder.iterdir()) if folder.exists() else 0

    # -- what the hook was given ---------------------------------------------------------------
    def hook_runs(self) -> list[HookRun]:
        runs = []
        for args in sorted(self.hooks.glob("*.args")):
            stem = args.name[:-len(".args")]
            env_file, status_file = self.hooks / f"{stem}.env", self.hooks / f"{stem}.status"
            raw_env = env_file.read_bytes() if env_file.exists() else b""
            environ = dict(item.split("=", 1) for item in raw_env.decode("utf-8", "surrogateescape").split("\0")
                           if "=" in item)
            status = int(status_file.read_text().strip()) if status_file.exists() else None
            runs.append(HookRun([a for a in args.read_bytes().decode("utf-8").split("\0") if a], environ, status))
        return runs

    def hook_output(self) -> str:
        return "\n".join(f.read_text(encoding="utf-8", errors="replace") for f in sorted(self.hooks.glob("*.out")))

    def wait_hook_runs(self, count: int, *, timeout: float = 60) -> list[HookRun]:
        """Until ``count`` RunOnReceive runs have finished; returns every run."""
        self._wait(lambda: sum(1 for _ in self.hooks.glob("*.status")) >= count, timeout,
                   f"{count} RunOnReceive runs to finish")
        return self.hook_runs()

    # -- the phone sends -----------------------------------------------------------------------
    def waiting_to_send(self) -> list[str]:
        """The outbox's messages (its files; the daemon reads only names starting with OUT)."""
        return sorted(p.name for p in self.outbox.iterdir() if p.name.startswith("OUT"))

    def sent(self) -> list[SentSms]:
        """Every SMS the daemon sent (its sent folder), oldest file name first."""
        return [read_backup(p) for p in sorted(self.sent_dir.iterdir()) if p.is_file()]

    def wait_sent(self, count: int, *, timeout: float = 30) -> list[SentSms]:
        """Until ``count`` SMS are in the sent folder and the outbox is empty."""
        self._wait(lambda: sum(1 for _ in self.sent_dir.iterdir()) >= count and not self.waiting_to_send(),
                   timeout, f"{count} SMS in the sent folder")
        return self.sent()


def sms_file(path: Path, rc: Path, *, inject: str | None = None) -> str:
    """An SMS file for the central whose one gateway, ``modem``, is the daemon of the
    gammu-smsdrc ``rc`` (limits high enough for a hundred messages in one test); returns
    its path."""
    inject_line = f'inject = "{inject}"\n' if inject else ""
    path.write_text('issuer = "0767"\n\n[limits]\nper_number_per_hour = 1000\nper_gateway_per_minute = 100000\n\n'
                    f'[gateways.modem]\ntype = "gammu"\nconfig = "{rc}"\n{inject_line}', encoding="utf-8")
    return str(path)
