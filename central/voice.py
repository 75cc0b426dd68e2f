"""A report's recorded complaint at the central (issue 14), without HTTP: kept once per
report, keyed by its Tracking ID and the SHA-256 of its Ogg Opus bytes.

The kiosk uploads it after the report (``PUT /api/v1/reports/{id}/voice``,
``central.routers.voice``). The same recording sent again (a kiosk that never got the
answer) gets the same answer; another recording for the same report is refused. It is the
report's description: officers hear it where they may read the report
(``central.workbench``), nobody else.
"""
from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from central.db import Database
from central.models import Report, VoiceNote
from kiosk.kernel.clock import utc_now
from kiosk.kernel.wire import VoiceResult

log = logging.getLogger(__name__)

#: How every Ogg stream begins (its first page's capture pattern).
OGG_MAGIC = b"OggS"


class VoiceRefused(Exception):
    """Why an upload is not kept: ``status`` (400, 403, 404, 409) and the kiosk's ``detail``."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def _answer(row: VoiceNote) -> VoiceResult:
    return VoiceResult(tracking_id=row.tracking_id, sha256=row.sha256, size=row.size, received_at=row.received_at)


def take_voice(db: Database, kiosk_code: str, tracking_id: str, content: bytes, sha256: str) -> VoiceResult:
    """Keep ``content`` as the recording of ``tracking_id``, once. ``sha256`` is what the kiosk
    says it is: a body that does not match it (or is no Ogg stream) is refused (400), as is
    a report of another kiosk (403), an unknown report (404), and a recording that is not the
    one the report announced or the one already kept (409)."""
    if hashlib.sha256(content).hexdigest() != sha256:
        raise VoiceRefused(400, "the body's SHA-256 is not the one in the header: damaged on the way")
    if not content.startswith(OGG_MAGIC):
        raise VoiceRefused(400, "the body is not an Ogg stream")
    for _ in range(2):  # a concurrent first insert makes the second attempt a lookup
        try:
            with db.session() as session, session.begin():
                report = session.get(Report, tracking_id)
                if report is None:
                    raise VoiceRefused(404, "not found")
                if report.kiosk_code != kiosk_code:
                    raise VoiceRefused(403, f"belongs to kiosk {report.kiosk_code}, not {kiosk_code}")
                kept = session.get(VoiceNote, tracking_id)
                if kept is not None:
                    if kept.sha256 == sha256:
                        return _answer(kept)
                    log.warning("another recording refused for a report that has one")
                    raise VoiceRefused(409, "the report already has another recording")
                announced = (json.loads(report.body).get("voice") or {}).get("sha256")
                if announced != sha256:
                    raise VoiceRefused(409, "the report did not announce this recording")
                row = VoiceNote(tracking_id=tracking_id, sha256=sha256, content=content, size=len(content),
                                received_at=utc_now())
                session.add(row)
            log.info("recording kept for a report (%d bytes)", len(content))
            return _answer(row)
        except IntegrityError:
            continue
    raise RuntimeError("recording neither inserted nor found")


def recording(db: Database, tracking_id: str) -> bytes | None:
    """The Ogg Opus bytes kept for ``tracking_id`` (None: none yet). The caller has checked
    that the asker may read the report (``central.workbench.report``)."""
    with db.session() as session:
        return session.scalar(select(VoiceNote.content).where(VoiceNote.tracking_id == tracking_id))


def has_recording(db: Database, tracking_id: str) -> bool:
    with db.session() as session:
        return session.scalar(select(VoiceNote.size).where(VoiceNote.tracking_id == tracking_id)) is not None
