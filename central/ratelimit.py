"""Per-client token buckets for status lookups (guessing Tracking IDs must stay impractical),
kept in the database (``rate_buckets``), so every worker and machine of one central counts
against the same bucket: N workers allow the limit once, not N times.

A lookup costs one statement: an upsert that refills the bucket for the time since its
last use, takes a token when there is one, and returns what it did; in a transaction of
its own, or in the caller's (the SMS desk takes a message's buckets in the transaction that
stores it: one commit, not three). Buckets that have refilled completely hold nothing
worth keeping; each process deletes them at most once a minute.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from central.db import Database

#: Seconds between two purges of full buckets by one process.
PURGE_EVERY_S = 60.0


def _take_statement() -> str:
    """The upsert (SQLite >= 3.35 and PostgreSQL alike). In ``DO UPDATE`` every expression
    reads the row as it was, under the row's lock: concurrent lookups queue, none is lost."""
    elapsed = "CASE WHEN :now > rate_buckets.at THEN :now - rate_buckets.at ELSE 0.0 END"
    grown = f"(rate_buckets.tokens + ({elapsed}) * :rate)"
    refill = f"(CASE WHEN {grown} > :burst THEN :burst ELSE {grown} END)"
    return (
        "INSERT INTO rate_buckets (scope, client, tokens, at, allowed) VALUES (:scope, :client, :first, :now, :yes) "
        "ON CONFLICT (scope, client) DO UPDATE SET "
        f"tokens = CASE WHEN {refill} >= :cost THEN {refill} - :cost ELSE {refill} END, "
        f"allowed = ({refill} >= :cost), "
        "at = CASE WHEN :now > rate_buckets.at THEN :now ELSE rate_buckets.at END "
        "RETURNING tokens, allowed")


#: Built once: reading the statement for its parameters took about 0.12 ms at every take.
_TAKE = text(_take_statement())
_PURGE = text("DELETE FROM rate_buckets WHERE scope = :scope AND at < :before")


class RateLimiter:
    """``burst`` lookups at once, then ``per_minute``, per client of one ``scope``."""

    def __init__(self, db: Database, scope: str, *, per_minute: float, burst: int,
                 clock: Callable[[], float] = time.time):
        self.db, self.scope, self.burst, self.clock = db, scope, float(burst), clock
        self.rate = per_minute / 60.0
        self._full_after_s = self.burst / self.rate  # an untouched bucket is full again after this
        self._purged_at = float("-inf")
        self._lock = threading.Lock()

    def take(self, client: str, cost: int = 1, *, connection: Connection | None = None) -> float:
        """0 when allowed; otherwise the seconds until the next lookup is allowed. ``cost``:
        how many lookups one request makes at once (Open311's list of Tracking IDs), at
        most ``burst``. ``connection``: in the caller's transaction (committed or rolled back
        with it; on SQLite a transaction of its own would wait for the caller's write lock),
        else in one of its own."""
        cost = float(min(max(1, cost), self.burst))
        now = self.clock()
        values = {"scope": self.scope, "client": client[:64], "first": self.burst - cost, "now": now,
                  "rate": self.rate, "burst": self.burst, "yes": True, "cost": cost}
        if connection is not None:
            tokens, allowed = connection.execute(_TAKE, values).one()
        else:
            with self.db.engine.begin() as conn:
                tokens, allowed = conn.execute(_TAKE, values).one()
        self._purge(now, connection)
        return 0.0 if allowed else (cost - tokens) / self.rate

    def _purge(self, now: float, connection: Connection | None) -> None:
        with self._lock:
            if now - self._purged_at < PURGE_EVERY_S:
                return
            self._purged_at = now
        values = {"scope": self.scope, "before": now - self._full_after_s}
        if connection is not None:
            connection.execute(_PURGE, values)
            return
        with self.db.engine.begin() as conn:
            conn.execute(_PURGE, values)
