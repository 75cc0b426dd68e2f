"""A recorded complaint without a UI: the describe step takes it in place of the typed
description, the review says so, the report service keeps it sealed with its report, the
outbox uploads it only after its report, and the kiosk forgets it once the central has it."""
from __future__ import annotations

import datetime as dt
import hashlib
import io

import numpy as np
import pytest
import soundfile
from pydantic import ValidationError
from sqlalchemy import text

from kiosk.core.domain import Draft, InvalidDraft, ReportKind, VoiceNote
from kiosk.core.flow import FilingFlow, Step
from kiosk.core.reports import ReportService
from kiosk.core.review import review_rows
from kiosk.kernel.wire import ReportIn
from sync_queue.outbox import Outbox, OutboxState, voice_key

TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc)


def ogg_note(seconds: float = 80.0) -> VoiceNote:
    """A real Ogg Opus stream (a murmur at speech loudness), as the recorder makes one."""
    rng = np.random.default_rng(7)
    samples = (rng.normal(0, 3000, int(16_000 * seconds))).astype("<i2")
    out = io.BytesIO()
    soundfile.write(out, samples, 16_000, format="OGG", subtype="OPUS")
    data = out.getvalue()
    return VoiceNote(ogg=data, sha256=hashlib.sha256(data).hexdigest(), duration_s=seconds)


NOTE = ogg_note()


def at_describe(language: str = "id") -> FilingFlow:
    flow = FilingFlow(today=lambda: TODAY, language=language)
    flow.choose_kind(ReportKind.PENGADUAN)
    flow.choose_category("KESEHATAN")
    assert flow.next()
    flow.choose_agency(None)
    assert flow.next()
    assert flow.step is Step.DESCRIBE
    return flow


def test_a_recording_lets_the_citizen_leave_the_describe_step_without_typing():
    flow = at_describe()
    assert not flow.next()  # nothing typed, nothing said: both messages
    assert {e.field for e in flow.errors} == {"title", "description"}
    flow.set_voice(NOTE)
    assert flow.errors == []  # the messages go as soon as the complaint is recorded
    assert flow.next() and flow.step is Step.WHEN_WHERE


def test_deleting_the_recording_asks_for_the_typed_description_again():
    flow = at_describe()
    flow.set_voice(NOTE)
    flow.clear_voice()
    assert not flow.next()
    assert {e.field for e in flow.errors} == {"title", "description"}


def test_a_typed_title_beside_a_recording_still_needs_its_few_letters():
    flow = at_describe()
    flow.set_voice(NOTE)
    flow.set_text("title", "Jl")
    assert not flow.next()
    assert [e.field for e in flow.errors] == ["title"]


@pytest.mark.parametrize("language, title, line", [
    ("id", "Kesehatan", "Rekaman suara, 1 menit 20 detik"),
    ("en", "Health", "Voice recording, 1 min 20 s"),
])
def test_the_review_says_voice_recording_and_its_length_instead_of_the_description(store, language, title, line):
    draft = Draft(kind=ReportKind.PENGADUAN, category_code="KESEHATAN", incident_date=TODAY, kecamatan_code="LAHEI",
                  language=language, voice=NOTE)
    rows = {r.label: r.value for r in review_rows(draft, store, language)}
    what = "Apa yang terjadi" if language == "id" else "What happened"
    assert rows[what] == line
    assert rows["Judul" if language == "id" else "Title"] == title


def test_the_review_lists_typed_words_under_the_recording(store):
    draft = Draft(kind=ReportKind.PENGADUAN, category_code="KESEHATAN", incident_date=TODAY, kecamatan_code="LAHEI",
                  description="Di depan pasar.", voice=VoiceNote(NOTE.ogg, NOTE.sha256, 45.2))
    rows = {r.label: r.value for r in review_rows(draft, store, "id")}
    assert rows["Apa yang terjadi"] == "Rekaman suara, 45 detik\nDi depan pasar."


@pytest.fixture
def service(store):
    return ReportService(store, kiosk_code="MT01", clock=lambda: NOW)


def spoken_draft(**changes) -> Draft:
    values = dict(kind=ReportKind.PENGADUAN, category_code="KESEHATAN", incident_date=dt.date(2026, 11, 20),
                  kecamatan_code="LAHEI", reporter_name="Budi", voice=NOTE)
    values.update(changes)
    return Draft(**values)


def test_a_spoken_report_is_kept_sealed_with_its_report_and_sent_under_the_categorys_name(service, store, tmp_path):
    saved = service.submit(spoken_draft())
    assert saved.draft.title == "Kesehatan" and saved.draft.description == ""
    with store.engine.connect() as conn:
        audio, sha, size = conn.execute(text("SELECT audio, sha256, size FROM voice_notes")).one()
        kinds = sorted(conn.execute(text("SELECT kind FROM outbox")).scalars())
    assert kinds == ["report", "voice"]
    assert (sha, size) == (NOTE.sha256, len(NOTE.ogg))
    assert b"OggS" not in audio and store.sealer.open_bytes(audio) == NOTE.ogg
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("kiosk.sqlite3*"))
    middle = len(NOTE.ogg) // 2
    assert NOTE.ogg[middle:middle + 64] not in on_disk and b"OpusHead" not in on_disk  # nothing of it in the clear

    payload = ReportIn.model_validate(service.payload(saved.tracking_id).model_dump(mode="json"))
    assert (payload.title, payload.description) == ("Kesehatan", "")
    assert (payload.voice.sha256, payload.voice.duration_s) == (NOTE.sha256, 80.0)
    assert service.voice_payload(saved.tracking_id) == (NOTE.ogg, NOTE.sha256)


def test_a_recording_that_is_not_what_it_says_keeps_nothing(service, store):
    with pytest.raises(InvalidDraft) as refused:
        service.submit(spoken_draft(voice=VoiceNote(NOTE.ogg, "0" * 64, 80.0)))
    assert refused.value.field == "voice"
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT (SELECT count(*) FROM reports) + (SELECT count(*) FROM outbox)"
                                 " + (SELECT count(*) FROM voice_notes)")).scalar() == 0


def test_a_report_without_description_or_recording_breaks_the_contract():
    base = dict(tracking_id="MT0114D2PF2DBX", kind="pengaduan", category_code="K", title="Judul", incident_date="2026-11-20",
                kecamatan_code="L", anonymous=False, confidential=False, language="id", created_at=NOW.isoformat())
    with pytest.raises(ValidationError, match="voice recording"):
        ReportIn.model_validate({**base, "description": ""})
    assert ReportIn.model_validate({**base, "description": "", "voice": {"sha256": NOTE.sha256, "duration_s": 80}})


def test_the_recording_goes_only_after_its_report_and_is_forgotten_once_delivered(service, store):
    clock = lambda: NOW  # noqa: E731
    outbox = Outbox(store.engine, now=clock, rng=lambda: 0.5, on_delivered=service.on_delivered)
    tid = service.submit(spoken_draft()).tracking_id
    assert outbox.count_waiting() == 1  # Welcome's "1 waiting": one spoken report, not two
    assert outbox.claim(10) == [tid]  # the recording waits for its report
    assert outbox.claim(10) == []
    outbox.retry_later([tid], "offline", 0)
    assert outbox.claim(10) == [tid]  # still not before its report is confirmed
    assert outbox.mark_sent([tid]) == 1
    assert outbox.claim(10) == [voice_key(tid)]
    assert outbox.count_waiting() == 1  # the report went; its recording still waits
    assert service.voice_info(tid) == (NOTE.sha256, 80.0, True)
    assert outbox.mark_sent([voice_key(tid)]) == 1
    assert service.voice_info(tid) == (NOTE.sha256, 80.0, False)  # the bytes are gone, the hash stays
    assert service.voice_payload(tid) is None
    assert {e.tracking_id: e.state for e in outbox.entries(include_sent=True)} == {
        tid: OutboxState.SENT, voice_key(tid): OutboxState.SENT}
    assert [e.kind for e in outbox.entries(include_sent=True)] == ["report", "voice"]
