"""Configuration: typed keys, clear errors naming the file and the key, documented."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.runtime.config import VARS, ConfigError, load_config

from tests.support.servers import ROOT  # noqa: E402


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


def _kiosk_run(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "kiosk", *args, "run"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=env)


@pytest.mark.parametrize(
    "body,key,words",
    [
        ("idle_warning_s = 5\n", "idle_warning_s", "must be between 20 and 600"),          # out of range
        ("printer_port = 70000\n", "printer_port", "must be between 1 and 65535"),
        ('window_width = "wide"\n', "window_width", "expected a whole number, got 'wide'"),  # wrong type
        ('fullscreen = "maybe"\n', "fullscreen", "expected true or false"),
        ("[kiosk]\nprinter_colour = 1\n", "printer_colour", "unknown key"),               # unknown key
        ("[kiosk\nkiosk_code = 'MT02'\n", "(file)", "not valid TOML"),                     # syntax
        ('printer = "network"\n', "printer_host", "required when printer = network"),
    ],
)
def test_kiosk_run_refuses_bad_config_without_traceback(tmp_path, body, key, words):
    """GIVEN a config file with one bad line WHEN `kiosk run` starts THEN it stops at
    once with exit code 2, and stderr names the file, the key and what is wrong, in
    one line a technician can read: no traceback."""
    path = write(tmp_path, body)
    proc = _kiosk_run("--config", str(path))
    assert proc.returncode == 2, proc.stderr
    assert str(path) in proc.stderr and key in proc.stderr and words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("kiosk: configuration error: ") and proc.stderr.count("\n") == 1


@pytest.mark.parametrize("how", ["--config", "KIOSK_CONFIG"])
def test_kiosk_run_refuses_a_missing_config_file(tmp_path, how):
    """A file named on the command line or in KIOSK_CONFIG (as the systemd unit does)
    must exist: the kiosk does not start on defaults because of a typo in a path."""
    missing = tmp_path / "etc" / "kiosk.toml"
    proc = _kiosk_run("--config", str(missing)) if how == "--config" else _kiosk_run(
        env_extra={"KIOSK_CONFIG": str(missing)})
    assert proc.returncode == 2
    assert str(missing) in proc.stderr and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_kiosk_run_refuses_an_unreadable_config_file(tmp_path):
    """A directory where the file should be (root reads any file, so this is the
    unreadable case a test run as root can make)."""
    folder = tmp_path / "kiosk.toml"
    folder.mkdir()
    proc = _kiosk_run("--config", str(folder))
    assert proc.returncode == 2
    assert str(folder) in proc.stderr and "cannot be read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_kiosk_run_refuses_a_bad_environment_value(tmp_path):
    proc = _kiosk_run("--config", str(write(tmp_path, "")), env_extra={"KIOSK_MIN_FREE_DISK_MB": "lots"})
    assert proc.returncode == 2
    assert "environment KIOSK_MIN_FREE_DISK_MB" in proc.stderr and "whole number" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- the example file in deploy/ and the table in docs/CONFIG.md -----------------------------
EXAMPLE = ROOT / "deploy" / "kiosk.toml.example"


def test_example_config_and_docs_are_current():
    """Both are made from VARS by deploy/render_config.py; a new key means running it."""
    proc = subprocess.run([sys.executable, "deploy/render_config.py", "--check"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def test_example_config_documents_every_key_and_loads_to_the_defaults(tmp_path):
    """GIVEN /etc/lapor-kiosk/kiosk.toml copied from the example THEN every key is in it
    with its help, it loads, and gives the defaults except the few an installed kiosk
    sets (data dir, fullscreen, lockdown, sound through aplay); and uncommenting every line
    changes nothing, so the defaults it shows are the real ones."""
    text = EXAMPLE.read_text(encoding="utf-8")
    deployed = {"data_dir": "/var/lib/lapor-kiosk", "fullscreen": True, "lockdown": True, "audio_output": "aplay"}
    for var in VARS:
        assert re.search(rf"^(# )?{var.key} = ", text, re.M), var.key
    as_is = load_config(EXAMPLE, environ={})
    for var in VARS:
        assert getattr(as_is, var.key) == deployed.get(var.key, var.default), var.key
    uncommented = re.sub(r"^# (\w+ = )", r"\1", text, flags=re.M)
    assert uncommented.count("\n") == text.count("\n") and uncommented != text
    assert load_config(write(tmp_path, uncommented), environ={}).values == as_is.values


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


def test_kiosk_run_refuses_a_config_file_that_is_not_utf8(tmp_path):
    """GIVEN a config file saved in another encoding (Latin-1 "é") WHEN `kiosk run` starts
    THEN it stops with the configuration error (exit code 2) naming the file, no traceback."""
    path = tmp_path / "kiosk.toml"
    path.write_bytes('kiosk_location = "Mal Pelayanan Publik Muara Teweh é"\n'.encode("latin-1"))
    proc = _kiosk_run("--config", str(path))
    assert proc.returncode == 2, proc.stderr
    assert str(path) in proc.stderr and "not valid UTF-8" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- where the key lives: key_file, systemd's credential, or beside the database ----------------
def test_key_path_is_beside_the_database_by_default(tmp_path):
    config = load_config(write(tmp_path, f'data_dir = "{tmp_path / "data"}"\n'), environ={})
    assert config.key_path == tmp_path / "data" / "secret.key"


def test_key_path_from_systemd_credentials_directory_when_it_holds_the_key(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    path = write(tmp_path, f'data_dir = "{tmp_path / "data"}"\n')
    environ = {"CREDENTIALS_DIRECTORY": str(credentials)}
    assert load_config(path, environ=environ).key_path == tmp_path / "data" / "secret.key"  # no kiosk-key in it
    (credentials / "kiosk-key").write_bytes(b"key")
    assert load_config(path, environ=environ).key_path == credentials / "kiosk-key"
    chosen = tmp_path / "elsewhere" / "kiosk.key"
    assert load_config(write(tmp_path, f'key_file = "{chosen}"\n'), environ=environ).key_path == chosen


def test_the_kiosk_opens_its_store_with_the_credential_key(tmp_path):
    """GIVEN systemd passes the key as the credential kiosk-key WHEN the kiosk's environment
    is built THEN the store is sealed with that key and no key is written beside the database."""
    from cryptography.fernet import Fernet

    from kiosk.runtime.env import build_env

    credentials = tmp_path / "credentials"
    credentials.mkdir()
    key = Fernet.generate_key()
    (credentials / "kiosk-key").write_bytes(key)
    (credentials / "kiosk-key").chmod(0o400)
    config = load_config(write(tmp_path, f'data_dir = "{tmp_path / "data"}"\n'),
                         environ={"CREDENTIALS_DIRECTORY": str(credentials)})
    env = build_env(config)
    try:
        assert Fernet(key).decrypt(env.store.sealer.seal("kunci")) == b"kunci"
    finally:
        env.close()
    assert not (tmp_path / "data" / "secret.key").exists()
    assert (credentials / "kiosk-key").read_bytes() == key


def test_every_wrong_key_is_reported_at_once(tmp_path):
    """GIVEN two wrong keys and an unknown one WHEN the config loads THEN the error lists all
    three (file, key, problem each), not only the first."""
    path = write(tmp_path, 'idle_warning_s = 5\npaper_width_mm = "wide"\ncolour = 1\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    keys = [key for _source, key, _problem in info.value.problems]
    assert keys == ["idle_warning_s", "paper_width_mm", "colour"]
    assert len(info.value.lines) == 3 and all(line.startswith(str(path)) for line in info.value.lines)
    assert info.value.key == "idle_warning_s" and "between 20" in info.value.problem


def test_the_kiosk_command_prints_each_wrong_key_and_exits_2(tmp_path):
    import subprocess
    import sys

    from tests.support.servers import ROOT

    path = write(tmp_path, 'idle_warning_s = 5\nlanguage = "fr"\n')
    run = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(path), "queue"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    errors = [line for line in run.stderr.splitlines() if line.startswith("kiosk: configuration error:")]
    assert len(errors) == 2 and "idle_warning_s" in errors[0] and "language" in errors[1]
