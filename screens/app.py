"""Starting the Kivy application: ``kiosk run`` and the Welcome screenshot.

Kivy's configuration must be set before ``kivy.core.window`` is imported, so
:func:`screens.display.configure_kivy` runs first and the screens are imported after it.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kiosk.runtime.config import Config
from screens.display import configure_kivy

log = logging.getLogger(__name__)

def build_app(config: Config, env_factory=None, **kwargs):
    """The application object (imported lazily: Kivy must be configured first).

    ``env_factory`` builds the environment (store, devices) right after the first frame;
    by default from ``config``.
    """
    from screens.kiosk_app import KioskApp

    if env_factory is None:
        def env_factory():
            from kiosk.runtime.env import build_env

            return build_env(config)

    return KioskApp(kiosk_config=config, env_factory=env_factory, **kwargs)


def run_kiosk(config: Config, *, screenshot: Path | None = None) -> int:
    """``kiosk run``: show Welcome, then open the store and devices behind it.

    With ``screenshot``, save Welcome as PNG once it is drawn and leave (see
    :func:`screenshot_welcome_and_stop`)."""
    configure_kivy(config)
    app = build_app(config)
    if screenshot is not None:
        screenshot_welcome_and_stop(app, Path(screenshot))
    try:
        app.run()
    finally:
        if app.env is not None:
            app.env.close()
    return app.exit_code


def screenshot_welcome_and_stop(app, path: Path) -> None:
    """``kiosk run --screenshot PATH``: once Welcome is drawn with the store open, save
    that frame to ``path`` (PNG) and stop; the exit code is 0 only when the kiosk could
    take reports and the file was written. A technician's display check, and how the
    bundle's test sees that the frozen kiosk starts (tests/e2e/test_bundle.py)."""
    from kivy.core.window import Window

    drawn_ready = False

    def on_flip(window, *_args):
        nonlocal drawn_ready
        if not (app.ready or app.out_of_service):
            window.canvas.ask_update()  # keep frames coming until finish_start() has run
            return
        if not drawn_ready:
            drawn_ready = True  # the store's state reached Welcome in this frame: draw one more
            window.canvas.ask_update()
            return
        window.unbind(on_flip=on_flip)
        # Handlers run before the window's own on_flip swaps the buffers: the frame is still there.
        ok = _save_frame(window, path)
        log.info("screenshot of the %s screen (%dx%d, store %s) %s %s", app.root.current, *window.size,
                 "open" if app.ready else "out of service", "saved to" if ok else "NOT saved to", path)
        app.exit_code = 0 if ok and app.ready else 1
        app.stop()

    app.bind(on_start=lambda *_: Window.bind(on_flip=on_flip))


def _save_frame(window, path: Path) -> bool:
    """The frame just drawn (back buffer) as PNG; False when it cannot be written."""
    from kivy.graphics.opengl import GL_PACK_ALIGNMENT, GL_RGB, GL_UNSIGNED_BYTE, glPixelStorei, glReadPixels
    from PIL import Image

    width, height = window.size
    glPixelStorei(GL_PACK_ALIGNMENT, 1)
    pixels = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.frombytes("RGB", (width, height), pixels).transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(path, "PNG")
    except OSError as exc:
        log.error("cannot write the screenshot %s: %s", path, exc.strerror or type(exc).__name__)
        return False
    return True
