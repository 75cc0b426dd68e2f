"""The central's SMS file (docs/SMS.md): the keywords citizens send, the central's issuer
code of SMS Tracking IDs, how long numbers and texts are kept, the limits, and the
gateways messages come through.

    keyword = "BARUT"                 # files a report: "BARUT <text>"
    check_keyword = "CEK"             # "CEK <Tracking ID>": its status
    stop_keyword = "STOP"             # no more notices to this number
    issuer = "0767"                   # the central's issuer code of SMS Tracking IDs
    retention_days = 90               # numbers and texts kept this long after the report closes
    status_url = "https://lapor.example.go.id/status"   # optional: the public status page
    notify_gateway = "modem"          # optional: sends the answer notices of kiosk reports

    [limits]
    per_number_per_hour = 10
    per_gateway_per_minute = 600

    [gateways.modem]                  # a name of your choice
    type = "gammu"                    # gammu | smssync | android
    ...                               # that type's own keys (read by its adapter)

The file is read and checked once, at start (``load``): a wrong one stops the process with
the file, the key and what is wrong. Without a file the central takes no SMS.
"""
from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from central import sms_text
from kiosk.kernel.tracking_id import TrackingIdError, normalize_kiosk_code

ENV_VAR = "CENTRAL_SMS_FILE"
#: The gateways an SMS file may name (``[gateways.NAME] type``): each has its adapter
#: (``central.sms_gammu``, ``central.sms_android``, ``central.routers.sms``).
GATEWAY_TYPES = ("gammu", "smssync", "android")
DEFAULT_ISSUER = "0767"  # "SMS" on a phone's keypad
#: The channel of SMS reports (``Report.channel``), and the issuer row's location.
CHANNEL = "sms"
ISSUER_LOCATION = "SMS"
_KEYWORD = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,11}$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOP = {"keyword", "check_keyword", "stop_keyword", "issuer", "retention_days", "status_url", "notify_gateway",
        "limits", "gateways"}


class SmsFileError(ValueError):
    """The SMS file cannot be used: the message names the file, the key and why."""


@dataclasses.dataclass(frozen=True)
class Gateway:
    """One ``[gateways.NAME]`` table: its type, and the rest of its keys for its adapter."""

    name: str
    type: str
    settings: Mapping[str, object]


@dataclasses.dataclass(frozen=True)
class SmsConfig:
    path: str
    keyword: str = "BARUT"
    check_keyword: str = "CEK"
    stop_keyword: str = "STOP"
    issuer: str = DEFAULT_ISSUER
    retention_days: int = 90
    status_url: str | None = None
    #: The gateway that sends the answer notices of reports filed at a kiosk; None: none
    #: are sent (an SMS report's notice goes through the gateway it came from).
    notify_gateway: str | None = None
    per_number_per_hour: int = 10
    per_gateway_per_minute: int = 600
    gateways: Mapping[str, Gateway] = dataclasses.field(default_factory=dict)

    @property
    def words(self) -> sms_text.Words:
        return sms_text.Words(self.keyword, self.check_keyword, self.stop_keyword, self.status_url)

    def of_type(self, kind: str) -> list[Gateway]:
        """The configured gateways of one type, in the file's order."""
        return [g for g in self.gateways.values() if g.type == kind]


def _read(path: str) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SmsFileError(f"{path}: cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SmsFileError(f"{path}: not a TOML file: {exc}") from None


def _keyword(path: str, data: dict, key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not _KEYWORD.match(value.strip()):
        raise SmsFileError(f"{path}: {key} must be one word of letters and digits, starting with a letter "
                           f"(at most 12), like \"{default}\"; got {value!r}")
    return value.strip().upper()


def _whole(path: str, where: str, value: object, default: int, *, at_least: int = 1) -> int:
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, int) or value < at_least:
        raise SmsFileError(f"{path}: {where} must be a whole number of at least {at_least}, got {value!r}")
    return value


def _gateways(path: str, tables: object) -> dict[str, Gateway]:
    if not isinstance(tables, dict) or not tables:
        raise SmsFileError(f"{path}: no [gateways.NAME] table: name at least one gateway messages come through "
                           f"(type one of {', '.join(GATEWAY_TYPES)})")
    out = {}
    for name, table in tables.items():
        where = f"[gateways.{name}]"
        if not _NAME.match(name):
            raise SmsFileError(f"{path}: {where}: a gateway's name is letters, digits, - and _ (at most 64)")
        if not isinstance(table, dict):
            raise SmsFileError(f"{path}: {where} must be a table")
        kind = table.get("type")
        if kind not in GATEWAY_TYPES:
            raise SmsFileError(f"{path}: {where}: type must be one of {', '.join(GATEWAY_TYPES)}, got {kind!r}")
        out[name] = Gateway(name, kind, {k: v for k, v in table.items() if k != "type"})
    return out


def load(path: str | Path) -> SmsConfig:
    """Read and check the file: SmsFileError with the file, the key and the problem."""
    path = str(path)
    data = _read(path)
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise SmsFileError(f"{path}: unknown key {unknown[0]!r}: one of {', '.join(sorted(_TOP))}")
    words = {key: _keyword(path, data, key, default)
             for key, default in (("keyword", "BARUT"), ("check_keyword", "CEK"), ("stop_keyword", "STOP"))}
    if len(set(words.values())) < 3:
        raise SmsFileError(f"{path}: keyword, check_keyword and stop_keyword must differ, got "
                           f"{', '.join(words.values())}")
    issuer = data.get("issuer", DEFAULT_ISSUER)
    try:
        issuer = normalize_kiosk_code(issuer if isinstance(issuer, str) else "")
    except TrackingIdError as exc:
        raise SmsFileError(f"{path}: issuer: {exc}") from None
    retention = _whole(path, "retention_days", data.get("retention_days"), 90)
    status_url = data.get("status_url")
    if status_url is not None:
        if not isinstance(status_url, str) or not re.match(r"^https?://[^\s/]+", status_url) or \
                not sms_text.is_gsm7(status_url) or len(status_url) > 80:
            raise SmsFileError(f"{path}: status_url must be the public status page's http(s) address, without "
                               f"spaces, at most 80 characters (it is sent by SMS), like "
                               f"\"https://lapor.example.go.id/status\"; got {status_url!r}")
        status_url = status_url.rstrip("/")
    limits = data.get("limits", {})
    if not isinstance(limits, dict):
        raise SmsFileError(f"{path}: limits must be a [limits] table")
    extra = sorted(set(limits) - {"per_number_per_hour", "per_gateway_per_minute"})
    if extra:
        raise SmsFileError(f"{path}: [limits]: unknown key {extra[0]!r} (per_number_per_hour, per_gateway_per_minute)")
    per_number = _whole(path, "[limits] per_number_per_hour", limits.get("per_number_per_hour"), 10)
    per_gateway = _whole(path, "[limits] per_gateway_per_minute", limits.get("per_gateway_per_minute"), 600)
    gateways = _gateways(path, data.get("gateways"))
    notify = data.get("notify_gateway")
    if notify is None and len(gateways) == 1:
        notify = next(iter(gateways))
    if notify is not None and notify not in gateways:
        raise SmsFileError(f"{path}: notify_gateway must name one of [gateways.*] ({', '.join(gateways)}), "
                           f"got {notify!r}")
    return SmsConfig(path, issuer=issuer, retention_days=retention, status_url=status_url, notify_gateway=notify,
                     per_number_per_hour=per_number, per_gateway_per_minute=per_gateway, gateways=gateways, **words)
