"""Endurance: one kiosk process through many citizens, measured every ``SOAK_EVERY`` sessions.

A central service runs on 127.0.0.1 (SQLite) with a few reports stored, so the kiosk's
reports are delivered and its status lookups answered as in service. A real kiosk process
(``benchmarks/soak_kiosk.py``: the real ``KioskApp`` on a headless window, its real store,
file printer and sync worker) is driven with real touches and keys through ``SOAK_SESSIONS``
citizens (1,000 unless told) taking turns: filing a report on the on-screen keyboard and
taking the receipt, reading a receipt's status through the camera (a folder of webcam-like
frames: an empty hall, then printed receipts), typing a Tracking ID on the keypad, starting
a report and walking away (the idle warning, then the session's end). Every ``SOAK_EVERY``
sessions (100) the process measures itself: resident and unique memory, open file
descriptors, threads, live textures, graphics instructions, widgets and KioskApps, the kv
rules' bound handlers, the frames' p95, the SQLite file and its WAL, the receipts folder.

Goal: from session 100 to the last, memory grows by less than 5 MiB and nothing else grows;
memory in use within 1.5x of a bare Kivy app's (``benchmarks/probe.py bare``, same run).

    python -m benchmarks.soak          (writes its section of docs/PERFORMANCE.md)
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, kivy_process_env, machine, write_section

SESSIONS = int(os.environ.get("SOAK_SESSIONS", "1000"))
EVERY = int(os.environ.get("SOAK_EVERY", "100"))
#: Reports stored on the central before the kiosk starts: the receipts its camera sees and
#: the numbers its keypad citizens type.
SEEDED = 4
#: Frames of an empty hall the camera shows before the receipts (at camera_fps 15, about 1.3 s:
#: time for a keypad citizen to tap "type the number instead").
EMPTY_FRAMES = 20
KIOSK_CODE = "SK01"
START, END = "<!-- soak:start -->", "<!-- soak:end -->"
#: What must not grow at all between the first sample after warm-up and the last.
FLAT = ("fds", "threads", "children", "textures", "instructions", "widgets", "kiosk_apps", "rule_handlers", "rule_handler_widgets")


def _seed_central(base: str, token: str) -> list[str]:
    import requests

    from kiosk.kernel.tracking_id import new_tracking_id
    from tests.support.central import report

    ids = [new_tracking_id(KIOSK_CODE) for _ in range(SEEDED)]
    answer = requests.post(f"{base}/api/v1/reports", json={"reports": [report(tracking_id=i) for i in ids]},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    return ids


def _camera_folder(ids: list[str], status_base_url: str, folder: Path) -> Path:
    """The camera's frames: an empty hall, then a webcam frame of each seeded receipt."""
    import cv2

    from benchmarks.scan_status import receipt_frames

    camera = folder / "camera"
    camera.mkdir()
    frames = receipt_frames(ids, status_base_url, folder / "print")
    empty = cv2.imread(str(frames[0])) * 0 + 90
    for n in range(EMPTY_FRAMES):
        cv2.imwrite(str(camera / f"a-empty-{n:02d}.png"), empty)
    for n, path in enumerate(frames):
        path.rename(camera / f"b-receipt-{n:02d}.png")
    return camera


def bare_kivy_rss() -> dict[str, float]:
    """RSS and USS (MiB) of the bare Kivy app (one button), 4 s after its first frame."""
    import psutil

    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.probe", "bare"], cwd=ROOT, env=kivy_process_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("FIRST_FRAME"):
                break
        time.sleep(4)
        memory = psutil.Process(proc.pid).memory_full_info()
        return {"rss_mib": memory.rss / 2**20, "uss_mib": memory.uss / 2**20}
    finally:
        proc.kill()
        proc.wait()


def measure(sessions: int = SESSIONS, every: int = EVERY, *, trace_to: str | None = None,
            on_line=None) -> dict:
    """Run the soak; returns ``samples`` (one dict per measurement), ``sessions`` done,
    ``receipts`` (Tracking IDs printed), ``delivered`` (of them, stored on the central),
    ``seconds`` and the bare Kivy app's memory (``bare``)."""
    from tests.support.central import central_cli
    from tests.support.servers import running_central

    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        folder = Path(folder)
        url = f"sqlite:///{folder / 'central.sqlite3'}"
        added = central_cli(url, "kiosk", "add", KIOSK_CODE, "--location", "Soak hall")
        if added.returncode:
            raise RuntimeError(added.stderr)
        token = added.stdout.strip()
        with running_central(url) as base:
            ids = _seed_central(base, token)
            status_base_url = f"{base}/status"
            camera = _camera_folder(ids, status_base_url, folder)
            data = folder / "kiosk"
            data.mkdir()
            config = folder / "kiosk.toml"
            config.write_text(
                f'data_dir = "{data}"\nkiosk_code = "{KIOSK_CODE}"\ncentral_url = "{base}"\n'
                f'central_token = "{token}"\nstatus_base_url = "{status_base_url}"\ncamera_source = "{camera}"\n',
                encoding="utf-8")
            env = kivy_process_env()
            if trace_to:
                env["SOAK_TRACEMALLOC"] = trace_to
            args = [sys.executable, "-m", "benchmarks.soak_kiosk", str(config), str(sessions), str(every), *ids]
            started = time.monotonic()
            samples, receipts, done, kinds, types = [], [], 0, {}, []
            with tempfile.TemporaryFile("w+") as errors:
                proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
                for line in proc.stdout:
                    if line.startswith("SAMPLE "):
                        samples.append(json.loads(line[len("SAMPLE "):]))
                        if on_line:
                            on_line(samples[-1])
                    elif line.startswith("TYPES "):  # with SOAK_TYPES set: the object types that grew
                        types.append(json.loads(line[len("TYPES "):]))
                    elif line.startswith("RECEIPT "):
                        receipts.append(line.split()[1])
                    elif line.startswith("SESSION "):
                        done = int(line.split()[1])
                        kinds[line.split()[2]] = kinds.get(line.split()[2], 0) + 1
                proc.wait()
                loaded = sorted({name for s in samples for name in s.get("harness_modules", ())})
                if loaded:
                    raise RuntimeError(f"the soak's kiosk process loaded the test harness ({', '.join(loaded)}): "
                                       "its memory would not be a kiosk's")
                if proc.returncode or done != sessions:
                    errors.seek(0)
                    raise RuntimeError(f"soak kiosk exited with {proc.returncode} after {done} sessions:\n"
                                       f"{errors.read()[-4000:]}")
            seconds = time.monotonic() - started
            from tests.support.central import query

            stored = {row[0] for row in query(url, "SELECT tracking_id FROM reports")}
    return {"samples": samples, "sessions": done, "kinds": kinds, "receipts": receipts, "types": types,
            "delivered": sum(1 for r in receipts if r in stored), "seconds": seconds, "bare": bare_kivy_rss()}


def _base(samples: list[dict]) -> dict:
    """The first sample after warm-up: session 100 (the goal's), else the first after 0."""
    warm = [s for s in samples[:-1] if s["session"] >= 100]
    return warm[0] if warm else samples[1] if len(samples) > 2 else samples[0]


def growth(result: dict) -> dict[str, float]:
    """Each measure's change from the first sample after warm-up (:func:`_base`) to the last."""
    samples = result["samples"]
    base, last = _base(samples), samples[-1]
    return {key: last[key] - base[key] for key in last if isinstance(last[key], (int, float)) and key != "time"}


def _mib(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def lines(result: dict, when: str) -> list[str]:
    """The soak's section of docs/PERFORMANCE.md, between its markers."""
    samples, bare = result["samples"], result["bare"]
    base, last = _base(samples), samples[-1]
    change = growth(result)
    per_session = result["seconds"] / max(1, result["sessions"])
    out = [
        START, "",
        f"Endurance: one kiosk process through {result['sessions']:,} citizens with real touches and keys "
        f"(`benchmarks/soak.py`: {', '.join(f'{k} {v}' for k, v in result['kinds'].items())}; "
        f"{result['delivered']} of {len(result['receipts'])} reports filed reached the local central), "
        f"{per_session:.1f} s a citizen, {when}:",
        "",
        "| session | RSS MiB | of it anonymous | highest RSS so far | USS MiB | fds | threads | child processes | textures | instructions | widgets | KioskApps "
        "| kv handlers | frame p95 ms | SQLite + WAL KiB | receipts files (KiB) | outbox waiting | SQLite in memory MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in samples:
        out.append(
            f"| {s['session']} | {s['rss_mib']:.1f} | {_mib(s.get('rss_anon_mib'))} | {_mib(s.get('rss_peak_mib'))} "
            f"| {s['uss_mib']:.1f} "
            f"| {s['fds']} | {s['threads']} | {s.get('children', '?')} "
            f"| {s['textures']} | {s['instructions']} | {s['widgets']} | {s['kiosk_apps']} | {s['rule_handlers']} "
            f"| {s['frame_p95_ms']:.1f} | {s['db_bytes'] // 1024} + {s['wal_bytes'] // 1024} "
            f"| {s['receipt_files']} ({s['receipt_bytes'] // 1024}) | {s['outbox_waiting']} "
            f"| {_mib(s.get('sqlite_mib'))} |")
    grew = [k for k in FLAT if change.get(k, 0) > 0]
    ratio = last["rss_mib"] / bare["rss_mib"]
    fd_change = ""
    if "fds" in grew and "fd_kinds" in base and "fd_kinds" in last:
        moved = {k: last["fd_kinds"][k] - base["fd_kinds"].get(k, 0) for k in last["fd_kinds"]}
        fd_change = " (file descriptors by kind: " + ", ".join(f"{k} {v:+d}" for k, v in moved.items() if v) + ")"
    out += [
        "",
        f"From session {base['session']} to {last['session']}: RSS {change['rss_mib']:+.1f} MiB (goal: under 5 MiB"
        + (f"; anonymous {change['rss_anon_mib']:+.1f}, file-backed {change['rss_file_mib']:+.1f}"
           if "rss_anon_mib" in change and "rss_file_mib" in change else "")
        + f"), USS {change['uss_mib']:+.1f} MiB (it follows the other processes sharing its pages); "
        + ("nothing else grew" if not grew else "grew: " + ", ".join(f"{k} {change[k]:+g}" for k in grew) + fd_change)
        + f"; SQLite {change['db_bytes'] / 1024:+.0f} KiB, WAL {change['wal_bytes'] / 1024:+.0f} KiB, "
        f"receipts {change['receipt_files']:+d} files. "
        f"Memory at the end: RSS {last['rss_mib']:.0f} MiB against the bare Kivy app's {bare['rss_mib']:.0f} MiB "
        f"({ratio:.2f}x; goal within 1.5x), USS {last['uss_mib']:.0f} against {bare['uss_mib']:.0f} MiB.",
        "",
        "Each sample is taken on Welcome after the last citizen's screens were dropped and their memory",
        "returned (`KioskApp.release_screens`, a second after a citizen is back on Welcome: the next citizen",
        "comes after it); the highest RSS so far is the kernel's high-water mark (`VmHWM`), a citizen's",
        "screens included.",
        "USS counts only the pages no other process shares, so it moves with whatever else runs (other Kivy",
        "processes share the same libraries); RSS is the figure to follow. The files: the WAL grows until",
        "SQLite's automatic checkpoint (1,000 pages, 4 MiB) and stays there; the database keeps delivered",
        "reports for `delivered_retention_days` (90 days: longer than the run), and the file printer each",
        "receipt's bytes and PNG preview for `receipt_retention_days` (7 days on the wall clock), so both",
        f"grow through a run this short. Renderer: {samples[0].get('renderer', 'not recorded')}; every frame",
        "is finished (`glFinish`) before the next, as a screen's swap waits for it (headless, llvmpipe's",
        "rasterizer threads otherwise pile up to 64 scenes it keeps for good: 812 MiB instead of about 400).",
        "", END,
    ]
    return out


def main() -> int:
    result = measure(on_line=lambda s: print("SAMPLE " + json.dumps(s), flush=True))
    when = (f"measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}, "
            f"load average {os.getloadavg()[2]:.1f} over the last 15 minutes")
    section = lines(result, when)
    write_section(section, START, END)
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
