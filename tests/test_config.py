"""Configuration: typed keys, clear errors naming the file and the key, documented."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import VARS, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_work_offline(tmp_path):
    config = load_config(write(tmp_path, ""), environ={})
    assert config.printer == "file" and config.language == "id"
    assert (config.window_width, config.window_height) == (1280, 800)
    assert config.idle_timeout_s == 60 and config.idle_warning_s >= 20


def test_file_then_environment_then_overrides(tmp_path):
    path = write(tmp_path, '[kiosk]\nkiosk_code = "mt02"\nidle_timeout_s = 90\n')
    config = load_config(path, environ={"KIOSK_IDLE_TIMEOUT_S": "120"}, overrides={"fullscreen": True})
    assert config.kiosk_code == "MT02"  # normalised
    assert config.idle_timeout_s == 120.0
    assert config.fullscreen is True


@pytest.mark.parametrize(
    "body,key,words",
    [
        ("idle_warning_s = 5\n", "idle_warning_s", "between 20"),
        ('paper_width_mm = "wide"\n', "paper_width_mm", "whole number"),
        ('language = "fr"\n', "language", "one of id, en"),
        ("colour = 1\n", "colour", "unknown key"),
        ('kiosk_code = "TOOLONG"\n', "kiosk_code", "4"),
        ("fullscreen = maybe\n", "(file)", "not valid TOML"),
    ],
)
def test_bad_values_name_file_key_and_problem(tmp_path, body, key, words):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert str(path) in message and key in message and words in message


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})


def test_every_key_is_documented():
    doc = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    for var in VARS:
        assert f"`{var.key}`" in doc, var.key


def test_kiosk_command_refuses_bad_config_without_traceback(tmp_path):
    path = write(tmp_path, "idle_warning_s = 5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(path), "run"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "idle_warning_s" in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_central_token_from_environment_and_never_shown(tmp_path):
    path = write(tmp_path, 'central_url = "https://lapor.example"\n')
    config = load_config(path, environ={"KIOSK_CENTRAL_TOKEN": "s3cret-token-value"})
    assert config.central_token == "s3cret-token-value"
    assert "s3cret-token-value" not in repr(config) and "***" in repr(config)
    assert "s3cret-token-value" not in repr(__import__("sync_queue.client", fromlist=["CentralClient"]).CentralClient(
        config.central_url, config.central_token))


def test_network_printer_needs_a_host(tmp_path):
    with pytest.raises(ConfigError, match="printer_host: required when printer = network"):
        load_config(write(tmp_path, 'printer = "network"\n'), environ={})
