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
    # No cursor blink while idle: the only focused fields are on filing screens.
    KivyConfig.set("kivy", "log_level", "info")


def build_app(env):
    """The application object for ``env`` (imported lazily: Kivy must be configured)."""
    from screens.kiosk_app import KioskApp

    return KioskApp(env=env)


def run_kiosk(config: Config) -> int:
    """``kiosk run``: open the store, build the devices, show the Welcome screen."""
    configure_kivy(config)
    from kiosk.env import build_env
    from kiosk.store.db import StoreError

    try:
        env = build_env(config)
    except StoreError as exc:
        log.error("cannot open the kiosk database: %s", exc)
        print(f"kiosk: cannot open the database: {exc}")
        return 3
    try:
        build_app(env).run()
    finally:
        env.close()
    return 0
