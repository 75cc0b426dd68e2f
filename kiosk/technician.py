"""Technician commands that need no screen: ``kiosk queue`` and ``kiosk sync --once``."""
from __future__ import annotations

import sys

from sqlalchemy import select

from kiosk.config import Config
from kiosk.store.db import StoreError, open_store
from sync_queue.outbox import OutboxEntry


def _open(config: Config):
    try:
        return open_store(config.database_file, key_file=config.data_path / "secret.key")
    except StoreError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return None


def show_queue(config: Config, *, include_sent: bool = False) -> int:
    """One line per outbox entry: Tracking ID, state, attempts, next attempt, last error."""
    store = _open(config)
    if store is None:
        return 3
    try:
        query = select(OutboxEntry).order_by(OutboxEntry.id)
        if not include_sent:
            query = query.where(OutboxEntry.state != "sent")
        with store.session() as session:
            entries = session.scalars(query).all()
        print(f"{'tracking id':16} {'state':8} {'tries':>5}  {'next attempt (UTC)':19}  last error")
        for e in entries:
            print(f"{e.tracking_id:16} {e.state:8} {e.attempts:5d}  {e.next_attempt_at:%Y-%m-%d %H:%M:%S}  {e.last_error or ''}")
        waiting = sum(1 for e in entries if e.state != "sent")
        print(f"{waiting} waiting or failed")
        return 0
    finally:
        store.close()


def sync_once(config: Config) -> int:
    """One sync pass; exit 0 when the central was reached, 1 when not, 2 when not configured."""
    if not config.central_url:
        print("kiosk: no central_url configured: this kiosk works offline only", file=sys.stderr)
        return 2
    from kiosk.env import build_env

    try:
        env = build_env(config)
    except StoreError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 3
    try:
        env.sync.recover()
        total_sent = total_failed = 0
        while True:
            result = env.sync.run_once()
            total_sent += result.sent
            total_failed += result.failed
            if result.online is False:
                print(f"central not reached: {result.error}")
                print(f"sent {total_sent}, failed {total_failed}, waiting {env.reports.count_waiting()}")
                return 1
            if not (result.sent or result.failed):
                break
        print(f"sent {total_sent}, failed {total_failed}, waiting {env.reports.count_waiting()}")
        return 0
    finally:
        env.close()


def reprint(config: Config, tracking_id: str) -> int:
    """Print a copy (marked SALINAN/COPY) of a receipt this kiosk issued."""
    from kiosk.domain import SavedReport
    from kiosk.env import build_env
    from kiosk.i18n import gettext_for
    from kiosk.receipt_content import receipt_content
    from kiosk.tracking_id import TrackingIdError, parse_tracking_id

    try:
        canonical = parse_tracking_id(tracking_id)
    except TrackingIdError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    try:
        env = build_env(config)
    except StoreError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 3
    try:
        status, draft = env.reports.find(canonical), env.reports.load_draft(canonical)
        if status is None or draft is None:
            print(f"kiosk: no report {canonical} on this kiosk", file=sys.stderr)
            return 2
        saved = SavedReport(tracking_id=canonical, created_at=status.created_at, draft=draft, kiosk_code=config.kiosk_code)
        outcome = env.printer.print_receipt(receipt_content(saved, env, draft.language, copy=True),
                                            gettext=gettext_for(draft.language))
        if not outcome.ok:
            print(f"kiosk: not printed: {outcome.error} ({type(outcome.error).__name__})", file=sys.stderr)
            return 1
        print(f"reprinted {canonical}" + (f" to {outcome.path}" if outcome.path else ""))
        return 0
    finally:
        env.close()
