"""``python -m central``: serve the API, and manage kiosks.

    python -m central serve [--host H] [--port P] [--workers N] [--trusted-proxies IPS] [--docs]
    python -m central kiosk add CODE --location "..."      (prints the token once)
    python -m central kiosk revoke CODE
    python -m central kiosks [--json] [--silent-after MIN] [--backed-up-after MIN] [--max-queue N]
                             [--low-disk-mb MB] [--now ISO-TIME]
        (the fleet from the kiosks' heartbeats; exit 0 when every kiosk in service is
         healthy, 1 when any is flagged: for cron and monitoring)
    python -m central officer add NAME                       (a script's API token, printed once: role
        script, every lifecycle action through the officer API, no workbench account)
    python -m central officer add NAME --role admin|agency|viewer [--agency CODE] [--password-stdin]
        (a workbench account: the password is asked twice, or read as one line from stdin)
    python -m central officer password NAME [--password-stdin]
    python -m central officer totp NAME                      (prints the otpauth:// URI once; needs the
        secret key, as serve does)
    python -m central secret-key new PATH                    (a new key file for --secret-key-file, mode 0600)
    python -m central officer token NAME                     (a new API token for an account, printed
        once; it acts with the account's role and agency, as the workbench does)
    python -m central report ID ACTION [--actor A] [--note N] [--reply R] [--agency X]
    python -m central close-answered [--now ISO-TIME]
        (closes reports answered more than 10 working days ago without objection: for cron,
         safe on several machines at once)
    python -m central overdue [--json] [--today YYYY-MM-DD]
        (reports past their working-day deadline: Tracking ID, status, agency, due date,
         working days late; exit 0 when none, 1 when any: for cron and monitoring)
    python -m central holidays import FILE
        (the kabupaten's own days, replacing the stored ones: YYYY-MM-DD a day off,
         -YYYY-MM-DD a day worked, "# name" after it; moves the due dates; kiosks get them
         with the reference data)
    python -m central holidays list [--year YYYY]
    python -m central open311-client add NAME               (an Open311 client's API key, printed once:
        it files reports through POST /open311/v2/requests.{json,xml}; only its SHA-256 is stored)
    python -m central open311-client list                   (name, when added, revoked, requests filed)
    python -m central open311-client revoke NAME             (its key stops working; its reports stay)

``--database-url URL`` (or ``CENTRAL_DATABASE_URL``) goes before or after the command;
``--holidays-file PATH`` (or ``CENTRAL_HOLIDAYS_FILE``) too, deprecated: the file is
imported into the database as ``holidays import`` does (when it differs), with a warning;
``--secret-key-file PATH`` (or ``CENTRAL_SECRET_KEY_FILE``, or systemd's credential
``central-secret-key``) too: the key that seals the officers' TOTP secrets (``central.crypto``);
``--open311-issuer CODE`` (or ``CENTRAL_OPEN311_ISSUER``; default 0311) too: the central's
own issuer code of the Tracking IDs of reports filed through Open311, reserved when the
central starts and refused by ``kiosk add``;
``--forwarding-file PATH`` (or ``CENTRAL_FORWARDING_FILE``) too: where reports travel onward
(docs/FORWARDING.md), read by ``serve`` (which routes each new report) and ``forward``
(the worker: ``central.forwarding_cli``, with ``forwarding [--json]``, ``confirm``, ``resend``);
``--sms-file PATH`` (or ``CENTRAL_SMS_FILE``) too: the SMS channel (docs/SMS.md), read by
``serve``, ``forward`` and ``report`` (an answer queues its SMS notice) and ``sms`` (the send
worker, the retention purge, Gammu's receive hook: ``central.sms_cli``); it needs the
secret key, which seals the numbers.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys

from central.cli_common import instant, positive
from central.db import Database, default_database_url, migrate


def show_fleet(db: Database, args: argparse.Namespace) -> int:
    """``python -m central kiosks``: print the fleet; 1 when any kiosk in service is flagged."""
    import json

    from central import fleet

    thresholds = fleet.Thresholds(silent_after_s=args.silent_after * 60, backed_up_after_s=args.backed_up_after * 60,
                                  max_queue=args.max_queue, low_disk_bytes=args.low_disk_mb * 1024 * 1024)
    now = args.now or fleet.utc_now()
    kiosks = fleet.fleet(db, now, thresholds)
    attention = fleet.needs_attention(kiosks)
    if args.json:
        print(json.dumps({"at": now.isoformat(), "needs_attention": attention, "kiosks": kiosks}, indent=1))
    elif not kiosks:
        print("no kiosks registered (python -m central kiosk add CODE --location ...)")
    else:
        print(fleet.render_table(kiosks))
        flagged = sum(1 for k in kiosks if k["flags"] and not k["revoked"])
        print(f"{len(kiosks)} kiosks, {flagged} need attention")
    return 1 if attention else 0


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-03-27, got {value!r}") from None


def show_overdue(db: Database, args: argparse.Namespace) -> int:
    """``python -m central overdue``: reports past their deadline; 1 when any, 0 when none.
    Only what monitoring needs: never a report's content or a reporter's identity. Reads
    the due dates as the service keeps them (moved whenever the kabupaten's days change)."""
    import json

    from central import deadlines

    on = args.today or deadlines.today()
    late = deadlines.overdue(db, db.calendar, on)
    if args.json:
        print(json.dumps({"today": on.isoformat(), "overdue": len(late), "reports": [
            {"tracking_id": r.tracking_id, "status": r.status, "agency_code": r.agency_code,
             "due_on": r.due_on.isoformat(), "working_days_late": r.working_days_late} for r in late]}, indent=1))
    elif not late:
        print(f"no report is overdue on {on.isoformat()}")
    else:
        from kiosk.kernel.tracking_id import format_tracking_id

        print(f"{'tracking id':<18} {'status':<12} {'agency':<14} {'due':<10} working days late")
        for r in late:
            print(f"{format_tracking_id(r.tracking_id):<18} {r.status:<12} {r.agency_code or '-':<14} "
                  f"{r.due_on.isoformat():<10} {r.working_days_late}")
        print(f"{len(late)} reports overdue on {on.isoformat()}")
    return 1 if late else 0


HOLIDAYS_FILE_DEPRECATED = (
    "warning: --holidays-file (CENTRAL_HOLIDAYS_FILE) is deprecated: the kabupaten's days are kept in the "
    "database now, where every command and every kiosk finds them; the file was imported into it. Import a "
    "changed file once with: python -m central holidays import FILE, and stop giving --holidays-file "
    "(while it is given, it replaces the stored days at every start)")


def read_holidays(path: str):
    """The kabupaten's days in ``path``; a wrong line raises CalendarFileError naming it,
    an unreadable file OSError or UnicodeDecodeError (the caller stops, nothing changed)."""
    from pathlib import Path

    from kiosk.kernel.workdays import parse_days

    return parse_days(Path(path).read_text(encoding="utf-8"), path)


def import_holidays_file(url: str, path: str) -> int:
    """The deprecated ``CENTRAL_HOLIDAYS_FILE`` of ``central.asgi``: imported at start."""
    from central import deadlines

    days = read_holidays(path)
    db = Database(url)
    try:
        migrate(db.engine)
        return deadlines.replace_days(db, days)
    finally:
        db.close()


def holidays_command(db: Database, args: argparse.Namespace) -> int:
    """``holidays import FILE`` (all or nothing) and ``holidays list [--year]``."""
    from central import deadlines
    from kiosk.kernel.workdays import CalendarFileError

    if args.holidays_command == "import":
        try:
            days = read_holidays(args.file)
        except (CalendarFileError, OSError, UnicodeDecodeError) as exc:
            print(f"error: {exc}; nothing was changed", file=sys.stderr)
            return 2
        moved = deadlines.replace_days(db, days)
        off = sum(1 for d in days if not d.working)
        print(f"the kabupaten's calendar now has {len(days)} days of its own ({off} days off, "
              f"{len(days) - off} days worked); due dates of {moved} reports moved; kiosks get the days "
              "with their next reference update")
        return 0
    days = deadlines.stored_days(db, args.year)
    for d in days:
        print(f"{d.day.isoformat()}  {'day worked' if d.working else 'day off':<10}  {d.name}".rstrip())
    where = f" in {args.year}" if args.year else ""
    print(f"{len(days)} days of the kabupaten's own{where}, on top of Indonesia's holidays and collective leave"
          if days else f"no days of the kabupaten's own{where}: deadlines count Indonesia's holidays and collective "
                       "leave only (python -m central holidays import FILE)")
    return 0


def _issuer(value: str) -> str:
    from kiosk.kernel.tracking_id import TrackingIdError, normalize_kiosk_code

    try:
        return normalize_kiosk_code(value)
    except TrackingIdError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("kiosk code", "issuer code")) from None


def open311_client_command(db: Database, args: argparse.Namespace) -> int:
    """``open311-client add|list|revoke``: the key goes to stdout once, never to the log."""
    from central import open311

    if args.open311_command == "add":
        try:
            print(open311.add_client(db, args.name))
        except open311.ClientError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.open311_command == "revoke":
        if not open311.revoke_client(db, args.name):
            print(f"error: no Open311 client {args.name}", file=sys.stderr)
            return 2
        print(f"Open311 client {args.name} revoked: its key no longer works; the reports it filed stay")
        return 0
    rows = open311.clients(db)
    if not rows:
        print("no Open311 clients registered (python -m central open311-client add NAME)")
    for row in rows:
        state = f"revoked {row.revoked_at.date().isoformat()}" if row.revoked_at else "active"
        print(f"{row.name}  added {row.created_at.date().isoformat()}  {state}  {row.requests} requests filed")
    return 0


def _read_password(from_stdin: bool) -> str:
    """One line from stdin, or asked twice on the terminal (never echoed, never logged)."""
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask the password on: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise ValueError("the two passwords are not the same")
    return first


def officer_command(db: Database, args: argparse.Namespace, box) -> int:
    """``officer add|password|totp``: what is secret goes to stdout once, never to the log."""
    from central import accounts, service
    from central.lifecycle import agency_codes

    try:
        if args.officer_command == "add" and args.role is None:
            if args.agency or args.password_stdin:
                raise ValueError("--agency and --password-stdin need --role")
            print(service.add_officer(db, args.name))
        elif args.officer_command == "add":
            accounts.add_account(db, args.name, args.role, _read_password(args.password_stdin), args.agency,
                                 agency_codes(db))
            print(f"officer {args.name} added as {args.role}"
                  + ("; two-step login is set up at the first login (or: python -m central officer totp NAME)"
                     if args.role == "admin" else ""))
        elif args.officer_command == "token":
            print(accounts.issue_token(db, args.name))
        elif args.officer_command == "password":
            accounts.set_password(db, args.name, _read_password(args.password_stdin))
            print(f"password of {args.name} set")
        else:
            print(accounts.enrol_totp(db, args.name, box))
    except (service.KioskExists, accounts.AccountError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


_DATABASE_URL_HELP = "SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db (default: SQLite in the user data dir)"
_SECRET_KEY_HELP = ("the file of the key that seals the officers' TOTP secrets (python -m central secret-key new PATH "
                    "makes one; default: systemd's credential central-secret-key, else none: no TOTP can be enrolled)")
_FORWARDING_HELP = ("the forwarding file: the upstream systems (LAPOR!, Open311) and which reports go to each "
                    "(docs/FORWARDING.md); default none: nothing is forwarded")
_SMS_HELP = ("the SMS file: keywords, the SMS issuer code, retention, limits and the gateways (docs/SMS.md); "
             "default none: the central takes no SMS")
_HOLIDAYS_HELP = ("deprecated (python -m central holidays import FILE): a file of the kabupaten's days, imported into "
                  "the database at start")


def _parser() -> argparse.ArgumentParser:
    from central.open311 import DEFAULT_ISSUER

    issuer_help = (f"the central's own issuer code (4 symbols, as a kiosk code) of the Tracking IDs of reports "
                   f"filed through Open311 (default {DEFAULT_ISSUER}); reserved when the central starts, refused by "
                   "kiosk add")
    parser = argparse.ArgumentParser(prog="python -m central")
    parser.add_argument("--database-url", default=os.environ.get("CENTRAL_DATABASE_URL"), help=_DATABASE_URL_HELP)
    parser.add_argument("--holidays-file", default=os.environ.get("CENTRAL_HOLIDAYS_FILE"), metavar="PATH",
                        help=_HOLIDAYS_HELP)
    parser.add_argument("--secret-key-file", default=os.environ.get("CENTRAL_SECRET_KEY_FILE"), metavar="PATH",
                        help=_SECRET_KEY_HELP)
    parser.add_argument("--open311-issuer", type=_issuer, metavar="CODE", help=issuer_help,
                        default=os.environ.get("CENTRAL_OPEN311_ISSUER") or DEFAULT_ISSUER)
    parser.add_argument("--forwarding-file", default=os.environ.get("CENTRAL_FORWARDING_FILE") or None,
                        metavar="PATH", help=_FORWARDING_HELP)
    parser.add_argument("--sms-file", default=os.environ.get("CENTRAL_SMS_FILE") or None, metavar="PATH",
                        help=_SMS_HELP)
    # The same option after the command; SUPPRESS keeps the one given before it when not repeated.
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--database-url", default=argparse.SUPPRESS, help=_DATABASE_URL_HELP)
    database.add_argument("--holidays-file", default=argparse.SUPPRESS, metavar="PATH", help=_HOLIDAYS_HELP)
    database.add_argument("--secret-key-file", default=argparse.SUPPRESS, metavar="PATH", help=_SECRET_KEY_HELP)
    database.add_argument("--open311-issuer", type=_issuer, default=argparse.SUPPRESS, metavar="CODE", help=issuer_help)
    database.add_argument("--forwarding-file", default=argparse.SUPPRESS, metavar="PATH", help=_FORWARDING_HELP)
    database.add_argument("--sms-file", default=argparse.SUPPRESS, metavar="PATH", help=_SMS_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API", parents=[database])
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--trusted-proxies", default=os.environ.get("CENTRAL_TRUSTED_PROXIES", ""), metavar="IPS",
                       help="comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
                            "X-Forwarded-Proto are believed (default: none; clients are who connects)")
    serve.add_argument("--docs", action="store_true", default=os.environ.get("CENTRAL_DOCS") == "1",
                       help="also serve the browsable /docs and /redoc (/openapi.json is always served)")
    kiosk = sub.add_parser("kiosk", help="register or revoke kiosks", parents=[database])
    kiosk_sub = kiosk.add_subparsers(dest="kiosk_command", required=True)
    add = kiosk_sub.add_parser("add", parents=[database])
    add.add_argument("code")
    add.add_argument("--location", required=True)
    revoke = kiosk_sub.add_parser("revoke", parents=[database])
    revoke.add_argument("code")
    kiosks = sub.add_parser("kiosks", help="the fleet from the kiosks' heartbeats; exit 1 when any kiosk is flagged",
                            parents=[database])
    kiosks.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    kiosks.add_argument("--silent-after", type=positive, default=15, metavar="MIN",
                        help="SILENT when no heartbeat came for this many minutes (default 15)")
    kiosks.add_argument("--backed-up-after", type=positive, default=60, metavar="MIN",
                        help="BACKED-UP when the oldest waiting report is older than this many minutes (default 60)")
    kiosks.add_argument("--max-queue", type=int, default=50, metavar="N",
                        help="BACKED-UP when more than N reports wait (default 50)")
    kiosks.add_argument("--low-disk-mb", type=int, default=1024, metavar="MB",
                        help="LOW-DISK when the data directory has less free space (default 1024)")
    kiosks.add_argument("--now", type=instant, metavar="ISO-TIME",
                        help="judge the fleet as of this time instead of now (UTC unless an offset is given)")
    officer = sub.add_parser("officer", help="complaint officers: API tokens and workbench accounts", parents=[database])
    officer_sub = officer.add_subparsers(dest="officer_command", required=True)
    officer_add = officer_sub.add_parser(
        "add", parents=[database],
        help="without --role: a script's API token (role script, printed once); with --role: a workbench account")
    officer_add.add_argument("name")
    officer_add.add_argument("--role", choices=("admin", "agency", "viewer"))
    officer_add.add_argument("--agency", help="the agency's code (role agency only)")
    officer_add.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
    officer_password = officer_sub.add_parser("password", parents=[database], help="set a new password (unlocks, ends sessions)")
    officer_password.add_argument("name")
    officer_password.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
    officer_totp = officer_sub.add_parser("totp", parents=[database],
                                          help="enrol (or replace) two-step login: prints the otpauth:// URI once")
    officer_totp.add_argument("name")
    officer_token = officer_sub.add_parser("token", parents=[database],
                                           help="a new API token for an officer (replacing any): printed once")
    officer_token.add_argument("name")
    secret_key = sub.add_parser("secret-key", help="the key that seals TOTP secrets")
    secret_key_sub = secret_key.add_subparsers(dest="secret_key_command", required=True)
    secret_key_new = secret_key_sub.add_parser("new", help="write a new key file (mode 0600; never over a file)")
    secret_key_new.add_argument("path")
    overdue = sub.add_parser("overdue", help="reports past their working-day deadline; exit 1 when any",
                             parents=[database])
    overdue.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    overdue.add_argument("--today", type=_day, metavar="YYYY-MM-DD",
                         help="judge as of this day instead of today (the kabupaten's date, WIB)")
    close = sub.add_parser("close-answered", parents=[database],
                           help="close reports answered more than 10 working days ago without objection (for cron; "
                                "safe on several machines at once)")
    close.add_argument("--now", type=instant, metavar="ISO-TIME", help="judge as of this time instead of now")
    holidays = sub.add_parser("holidays", parents=[database],
                              help="the kabupaten's own days off and days worked, on top of Indonesia's holidays")
    holidays_sub = holidays.add_subparsers(dest="holidays_command", required=True)
    holidays_import = holidays_sub.add_parser(
        "import", parents=[database], help="replace the kabupaten's days by the file's (YYYY-MM-DD a day off, "
                                           "-YYYY-MM-DD a day worked, '# name' after it); a wrong line changes nothing")
    holidays_import.add_argument("file")
    holidays_list = holidays_sub.add_parser("list", parents=[database], help="the kabupaten's days as stored")
    holidays_list.add_argument("--year", type=int, help="only the days of this year")
    open311_client = sub.add_parser("open311-client", parents=[database],
                                    help="systems that file and read reports through Open311 GeoReport v2")
    open311_sub = open311_client.add_subparsers(dest="open311_command", required=True)
    open311_add = open311_sub.add_parser("add", parents=[database], help="register a client: its API key, printed once")
    open311_add.add_argument("name")
    open311_sub.add_parser("list", parents=[database], help="every client: when added, revoked, requests filed")
    open311_revoke = open311_sub.add_parser("revoke", parents=[database],
                                            help="the client's key stops working (its reports stay)")
    open311_revoke.add_argument("name")
    from central.forwarding_cli import add_commands as forwarding_commands

    forwarding_commands(sub, database)
    from central.sms_cli import add_commands as sms_commands

    sms_commands(sub, database)
    report = sub.add_parser("report", help="move a report through its lifecycle", parents=[database])
    report.add_argument("tracking_id")
    report.add_argument("action", help="verify, forward, reroute, start, answer, close, postpone, reject, archive")
    report.add_argument("--actor", default=os.environ.get("USER", "officer"), help="who does this")
    report.add_argument("--note", default="", help="internal note (never shown to the citizen)")
    report.add_argument("--reply", help="text the citizen may read")
    report.add_argument("--agency", help="agency code (forward, reroute)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from central import crypto
    from kiosk.kernel.workdays import CalendarFileError

    if args.command == "secret-key":
        try:
            crypto.new_key_file(args.path)
        except OSError as exc:
            print(f"error: {args.path}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"new secret key written to {args.path}: give it to every central process with --secret-key-file "
              "(or CENTRAL_SECRET_KEY_FILE), and keep a copy apart from the database's backups")
        return 0
    url = args.database_url or default_database_url()
    try:
        box = crypto.load(args.secret_key_file)
    except crypto.SecretKeyError as exc:
        print(f"error: --secret-key-file: {exc}", file=sys.stderr)
        return 2

    days = None
    if args.holidays_file:
        try:
            days = read_holidays(args.holidays_file)
        except (CalendarFileError, OSError, UnicodeDecodeError) as exc:
            print(f"error: --holidays-file: {exc}", file=sys.stderr)
            return 2
        print(HOLIDAYS_FILE_DEPRECATED, file=sys.stderr)
    forwarding = None
    # Where a command routes reports: the API, the worker, a move that may change the agency,
    # and the back-fill (``forwarding backfill``).
    if args.forwarding_file and (args.command in ("serve", "forward", "report") or
                                 getattr(args, "forwarding_command", None) == "backfill"):
        from central.forwarding_config import ForwardingFileError, load

        try:
            forwarding = load(args.forwarding_file)
        except ForwardingFileError as exc:
            print(f"error: --forwarding-file: {exc}", file=sys.stderr)
            return 2
    sms = None
    # Where a report may become answered (its SMS notice), and the SMS commands.
    if args.sms_file and args.command in ("serve", "forward", "report", "sms"):
        from central.sms_config import SmsFileError, load as load_sms

        try:
            sms = load_sms(args.sms_file)
        except SmsFileError as exc:
            print(f"error: --sms-file: {exc}", file=sys.stderr)
            return 2
        if box is None:
            print(f"error: --sms-file: the numbers of SMS are sealed with the central's secret key: "
                  f"{crypto.HOW_TO_CONFIGURE}", file=sys.stderr)
            return 2
    db = Database(url)
    db.forwarding = forwarding
    try:
        migrate(db.engine)
        if sms is not None:
            from central import service
            from central.sms import SmsDesk
            from central.sms_config import CHANNEL, ISSUER_LOCATION

            try:
                service.reserve_issuer(db, sms.issuer, CHANNEL, ISSUER_LOCATION)
            except service.IssuerTaken as exc:
                print(f"error: --sms-file: {sms.path}: issuer: {exc}", file=sys.stderr)
                return 2
            db.sms = SmsDesk(db, box, sms)
        if days is not None:
            from central import deadlines

            deadlines.replace_days(db, days)
        if args.command == "serve":
            from central import open311, service

            try:
                service.reserve_issuer(db, args.open311_issuer, open311.CHANNEL, open311.ISSUER_LOCATION)
            except service.IssuerTaken as exc:
                print(f"error: --open311-issuer: {exc}", file=sys.stderr)
                return 2
    finally:
        if args.command == "serve":
            db.close()
    if args.command == "serve":
        import uvicorn

        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: then anyone
        # on the machine could pick their own address, and with it their own rate limit.
        proxies = {"proxy_headers": bool(args.trusted_proxies), "forwarded_allow_ips": args.trusted_proxies or None}
        if args.workers > 1:  # stateless app: each worker process opens the same database
            os.environ["CENTRAL_DATABASE_URL"] = url
            os.environ["CENTRAL_DOCS"] = "1" if args.docs else "0"
            os.environ.pop("CENTRAL_HOLIDAYS_FILE", None)  # imported above: the workers need not
            if args.secret_key_file:
                os.environ["CENTRAL_SECRET_KEY_FILE"] = os.path.abspath(args.secret_key_file)
            os.environ["CENTRAL_OPEN311_ISSUER"] = args.open311_issuer
            if args.forwarding_file:
                os.environ["CENTRAL_FORWARDING_FILE"] = os.path.abspath(args.forwarding_file)
            if args.sms_file:
                os.environ["CENTRAL_SMS_FILE"] = os.path.abspath(args.sms_file)
            uvicorn.run("central.asgi:app", host=args.host, port=args.port, workers=args.workers, log_level="info",
                        **proxies)
            return 0
        from central.app import create_app

        uvicorn.run(create_app(url, docs=args.docs, secret_key_file=args.secret_key_file,
                               open311_issuer=args.open311_issuer, forwarding_file=args.forwarding_file,
                               sms_file=args.sms_file),
                    host=args.host, port=args.port,
                    log_level="info", **proxies)
        return 0
    try:
        from central import service
        from kiosk.kernel.tracking_id import TrackingIdError, normalize_kiosk_code, parse_tracking_id

        if args.command == "kiosks":
            return show_fleet(db, args)
        if args.command == "overdue":
            return show_overdue(db, args)
        if args.command == "holidays":
            return holidays_command(db, args)
        if args.command == "sms":
            from central.sms_cli import sms_command

            return sms_command(db.sms, args)
        if args.command in ("forward", "forwarding"):
            from central import forwarding_cli

            if args.command == "forward":
                return forwarding_cli.forward_command(db, args, forwarding)
            return forwarding_cli.forwarding_command(db, args, forwarding)
        if args.command == "close-answered":
            from central.feedback import close_answered

            print(f"{close_answered(db, args.now)} reports closed")
            return 0
        if args.command == "report":
            from central.lifecycle import LifecycleError, apply

            try:
                tracking_id = parse_tracking_id(args.tracking_id)
                status = apply(db, tracking_id, args.action, actor=args.actor, note=args.note,
                               reply=args.reply, agency=args.agency)
            except (LifecycleError, TrackingIdError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(f"{tracking_id}: {status}")
            return 0
        if args.command == "officer":
            return officer_command(db, args, box)
        if args.command == "open311-client":
            return open311_client_command(db, args)
        if args.kiosk_command == "add":
            try:
                if normalize_kiosk_code(args.code) == args.open311_issuer:
                    raise service.KioskExists(f"{args.open311_issuer} is the central's own issuer code for Open311 "
                                              "(--open311-issuer): choose another kiosk code")
                token = service.add_kiosk(db, args.code, args.location)
            except (service.KioskExists, TrackingIdError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(token)
            return 0
        if not service.revoke_kiosk(db, args.code):
            print(f"error: no kiosk {args.code}", file=sys.stderr)
            return 2
        return 0
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
