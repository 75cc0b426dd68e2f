"""The Kivy application: builds the screens, runs the idle watch, catches the unexpected.

Kivy's configuration must be set before ``kivy.core.window`` is imported, so
:func:`configure_kivy` runs first and the screens are imported after it.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from kiosk.config import Config

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).resolve().parent
ACTIVE_FPS = 60


def configure_kivy(config: Config) -> None:
    """Window size, fullscreen, docked keyboard; before any Kivy window exists."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # Kivy logs through Python's logging into our handlers (cli.setup_logging) instead of
    # installing its own console and file handlers.
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # The kiosk needs no X selection tools (xclip/xsel): SDL2's own clipboard is enough.
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
    from kivy.config import Config as KivyConfig

    KivyConfig.set("graphics", "width", str(config.window_width))
    KivyConfig.set("graphics", "height", str(config.window_height))
    KivyConfig.set("graphics", "fullscreen", "auto" if config.fullscreen else "0")
    KivyConfig.set("graphics", "borderless", "1" if config.fullscreen else "0")
    KivyConfig.set("graphics", "resizable", "0" if config.fullscreen else "1")
    KivyConfig.set("graphics", "maxfps", str(ACTIVE_FPS))
    KivyConfig.set("kivy", "keyboard_mode", "systemanddock")
    KivyConfig.set("kivy", "exit_on_escape", "0")
    KivyConfig.set("input", "mouse", "mouse,disable_multitouch")
    # Lockdown: no cursor on touch hardware (closing is refused in KioskApp).
    KivyConfig.set("graphics", "show_cursor", "0" if config.lockdown else "1")
    # No cursor blink while idle: the only focused fields are on filing screens.
    KivyConfig.set("kivy", "log_level", "info")


def build_app(config: Config, env_factory=None, **kwargs):
    """The application object (imported lazily: Kivy must be configured first).

    ``env_factory`` builds the environment (store, devices) right after the first frame;
    by default from ``config``.
    """
    from screens.kiosk_app import KioskApp

    if env_factory is None:
        def env_factory():
            from kiosk.env import build_env

            return build_env(config)

    return KioskApp(kiosk_config=config, env_factory=env_factory, **kwargs)


def run_kiosk(config: Config) -> int:
    """``kiosk run``: show Welcome, then open the store and devices behind it."""
    configure_kivy(config)
    app = build_app(config)
    try:
        app.run()
    finally:
        if app.env is not None:
            app.env.close()
    return app.exit_code
