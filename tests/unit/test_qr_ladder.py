"""The QR ladder (devices/qr.py, issue 17): every rung reads frames no other rung reads,
ordinary frames never leave the first rung, a code that is not one of our receipts is never
accepted however deep in the ladder it was read, and a time budget per camera frame leaves
the remaining rungs to the next frames instead of starving the camera."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import qrcode

from devices.qr import RUNGS, QrLadder, Rung, _Frame, decode_frame, scan
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id
from tests.support.photographed import photographed_frames
from tests.support.webcam import webcam_frames

#: A fixed Tracking ID, so that the frames below are the same on every run.
TID = new_tracking_id("MT01", randbits=lambda n: 0x1D2C3B4A5 & ((1 << n) - 1))

#: Photographed frames (seed, index) that only one rung after the first reads, two per
#: rung (found with the libraries pinned in requirements; one of the two must still be).
WITNESSES = {
    "code region upscaled": [(14, 1), (21, 6)],  # a small code zxing-cpp locates, cannot read
    "sharpened": [(13, 6), (18, 6)],  # defocus
    "pyzbar thresholded": [(0, 8), (15, 2)],  # a glare patch
    "whole frame upscaled": [(52, 7), (56, 3)],  # small, in perspective: not even located
}


def paper(payload: str) -> np.ndarray:
    """A receipt-like image: the QR code as the kiosk prints it (8 dots a module) under the
    ID in large type and above a few lines of text, on 576-dot (80 mm) paper."""
    img = np.full((988, 576, 3), 255, np.uint8)
    code = cv2.cvtColor(np.array(qrcode.make(payload, box_size=8, border=1).convert("L")), cv2.COLOR_GRAY2BGR)
    h, w = code.shape[:2]
    left = (576 - w) // 2
    img[276:276 + h, left:left + w] = code
    cv2.putText(img, format_tracking_id(TID), (100, 210), cv2.FONT_HERSHEY_DUPLEX, 1.4, (0, 0, 0), 3)
    for i, line in enumerate(("Tanggal: 23-11-2026 10:42 WIB", "Tempat: MPP Muara Teweh", "Jenis laporan: Pengaduan")):
        cv2.putText(img, line, (4, 540 + 28 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 1)
    return img


def photographed(payload: str, seed: int, index: int) -> np.ndarray:
    return photographed_frames(paper(payload), index + 1, seed)[index][0]


def rungs_that_read(frame: np.ndarray, payload: str) -> list[str]:
    """Every rung that reads ``payload`` from the frame, each tried on its own."""
    f = _Frame(frame)
    read = [RUNGS[0].name] if payload in RUNGS[0].read(f) else []  # also locates the code regions
    return read + [rung.name for rung in RUNGS[1:] if payload in rung.read(f)]


@pytest.mark.parametrize("rung", list(WITNESSES))
def test_each_rung_reads_a_frame_that_no_other_rung_reads(rung):
    """GIVEN photographed frames of a receipt (small code, defocus, glare, perspective)
    WHEN every rung of the ladder is tried on each
    THEN for each rung after the first there is a frame only it reads, and the ladder
    reads that frame with that rung, having tried the cheaper ones first."""
    witnesses = [photographed(TID, seed, index) for seed, index in WITNESSES[rung]]
    only = [frame for frame in witnesses if rungs_that_read(frame, TID) == [rung]]
    assert only, f"no frame that only {rung!r} reads: {[rungs_that_read(f, TID) for f in witnesses]}"
    decoded = QrLadder().decode(only[0])
    assert decoded.payloads == [TID] and decoded.rung == rung
    names = [r.name for r in RUNGS]
    assert decoded.tried == tuple(names[: names.index(rung) + 1])


def test_ordinary_frames_stay_on_the_fast_path(tmp_path):
    """GIVEN ordinary webcam frames of a receipt held close
    THEN every one is read by the first rung alone (zxing-cpp on the frame), nothing else tried."""
    png = tmp_path / "receipt.png"
    cv2.imwrite(str(png), paper(TID))
    ladder = QrLadder()
    results = [ladder.decode(frame) for frame in webcam_frames(png, 10, seed=3)]
    assert all(r.payloads == [TID] and r.tried == ("zxing-cpp",) for r in results), \
        [(r.payloads, r.tried) for r in results]


@pytest.mark.parametrize("payload", ["MT0114D2PF2DBY", "https://example.com/promo"])
def test_a_code_that_is_not_ours_is_never_accepted_by_any_rung(payload):
    """GIVEN photographed frames of a code that is not our receipt's (an ID-like text whose
    check symbol is wrong, a URL), some read only by the later rungs
    THEN every frame read is reported as foreign, with no Tracking ID."""
    deep = 0
    for seed in (0, 13, 14, 15, 21):
        for frame, _ in photographed_frames(paper(payload), 10, seed):
            decoded = QrLadder().decode(frame)
            if not decoded.payloads:
                continue
            assert decoded.payloads == [payload]
            deep += decoded.rung != RUNGS[0].name
            result = scan(frame, "https://lapor.baritoutarakab.go.id/status", ladder=QrLadder())
            assert result is not None and result.foreign and result.tracking_id is None
    assert deep, "no frame needed a later rung: the test proves nothing about them"


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _costly_rungs(clock: _Clock, log: list[str], costs: dict[str, float], reads: set[str] = frozenset()):
    def rung(name):
        def read(_frame):
            log.append(name)
            clock.now += costs[name] / 1000
            return ["payload"] if name in reads else []
        return Rung(name, read)
    return tuple(rung(name) for name in costs)


def test_a_budget_leaves_the_rungs_a_frame_had_no_time_for_to_the_next_frames():
    """GIVEN a ladder with a 25 ms budget whose expensive rungs take 20 ms each
    WHEN frames no rung reads come one after another
    THEN each frame tries the first rung and the expensive rungs until the budget is spent
    (at least one), and the next frame goes on where the last one stopped, so three
    frames together have tried every rung once."""
    clock, log = _Clock(), []
    rungs = _costly_rungs(clock, log, {"fast": 1, "a": 20, "b": 20, "c": 20, "d": 20})
    ladder = QrLadder(rungs, budget_ms=25, clock=clock)
    frame = np.zeros((4, 4), np.uint8)
    tried = [ladder.decode(frame).tried for _ in range(3)]
    assert tried == [("fast", "a", "b"), ("fast", "c", "d"), ("fast", "a", "b")]
    whole = QrLadder(rungs, clock=clock).decode(frame)
    assert whole.tried == ("fast", "a", "b", "c", "d")  # no budget (a still picture): every rung


def test_a_read_starts_the_next_frame_from_the_cheapest_rung():
    clock, log = _Clock(), []
    rungs = _costly_rungs(clock, log, {"fast": 1, "a": 20, "b": 20, "c": 20}, reads={"b"})
    ladder = QrLadder(rungs, budget_ms=5, clock=clock)
    frame = np.zeros((4, 4), np.uint8)
    assert ladder.decode(frame).tried == ("fast", "a")
    assert ladder.decode(frame).rung == "b"
    assert ladder.decode(frame).tried == ("fast", "a")


def test_the_camera_reads_a_hard_frame_within_a_few_frames_on_any_budget():
    """GIVEN the same frame (only the last rung reads it) shown again and again to a ladder
    whose budget allows one expensive rung a frame
    THEN it is read within as many frames as there are expensive rungs."""
    frame = photographed(TID, *WITNESSES["whole frame upscaled"][0])
    if rungs_that_read(frame, TID) != ["whole frame upscaled"]:
        frame = photographed(TID, *WITNESSES["whole frame upscaled"][1])
    ladder = QrLadder(budget_ms=0)
    results = [ladder.decode(frame) for _ in range(len(RUNGS) - 1)]
    assert [len(r.tried) for r in results[:-1]] == [2] * (len(RUNGS) - 2)
    assert results[-1].payloads == [TID] and results[-1].rung == "whole frame upscaled"


def test_decode_frame_tries_the_whole_ladder_on_a_still_picture():
    frame = photographed(TID, *WITNESSES["whole frame upscaled"][0])
    if rungs_that_read(frame, TID) != ["whole frame upscaled"]:
        frame = photographed(TID, *WITNESSES["whole frame upscaled"][1])
    assert decode_frame(frame) == [TID]


def test_a_poster_behind_the_receipt_does_not_hide_it():
    """GIVEN a frame with a promotional QR code that the first rung reads, and a receipt
    small in the frame that only a later rung reads
    WHEN the kiosk scans it
    THEN the ladder climbs on past the poster's code and finds the Tracking ID (a technician's
    ``decode_frame`` reports the first code read)."""
    frame = photographed(TID, *WITNESSES["sharpened"][0]).copy()
    poster = cv2.cvtColor(np.array(qrcode.make("https://example.com/promo", box_size=4, border=2).convert("L")),
                          cv2.COLOR_GRAY2BGR)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = poster.shape[:2]
    corners = [(0, 0), (0, frame.shape[1] - w), (frame.shape[0] - h, 0), (frame.shape[0] - h, frame.shape[1] - w)]
    y, x = min(corners, key=lambda c: float(grey[c[0]:c[0] + h, c[1]:c[1] + w].std()))  # the emptiest corner
    frame[y:y + h, x:x + w] = poster
    assert decode_frame(frame) == ["https://example.com/promo"]
    result = scan(frame, ladder=QrLadder())
    assert result is not None and result.tracking_id == TID and not result.foreign
