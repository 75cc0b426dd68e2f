"""The command line of forwarding (docs/FORWARDING.md):

    python -m central forward [--poll-interval S] [--batch N] [--once] [--claim-ttl S]
                              [--backoff-base S] [--backoff-cap S] [--look-after S] [--pull-every MIN]
        (the worker: until SIGTERM, or with --once until nothing is due now)
    python -m central forwarding [--json] [--older-than HOURS]
        (entries not sent; exit 1 when any has waited longer than HOURS, default 24)
    python -m central forwarding confirm TRACKING_ID DESTINATION UPSTREAM_ID [--actor NAME]
    python -m central forwarding resend TRACKING_ID DESTINATION [--actor NAME]
        (an admin settles a failed or unconfirmed entry; written to the audit log)
    python -m central forwarding backfill [--since DATE] [--dry-run]
        (reports stored before a destination or route was added: their entries now)

``--forwarding-file PATH`` (or ``CENTRAL_FORWARDING_FILE``) is needed where the routes or
the destinations matter: ``forward`` and ``backfill``; the listing and an admin's hand
read the database.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

from sqlalchemy import select

from central import forwarding
from central.cli_common import positive, run_worker
from central.db import Database
from kiosk.kernel.clock import utc_now


def add_commands(sub, database: argparse.ArgumentParser) -> None:
    forward = sub.add_parser("forward", parents=[database],
                             help="the worker that forwards reports to LAPOR! and Open311 systems (until SIGTERM)")
    forward.add_argument("--poll-interval", type=positive, default=5.0, metavar="S",
                         help="seconds to wait when nothing is due (default 5)")
    forward.add_argument("--batch", type=int, default=10, metavar="N", help="entries claimed at once (default 10)")
    forward.add_argument("--once", action="store_true", help="handle what is due now, then exit")
    forward.add_argument("--claim-ttl", type=positive, default=120.0, metavar="S",
                         help="how long a claim holds (default 120; more than the longest request's timeout)")
    forward.add_argument("--backoff-base", type=positive, default=5.0, metavar="S",
                         help="the first retry's longest wait (default 5), doubling per attempt")
    forward.add_argument("--backoff-cap", type=positive, default=3600.0, metavar="S",
                         help="the longest wait between attempts (default 3600)")
    forward.add_argument("--look-after", type=positive, default=60.0, metavar="S",
                         help="seconds an unconfirmed entry waits before it is looked up (default 60)")
    forward.add_argument("--pull-every", type=float, default=15.0, metavar="MIN",
                         help="minutes between status pulls of a sent report (default 15; 0: never)")
    listing = sub.add_parser("forwarding", parents=[database],
                             help="reports not yet forwarded; exit 1 when any has waited too long; confirm, resend")
    listing.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    listing.add_argument("--older-than", type=positive, default=24.0, metavar="HOURS",
                         help="exit 1 when an entry has waited or failed longer than this (default 24)")
    settle = listing.add_subparsers(dest="forwarding_command")
    confirm = settle.add_parser("confirm", parents=[database],
                                help="a failed or unconfirmed entry is in the upstream system: its number")
    confirm.add_argument("tracking_id")
    confirm.add_argument("destination")
    confirm.add_argument("upstream_id")
    confirm.add_argument("--actor", default=os.environ.get("USER", "admin"), help="who does this (audit log)")
    resend = settle.add_parser("resend", parents=[database],
                               help="a failed or unconfirmed entry is not in the upstream system: send it again")
    resend.add_argument("tracking_id")
    resend.add_argument("destination")
    resend.add_argument("--actor", default=os.environ.get("USER", "admin"), help="who does this (audit log)")
    backfill = settle.add_parser("backfill", parents=[database],
                                 help="give reports stored before a destination or route was added their entries "
                                      "(reports not closed, rejected or archived)")
    backfill.add_argument("--since", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                          help="only reports received on or after this day (UTC; default: every one)")
    backfill.add_argument("--dry-run", action="store_true", help="count what would be added; change nothing")


def forward_command(db: Database, args: argparse.Namespace, config) -> int:
    """The worker: SIGTERM (or SIGINT) ends it after the entry in hand."""
    from central.forwarder import Forwarder, Settings

    if config is None:
        print("error: nothing to forward to: give --forwarding-file PATH (or CENTRAL_FORWARDING_FILE); "
              "docs/FORWARDING.md", file=sys.stderr)
        return 2
    longest = max((getattr(d, "timeout_s", 0) + getattr(d, "connect_timeout_s", 0)
                   for d in config.destinations.values()), default=0)
    if args.claim_ttl <= longest:
        print(f"error: --claim-ttl {args.claim_ttl:g} must be more than the longest request ({longest:g} s: "
              "timeout_s + connect_timeout_s), or a live worker's claim would expire mid-request", file=sys.stderr)
        return 2
    settings = Settings(batch=max(1, args.batch), claim_ttl_s=args.claim_ttl, backoff_base_s=args.backoff_base,
                        backoff_cap_s=args.backoff_cap, look_after_s=args.look_after,
                        pull_every_s=args.pull_every * 60 if args.pull_every > 0 else None)
    worker = Forwarder(db, config, settings)
    return run_worker(worker, once=args.once, poll_interval_s=args.poll_interval,
                      handled="forwarding entries handled")


def _age(since: dt.datetime, now: dt.datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def backfill_command(db: Database, args: argparse.Namespace, config) -> int:
    """Every report still under way (received since ``--since``) gets an entry for each
    destination its routes name now and it has none for; nothing is withdrawn."""
    from central.forwarder import FINISHED
    from central.models import Report

    if config is None:
        print("error: back-fill to where? give --forwarding-file PATH (or CENTRAL_FORWARDING_FILE); "
              "docs/FORWARDING.md", file=sys.stderr)
        return 2
    where = [Report.status.not_in(FINISHED)]
    if args.since is not None:
        where.append(Report.received_at >= dt.datetime.combine(args.since, dt.time(), dt.timezone.utc))
    with db.session() as session:
        reports = session.execute(select(Report.tracking_id, Report.category_code, Report.agency_code)
                                  .where(*where).order_by(Report.received_at, Report.tracking_id)).all()
    added: dict[str, int] = {}
    now = utc_now()
    for start in range(0, len(reports), 500):  # one transaction per 500 reports: a long run holds no lock for long
        with db.session() as session:
            for tracking_id, category, agency in reports[start:start + 500]:
                for name in forwarding.route_again(session, tracking_id, config.route(category, agency), now,
                                                   withdraw=False, reason="routed by a back-fill")[0]:
                    added[name] = added.get(name, 0) + 1
            if args.dry_run:
                session.rollback()
            else:
                session.commit()
    verb = "would be added" if args.dry_run else "added"
    print(f"{len(reports)} reports under way looked at; entries {verb}: "
          + (", ".join(f"{name} {n}" for name, n in sorted(added.items())) or "none"))
    return 0


def forwarding_command(db: Database, args: argparse.Namespace, config=None) -> int:
    from kiosk.kernel.tracking_id import TrackingIdError, format_tracking_id, parse_tracking_id

    if args.forwarding_command == "backfill":
        return backfill_command(db, args, config)
    if args.forwarding_command in ("confirm", "resend"):
        try:
            tracking_id = parse_tracking_id(args.tracking_id)
            if args.forwarding_command == "confirm":
                forwarding.confirm(db, tracking_id, args.destination, args.upstream_id, actor=args.actor,
                                   address="cli")
                print(f"{tracking_id} -> {args.destination}: sent, number {args.upstream_id.strip()} (confirmed by "
                      f"{args.actor})")
            else:
                forwarding.resend(db, tracking_id, args.destination, actor=args.actor, address="cli")
                print(f"{tracking_id} -> {args.destination}: pending, sent again by the next worker pass")
        except (TrackingIdError, forwarding.NotApplicable) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    now = utc_now()
    limit = dt.timedelta(hours=args.older_than)
    entries = forwarding.waiting(db)
    is_late = lambda e: now - e.created_at > limit  # noqa: E731
    late = [e for e in entries if is_late(e)]
    if args.json:
        print(json.dumps({"at": now.isoformat(), "older_than_hours": args.older_than, "waiting": len(entries),
                          "late": len(late), "counts": forwarding.counts(db), "entries": [
                              {"tracking_id": e.tracking_id, "destination": e.destination, "state": e.state,
                               "attempts": e.attempts, "age_s": round((now - e.created_at).total_seconds()),
                               "late": is_late(e), "last_reason": e.last_reason,
                               "next_attempt_at": e.next_attempt_at.isoformat() if e.next_attempt_at else None}
                              for e in entries]}, indent=1))
    elif not entries:
        print("every forwarded report is sent")
    else:
        print(f"{'tracking id':<18} {'destination':<14} {'state':<12} {'attempts':>8} {'age':>8}  last reason")
        for e in entries:
            mark = "!" if is_late(e) else " "
            print(f"{format_tracking_id(e.tracking_id):<18} {e.destination:<14} {e.state:<12} {e.attempts:>8} "
                  f"{_age(e.created_at, now):>8}{mark} {e.last_reason or '-'}")
        print(f"{len(entries)} entries not sent, {len(late)} waiting longer than {args.older_than:g} h")
    return 1 if late else 0
