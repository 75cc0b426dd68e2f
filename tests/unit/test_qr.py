"""Reading receipts: our QR codes decode through webcam-like distortion; nothing else is ours."""
from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest
import qrcode

from devices.camera import CameraReader, CameraUnavailable, open_source
from devices.printer.file import FilePrinter
from devices.qr import scan, tracking_id_from_payload
from kiosk.core.receipt import ReceiptContent, print_receipt
from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id
from tests.support.webcam import webcam_frames, write_video


@pytest.fixture
def receipt_png(tmp_path):
    tid = new_tracking_id("MT01")
    content = ReceiptContent(tid, dt.datetime(2026, 11, 23, 3, 42, tzinfo=dt.timezone.utc), "Pemerintah Kabupaten Barito Utara",
                             "MPP Muara Teweh", "Pengaduan", "Kesehatan", "Antrean lama", False, "id")
    outcome = print_receipt(FilePrinter(tmp_path / "receipts"), content)
    return tid, outcome.path.with_suffix(".png")


def qr_image(payload: str) -> np.ndarray:
    img = qrcode.make(payload).convert("RGB")
    return cv2.cvtColor(np.array(img), cv2.COLOR_RGB2BGR)


def test_most_webcam_frames_of_a_receipt_read_as_its_id(receipt_png):
    tid, png = receipt_png
    frames = webcam_frames(png, 20)
    results = [scan(f) for f in frames]
    read = [r.tracking_id for r in results if r is not None and r.tracking_id]
    assert set(read) == {tid}
    assert len(read) >= 12, f"only {len(read)} of 20 distorted frames read"


@pytest.mark.parametrize("payload", ["https://example.com/promo", "HELLO WORLD", "MT01-14D2P-F2DBX-extra",
                                     "MT0114D2PF2DBY"])
def test_codes_that_are_not_our_receipts_are_foreign(payload):
    result = scan(qr_image(payload))
    assert result is not None and result.foreign and result.tracking_id is None


def test_status_url_only_from_our_configured_base():
    tid = new_tracking_id("MT01")
    base = "https://lapor.baritoutarakab.go.id/status"
    assert tracking_id_from_payload(f"{base}/{tid}", base) == tid
    assert tracking_id_from_payload(f"{base}/{tid}", "") is None
    assert tracking_id_from_payload(f"https://evil.example/status/{tid}", base) is None
    assert tracking_id_from_payload(f"{base}/{format_tracking_id(tid)}", base) is None


def test_no_camera_and_broken_sources_are_reported(tmp_path):
    for spec in ("", str(tmp_path / "missing.avi"), str(tmp_path)):
        with pytest.raises(CameraUnavailable):
            open_source(spec)


def test_a_folder_of_frames_is_shown_in_order_one_decoded_at_a_time(tmp_path):
    """GIVEN a folder of webcam-sized frames with a broken file among them WHEN the camera
    shows them THEN they come in name order, the broken one skipped, round and round; and
    the folder is never held decoded at once (a long recording would fill the kiosk)."""
    import tracemalloc

    shades = [20, 60, 100, 140, 180, 220]
    for n, shade in enumerate(shades):
        cv2.imwrite(str(tmp_path / f"frame-{n}.png"), np.full((720, 1280, 3), shade, np.uint8))
    (tmp_path / "frame-2b.png").write_bytes(b"not an image")
    frame_bytes = 720 * 1280 * 3
    tracemalloc.start()
    try:
        source = open_source(str(tmp_path))
        seen = []
        for _ in range(2 * len(shades)):
            frame = source.read()
            seen.append(int(frame[0, 0, 0]))
            del frame
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    source.release()
    assert seen == shades * 2
    assert peak < 3 * frame_bytes, f"{peak / 2**20:.0f} MiB held for frames of {frame_bytes / 2**20:.1f} MiB"


def test_reader_thread_finds_the_id_in_a_video_and_stops(receipt_png, tmp_path):
    import threading

    tid, png = receipt_png
    video = write_video(webcam_frames(png, 15), tmp_path / "webcam.avi")
    found, errors = [], []
    done = threading.Event()

    def on_result(result):
        if result.tracking_id:
            found.append(result.tracking_id)
            done.set()

    reader = CameraReader(str(video), on_result=on_result, on_error=lambda e: (errors.append(e), done.set()), fps=30)
    reader.start()
    assert done.wait(20), "no result from the video"
    reader.stop()
    assert found and found[0] == tid and not errors


def test_kiosk_scan_folder_prints_one_json_line_per_image(receipt_png, tmp_path):
    import json
    import subprocess
    import sys

    from tests.support.servers import ROOT

    tid, png = receipt_png
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(webcam_frames(png, 3)):
        cv2.imwrite(str(folder / f"frame{i}.png"), frame)
    cv2.imwrite(str(folder / "poster.png"), qr_image("https://example.com/promo"))
    run = subprocess.run([sys.executable, "-m", "kiosk", "scan", "--source", str(folder), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["file"] for line in lines] == ["frame0.png", "frame1.png", "frame2.png", "poster.png"]
    assert lines[-1]["payloads"] == ["https://example.com/promo"] and lines[-1]["tracking_ids"] == []
    assert any(line["tracking_ids"] == [tid] for line in lines[:3])
    assert all(line["ms"] >= 0 for line in lines)
    missing = subprocess.run([sys.executable, "-m", "kiosk", "scan", "--source", "/dev/video99"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "Check the camera_source setting" in missing.stderr


def test_receipt_qr_holds_the_status_url_when_configured_and_reads_back(tmp_path):
    """With status_base_url set, a phone opens <base>/<ID>; the kiosk still reads it as ours."""
    from kiosk.core.receipt_content import status_url

    tid = new_tracking_id("MT01")
    base = "https://lapor.baritoutarakab.go.id/status"
    content = ReceiptContent(tid, dt.datetime(2026, 11, 23, 3, 42, tzinfo=dt.timezone.utc), "Pemkab", "MPP",
                             "Pengaduan", "Kesehatan", "Antrean", False, "id", qr_payload=status_url(base, tid))
    outcome = print_receipt(FilePrinter(tmp_path), content)
    from devices.escpos_sim import parse_escpos

    assert parse_escpos(outcome.path.read_bytes()).qr_payloads == [f"{base}/{tid}"]
    frame = cv2.imread(str(outcome.path.with_suffix(".png")))
    assert scan(frame, base).tracking_id == tid
    assert scan(frame, "").foreign  # a kiosk without that base does not trust the URL
