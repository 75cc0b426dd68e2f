"""Fleet monitoring: each kiosk's latest heartbeat, and which kiosks need a technician.

A heartbeat says how a kiosk is doing as a machine (version, queue, last successful sync,
printer and paper, camera, free disk). It carries no report content and no personal data:
its model (``kiosk.kernel.wire.HeartbeatIn``, the kiosk's too) admits only numbers,
timestamps, fixed state words and a version string, and refuses any other field.
``python -m central kiosks`` and ``GET /api/v1/fleet`` show the fleet with flags; see
docs/DEPLOY.md ("Watching the fleet"). A citizen's call for staff ("Minta bantuan
petugas") comes with the heartbeat as its age only, and flags the kiosk HELP while the
kiosk is heard from; the workbench's ``/workbench/kiosks`` puts it at the top.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from central.db import Database
from kiosk.kernel.clock import utc_now
from central.models import KIOSK_CHANNEL, Kiosk, KioskHeartbeat
from kiosk.kernel.wire import PRINTER_FAULTS, HeartbeatIn

log = logging.getLogger(__name__)

#: Optional heartbeat fields kept only in the stored body (no columns of their own), and
#: there only when the kiosk sent them.
BODY_ONLY = frozenset({"clock_step_s", "clock_step_age_s", "help_called_age_s"})


def record_heartbeat(db: Database, code: str, heartbeat: HeartbeatIn, *, now: dt.datetime | None = None) -> dt.datetime:
    """Keep this heartbeat as the kiosk's latest; returns the server's ``received_at``."""
    received_at = now or utc_now()
    values = heartbeat.model_dump(exclude=set(BODY_ONLY))
    unsent = {key for key in BODY_ONLY if getattr(heartbeat, key) is None}
    body = json.dumps(heartbeat.model_dump(mode="json", exclude=unsent), sort_keys=True, separators=(",", ":"))
    for _ in range(2):  # two first heartbeats at once: the loser updates the winner's row
        try:
            with db.session() as session, session.begin():
                row = session.get(KioskHeartbeat, code)
                if row is None:
                    session.add(KioskHeartbeat(kiosk_code=code, received_at=received_at, body=body, **values))
                else:
                    for key, value in values.items():
                        setattr(row, key, value)
                    row.received_at, row.body = received_at, body
        except IntegrityError:
            continue
        return received_at
    raise RuntimeError("heartbeat neither inserted nor updated")


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """When a kiosk counts as needing attention (the CLI's options)."""

    silent_after_s: float = 15 * 60
    backed_up_after_s: float = 60 * 60
    max_queue: int = 50
    low_disk_bytes: int = 1024 * 1024 * 1024
    clock_skew_s: float = 10 * 60
    #: A step of the kiosk's wall clock (``clock_step_s``) is flagged this long after it.
    clock_step_recent_s: float = 24 * 3600


def _later(age_s: float | None, since: dt.timedelta) -> float | None:
    """An age the kiosk reported, carried forward to the time we look."""
    return None if age_s is None else round(age_s + max(0.0, since.total_seconds()), 1)


def flags_for(kiosk: dict, t: Thresholds) -> list[str]:
    """The flags of one fleet row (see :func:`fleet`)."""
    if kiosk["revoked"]:
        return ["REVOKED"]
    flags = []
    heard = kiosk["last_heard_age_s"]
    if heard is None or heard > t.silent_after_s:
        flags.append("SILENT")
    if heard is None:
        return flags
    if kiosk["help_called_age_s"] is not None and "SILENT" not in flags:
        flags.insert(0, "HELP")  # a citizen waits at the kiosk (a silent kiosk's call is not current)
    oldest = kiosk["oldest_waiting_age_s"]
    if (oldest is not None and oldest > t.backed_up_after_s) or kiosk["queue_depth"] > t.max_queue:
        flags.append("BACKED-UP")
    if kiosk["failed"]:
        flags.append("FAILED-REPORTS")
    if kiosk["paper"] == "out":
        flags.append("NO-PAPER")
    elif kiosk["paper"] == "low":
        flags.append("PAPER-LOW")
    if kiosk["printer"] in PRINTER_FAULTS:
        flags.append("PRINTER-FAULT")
    if kiosk["camera"] == "unavailable":
        flags.append("CAMERA-FAULT")
    if kiosk["disk_free_bytes"] < t.low_disk_bytes:
        flags.append("LOW-DISK")
    if abs(kiosk["clock_offset_s"]) > t.clock_skew_s:
        flags.append("CLOCK-SKEW")
    if kiosk["clock_step_s"] is not None and kiosk["clock_step_age_s"] <= t.clock_step_recent_s:
        flags.append("CLOCK-STEP")
    return flags


def fleet(db: Database, now: dt.datetime, thresholds: Thresholds) -> list[dict]:
    """Every registered kiosk with its latest heartbeat, ages as of ``now``, and flags (the
    central's own issuer codes, ``central.service.reserve_issuer``, are no kiosks)."""
    with db.session() as session:
        rows = session.execute(
            select(Kiosk, KioskHeartbeat).outerjoin(KioskHeartbeat, KioskHeartbeat.kiosk_code == Kiosk.code)
            .where(Kiosk.channel == KIOSK_CHANNEL).order_by(Kiosk.code)
        ).all()
    out = []
    for kiosk, hb in rows:
        item: dict = {"code": kiosk.code, "location": kiosk.location, "revoked": kiosk.revoked_at is not None,
                      "last_heard_at": None, "last_heard_age_s": None, "version": None, "queue_depth": 0,
                      "failed": 0, "oldest_waiting_age_s": None, "last_sync_age_s": None, "printer_kind": None,
                      "printer": None, "paper": None, "camera": None, "disk_free_bytes": None,
                      "disk_total_bytes": None, "clock_offset_s": None, "clock_step_s": None,
                      "clock_step_age_s": None, "help_called_age_s": None}
        if hb is not None:
            since = now - hb.received_at
            item.update(
                last_heard_at=hb.received_at.isoformat(), last_heard_age_s=round(max(0.0, since.total_seconds()), 1),
                version=hb.version, queue_depth=hb.queue_depth, failed=hb.failed,
                oldest_waiting_age_s=_later(hb.oldest_waiting_age_s, since),
                last_sync_age_s=_later(hb.last_sync_age_s, since),
                printer_kind=hb.printer_kind, printer=hb.printer, paper=hb.paper, camera=hb.camera,
                disk_free_bytes=hb.disk_free_bytes, disk_total_bytes=hb.disk_total_bytes,
                clock_offset_s=round((hb.sent_at - hb.received_at).total_seconds(), 1) + 0.0,  # no "-0.0"
            )
            sent = json.loads(hb.body)
            if sent.get("clock_step_s") is not None:
                item.update(clock_step_s=sent["clock_step_s"], clock_step_age_s=_later(sent["clock_step_age_s"], since))
            item["help_called_age_s"] = _later(sent.get("help_called_age_s"), since)
        item["flags"] = flags_for(item, thresholds)
        out.append(item)
    return out


def needs_attention(kiosks: list[dict]) -> bool:
    """True when any kiosk in service (not revoked) has a flag: the CLI then exits 1."""
    return any(k["flags"] and not k["revoked"] for k in kiosks)


def age(seconds: float | None) -> str:
    """``45s``, ``12m``, ``3h05m``, ``2d04h``; ``-`` for nothing."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "K", "M", "G"):
        if n < 1024:
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}T"


def render_table(kiosks: list[dict]) -> str:
    """The fleet as a fixed-width table for a technician's terminal."""
    header = ("CODE", "LOCATION", "VERSION", "HEARD", "QUEUE", "OLDEST", "SYNCED", "PRINTER", "PAPER", "CAMERA",
              "DISK", "FLAGS")
    lines = []
    for k in kiosks:
        heard = "never" if k["last_heard_at"] is None else age(k["last_heard_age_s"])
        printer = "-" if k["printer"] is None else f"{k['printer_kind']}:{k['printer']}"
        queue = "-" if k["last_heard_at"] is None else str(k["queue_depth"]) + (f" ({k['failed']} failed)" if k["failed"] else "")
        location = k["location"] if len(k["location"]) <= 28 else k["location"][:25] + "..."
        lines.append((k["code"], location, k["version"] or "-", heard, queue, age(k["oldest_waiting_age_s"]),
                      age(k["last_sync_age_s"]), printer, k["paper"] or "-", k["camera"] or "-",
                      _size(k["disk_free_bytes"]), " ".join(k["flags"]) or "ok"))
    widths = [max(len(str(row[i])) for row in (header, *lines)) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in (header, *lines))
