"""A process the benchmarks start: the real kiosk, or a bare Kivy app as the baseline.

It prints ``FIRST_FRAME <epoch seconds>`` after the first frame with the Welcome screen
(or the bare app's root) has been drawn, then keeps running until it is killed, so the
parent can measure idle CPU and resident memory.

    python -m benchmarks.probe kiosk DATA_DIR
    python -m benchmarks.probe kiosk-used DATA_DIR   (files one report first: SESSION_DONE)
    python -m benchmarks.probe bare
    python -m benchmarks.probe kiosk-scan CONFIG FRAME.png...   (scan-to-status: SCAN_MS lines)
"""
from __future__ import annotations

import os
import sys
import time


def _announce_first_frame(window) -> None:
    def on_flip(*_args):
        window.unbind(on_flip=on_flip)
        print(f"FIRST_FRAME {time.time():.6f}", flush=True)

    window.bind(on_flip=on_flip)


def _finish_every_frame(window) -> None:
    """Each frame finished (``glFinish``) before the next, as a real screen's swap waits for
    it: headless, SDL's offscreen swap waits for nothing and Mesa's llvmpipe keeps up to 64
    scenes in flight, for good (``benchmarks/soak_kiosk.py``), which would be measured as
    the app's memory. Both apps, the bare one and the kiosk, alike."""
    from kivy.graphics.opengl import glFinish

    window.bind(on_flip=lambda *_args: glFinish())


def run_bare() -> None:
    from kivy.config import Config

    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")
    from kivy.app import App
    from kivy.core.window import Window
    from kivy.uix.button import Button

    class Bare(App):
        def build(self):
            return Button(text="Bare Kivy")

    def on_start(*_args) -> None:  # None: a true value would end the event's dispatch
        _finish_every_frame(Window)
        _announce_first_frame(Window)

    app = Bare()
    app.bind(on_start=on_start)
    app.run()


def _or_quit(app, step) -> None:
    """Run ``step(app)``; when it fails, the probe says why and ends (its reader sees the
    end instead of waiting for a marker that will not come)."""
    try:
        step(app)
    except Exception as exc:  # noqa: BLE001 - reported, then the process ends
        print(f"PROBE_FAILED {type(exc).__name__}: {exc}", flush=True)
        app.stop()
        os._exit(1)


def _next(flow) -> None:
    """The flow's next step, which must come (a question left unanswered stops the probe)."""
    if not flow.next():
        raise RuntimeError(f"the filing stopped on {flow.step}: {[e.field for e in flow.errors]}")


def _file_one_report(app) -> None:
    """What one citizen does, without touches: every screen built, one report filed and
    printed, then back to Welcome. Prints SESSION_DONE when the receipt is out."""
    from kivy.clock import Clock

    from kiosk.core import reference
    from kiosk.core.domain import ReportKind

    app.finish_start()
    for name in list(app._factories):
        if name == "scan" and not app.kiosk_config.camera_source:
            continue  # never shown on a kiosk without a camera
        app.screen(name)
    app.start_filing()
    flow, store = app.flow, app.env.store
    flow.choose_kind(ReportKind.PENGADUAN)
    flow.choose_category(reference.categories(store, "id")[0].code)
    _next(flow)
    flow.choose_agency(None)  # "Tidak tahu": the officer decides
    _next(flow)
    flow.set_text("title", "Antrean pelayanan lama")
    flow.set_text("description", "Antrean di loket pelayanan sangat panjang dan tidak tertib.")
    _next(flow)
    flow.choose_kecamatan(reference.kecamatan(store)[0].code)
    _next(flow)
    flow.set_flag("anonymous", False)  # the identity step asks both, Yes or No
    flow.set_flag("confidential", False)
    _next(flow)
    app.submitted(flow.submit(app.env.reports.submit))
    receipt = app.screen("receipt")

    def wait_for_print(_dt):
        if receipt.print_state == "printing":
            Clock.schedule_once(wait_for_print, 0.1)
            return
        app.end_session()
        print("SESSION_DONE", flush=True)

    Clock.schedule_once(wait_for_print, 0.1)


def run_kiosk(data_dir: str, used: bool = False) -> None:
    from devices.printer.capabilities import keep_printer_database
    from kiosk.core.store.migrate import prepare
    from kiosk.runtime.config import load_config
    from kiosk.runtime.memory import settle_malloc
    from screens.app import build_app, configure_kivy

    config = load_config(_empty_config(data_dir), environ={})
    # As ``kiosk run`` starts (kiosk.launcher.run_ui): the database migrated in a process of
    # its own (Alembic never in the kiosk's memory), the printer database cached, the C
    # heap set before any thread.
    prepare(config.database_file)
    keep_printer_database(config.cache_path)
    settle_malloc()
    configure_kivy(config)
    from kivy.core.window import Window

    app = build_app(config)

    # on_start handlers return None: a true value (a ClockEvent, a tuple) would end the
    # event before KioskApp.on_start, and with it the kiosk's start (Kivy's dispatch rule)
    def on_start(*_args) -> None:
        _finish_every_frame(Window)
        _announce_first_frame(Window)
        if used:
            from kivy.clock import Clock

            Clock.schedule_once(lambda _dt: _or_quit(app, _file_one_report), 0.5)

    app.bind(on_start=on_start)
    app.run()


class _HeldUpReceipt:
    """The webcam (the hardware we fake): an empty hall for a few frames, then a receipt
    held up; remembers when the first frame with the receipt was delivered."""

    EMPTY_FRAMES = 3

    def __init__(self, receipt, shown_at: list):
        self.receipt, self.shown_at, self.reads = receipt, shown_at, 0
        self.empty = receipt * 0 + 90

    def read(self):
        self.reads += 1
        if self.reads <= self.EMPTY_FRAMES:
            return self.empty
        if not self.shown_at:
            self.shown_at.append(time.perf_counter())
        return self.receipt

    def release(self) -> None:
        pass


def _camera_in_this_process() -> None:
    """The scan screen reads the camera on a thread of this process instead of its own
    process: the fake webcam (``devices.camera.open_source`` replaced) lives here, and the
    figure is the scan path (decoding, the lookup, drawing). The camera process's start,
    paid once as the screen opens, is not part of it."""
    from devices.camera import CameraReader
    from devices.camera_types import Frame
    from screens.scan import ScanScreen

    class InThreadCamera(CameraReader):
        def __init__(self, spec, *, on_frame=None, **kwargs):
            def as_frame(frame):
                height, width = frame.shape[:2]
                on_frame(Frame(frame.tobytes(), width, height, width, height))

            super().__init__(spec, on_frame=as_frame if on_frame is not None else None, **kwargs)

    ScanScreen.camera_class = InThreadCamera


def run_scans(config_path: str, frame_paths: list[str]) -> None:
    """Open the scan screen once per frame; print the time from the receipt reaching the
    camera to the first frame drawn with its status (``SCAN_MS <ms>``)."""
    import cv2

    from kiosk.runtime.config import load_config
    from screens.app import build_app, configure_kivy

    config = load_config(config_path, environ={})
    configure_kivy(config)
    import devices.camera
    from kivy.clock import Clock
    from kivy.core.window import Window

    frames = [cv2.imread(p) for p in frame_paths]
    _camera_in_this_process()
    app = build_app(config)
    shown_at: list = []
    devices.camera.open_source = lambda _spec: _HeldUpReceipt(frames[0], shown_at)

    def next_scan(_dt=None):
        if not frames:
            app.stop()
            return
        shown_at.clear()
        frame = frames.pop(0)
        devices.camera.open_source = lambda _spec: _HeldUpReceipt(frame, shown_at)
        app.start_status()

    def answered(screen, kind):
        if kind != "found":
            return

        def drawn(*_args):
            Window.unbind(on_flip=drawn)
            print(f"SCAN_MS {(time.perf_counter() - shown_at[0]) * 1000:.2f}", flush=True)
            app.end_session()
            Clock.schedule_once(next_scan, 0.2)

        Window.bind(on_flip=drawn)

    def begin(_dt):
        app.finish_start()
        app.screen("status").bind(result_kind=answered)
        next_scan()

    def on_start(*_args) -> None:  # None: a true value would end the event before KioskApp.on_start
        Clock.schedule_once(begin, 0.5)

    app.bind(on_start=on_start)
    app.run()
    if app.env is not None:
        app.env.close()


def _empty_config(data_dir: str):
    from pathlib import Path

    path = Path(data_dir) / "bench.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'data_dir = "{data_dir}"\n', encoding="utf-8")
    return path


if __name__ == "__main__":
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    if sys.argv[1] == "bare":
        run_bare()
    elif sys.argv[1] == "kiosk-scan":
        run_scans(sys.argv[2], sys.argv[3:])
    else:
        run_kiosk(sys.argv[2], used=sys.argv[1] == "kiosk-used")
