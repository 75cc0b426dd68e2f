"""How long a citizen waits for the camera: "Cek status" tapped to the first preview frame.

The camera and its decoders run in a process of their own (:mod:`devices.camera_process`),
started when the scan screen opens and ended when it closes, so that OpenCV, NumPy and the
decoders never stay in the kiosk's memory. This measures what that costs each time: from
``CameraProcess.start`` to its first preview frame, against the same camera read in-process
(:class:`devices.camera.CameraReader`, OpenCV already imported: what a kiosk that kept the
camera in its own process paid after its first scan), in the same run, on the same source (a
folder holding one 1280x720 JPEG, decoded as a webcam's first frame is).

    .venv/bin/python -m benchmarks.camera_start    # rewrites its section of docs/PERFORMANCE.md
"""
from __future__ import annotations

import datetime as dt
import os
import queue
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine, percentile, write_section

RUNS = int(os.environ.get("BENCH_CAMERA_RUNS", "10"))
WAIT_S = 30.0
START, END = "<!-- camera-start:start -->", "<!-- camera-start:end -->"


def _source(folder: Path) -> str:
    import cv2
    import numpy as np

    rng = np.random.default_rng(17)
    frame = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)  # a busy hall: a frame that does not compress away
    cv2.imwrite(str(folder / "hall.jpg"), frame)
    return str(folder)


def _first_frame_s(in_own_process: bool, spec: str) -> float:
    """Seconds from starting a camera on ``spec`` to the first frame it hands on; the camera
    stopped afterwards (the child gone before the next run)."""
    from devices.camera import CameraReader
    from devices.camera_process import CameraProcess

    events: queue.Queue = queue.Queue()
    callbacks = {"on_frame": lambda f: events.put(("frame", f)), "on_result": lambda _r: None,
                 "on_error": lambda e: events.put(("error", e))}
    camera = CameraProcess(spec, **callbacks) if in_own_process else CameraReader(spec, **callbacks)
    started = time.perf_counter()
    camera.start()
    try:
        kind, item = events.get(timeout=WAIT_S)
        if kind != "frame":
            raise RuntimeError(f"the camera failed: {item}")
        return time.perf_counter() - started
    finally:
        if in_own_process:
            camera.stop(wait=True)
        else:
            camera.stop()


def measure(runs: int = RUNS) -> dict:
    with tempfile.TemporaryDirectory(prefix="camera-start-") as folder:
        spec = _source(Path(folder))
        _first_frame_s(False, spec)  # OpenCV's first use in this process: not the baseline's
        child, baseline = [], []
        for _ in range(runs):  # alternated, so that other work on the machine weighs on both
            child.append(_first_frame_s(True, spec))
            baseline.append(_first_frame_s(False, spec))
    return {"child": child, "baseline": baseline, "machine": machine(),
            "when": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
            "load": os.getloadavg()[2]}


def _ms(values: list[float], pct: int) -> float:
    return 1000 * percentile(values, pct)


def lines(result: dict) -> list[str]:
    child, baseline = result["child"], result["baseline"]
    return [
        START,
        "",
        f"The camera's start (`benchmarks/camera_start.py`): from starting the camera to its first preview",
        f"frame, {len(child)} times each, alternated, measured {result['when']} on {result['machine']},",
        f"load average {result['load']:.1f} over the last 15 minutes:",
        "",
        "| camera | p50 | p95 | max |",
        "|---|---|---|---|",
        f"| in its own process, as the kiosk runs it (`CameraProcess`) | {_ms(child, 50):.0f} ms | {_ms(child, 95):.0f} ms "
        f"| {1000 * max(child):.0f} ms |",
        f"| baseline: in the kiosk's process, OpenCV already imported (`CameraReader`) | {_ms(baseline, 50):.0f} ms "
        f"| {_ms(baseline, 95):.0f} ms | {1000 * max(baseline):.0f} ms |",
        "",
        f"The process costs {1000 * (statistics.median(child) - statistics.median(baseline)):.0f} ms at the median each time",
        "the scan screen opens (a Python interpreter, OpenCV, NumPy and zxing-cpp imported), against",
        "about 20 MiB that OpenCV and the decoders kept in the kiosk for good once it had scanned (the",
        "soak, 2026-12-03: 369 against 349 MiB at rest).",
        "",
        END,
    ]


def main() -> int:
    section = lines(measure())
    write_section(section, START, END)
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
