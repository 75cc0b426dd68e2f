"""Scanning a receipt's QR code to the status screen drawn, at the kiosk (goal: p95 under
300 ms on a local network).

The parent prints real receipts (the kiosk's file printer: ESC/POS bytes and the PNG
rendered from them) for Tracking IDs stored on a central service, and turns each into a
webcam frame (tilt, blur, glare, noise: ``tests/support/webcam.py``). A kiosk process
(``benchmarks/probe.py kiosk-scan``) opens the scan screen again and again; its camera
(the only fake: the webcam) shows an empty hall, then a receipt held up. Measured: from
the moment the camera delivers the first frame with the receipt to the first frame drawn
with its status on screen, the lookup going to the central on 127.0.0.1.

Baseline in the same run: the least work there is, in a plain loop: zxing-cpp on the same
frame, and one ``requests.get`` of the same status from the same central.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, kivy_process_env
SCANS = 40


def receipt_frames(ids: list[str], status_base_url: str, folder: Path) -> list[Path]:
    """One webcam frame of a printed receipt per Tracking ID, saved as PNG."""
    import cv2

    from kiosk.runtime.config import load_config
    from kiosk.runtime.env import build_env
    from kiosk.core.receipt import ReceiptContent
    from kiosk.core.receipt_content import status_url
    from tests.support.webcam import webcam_frames

    (folder / "printer").mkdir(parents=True, exist_ok=True)
    config_file = folder / "printer.toml"
    config_file.write_text(f'data_dir = "{folder / "printer"}"\nkiosk_code = "B000"\n', encoding="utf-8")
    env = build_env(load_config(config_file, environ={}))
    paths = []
    try:
        for n, tracking_id in enumerate(ids):
            content = ReceiptContent(
                tracking_id=tracking_id, created_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.timezone.utc),
                institution="Pemerintah Kabupaten Barito Utara", kiosk_location="Bench hall",
                kind_label="Pengaduan", category_label="Infrastruktur", title="Jalan rusak",
                confidential=False, language="id", qr_payload=status_url(status_base_url, tracking_id))
            printed = env.print_async(content).result()
            frame = webcam_frames(printed.path.with_suffix(".png"), 1, seed=n)[0]
            path = folder / f"frame-{n:03d}.png"
            cv2.imwrite(str(path), frame)
            paths.append(path)
    finally:
        env.close()
    return paths


def kiosk_latencies(base: str, token: str, frames: list[Path], status_base_url: str) -> list[float]:
    """Scan-to-status latencies (ms) measured inside a real kiosk process."""

    with tempfile.TemporaryDirectory() as data:
        config = Path(data) / "kiosk.toml"
        config.write_text(
            f'data_dir = "{data}"\nkiosk_code = "B000"\ncentral_url = "{base}"\ncentral_token = "{token}"\n'
            f'status_base_url = "{status_base_url}"\ncamera_source = "bench-webcam"\n', encoding="utf-8")
        args = [sys.executable, "-m", "benchmarks.probe", "kiosk-scan", str(config), *map(str, frames)]
        proc = subprocess.run(args, cwd=ROOT, env=kivy_process_env(), capture_output=True, text=True, timeout=600)
    latencies = [float(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("SCAN_MS")]
    if proc.returncode or len(latencies) != len(frames):
        raise RuntimeError(f"scan probe failed ({proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    return latencies


def baseline_latencies(base: str, token: str, frames: list[Path], ids: list[str]) -> list[float]:
    import cv2
    import requests
    import zxingcpp

    session = requests.Session()
    out = []
    for path, tracking_id in zip(frames, ids):
        frame = cv2.imread(str(path))
        t0 = time.perf_counter()
        zxingcpp.read_barcodes(frame)
        session.get(f"{base}/api/v1/reports/{tracking_id}/status", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure(base: str, token: str, ids: list[str], scans: int = SCANS) -> dict[str, list[float]]:
    status_base_url = f"{base}/status"
    chosen = ids[:scans]
    with tempfile.TemporaryDirectory() as folder:
        frames = receipt_frames(chosen, status_base_url, Path(folder))
        return {"kiosk": kiosk_latencies(base, token, frames, status_base_url),
                "baseline": baseline_latencies(base, token, frames, chosen)}
