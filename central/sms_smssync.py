"""SMSSync (Ushahidi's Android app that forwards received SMS over HTTP) as an SMS gateway
of the central (issue 16): gateway type ``smssync``. The HTTP side is ``central.routers.sms``;
this is the protocol, with no HTTP and no database.

One entry of the SMS file, ``[gateways.NAME]`` with ``type = "smssync"``, holds
(``Settings.from_mapping`` checks them and refuses any other key):

- ``secret_file``: a file holding the secret typed into the app's Sync URL settings
  (at least SECRET_MIN characters), read once, at start;
- ``results_api`` (default false): true when the app's "Enable Message Results API" is on;
- ``batch`` (default 20): at most this many replies in one answer to the app's poll.

What the app does (its source, ``PostMessage`` and ``ProcessMessageResult``):

- each SMS received: a POST of ``from``, ``message``, ``message_id`` (a UUID the app makes),
  ``sent_to``, ``secret``, ``sent_timestamp`` (milliseconds), ``device_id``, form-encoded.
  The app keeps it "pending" and sends it again until an answer of 200 or 201 says
  ``{"payload": {"success": true}}``.
- every few minutes (task checking): ``GET ?task=send&secret=...``, answered with
  ``{"payload": {"task": "send", "secret": ..., "messages": [{"to", "message", "uuid"}]}}``;
  the app sends them only when the ``secret`` in the answer is its own.
- with the Message Results API on, before sending them: ``POST ?task=sent`` (without the
  secret) of ``{"queued_messages": [uuid, ...]}``, answered with ``{"message_uuids": [...]}``:
  the app sends only the messages whose uuid is in that answer. Then ``GET ?task=result``
  asks which results we want (``{"message_uuids": [...]}``), and ``POST ?task=result``
  brings them; we ask for none.

Each reply is handed over once. With ``results_api`` the reply a poll gives is recorded as
sent when the app's ``task=sent`` names it, and only that first time is it approved: a
reply given twice (its claim expired before the app asked) is sent once. A reply given
and never asked about goes back when its claim expires and is given again: that is how a
crashed app gets it, and also why ``results_api = true`` with the app's setting OFF sends
every reply again at each claim expiry. Without ``results_api`` a reply is recorded as sent
when a poll's answer gives it: a lost answer loses that reply (the app never confirms).

A reply's ``uuid`` is ``lapor-<row id>-<HMAC of the gateway and the row, keyed with the
secret>``: stable, and ``task=sent``, which comes without the secret, can approve only a
uuid we gave.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping

from central.sms import IncomingSms, Outgoing
from central.sms_android import read_secret_file

TYPE = "smssync"
KEYS = ("secret_file", "results_api", "batch")
SECRET_MIN = 12
DEFAULT_BATCH, BATCH_MAX = 20, 100
#: The fields of an incoming SMS (the app's default sync scheme).
FIELDS = ("from", "message", "message_id", "sent_to", "secret", "sent_timestamp", "device_id")
TEXT_MAX = 5000
_UUID = re.compile(r"^lapor-([1-9][0-9]{0,17})-([0-9a-f]{20})$")


class BadMessage(ValueError):
    """An incoming POST that is no SMS of the app's (the message says which field)."""


@dataclasses.dataclass(frozen=True)
class Settings:
    secret: str = dataclasses.field(repr=False)
    results_api: bool = False
    batch: int = DEFAULT_BATCH

    @classmethod
    def from_mapping(cls, settings: Mapping) -> "Settings":
        """The settings of ``[gateways.NAME]`` (its ``type`` left out); ValueError naming the
        key and what is wrong. Reads the secret file."""
        unknown = set(settings) - set(KEYS) - {"type"}
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r}; an smssync gateway has {', '.join(KEYS)}")
        path = settings.get("secret_file")
        if not isinstance(path, str) or not path.strip():
            raise ValueError("secret_file: required (a file holding the secret set in the app)")
        secret = read_secret_file("secret_file", path.strip())
        if len(secret) < SECRET_MIN:
            raise ValueError(f"secret_file: the secret must have at least {SECRET_MIN} characters")
        results_api = settings.get("results_api", False)
        if not isinstance(results_api, bool):
            raise ValueError("results_api: true or false (the app's \"Enable Message Results API\")")
        batch = settings.get("batch", DEFAULT_BATCH)
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= BATCH_MAX:
            raise ValueError(f"batch: a whole number from 1 to {BATCH_MAX}")
        return cls(secret=secret, results_api=results_api, batch=batch)


def received_at(sent_timestamp: str | None, now: dt.datetime) -> dt.datetime:
    """When the phone received the SMS: ``sent_timestamp`` in milliseconds (as the app
    sends it) or seconds (as its old documentation says); ``now`` when absent, unreadable,
    before 2001 or more than a day ahead."""
    value = (sent_timestamp or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        return now
    number = int(value)
    seconds = number / 1000 if number >= 10 ** 11 else number
    if seconds < 10 ** 9 or seconds - now.timestamp() > 86400:
        return now
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


class SmsSyncGateway:
    """One ``[gateways.NAME]`` of type smssync: its secret, and what its answers say."""

    def __init__(self, name: str, settings: Mapping):
        self.name = name
        self.settings = Settings.from_mapping(settings)

    def secret_matches(self, given: str | None) -> bool:
        """Constant-time comparison with our secret (a missing one matches nothing)."""
        return hmac.compare_digest(self.settings.secret.encode("utf-8"), (given or "").encode("utf-8"))

    def incoming(self, fields: Mapping[str, str], *, now: dt.datetime) -> IncomingSms:
        """The SMS of an incoming POST whose secret matched; BadMessage for a missing field."""
        sender, text = (fields.get("from") or "").strip(), fields.get("message")
        if not sender:
            raise BadMessage("from: required (the sender's number)")
        if text is None:
            raise BadMessage("message: required (the SMS text)")
        if len(text) > TEXT_MAX:
            raise BadMessage(f"message: longer than {TEXT_MAX} characters")
        message_id = (fields.get("message_id") or "").strip()
        return IncomingSms(gateway=self.name, message_id=message_id[:200], sender=sender, text=text,
                           received_at=received_at(fields.get("sent_timestamp"), now))

    # -- replies --------------------------------------------------------------------------
    def _mac(self, outgoing_id: int) -> str:
        return hmac.new(self.settings.secret.encode("utf-8"), f"{self.name}\n{outgoing_id}".encode("ascii"),
                        hashlib.sha256).hexdigest()[:20]

    def uuid(self, outgoing_id: int) -> str:
        """The uuid a reply is given with (the same at every poll that gives it)."""
        return f"lapor-{outgoing_id}-{self._mac(outgoing_id)}"

    def outgoing_id(self, uuid: object) -> int | None:
        """The row a uuid we gave names; None for any other string."""
        found = _UUID.match(uuid) if isinstance(uuid, str) else None
        if found is None or not hmac.compare_digest(found.group(2), self._mac(int(found.group(1)))):
            return None
        return int(found.group(1))

    def task_send(self, replies: Iterable[Outgoing]) -> dict:
        """The answer to ``GET ?task=send``: the replies to send (our secret echoed, as the
        app checks it)."""
        return {"payload": {"task": "send", "success": True, "secret": self.settings.secret,
                            "messages": [{"to": r.to, "message": r.text, "uuid": self.uuid(r.id)} for r in replies]}}


def success() -> dict:
    return {"payload": {"success": True, "error": None}}


def failure(error: str) -> dict:
    return {"payload": {"success": False, "error": error}}


def approved(uuids: Iterable[str]) -> dict:
    """The answer to ``task=sent`` (which messages to send) and ``GET task=result``."""
    return {"message_uuids": list(uuids)}
