"""The command line of SMS (docs/SMS.md):

    python -m central sms send [--once] [--poll-interval S] [--batch N]
        (the worker of the push gateways, gammu and android: until SIGTERM, or with --once
         until nothing is due now; once a day it also purges, as ``sms purge`` does)
    python -m central sms purge [--now ISO-TIME]
        (clears the numbers and texts past the retention: for cron, or left to the worker)
    python -m central sms gammu-receive [--gateway NAME] [FILE ...]
        (Gammu SMSD's RunOnReceive: central.sms_gammu.receive_command)
    python -m central sms rehash
        (after a new key was put first in the secret key file: the STOP list's hashes made
         with it, before the old key is taken out)

Every one needs the SMS file (``--sms-file PATH`` or ``CENTRAL_SMS_FILE``) and the
central's secret key (``--secret-key-file``): the numbers are sealed with it.
"""
from __future__ import annotations

import argparse
import sys

from central.cli_common import instant, positive, run_worker
from central.sms import SendWorker, SmsDesk, sender_types


def add_commands(sub, database: argparse.ArgumentParser) -> None:
    sms = sub.add_parser("sms", parents=[database], help="the SMS channel: the send worker, the retention purge, "
                                                         "Gammu's receive hook")
    sms_sub = sms.add_subparsers(dest="sms_command", required=True)
    send = sms_sub.add_parser("send", parents=[database],
                              help="send the replies and notices through the push gateways (until SIGTERM)")
    send.add_argument("--once", action="store_true", help="send what is due now, then exit")
    send.add_argument("--poll-interval", type=positive, default=2.0, metavar="S",
                      help="seconds to wait when nothing is due (default 2)")
    send.add_argument("--batch", type=int, default=20, metavar="N", help="SMS claimed at once per gateway (default 20)")
    purge = sms_sub.add_parser("purge", parents=[database],
                               help="clear the numbers and texts past retention_days (the worker does it daily)")
    purge.add_argument("--now", type=instant, metavar="ISO-TIME", help="judge as of this time instead of now")
    gammu = sms_sub.add_parser("gammu-receive", parents=[database],
                               help="Gammu SMSD's RunOnReceive: hand the received messages to the central")
    gammu.add_argument("--gateway", metavar="NAME", help="the [gateways.NAME] of type gammu (default: the only one)")
    gammu.add_argument("files", nargs="*", help="the inbox files Gammu names")
    sms_sub.add_parser("rehash", parents=[database],
                       help="the STOP list's hashes made with the secret key file's first key")


def sms_command(desk: SmsDesk | None, args: argparse.Namespace) -> int:
    if desk is None:
        print("error: the SMS channel is not configured: give --sms-file PATH (or CENTRAL_SMS_FILE); docs/SMS.md",
              file=sys.stderr)
        return 2
    if args.sms_command == "purge":
        messages, outgoing = desk.purge(now=args.now)
        print(f"{messages} messages and {outgoing} sent SMS cleared (older than {desk.config.retention_days} days "
              "after their report finished)")
        return 0
    if args.sms_command == "rehash":
        print(f"{desk.rehash()} opt-outs hashed again")
        return 0
    if args.sms_command == "gammu-receive":
        from central.sms_gammu import receive_command

        return receive_command(desk, desk.config, args)
    return send_command(desk, args)


def send_command(desk: SmsDesk, args: argparse.Namespace) -> int:
    """The worker: a sender per gateway whose type has one; SIGTERM ends it after the SMS in hand."""
    types, broken = sender_types()
    senders = {}
    for gateway in desk.config.gateways.values():
        if gateway.type not in types:
            continue  # pulled by its phone (SMSSync), or its adapter did not load (said below)
        try:
            senders[gateway.name] = types[gateway.type](gateway.name, dict(gateway.settings))
        except (ValueError, OSError, TypeError) as exc:
            print(f"error: --sms-file: {desk.config.path}: [gateways.{gateway.name}]: {exc}", file=sys.stderr)
            return 2
    if broken:
        print(f"warning: SMS adapters not loaded: {'; '.join(broken)}", file=sys.stderr)
    if not senders:
        print(f"error: {desk.config.path}: no gateway the central sends through (type gammu or android; SMSSync "
              "fetches its SMS itself)", file=sys.stderr)
        return 2
    worker = SendWorker(desk, senders, batch=max(1, args.batch))
    return run_worker(worker, once=args.once, poll_interval_s=args.poll_interval, handled="SMS handled")
