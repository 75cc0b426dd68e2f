"""The kiosk process of the soak benchmark (``benchmarks/soak.py``): the real ``KioskApp``
on a headless window, driven by real touches and keys (``tests/support/ui_driver.py``)
through one citizen after another, measuring itself every ``EVERY`` sessions.

    python -m benchmarks.soak_kiosk CONFIG SESSIONS EVERY TRACKING_ID...

Citizens take turns (``KINDS``): one files a report on the on-screen keyboard and takes
the receipt ("Selesai"); one holds a receipt up to the camera (``camera_source``, a frame
of a printed receipt on file) and reads its status; one types a Tracking ID on the
keypad; one starts a report, types a title and walks away (the idle warning, then the
session's end). Each checks that it found its screens empty. Prints ``SESSION <n> <kind>``
after each, ``RECEIPT <tracking id>`` for each printed receipt and ``SAMPLE <json>`` at
session 0 and every ``EVERY`` sessions; ``DONE`` at the end. With ``SOAK_TRACEMALLOC``
set to a file, tracemalloc runs and the file receives the 40 largest growths between the
second sample and the last; with ``SOAK_TYPES`` set, ``TYPES <json>`` after each sample
names the 15 object types that grew most since the one before; ``SOAK_KINDS`` (a comma-separated
subset of ``KINDS``) makes every citizen one of those kinds, to see what each costs.
"""
from __future__ import annotations

import datetime as dt
import gc
import json
import os
import sys
import time
import tracemalloc
import weakref
from pathlib import Path

from benchmarks.common import percentile

#: What each citizen does, in turn.
KINDS = ("file", "scan", "keypad", "walk-away")
TITLE = "Jalan rusak"
DESCRIPTION = "Lubang besar di jalan pasar"


class ShiftedClock:
    """The real clocks plus an offset a citizen's waiting adds to (``advance``), so the
    tap guard, Send's reading time and the idle watch pass without real waiting, while
    the sync worker's and the printer's threads see time go on as usual."""

    def __init__(self):
        self.offset = 0.0

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def _driver_class():
    from kivy.graphics.opengl import glFinish

    from tests.support.ui_driver import KioskDriver

    class TimedDriver(KioskDriver):
        """The UI tests' driver, timing every frame it runs (the work of a frame: input,
        clock callbacks, layout and drawing), each frame finished (``glFinish``) as a
        screen's swap waits for it. Headless, SDL's offscreen swap waits for nothing, and
        Mesa's llvmpipe with its rasterizer threads takes a new scene for every flush while
        the ones before are still being drawn, up to 64 (``lp_setup_get_empty_scene``),
        keeping each for good: 400 MiB more after a few citizens (812 MiB against 403 MiB
        with every frame finished, in the same run of 24 citizens), none of it the kiosk's."""

        frame_ms: list[float] = []

        def _one_frame(self, *, paced: bool = True) -> None:
            t0 = time.perf_counter()
            super()._one_frame(paced=paced)
            glFinish()
            self.frame_ms.append((time.perf_counter() - t0) * 1000)

        def screenshot(self, name: str):
            raise AssertionError(f"the soak's citizens take no screenshots ({name}): a kiosk does not, "
                                 "and reading the window back into a PNG would be measured as the kiosk's")

    return TimedDriver


# -- the citizens ----------------------------------------------------------------------------

def file_report(kiosk) -> str:
    """Welcome -> every question (title and description on the on-screen keyboard) ->
    review -> Send -> receipt printed -> "Selesai". Returns the Tracking ID."""
    from tests.support.kiosk_ui import answer_privacy, fill_category, go_next, type_into

    kiosk.tap(kiosk.screen.ids.start)
    assert kiosk.current == "kind", kiosk.current
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    kiosk.tap(kiosk.bar("next"))
    _fill_category(kiosk, fill_category)
    ids = kiosk.screen.ids
    assert kiosk.current == "describe" and ids.title.text == "" and ids.description.text == "", "describe not empty"
    type_into(kiosk, ids.title, TITLE)
    type_into(kiosk, ids.description, DESCRIPTION)
    go_next(kiosk)
    assert kiosk.current == "when_where", kiosk.current
    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    go_next(kiosk)
    assert kiosk.current == "identity", kiosk.current
    assert kiosk.screen.ids.name.text == "" and kiosk.screen.ids.phone.text == "", "identity not empty"
    answer_privacy(kiosk, anonymous=False, confidential=False)
    go_next(kiosk)
    assert kiosk.current == "review", kiosk.current
    go_next(kiosk)  # Send
    kiosk.wait_until(lambda: kiosk.current == "receipt", what="the receipt screen")
    receipt = kiosk.screen
    kiosk.wait_until(lambda: receipt.print_state != "printing", max_frames=3000, what="the receipt printed")
    assert receipt.print_state == "printed", receipt.print_state
    tracking_id = receipt._tracking_id  # noqa: SLF001 - what the screen shows
    kiosk.tap(receipt.ids.done)
    kiosk.wait_until(lambda: kiosk.current == "welcome", what="Welcome after Selesai")
    return tracking_id


def _next_citizen_comes_later(kiosk) -> None:
    """A session that ended (a receipt taken, a citizen who walked away) lets the kiosk
    drop its screens and return their memory a second later (``KioskApp.release_screens``);
    the next citizen comes after that, as in a hall, not within the same second."""
    app = kiosk.app
    if app._release_event is not None:  # noqa: SLF001 - scheduled by end_session
        done = app.releases
        kiosk.wait_until(lambda: app.releases > done, max_frames=600, what="the screens released")


def _fill_category(kiosk, fill_category) -> None:
    # No screenshots: reading the window back and writing PNGs is the tests' work, not a
    # kiosk's (it churned a 4 MiB buffer and Pillow's PNG encoder through every filing).
    assert kiosk.current == "category", kiosk.current
    fill_category(kiosk, screenshot=False)


def check_by_scan(kiosk) -> None:
    """Welcome -> "Cek status" -> the camera reads a receipt -> its status -> Back."""
    kiosk.tap(kiosk.screen.ids.status)
    assert kiosk.current == "scan", kiosk.current
    kiosk.wait_until(lambda: kiosk.current == "status", max_frames=3000, what="the receipt to be read")
    status = kiosk.screen
    kiosk.wait_until(lambda: status.result_kind not in ("", "checking"), max_frames=3000, what="the lookup")
    assert status.result_kind == "found", status.result_kind
    kiosk.tap(status.ids.back)
    kiosk.wait_until(lambda: kiosk.current == "welcome", what="Welcome after Back")


def check_by_keypad(kiosk, tracking_id: str) -> None:
    """Welcome -> "Cek status" -> "type the number instead" -> the keypad -> Check -> Back."""
    from tests.support.kiosk_ui import type_on_keypad

    kiosk.tap(kiosk.screen.ids.status)
    assert kiosk.current == "scan", kiosk.current
    kiosk.tap(kiosk.screen.ids.type_instead)
    assert kiosk.current == "status" and kiosk.screen.typed == "", "keypad not empty"
    type_on_keypad(kiosk, tracking_id)
    kiosk.tap(kiosk.screen.ids.check)
    status = kiosk.screen
    kiosk.wait_until(lambda: status.result_kind not in ("", "checking"), max_frames=3000, what="the lookup")
    assert status.result_kind == "found", status.result_kind
    kiosk.tap(status.ids.back)
    kiosk.wait_until(lambda: kiosk.current == "welcome", what="Welcome after Back")


def walk_away(kiosk) -> None:
    """A citizen starts a report, types a title and leaves: the idle warning, its
    countdown, then the session ends on its own."""
    from tests.support.kiosk_ui import fill_category, type_into

    kiosk.tap(kiosk.screen.ids.start)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    kiosk.tap(kiosk.bar("next"))
    _fill_category(kiosk, fill_category)
    assert kiosk.screen.ids.title.text == "", "describe not empty"
    type_into(kiosk, kiosk.screen.ids.title, TITLE)
    config = kiosk.env.config
    kiosk.advance_clock(config.idle_timeout_s + 1)
    kiosk.wait_until(lambda: kiosk.app.idle_overlay.is_open, what="the idle warning")
    kiosk.advance_clock(config.idle_warning_s + 1)
    kiosk.wait_until(lambda: kiosk.current == "welcome" and not kiosk.app.idle_overlay.is_open,
                     what="the session's end")


# -- measuring --------------------------------------------------------------------------------

def live_counts() -> dict[str, int]:
    """Live objects by kind, after a full collection: textures, graphics instructions,
    widgets, KioskApps, kv rule handlers (Builder's bound callbacks, by widget)."""
    from kivy.event import EventDispatcher
    from kivy.graphics.instructions import Instruction
    from kivy.graphics.texture import Texture
    from kivy.lang import builder
    from kivy.uix.widget import Widget

    from screens.kiosk_app import KioskApp

    gc.collect()
    counts = {"textures": 0, "instructions": 0, "widgets": 0, "dispatchers": 0, "kiosk_apps": 0}
    objects = gc.get_objects()
    for obj in objects:
        kind = type(obj)  # never isinstance: a dead weak proxy raises on it
        if issubclass(kind, Texture):
            counts["textures"] += 1
        elif issubclass(kind, Instruction):
            counts["instructions"] += 1
        elif issubclass(kind, EventDispatcher):
            counts["dispatchers"] += 1
            if issubclass(kind, Widget):
                counts["widgets"] += 1
            elif issubclass(kind, KioskApp):
                counts["kiosk_apps"] += 1
    counts["gc_objects"] = len(objects)
    del objects
    handlers = builder._handlers  # noqa: SLF001 - the kv rules' bindings, by widget uid
    counts["rule_handler_widgets"] = len(handlers)
    counts["rule_handlers"] = sum(len(cbs) for per_widget in handlers.values() for cbs in per_widget.values())
    return counts


def _type_counts() -> dict[str, int]:
    """Live objects by type name (``SOAK_TYPES``: which kinds of object grow)."""
    import collections

    gc.collect()

    def name(o) -> str:
        kind = f"{type(o).__module__}.{type(o).__qualname__}"
        if isinstance(o, weakref.ReferenceType):  # by what it refers to: a weak reference alone says little
            target = o()
            kind += f"->{type(target).__qualname__}"
            if target is None:  # dead, yet kept: by whose callback it was made says whose list keeps it
                kind += f" (callback {getattr(o.__callback__, '__qualname__', type(o.__callback__).__qualname__)})"
        return kind

    return dict(collections.Counter(name(o) for o in gc.get_objects()))


def fd_kinds() -> dict[str, int]:
    """This process's open file descriptors by kind: the store's SQLite files (three a
    pooled connection: the database, its WAL and, once, the shared memory), sockets (the
    HTTP clients' kept-alive connections), fonts, anything else."""
    kinds = {"sqlite": 0, "socket": 0, "font": 0, "other": 0}
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile (the one iterdir used)
            continue
        kind = ("sqlite" if ".sqlite3" in target else "socket" if target.startswith("socket:")
                else "font" if target.endswith((".ttf", ".otf")) else "other")
        kinds[kind] += 1
    return kinds


def sqlite_mib() -> float | None:
    """What the SQLite library holds in this process (its page caches, per pooled connection:
    ``sqlite3_memory_used``), read from the library Python's ``sqlite3`` is linked to; None
    where that library cannot be loaded by name (a Python with SQLite built in)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("sqlite3")
    try:
        used = ctypes.CDLL(name).sqlite3_memory_used if name else None
    except (OSError, AttributeError):
        return None
    if used is None:
        return None
    used.restype = ctypes.c_int64
    return used() / 2**20


def rss_split_mib() -> dict[str, float]:
    """Resident memory by kind (``/proc/self/status``): anonymous (what the process itself
    allocated: heaps, textures in a software renderer) and file-backed (pages of the
    libraries and fonts mapped; their count also follows what other processes brought into
    the page cache, as the kernel maps cached neighbours of a faulted page)."""
    split = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile", "RssShmem"):
            split[key.lower().replace("rss", "rss_") + "_mib"] = int(value.split()[0]) / 1024
        elif key == "VmHWM":  # the highest RSS so far: with a citizen's screens, before they are dropped
            split["rss_peak_mib"] = int(value.split()[0]) / 1024
    return split


#: Modules of the test harness, which a kiosk never loads: the soak's own kiosk process must
#: not carry them either, or it measures them (pytest alone is about 7 MiB).
HARNESS_MODULES = ("pytest", "_pytest", "unittest", "pluggy")


def harness_modules() -> list[str]:
    """The test harness's modules this process has loaded (none, for a true measure)."""
    return [name for name in HARNESS_MODULES if name in sys.modules]


def sample(session: int, kiosk, frame_ms: list[float], data_dir: Path) -> dict:
    import psutil

    # Memory first: counting the live objects (``gc.get_objects``) leaves about 7 MiB of
    # freed heap behind it until the next trim, which the kiosk itself never holds.
    proc = psutil.Process()
    memory = proc.memory_full_info()  # USS: the pages only this process holds
    split = rss_split_mib()
    counts = live_counts()
    db = data_dir / "kiosk.sqlite3"
    receipts = data_dir / "receipts"
    files = list(receipts.iterdir()) if receipts.is_dir() else []
    return {
        "session": session, "rss_mib": memory.rss / 2**20, "uss_mib": memory.uss / 2**20, **split,
        "fds": proc.num_fds(), "fd_kinds": fd_kinds(), "threads": proc.num_threads(),
        "children": len(proc.children()),  # the receipt's layout, the camera: none between citizens
        **counts,
        "frame_p95_ms": percentile(frame_ms, 95, empty=0.0), "frames": len(frame_ms),
        "db_bytes": db.stat().st_size if db.exists() else 0,
        "wal_bytes": db.with_name(db.name + "-wal").stat().st_size if db.with_name(db.name + "-wal").exists() else 0,
        "receipt_files": len(files), "receipt_bytes": sum(p.stat().st_size for p in files),
        "outbox_waiting": kiosk.env.reports.count_waiting(), "sqlite_mib": sqlite_mib(),
        "harness_modules": harness_modules(),
        "time": time.time(),
    }


def main(config_path: str, sessions: int, every: int, tracking_ids: list[str]) -> None:
    if os.environ.get("SOAK_MALLOC") != "as-is":  # as ``kiosk run`` starts (kiosk.launcher.run_ui)
        from kiosk.runtime.memory import settle_malloc

        settle_malloc()
    trace_to = os.environ.get("SOAK_TRACEMALLOC")
    if trace_to:
        tracemalloc.start(12)
    from kiosk.runtime.config import load_config
    from kiosk.runtime.env import build_env
    from screens.app import configure_kivy

    config = load_config(config_path, environ={})
    from devices.printer.capabilities import keep_printer_database
    from kiosk.core.store.migrate import prepare

    prepare(config.database_file)  # as ``kiosk run`` starts (kiosk.launcher.run_ui)
    keep_printer_database(config.cache_path)
    configure_kivy(config)
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    from kivy.graphics.opengl import GL_RENDERER, glGetString

    renderer = glGetString(GL_RENDERER).decode(errors="replace")
    clock = ShiftedClock()
    env = build_env(config, now=clock.now, monotonic=clock.monotonic)
    driver = _driver_class()
    kiosk = driver(env)
    snapshots, previous_types = [], {}
    try:
        kiosk.wait_until(lambda: kiosk.current == "welcome", what="Welcome")
        _emit({**sample(0, kiosk, driver.frame_ms, config.data_path), "renderer": renderer,
               "lp_num_threads": os.environ.get("LP_NUM_THREADS", "")})
        driver.frame_ms.clear()
        kinds = [k for k in os.environ.get("SOAK_KINDS", ",".join(KINDS)).split(",") if k in KINDS] or list(KINDS)
        for n in range(1, sessions + 1):
            kind = kinds[(n - 1) % len(kinds)]
            if kind == "file":
                print(f"RECEIPT {file_report(kiosk)}", flush=True)
            elif kind == "scan":
                check_by_scan(kiosk)
            elif kind == "keypad":
                check_by_keypad(kiosk, tracking_ids[n % len(tracking_ids)])
            else:
                walk_away(kiosk)
            kiosk.frames(2)
            _next_citizen_comes_later(kiosk)
            print(f"SESSION {n} {kind}", flush=True)
            if n % every == 0 or n == sessions:
                _emit(sample(n, kiosk, driver.frame_ms, config.data_path))
                driver.frame_ms.clear()
                if os.environ.get("SOAK_TYPES"):
                    types = _type_counts()
                    if previous_types:
                        grown = sorted(((types[k] - previous_types.get(k, 0), k) for k in types), reverse=True)[:15]
                        print("TYPES " + json.dumps([(k, d) for d, k in grown if d > 0]), flush=True)
                    previous_types = types
                if trace_to:
                    snapshots.append(tracemalloc.take_snapshot())
                    _write_trace(trace_to, snapshots)
        print("DONE", flush=True)
    finally:
        kiosk.close()
        env.close()


def _emit(row: dict) -> None:
    print("SAMPLE " + json.dumps(row), flush=True)


def _write_trace(path: str, snapshots: list) -> None:
    """The largest growths between the second snapshot (the first after warm-up) and the last."""
    if len(snapshots) < 2:
        return
    first = snapshots[1] if len(snapshots) > 2 else snapshots[0]
    stats = snapshots[-1].compare_to(first, "traceback")
    with open(path, "w", encoding="utf-8") as out:
        for stat in stats[:40]:
            out.write(f"{stat.size_diff / 1024:+.1f} KiB {stat.count_diff:+d} blocks\n")
            for line in stat.traceback.format()[-12:]:
                out.write(f"    {line}\n")


if __name__ == "__main__":
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
