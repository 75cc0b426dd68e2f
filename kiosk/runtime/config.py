"""Kiosk configuration: every key declared once, typed, with its default.

Values come from, in rising order of precedence: the defaults below, the TOML file
(``--config`` or ``KIOSK_CONFIG`` or ``<user config dir>/kiosk.toml``), and environment
variables ``KIOSK_<KEY>`` (upper case). A bad value stops start-up with a
:class:`ConfigError` that names the file, the key and what is wrong.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any, Callable

import platformdirs

from kiosk.kernel.printer_kinds import PRINTER_KIND_NAMES, PRINTER_KINDS, printer_kind

APP_NAME = "lapor-kiosk"
#: The name of the key in systemd's credentials (``LoadCredential=kiosk-key:...``).
CREDENTIAL_NAME = "kiosk-key"


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message says where and why.

    :func:`load_config` reports every wrong key at once: ``problems`` holds one
    ``(source, key, problem)`` per wrong key, the first of them also as ``source``,
    ``key`` and ``problem``; the message has one line for each."""

    def __init__(self, source: str, key: str, problem: str, *, more: tuple[tuple[str, str, str], ...] = ()):
        self.problems = ((source, key, problem), *more)
        super().__init__("\n".join(f"{s}: {k}: {p}" for s, k, p in self.problems))
        self.source, self.key, self.problem = source, key, problem

    @property
    def lines(self) -> list[str]:
        """One "source: key: problem" line per wrong key."""
        return [f"{s}: {k}: {p}" for s, k, p in self.problems]


@dataclasses.dataclass(frozen=True)
class ConfigVar:
    """One configuration key: its type, default, and an optional check."""

    key: str
    type_: type
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None  # returns a problem or None


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    return lambda v: None if v in allowed else f"must be one of {', '.join(allowed)}"


def _one_of_int(*allowed: int) -> Callable[[Any], str | None]:
    return lambda v: None if v in allowed else f"must be one of {', '.join(map(str, allowed))}"


def _between(lo: float, hi: float) -> Callable[[Any], str | None]:
    return lambda v: None if lo <= v <= hi else f"must be between {lo} and {hi}"


def _check_pin_hash(value: str) -> str | None:
    from kiosk.core.pin import check_pin_hash

    return check_pin_hash(value)


def _kiosk_code(value: str) -> str | None:
    from kiosk.kernel.tracking_id import normalize_kiosk_code, TrackingIdError

    try:
        normalize_kiosk_code(value)
    except TrackingIdError as exc:
        return str(exc)
    return None


VARS: tuple[ConfigVar, ...] = (
    ConfigVar("data_dir", str, "", "Where the database and receipts live; empty means the per-user data directory."),
    ConfigVar("database_path", str, "", "SQLite file; empty means <data_dir>/kiosk.sqlite3."),
    ConfigVar("key_file", str, "", "The key that encrypts complaint text, names and phone numbers in the database (mode 0600; made on first start). Empty: systemd's credential `kiosk-key` when the service passes one ($CREDENTIALS_DIRECTORY/kiosk-key, read only), else <data_dir>/secret.key. Keep it apart from the data directory: docs/DEPLOY.md."),
    ConfigVar("min_free_disk_mb", int, 50, "Free space (MB, as `df -m` counts) the database's disk must keep: below it the kiosk takes no new report (Welcome says so) until there is room again; 0: refuse only when the disk is really full.", _between(0, 1_000_000)),
    ConfigVar("log_max_bytes", int, 1_000_000, "Size at which <data_dir>/logs/kiosk.log is rotated (kiosk.log.1, .2, ...).", _between(10_000, 1_000_000_000)),
    ConfigVar("log_backups", int, 5, "How many rotated log files are kept.", _between(1, 100)),
    ConfigVar("kiosk_code", str, "MT01", "Four Crockford base32 symbols, unique per kiosk; embedded in every Tracking ID.", _kiosk_code),
    ConfigVar("kiosk_location", str, "Mal Pelayanan Publik Muara Teweh", "Where the kiosk stands; printed on receipts."),
    ConfigVar("region_name", str, "Kabupaten Barito Utara", "Shown on the Welcome screen."),
    ConfigVar("institution_name", str, "Pemerintah Kabupaten Barito Utara", "Receipt header."),
    ConfigVar("language", str, "id", "Default language for each new citizen.", _one_of("id", "en")),
    ConfigVar("fullscreen", bool, False, "Run fullscreen (deployments: true)."),
    ConfigVar("lockdown", bool, False, "Kiosk lockdown (deployments: true): the window cannot be closed, Escape and the window manager's close do nothing, no mouse cursor; the only way out is the admin screen."),
    ConfigVar("admin_pin_hash", str, "", "Admin PIN as made by `kiosk admin hash-pin` (scrypt, salted; secret); empty: the admin screen is off.", lambda v: _check_pin_hash(v)),
    ConfigVar("shutdown_command", str, "systemctl poweroff", "What the admin screen's Shut down runs (the kiosk's user needs the right to power off: docs/DEPLOY.md)."),
    ConfigVar("window_width", int, 1280, "Window width in pixels when not fullscreen.", _between(320, 7680)),
    ConfigVar("window_height", int, 800, "Window height in pixels when not fullscreen.", _between(240, 4320)),
    ConfigVar("panel_diagonal_inch", float, 15.6, "The touch panel's diagonal in inches: with the screen's resolution it gives the millimetres per pixel that every text size is set from (capital letters at least 4.8 mm).", _between(5, 100)),
    ConfigVar("panel_mm_per_px", float, 0.0, "Millimetres per pixel of the panel, measured (a 15.6\" 1366x768 panel: 0.253); 0: from panel_diagonal_inch and the resolution.", lambda v: None if v == 0 or 0.05 <= v <= 2 else "must be 0 or between 0.05 and 2"),
    ConfigVar("idle_timeout_s", float, 60.0, "Seconds without a touch before the idle warning.", _between(5, 3600)),
    ConfigVar("idle_warning_s", float, 30.0, "Seconds the idle warning counts down (at least 20: WCAG 2.2.1).", _between(20, 600)),
    ConfigVar("receipt_timeout_s", float, 45.0, "Seconds a printed receipt's screen stays without a touch before the idle warning (idle_warning_s) counts down to Welcome; a touch starts them again. A receipt that did not print stays until the citizen says the number is written down (or 10 minutes without a touch).", _between(5, 600)),
    ConfigVar("printer", str, "file", "Printer connection: " + "; ".join(f"'{kind.name}': {kind.summary}" for kind in PRINTER_KINDS) + ". Details: docs/PRINTERS.md.", _one_of(*PRINTER_KIND_NAMES)),
    ConfigVar("printer_device", str, "", "Serial port or device file of the printer (printer = serial or device)."),
    ConfigVar("printer_baudrate", int, 9600, "Serial printer speed.", _one_of_int(9600, 19200, 38400, 57600, 115200)),
    ConfigVar("printer_usb_vendor", str, "", "USB vendor id in hex, e.g. 0416 (printer = usb; see lsusb)."),
    ConfigVar("printer_usb_product", str, "", "USB product id in hex, e.g. 5011 (printer = usb)."),
    ConfigVar("printer_host", str, "", "Network printer's address (printer = network)."),
    ConfigVar("printer_port", int, 9100, "Network printer's TCP port.", _between(1, 65535)),
    ConfigVar("printer_timeout_s", float, 5.0, "Seconds any printer operation may take before it counts as failed.", _between(0.5, 60)),
    ConfigVar("printer_qr", str, "native", "QR code on the receipt: the printer's native command, or an image.", _one_of("native", "image")),
    ConfigVar("printer_code_page", str, "cp437", "The one code page sent to the printer (ESC t): cp437, or cp858 (with the euro sign).", _one_of("cp437", "cp858")),
    ConfigVar("printer_profile", str, "default", "python-escpos printer profile (e.g. TM-T88III, POS-5890); `kiosk doctor` checks the name."),
    ConfigVar("paper_width_mm", int, 80, "Paper width: 58 or 80 mm.", lambda v: None if v in (58, 80) else "must be 58 or 80"),
    ConfigVar("receipt_retention_days", int, 7, "Days the file printer keeps its receipts in <data_dir>/receipts (the ESC/POS bytes and a preview, the report's title in plain): older ones are deleted at each print, at start and every hour; 0: each receipt only until the next print, start or hourly tidy. Other printers keep nothing.", _between(0, 3650)),
    ConfigVar("delivered_retention_days", int, 90, "Days the kiosk keeps a report after the central confirmed it (for `kiosk reprint` and the status shown while offline), with its recording, the status it kept and delivered objections or ratings; then they are deleted from the kiosk (the central keeps them), every hour. Nothing not yet delivered is ever deleted.", _between(1, 3650)),
    ConfigVar("camera_source", str, "", "Camera for reading receipts: an index (0), /dev/videoN, an image, a folder of images, a video file or an RTSP/HTTP URL; empty: no camera, the ID is typed."),
    ConfigVar("camera_fps", float, 15.0, "Frames read per second while the scan screen is open.", _between(1, 60)),
    ConfigVar("microphone_source", str, "", "Microphone for a spoken complaint: an ALSA capture device as `arecord -L` names it (default, plughw:1,0, sysdefault:CARD=Device; not hw:N,M, which cannot convert to 16 kHz mono), read by arecord from alsa-utils; or a sound file (a path: WAV, FLAC), played as if spoken, for a kiosk without a microphone; empty: no microphone, the complaint is typed."),
    ConfigVar("microphone_limit_s", float, 180.0, "Longest spoken complaint in seconds; the recording stops by itself there.", _between(10, 600)),
    ConfigVar("microphone_bitrate_kbps", int, 20, "Ogg Opus bitrate of a spoken complaint (16 kHz mono): 20 kbit/s is about 150 kB a minute (docs/PERFORMANCE.md).", _between(8, 64)),
    ConfigVar("status_base_url", str, "", "Public status page base URL; receipts then carry <base>/<Tracking ID> in their QR code."),
    ConfigVar("sms_number", str, "", "The kabupaten's SMS number for citizens (the SIM of the central's SMS gateway, docs/SMS.md), e.g. 0812 3456 7890; receipts then say how to check by SMS (CEK <Tracking ID>). Empty: receipts do not mention SMS checks."),
    ConfigVar("central_url", str, "", "Base URL of the central service, e.g. https://lapor.example.go.id; empty: offline only."),
    ConfigVar("central_token", str, "", "This kiosk's token from `python -m central kiosk add` (secret: never logged or shown)."),
    ConfigVar("heartbeat_interval_s", float, 300.0, "Seconds between heartbeats to the central (version, queue, printer, paper, camera, disk; no report content); keep it well under the central's `kiosks --silent-after`.", _between(30, 3600)),
    ConfigVar("idle_fps", float, 10.0, "Frame rate cap while nobody touches the screen.", _between(1, 60)),
    ConfigVar("audio_output", str, "file", "Where the kiosk's voice goes: 'aplay' (the ALSA device audio_device, through aplay from alsa-utils; deployments), 'file' (appended to audio_file, nothing is heard; with a .jsonl log of what was said), 'none'. Details: docs/SPEECH.md.", _one_of("aplay", "file", "none")),
    ConfigVar("audio_device", str, "default", "ALSA device for audio_output = aplay, as `aplay -L` names it (default, plughw:0,0, ...)."),
    ConfigVar("audio_file", str, "", "WAV file for audio_output = file; empty means <data_dir>/audio/spoken.wav."),
    ConfigVar("speech_clips_dir", str, "", "Recorded clips that replace the synthetic voice, <dir>/<id|en>/<slug>.wav (docs/SPEECH.md); empty means <data_dir>/clips."),
    ConfigVar("speech_rate_wpm", int, 150, "Speaking rate of espeak-ng in words per minute (its own default is 175).", _between(80, 300)),
    ConfigVar("audio_volume", int, 70, "Volume (percent) at the start of every session; the citizen's volume keys change it in steps of audio_volume_step.", _between(10, 100)),
    ConfigVar("audio_volume_step", int, 10, "Percent one press of volume up or down changes.", _between(5, 30)),
    ConfigVar("speech_idle_factor", float, 3.0, "In speech mode (a citizen listening, often one who cannot see the screen) the idle time and the warning's countdown are this many times longer (WCAG 2.2.1).", _between(1, 10)),
    ConfigVar("headset_jack", str, "", "How a plugged headset is seen (it switches speech mode on): 'alsa:CARD:CONTROL' polls the sound card's jack control through amixer (e.g. alsa:0:Headphone Jack; `amixer -c 0 controls | grep Jack` lists them), or a file holding 1 (plugged) or 0; empty: not watched. docs/SPEECH.md."),
)
_BY_KEY = {v.key: v for v in VARS}
SECRET_KEYS = frozenset({"central_token", "admin_pin_hash"})


@dataclasses.dataclass(frozen=True)
class Config:
    """The kiosk's resolved configuration. Build it with :func:`load_config`."""

    values: dict[str, Any]
    source: str
    #: systemd's ``$CREDENTIALS_DIRECTORY`` when the kiosk started with one ("": none).
    credentials_dir: str = ""

    def __repr__(self) -> str:
        shown = {k: ("***" if k in SECRET_KEYS and v else v) for k, v in self.values.items()}
        return f"Config({shown!r}, source={self.source!r})"

    def __getattr__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise AttributeError(key) from None

    @property
    def data_path(self) -> Path:
        return Path(self.values["data_dir"]) if self.values["data_dir"] else Path(
            platformdirs.user_data_dir(APP_NAME, appauthor=False)
        )

    @property
    def database_file(self) -> Path:
        return Path(self.values["database_path"]) if self.values["database_path"] else self.data_path / "kiosk.sqlite3"

    @property
    def key_path(self) -> Path:
        """The key file: ``key_file`` when set, else systemd's credential ``kiosk-key``
        when the service was given one, else ``<data_dir>/secret.key``."""
        if self.values.get("key_file"):
            return Path(self.values["key_file"])
        if self.credentials_dir:
            credential = Path(self.credentials_dir) / CREDENTIAL_NAME
            if credential.is_file():
                return credential
        return self.data_path / "secret.key"

    @property
    def receipts_path(self) -> Path:
        return self.data_path / "receipts"

    @property
    def cache_path(self) -> Path:
        """What the kiosk can make again but keeps between starts (python-escpos's printer
        database, :mod:`devices.printer.capabilities`)."""
        return self.data_path / "cache"


def default_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "kiosk.toml"


def _coerce(var: ConfigVar, raw: Any, source: str) -> Any:
    if var.type_ is bool:
        if isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            value = raw.strip().lower() in ("1", "true", "yes", "on")
        else:
            raise ConfigError(source, var.key, f"expected true or false, got {raw!r}")
    elif var.type_ in (int, float):
        if isinstance(raw, bool):
            raise ConfigError(source, var.key, f"expected a number, got {raw!r}")
        try:
            value = var.type_(raw)
        except (TypeError, ValueError):
            raise ConfigError(source, var.key, f"expected {'a whole number' if var.type_ is int else 'a number'}, got {raw!r}") from None
    else:
        if not isinstance(raw, str):
            raise ConfigError(source, var.key, f"expected text, got {raw!r}")
        value = raw
    problem = var.check(value) if var.check else None
    if problem:
        raise ConfigError(source, var.key, problem)
    return value


def _collect(problems: list[ConfigError], values: dict[str, Any], var: ConfigVar, raw: Any, source: str) -> None:
    """Set ``var`` from ``raw``, or add what is wrong with it to ``problems``."""
    try:
        values[var.key] = _coerce(var, raw, source)
    except ConfigError as exc:
        problems.append(exc)


def load_config(
    path: Path | None = None,
    *,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Read defaults, then the TOML file (if present), then ``KIOSK_*`` variables, then overrides."""
    environ = os.environ if environ is None else environ
    explicit = path is not None or "KIOSK_CONFIG" in environ
    path = Path(path or environ.get("KIOSK_CONFIG") or default_config_file())
    values = {v.key: v.default for v in VARS}
    source = "defaults"
    problems: list[ConfigError] = []  # every wrong key, reported together
    if path.exists():
        source = str(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(source, "(file)", f"not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(source, "(file)", f"not valid UTF-8 (byte {exc.start}): save it as UTF-8") from None
        except OSError as exc:
            raise ConfigError(source, "(file)", f"cannot be read: {exc.strerror}") from None
        section = data.get("kiosk", data)
        for key, raw in section.items():
            if key not in _BY_KEY:
                problems.append(ConfigError(source, key, "unknown key (see docs/CONFIG.md)"))
                continue
            _collect(problems, values, _BY_KEY[key], raw, source)
    elif explicit:
        raise ConfigError(str(path), "(file)", "does not exist")
    for var in VARS:
        env_key = "KIOSK_" + var.key.upper()
        if env_key in environ:
            _collect(problems, values, var, environ[env_key], f"environment {env_key}")
    for key, raw in (overrides or {}).items():
        if key not in _BY_KEY:
            problems.append(ConfigError("overrides", key, "unknown key"))
            continue
        _collect(problems, values, _BY_KEY[key], raw, "command line")
    wrong = {p.key for p in problems}
    if "kiosk_code" not in wrong:
        from kiosk.kernel.tracking_id import normalize_kiosk_code

        values["kiosk_code"] = normalize_kiosk_code(values["kiosk_code"])
    if "printer" not in wrong:
        kind = printer_kind(values["printer"])  # a known kind: its ConfigVar checked it
        for key in kind.required_keys:
            if not values[key]:
                problems.append(ConfigError(source, key, f"required when printer = {kind.name}"))
    for key in ("printer_usb_vendor", "printer_usb_product"):
        if values[key] and isinstance(values[key], str):
            try:
                int(values[key], 16)
            except ValueError:
                problems.append(ConfigError(source, key, f"expected a hex id like 0416, got {values[key]!r}"))
    if problems:
        first, *rest = problems
        raise ConfigError(first.source, first.key, first.problem,
                          more=tuple((p.source, p.key, p.problem) for p in rest))
    return Config(values=values, source=source, credentials_dir=environ.get("CREDENTIALS_DIRECTORY", ""))
