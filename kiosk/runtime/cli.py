"""The ``kiosk`` command (also ``python -m kiosk``): ``kiosk run`` starts the kiosk.

Later issues add technician subcommands (doctor, queue, sync, reprint, ...).
"""
from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Callable

from kiosk.runtime.config import Config, ConfigError, load_config

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="SP4N LAPOR! kiosk")
    parser.add_argument("--config", type=Path, help="TOML config file (default: KIOSK_CONFIG or the user config dir)")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the kiosk")
    run.add_argument("--data-dir", help="where the database and receipts live")
    run.add_argument("--fullscreen", action="store_true", default=None, help="fullscreen, borderless")
    run.add_argument("--windowed", dest="fullscreen", action="store_false", help="a window (default)")
    run.add_argument("--size", metavar="WxH", help="window size, e.g. 1280x800")
    run.add_argument("--screenshot", type=Path, metavar="PNG",
                     help="draw Welcome, save it to this PNG file and exit (0: display and store work)")
    queue = sub.add_parser("queue", help="list the outbox: what is waiting, sent or failed")
    queue.add_argument("--data-dir", help="where the database lives")
    queue.add_argument("--all", action="store_true", help="also list sent entries")
    sync = sub.add_parser("sync", help="deliver waiting reports to the central service")
    sync.add_argument("--data-dir", help="where the database lives")
    sync.add_argument("--once", action="store_true", required=True, help="run one pass and report what happened")
    doctor = sub.add_parser("doctor", help="check config, database, printer, camera and central")
    doctor.add_argument("--json", action="store_true")
    sub.add_parser("print-test", help="print a test receipt in both QR modes")
    scan = sub.add_parser("scan", help="decode QR codes from a camera source (also a camera check)")
    scan.add_argument("--source", required=True, help="camera index, /dev/videoN, image, folder, video or stream URL")
    scan.add_argument("--json", action="store_true", help="one JSON line per code (per image for a folder)")
    admin = sub.add_parser("admin", help="what the admin screen does: PIN, retry failed, language, config")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    admin_sub.add_parser("hash-pin", help="make the admin_pin_hash line for the config file (reads the PIN)")
    admin_sub.add_parser("retry-failed", help="queue failed reports again and make everything waiting due now")
    language = admin_sub.add_parser("language", help="show or set the language each new citizen starts in")
    language.add_argument("language", nargs="?", choices=("id", "en"))
    admin_sub.add_parser("config", help="the configuration as the kiosk runs it (secrets hidden)")
    reprint = sub.add_parser("reprint", help="print a copy (SALINAN) of a receipt this kiosk issued")
    reprint.add_argument("tracking_id")
    reprint.add_argument("--data-dir", help="where the database lives")
    upgrade = sub.add_parser("upgrade", help="install a signed release, switch to it, go back if it is not healthy "
                                             "(as root; docs/DEPLOY.md, Update)")
    what = upgrade.add_mutually_exclusive_group(required=True)
    what.add_argument("source", nargs="?", help="release folder or http(s) URL: manifest.json, its signature, archives")
    what.add_argument("--rollback", action="store_true",
                      help="make the previous release current again (it must know the database's schema)")
    what.add_argument("--recover", type=Path, metavar="PATH",
                      help="copy the reports only a set-aside database (kiosk.sqlite3.from-<version>) holds into "
                           "the kiosk's, then rename it PATH.recovered")
    upgrade.add_argument("--root", type=Path, help="where releases live (default /opt/lapor-kiosk)")
    upgrade.add_argument("--public-key", type=Path, help="release key (default /etc/lapor-kiosk/release.pub)")
    upgrade.add_argument("--unit", help="the kiosk's systemd unit (default lapor-kiosk.service)")
    upgrade.add_argument("--timeout", type=float, help="seconds the new release has to become healthy (default 60)")
    return parser


def _overrides(args: argparse.Namespace) -> dict:
    out: dict = {}
    if getattr(args, "data_dir", None):
        out["data_dir"] = args.data_dir
    if getattr(args, "fullscreen", None) is not None:
        out["fullscreen"] = args.fullscreen
    if getattr(args, "size", None):
        try:
            w, h = args.size.lower().split("x")
            out["window_width"], out["window_height"] = int(w), int(h)
        except ValueError:
            raise ConfigError("command line", "--size", f"expected WIDTHxHEIGHT, got {args.size!r}") from None
    return out


#: Python's levels as the syslog priorities the journal reads from a ``<N>`` line prefix.
_JOURNAL_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class _JournalFormatter(logging.Formatter):
    """For stderr when it is the journal: no timestamp (the journal adds its own) and
    a ``<N>`` prefix so ``journalctl -p warning`` finds warnings and errors."""

    def __init__(self):
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        priority = _JOURNAL_PRIORITY.get(record.levelno, 3 if record.levelno > logging.WARNING else 6)
        return f"<{priority}>{super().format(record)}"


class _LogFile(logging.handlers.RotatingFileHandler):
    """The rotated log file. A full or read-only disk is said once on stderr instead of
    a traceback per line; the kiosk goes on, stderr still reaches the journal, and
    writing resumes by itself once there is room."""

    _failed = False

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if not self._failed:
            self._failed = True
            exc = sys.exc_info()[1]
            print(f"kiosk: cannot write the log file {self.baseFilename}: "
                  f"{getattr(exc, 'strerror', None) or type(exc).__name__}; logging to stderr only",
                  file=sys.stderr)


def stderr_is_journal(environ=None) -> bool:
    """True when systemd connected stderr to the journal (``JOURNAL_STREAM`` names its
    device and inode; a child that inherited the variable but not the stream is not)."""
    environ = os.environ if environ is None else environ
    try:
        device, inode = (int(part) for part in environ.get("JOURNAL_STREAM", "").split(":"))
        stat = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


def setup_logging(config: Config) -> None:
    """Log to stderr (the journal under systemd) and a rotated file in the data
    directory. Never complaint text or personal data: modules log states, counts and
    error types (tests/e2e/test_log_privacy.py greps the logs for it)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setFormatter(_JournalFormatter() if stderr_is_journal() else fmt)
    root.addHandler(stderr)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        logs = config.data_path / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        handler = _LogFile(logs / "kiosk.log", maxBytes=config.log_max_bytes, backupCount=config.log_backups,
                           encoding="utf-8")
        handler.setFormatter(fmt)
        root.addHandler(handler)
    except OSError as exc:
        log.warning("log file unavailable (%s); logging to stderr only", exc.strerror)


def _read_pin(prompt: str) -> str:
    """From the terminal without echo; one line of standard input when piped."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    return sys.stdin.readline().strip()


def main(argv: list[str] | None = None, *, run_ui: Callable[[Config, Path | None], int] | None = None) -> int:
    """The ``kiosk`` command. ``run_ui`` starts the screens (``kiosk.launcher`` passes it:
    this layer does not import the UI)."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config, overrides=_overrides(args))
    except ConfigError as exc:
        for line in exc.lines:  # every wrong key, one line each
            print(f"kiosk: configuration error: {line}", file=sys.stderr)
        return 2
    if args.command == "run":
        if run_ui is None:
            print("kiosk: this entry point has no screen: start the kiosk with `kiosk run`", file=sys.stderr)
            return 2
        setup_logging(config)
        return run_ui(config, args.screenshot)
    from kiosk.runtime import technician  # no Kivy: works over SSH on a kiosk without a screen

    if args.command == "queue":
        return technician.show_queue(config, include_sent=args.all)
    if args.command == "sync":
        return technician.sync_once(config)
    if args.command == "doctor":
        return technician.doctor(config, as_json=args.json)
    if args.command == "print-test":
        return technician.print_test(config)
    if args.command == "scan":
        return technician.scan_source(args.source, as_json=args.json, status_base_url=config.status_base_url)
    if args.command == "admin":
        if args.admin_command == "hash-pin":
            return technician.admin_hash_pin(_read_pin)
        if args.admin_command == "retry-failed":
            return technician.admin_retry_failed(config)
        if args.admin_command == "language":
            return technician.admin_language(config, args.language)
        return technician.admin_config(config)
    if args.command == "reprint":
        return technician.reprint(config, args.tracking_id)
    if args.command == "upgrade":
        from kiosk.runtime import upgrade

        if args.rollback:
            return upgrade.run_rollback(database=config.database_file, root=args.root, unit=args.unit,
                                        timeout_s=args.timeout)
        if args.recover:
            return upgrade.run_recover(args.recover, database=config.database_file)
        return upgrade.run(args.source, database=config.database_file, root=args.root,
                           public_key_file=args.public_key, unit=args.unit, timeout_s=args.timeout)
    return 1
