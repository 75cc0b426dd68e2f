"""The technician's side of a running kiosk, without a screen: the guard of the admin
screen (:mod:`kiosk.core.pin` with this kiosk's config), the kiosk's own settings file,
and the actions the admin screen and the ``kiosk`` CLI share (so both do exactly the same).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Callable

from kiosk.core.pin import PinGuard
from kiosk.runtime.config import SECRET_KEYS, VARS, Config

log = logging.getLogger(__name__)

RESTART_EXIT_CODE = 75  # EX_TEMPFAIL: systemd's Restart=on-failure starts the kiosk again


def pin_guard(config: Config, now: Callable[[], dt.datetime]) -> PinGuard:
    return PinGuard(config.admin_pin_hash, config.data_path / "admin-lock.json", now)


# -- the kiosk's own settings (changed from the admin screen, kept in the data dir) --------
def _settings_file(config: Config) -> Path:
    return config.data_path / "settings.json"


def default_language(config: Config) -> str:
    """The language each new citizen starts in: the admin screen's choice, else the config's."""
    try:
        chosen = json.loads(_settings_file(config).read_text(encoding="utf-8")).get("language")
    except (OSError, ValueError):
        chosen = None
    return chosen if chosen in ("id", "en") else config.language


def set_default_language(config: Config, language: str) -> None:
    if language not in ("id", "en"):
        raise ValueError(language)
    path = _settings_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"language": language}), encoding="utf-8")
    os.replace(tmp, path)
    log.info("default language set to %s", language)


# -- actions ---------------------------------------------------------------------------
def config_rows(config: Config) -> list[tuple[str, str]]:
    """Every key and its value as the kiosk runs it; secrets masked."""
    rows = []
    for var in VARS:
        value = config.values.get(var.key)
        shown = ("(set, hidden)" if value else "(not set)") if var.key in SECRET_KEYS else repr(value) if isinstance(value, str) else str(value)
        rows.append((var.key, shown))
    return rows


def queue_entries(store, *, include_sent: bool = False) -> list:
    """The outbox as ``kiosk queue`` and the admin screen list it (``OutboxItem``s, oldest first)."""
    from sync_queue.outbox import Outbox

    return Outbox(store.engine).entries(include_sent=include_sent)


def retry_failed(store, now: dt.datetime) -> int:
    """Failed entries go back to waiting, and everything waiting is due now (the worker
    tries at once instead of after its backoff). Returns how many were failed."""
    from sync_queue.outbox import Outbox

    failed = Outbox(store.engine, now=lambda: now).retry_failed()
    log.info("admin: %d failed reports queued again", failed)
    return failed
