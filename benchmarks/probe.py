"""A process the benchmarks start: the real kiosk, or a bare Kivy app as the baseline.

It prints ``FIRST_FRAME <epoch seconds>`` after the first frame with the Welcome screen
(or the bare app's root) has been drawn, then keeps running until it is killed, so the
parent can measure idle CPU and resident memory.

    python -m benchmarks.probe kiosk DATA_DIR
    python -m benchmarks.probe kiosk-used DATA_DIR   (files one report first: SESSION_DONE)
    python -m benchmarks.probe bare
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

    app = Bare()
    app.bind(on_start=lambda *_: _announce_first_frame(Window))
    app.run()


def _file_one_report(app) -> None:
    """What one citizen does, without touches: every screen built, one report filed and
    printed, then back to Welcome. Prints SESSION_DONE when the receipt is out."""
    from kivy.clock import Clock

    from kiosk import reference
    from kiosk.domain import ReportKind

    app.finish_start()
    for name in list(app._factories):
        if name == "scan" and not app.kiosk_config.camera_source:
            continue  # never shown on a kiosk without a camera
        app.screen(name)
    app.start_filing()
    flow, store = app.flow, app.env.store
    flow.choose_kind(ReportKind.PENGADUAN)
    flow.choose_category(reference.categories(store, "id")[0].code)
    flow.next()
    flow.set_text("title", "Antrean pelayanan lama")
    flow.set_text("description", "Antrean di loket pelayanan sangat panjang dan tidak tertib.")
    flow.next()
    flow.choose_kecamatan(reference.kecamatan(store)[0].code)
    flow.next()
    flow.next()
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
    from kiosk.config import load_config
    from screens.app import build_app, configure_kivy

    config = load_config(_empty_config(data_dir), environ={})
    configure_kivy(config)
    from kivy.core.window import Window

    app = build_app(config)
    app.bind(on_start=lambda *_: _announce_first_frame(Window))
    if used:
        from kivy.clock import Clock

        app.bind(on_start=lambda *_: Clock.schedule_once(lambda _dt: _file_one_report(app), 0.5))
    app.run()


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
    else:
        run_kiosk(sys.argv[2], used=sys.argv[1] == "kiosk-used")
