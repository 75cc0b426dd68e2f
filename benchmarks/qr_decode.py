"""QR decoding on webcam-like frames of printed receipts, every decoder on the same frames
in the same run: zxing-cpp alone, pyzbar alone (on the adaptively thresholded frame), the
kiosk's chain before issue 17 (zxing-cpp, then pyzbar), and the kiosk's ladder
(``devices.qr``): whole, as a still picture gets it, and as the camera runs it (a time
budget per frame, the rungs left over tried on the next frames of the same receipt).

Three classes of frames, all made here from receipts printed by the kiosk's file printer:

- ordinary: the receipt held close, mild tilt, blur, glare and noise (``tests.support.webcam``);
- hard: held further away, more blur and noise;
- photographed: what real photographs of thermal receipts show, one or two troubles each
  (``tests.support.photographed``): a small code far in the frame, strong perspective,
  defocus, motion blur, low light with sensor noise, uneven light, a glare patch, faded
  thermal print, curved paper, all JPEG-compressed. No real photographs of printed QR codes were found in the
  packages this project can reach (PyPI, npm, Debian), so this class imitates them; its
  severity was set so that the chain before issue 17 reads about as much of it as outside
  testers measured on real photographs (78 %). It is not their data.

``python -m benchmarks.qr_decode [frames per class]`` prints the table lines and, for the
photographed class, the share each trouble leaves readable.
"""
from __future__ import annotations

import collections
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

CLASSES = ("ordinary", "hard", "photographed")


def frames_of(kind: str, count: int) -> tuple[list, list[str], list[tuple[str, ...]]]:
    """``count`` frames of one class, 10 per printed receipt: frames, expected IDs, troubles."""
    from devices.printer.file import FilePrinter
    from kiosk.core.receipt import ReceiptContent, print_receipt
    from kiosk.kernel.tracking_id import new_tracking_id
    from tests.support.photographed import photographed_frames
    from tests.support.webcam import webcam_frames

    frames, expected, troubles = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(max(1, count // 10)):
            tid = new_tracking_id("MT01")
            content = ReceiptContent(tid, dt.datetime.now(dt.timezone.utc), "Pemkab Barito Utara", "MPP", "Pengaduan",
                                     "Kesehatan", "Antrean", False, "id")
            png = print_receipt(FilePrinter(Path(folder)), content).path.with_suffix(".png")
            if kind == "photographed":
                made = photographed_frames(cv2.imread(str(png)), 10, seed)
                frames += [f for f, _ in made]
                troubles += [t for _, t in made]
            else:
                frames += webcam_frames(png, 10, seed=seed, hard=kind == "hard")
                troubles += [()] * 10
            expected += [tid] * 10
    return frames, expected, troubles


def _zxing(frame):
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode)]


def _pyzbar(frame):
    from pyzbar.pyzbar import ZBarSymbol, decode

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 10)
    return [s.data.decode() for s in decode(binary, symbols=[ZBarSymbol.QRCODE])]


def _old_chain(frame):
    """The kiosk's chain before issue 17: zxing-cpp, and pyzbar when it read nothing."""
    return [p for p in _zxing(frame) if p] or _pyzbar(frame)


def _decoders():
    from devices.qr import FRAME_BUDGET_MS, QrLadder, decode_frame

    camera = QrLadder(budget_ms=FRAME_BUDGET_MS)
    return (("zxing-cpp alone", _zxing), ("pyzbar alone (thresholded)", _pyzbar),
            ("chain before issue 17 (zxing-cpp, then pyzbar)", _old_chain),
            ("ladder (devices.qr), whole", decode_frame),
            (f"ladder (devices.qr), camera: {FRAME_BUDGET_MS:.0f} ms a frame", lambda f: camera.decode(f).payloads))


def measure(count: int = 200) -> list[tuple[str, float, float, float]]:
    """(decoder and frame class, share read correctly, median ms, p95 ms)."""
    return [row[:4] for row in measure_detailed(count)]


def measure_detailed(count: int = 200):
    """As ``measure``, each row with a fifth item: {trouble: (read, frames)} (photographed)."""

    rows = []
    for kind in CLASSES:
        frames, expected, troubles = frames_of(kind, count)
        decoders = _decoders()
        for _, decode in decoders:  # load the libraries outside the measurement
            decode(frames[0])
        decoders = _decoders()  # the camera's ladder starts afresh
        times = {name: [] for name, _ in decoders}
        hits = dict.fromkeys(times, 0)
        per = {name: collections.defaultdict(lambda: [0, 0]) for name in times}
        for frame, tid, trouble in zip(frames, expected, troubles):
            for name, decode in decoders:  # interleaved: the machine's load falls on all alike
                started = time.perf_counter()
                payloads = decode(frame)
                times[name].append((time.perf_counter() - started) * 1000)
                hits[name] += tid in payloads
                for t in trouble:
                    per[name][t][0] += tid in payloads
                    per[name][t][1] += 1
        for name, _ in decoders:
            ordered = sorted(times[name])
            rows.append((f"{name}, {kind} frames", hits[name] / len(frames), statistics.median(ordered),
                         ordered[int(0.95 * (len(ordered) - 1))], dict(per[name])))
    return rows


def lines(rows) -> list[str]:
    """The table for docs/PERFORMANCE.md."""
    out = ["| decoder | read correctly | median | p95 |", "|---|---|---|---|"]
    out += [f"| {name} | {share:.1%} | {median:.1f} ms | {p95:.1f} ms |" for name, share, median, p95, *_ in rows]
    return out


def trouble_lines(rows) -> list[str]:
    """Photographed frames: the share each decoder reads, trouble by trouble."""
    from tests.support.photographed import TROUBLES

    chosen = [r for r in rows if r[0].endswith("photographed frames") and len(r) > 4]
    out = ["| trouble | " + " | ".join(r[0].removesuffix(", photographed frames") for r in chosen) + " |",
           "|---|" + "---|" * len(chosen)]
    for trouble in TROUBLES:
        cells = []
        for r in chosen:
            read, total = r[4].get(trouble, (0, 0))
            cells.append(f"{read / total:.0%} of {total}" if total else "-")
        out.append(f"| {trouble} | " + " | ".join(cells) + " |")
    return out


if __name__ == "__main__":
    from benchmarks.common import machine

    measured = measure_detailed(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    print(f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}")
    print("\n".join(lines(measured)))
    print()
    print("\n".join(trouble_lines(measured)))
