"""QR decoding on webcam-like frames: zxing-cpp alone, pyzbar alone (on the adaptively
thresholded frame), and the kiosk's chain (zxing-cpp, then pyzbar), same frames, same run."""
from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import cv2


def _frames(count: int, hard: bool):
    from devices.printer.file import FilePrinter
    from kiosk.kernel.i18n import gettext_for
    from kiosk.core.receipt import ReceiptContent, print_receipt
    from kiosk.kernel.tracking_id import new_tracking_id
    from tests.support.webcam import webcam_frames

    frames, expected = [], []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(count // 10):
            tid = new_tracking_id("MT01")
            content = ReceiptContent(tid, dt.datetime.now(dt.timezone.utc), "Pemkab Barito Utara", "MPP", "Pengaduan",
                                     "Kesehatan", "Antrean", False, "id")
            png = print_receipt(FilePrinter(Path(folder)), content, gettext=gettext_for("id")).path.with_suffix(".png")
            frames += webcam_frames(png, 10, seed=seed, hard=hard)
            expected += [tid] * 10
    return frames, expected


def _zxing(frame):
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode)]


def _pyzbar(frame):
    from pyzbar.pyzbar import ZBarSymbol, decode

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 10)
    return [s.data.decode() for s in decode(binary, symbols=[ZBarSymbol.QRCODE])]


def measure(count: int = 200) -> list[tuple[str, float, float, float]]:
    """(decoder and frame set, share read correctly, median ms, p95 ms)."""
    rows = []
    for hard in (False, True):
        rows += _measure_set(count, hard)
    return rows


def _measure_set(count: int, hard: bool) -> list[tuple[str, float, float, float]]:
    from devices.qr import decode_frame

    frames, expected = _frames(count, hard)
    label = "hard frames" if hard else "ordinary frames"
    rows = []
    for name, decode in (("zxing-cpp alone", _zxing), ("pyzbar alone (thresholded)", _pyzbar),
                         ("kiosk chain (devices.qr)", decode_frame)):
        times, hits = [], 0
        for frame, tid in zip(frames, expected):
            started = time.perf_counter()
            payloads = decode(frame)
            times.append((time.perf_counter() - started) * 1000)
            hits += tid in payloads
        times.sort()
        rows.append((f"{name}, {label}", hits / len(frames), statistics.median(times), times[int(0.95 * (len(times) - 1))]))
    return rows
