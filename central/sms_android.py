"""SMS Gateway for Android (https://sms-gate.app, open source) as an SMS gateway of the
central (issue 16): gateway type ``android``.

One entry of the SMS file, ``[gateways.NAME]`` with ``type = "android"``, holds
(``Settings.from_mapping`` checks them and refuses any other key, a typo included):

- ``signing_key_file``: a file holding the app's webhook signing key (Settings -> Webhooks
  -> Signing Key), read once, at start;
- ``url``: the app's API base: its local server (``http://192.168.1.20:8080``) or the
  cloud or a private server (``https://api.sms-gate.app/3rdparty/v1``); ``username`` and
  ``password_file``: the Basic auth credentials the app shows;
- ``connect_timeout`` (5 s) and ``read_timeout`` (20 s).

Incoming: the app POSTs each event to ``/sms/android/NAME`` (``central.routers.sms``),
signed: ``X-Signature`` is the hex HMAC-SHA256, with the signing key, of the raw body
followed by the ``X-Timestamp`` header (Unix seconds). :func:`signature_problem` checks it
in constant time and refuses a timestamp more than :data:`MAX_SKEW_S` away from now (a
replayed request). The app retries an event (10 s, then doubling, about 14 times) until
it gets a 2xx, with the same event ``id``; ``payload.messageId`` is a hash of the content
and may repeat, so the event ``id`` is the message's id for the core's deduplication.

Replies: :class:`AndroidGateway.send` POSTs ``{url}/message`` (the path of the app's local
server and of the cloud's ``3rdparty/v1``, as the app's own Python client uses it) with
``{"id", "message", "phoneNumbers": [to]}``. The ``id`` is ours, stable for one outgoing
row, so a resend after a lost answer is recognised: the cloud answers 409 ("message with
such ID already exists"), and after a 5xx or a lost answer ``GET {url}/message/{id}``
tells whether the app holds it already. Either means the reply is on its way: sent.

Nothing here logs a phone number, a message's text or a Tracking ID; a reason given to
the core has any run of digits long enough to be a phone number masked.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import stat
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

import requests

from central.sms import GATEWAY_REASON_MAX, SENDERS, IncomingSms, NotSent, Outgoing, masked

log = logging.getLogger(__name__)

TYPE = "android"
#: The keys of its table (``type`` besides: the SMS file's); any other is a mistake.
KEYS = ("signing_key_file", "url", "username", "password_file", "connect_timeout", "read_timeout")
DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, TIMEOUT_MAX = 5.0, 20.0, 120.0
#: How far X-Timestamp may be from our clock, either way (the app's docs: +-5 minutes).
MAX_SKEW_S = 300
#: The events that carry a received SMS: one message, or several at once.
RECEIVED, BATCH_RECEIVED = "sms:received", "sms:batch:received"
#: The app's message ``id`` is at most 36 characters.
MESSAGE_ID_MAX = 36
#: The app's answers that refuse this message for good (a number or a text it will never
#: take). Any other 4xx names our setup (credentials, URL) or its load, which a later
#: attempt may find fixed: retried, as 429 is.
REFUSED_FOR_GOOD = frozenset({400, 413, 414, 422})
#: A run of digits that may be a phone number (+62 812-3456-7890, 081234567890).


def read_secret_file(key: str, path: str) -> str:
    """The secret held alone in the file at ``path`` (setting ``key``); ValueError naming
    the key and the file, never the secret. Warns when others than its owner may read it."""
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
        mode = Path(path).stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{key}: cannot read {path} ({exc.__class__.__name__})") from None
    if not secret or "\n" in secret:
        raise ValueError(f"{key}: {path} must hold the secret alone, on one line")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s %s is readable by others than its owner (chmod 600 it)", key, path)
    return secret


def _text(settings: Mapping, key: str) -> str:
    value = settings.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: required, a string")
    return value.strip()


def _seconds(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value <= TIMEOUT_MAX):
        raise ValueError(f"{key}: a number of seconds above 0 and at most {TIMEOUT_MAX:g}")
    return float(value)


# -- settings --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Settings:
    signing_key: str = dataclasses.field(repr=False)
    url: str  # without a trailing "/"
    username: str
    password: str = dataclasses.field(repr=False)
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT

    @classmethod
    def from_mapping(cls, settings: Mapping) -> "Settings":
        """The settings of ``[gateways.NAME]`` (its ``type`` left out); ValueError naming the
        key and what is wrong (the SMS file's loader adds the file and the table). Reads
        the key and password files."""
        unknown = set(settings) - set(KEYS) - {"type"}
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r}; an android gateway has {', '.join(KEYS)}")
        url = _text(settings, "url").rstrip("/")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("url: the app's API base, http(s) without a query, e.g. http://192.168.1.20:8080 "
                             "(its local server) or https://api.sms-gate.app/3rdparty/v1")
        return cls(signing_key=read_secret_file("signing_key_file", _text(settings, "signing_key_file")),
                   url=url, username=_text(settings, "username"),
                   password=read_secret_file("password_file", _text(settings, "password_file")),
                   connect_timeout=_seconds("connect_timeout",
                                            settings.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT)),
                   read_timeout=_seconds("read_timeout", settings.get("read_timeout", DEFAULT_READ_TIMEOUT)))


# -- incoming: the webhook -------------------------------------------------------------------
def signature(key: str, body: bytes, timestamp: str) -> str:
    """The ``X-Signature`` the app sends with ``body`` at ``timestamp`` (hex HMAC-SHA256)."""
    return hmac.new(key.encode("utf-8"), body + timestamp.encode("ascii"), hashlib.sha256).hexdigest()


def signature_problem(key: str, body: bytes, timestamp: str | None, given: str | None, *, now: float) -> str | None:
    """None when ``given`` signs ``body`` and ``timestamp`` with ``key`` and the timestamp is
    within MAX_SKEW_S of ``now`` (Unix seconds); else why not (for our log: never the key)."""
    timestamp, given = (timestamp or "").strip(), (given or "").strip().lower()
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "no X-Timestamp of Unix seconds"
    if not hmac.compare_digest(signature(key, body, timestamp).encode("ascii"), given.encode("utf-8")):
        return "X-Signature does not match (a wrong signing key, or a changed body)"
    skew = int(timestamp) - now
    if abs(skew) > MAX_SKEW_S:
        return f"X-Timestamp is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} our clock " \
               f"(at most {MAX_SKEW_S} s: is the phone's clock right?)"
    return None


class BadEvent(ValueError):
    """A signed body that is no event of the app's we can read (the message says what)."""


@dataclasses.dataclass(frozen=True)
class WebhookEvent:
    id: str  # the event's id: the same on every retry of it
    event: str  # "sms:received", "sms:sent", "system:ping", ...
    payload: Mapping


def read_event(body: bytes) -> WebhookEvent:
    """The event in a webhook's body; BadEvent when it is none."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadEvent("the body is not JSON") from None
    if not isinstance(document, dict):
        raise BadEvent("the body is not a JSON object")
    event_id, event, payload = document.get("id"), document.get("event"), document.get("payload")
    if not isinstance(event, str) or not event:
        raise BadEvent("no event")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 200:
        raise BadEvent("no event id")
    if not isinstance(payload, dict):
        raise BadEvent("no payload object")
    return WebhookEvent(event_id.strip(), event, payload)


def _received_at(value, now: dt.datetime) -> dt.datetime:
    """``receivedAt`` (ISO 8601 with the device's offset); ``now`` when absent, unreadable,
    without an offset, or more than a day ahead (a phone's clock gone wrong)."""
    if not isinstance(value, str):
        return now
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return now
    if when.tzinfo is None or when - now > dt.timedelta(days=1):
        return now
    return when


def _one_message(gateway: str, message_id: str, payload, now: dt.datetime) -> IncomingSms:
    if not isinstance(payload, dict):
        raise BadEvent("a message is not an object")
    sender = payload.get("sender") or payload.get("phoneNumber")  # "sender" since 2026; "phoneNumber" before
    text = payload.get("message")
    if not isinstance(sender, str) or not sender.strip():
        raise BadEvent("a message without its sender (sender or phoneNumber)")
    if not isinstance(text, str):
        raise BadEvent("a message without its text")
    return IncomingSms(gateway=gateway, message_id=message_id, sender=sender.strip(), text=text,
                       received_at=_received_at(payload.get("receivedAt"), now))


def received_messages(gateway: str, event: WebhookEvent, *, now: dt.datetime) -> list[IncomingSms]:
    """The SMS an event carries: one for ``sms:received``, each of a ``sms:batch:received``
    (their ids ``<event id>/<n>``), none for any other event. BadEvent for a payload that
    is not the app's."""
    if event.event == RECEIVED:
        return [_one_message(gateway, event.id, event.payload, now)]
    if event.event == BATCH_RECEIVED:
        messages = event.payload.get("messages")
        if not isinstance(messages, list):
            raise BadEvent("a batch without its messages")
        return [_one_message(gateway, f"{event.id}/{n}", m, now) for n, m in enumerate(messages)]
    return []


# -- the gateway -----------------------------------------------------------------------------
class AndroidGateway:
    """One ``[gateways.NAME]`` of type android: checks its webhooks, sends its replies."""

    def __init__(self, name: str, settings: Mapping):
        self.name = name
        self.settings = Settings.from_mapping(settings)

    def signature_problem(self, body: bytes, timestamp: str | None, given: str | None, *, now: float) -> str | None:
        return signature_problem(self.settings.signing_key, body, timestamp, given, now=now)

    def message_id(self, outgoing: Outgoing) -> str:
        """Our id of the app's message for one outgoing row: the same on every attempt, and
        another for another row even if a restored database numbers rows again."""
        digest = hmac.new(self.settings.password.encode("utf-8"),
                          f"{self.name}\n{outgoing.id}\n{outgoing.to}\n{outgoing.text}".encode("utf-8"),
                          hashlib.sha256).hexdigest()
        return f"lapor-{outgoing.id}-{digest}"[:MESSAGE_ID_MAX]

    def send(self, outgoing: Outgoing) -> None:
        """Hand one reply to the app; returns when the app holds it, NotSent otherwise."""
        message_id = self.message_id(outgoing)
        body = {"id": message_id, "message": outgoing.text, "phoneNumbers": [outgoing.to]}
        try:
            response = requests.post(f"{self.settings.url}/message", json=body, timeout=self._timeouts(),
                                     auth=(self.settings.username, self.settings.password), allow_redirects=False)
        except requests.ConnectTimeout:
            raise NotSent("no connection to the app within the connect timeout", retry=True) from None
        except requests.RequestException as exc:  # refused, reset, no answer: it may hold the message
            if self._holds(message_id):
                return
            raise NotSent(f"no answer from the app ({exc.__class__.__name__})", retry=True) from None
        status = response.status_code
        if 200 <= status < 300 or status == 409:  # 409: a message with this id is there already
            return
        reason = f"HTTP {status}: {masked(_error_message(response))}"
        if status in REFUSED_FOR_GOOD:
            raise NotSent(reason, retry=False)
        if status in (401, 403):
            log.warning("android gateway %s: the app refused our username or password (HTTP %d)", self.name, status)
        if status >= 500 and self._holds(message_id):
            return
        raise NotSent(reason, retry=True)

    def _timeouts(self) -> tuple[float, float]:
        return self.settings.connect_timeout, self.settings.read_timeout

    def _holds(self, message_id: str) -> bool:
        """Whether the app has our message (``GET {url}/message/{id}`` answers 200)."""
        try:
            response = requests.get(f"{self.settings.url}/message/{urllib.parse.quote(message_id)}",
                                    timeout=self._timeouts(), allow_redirects=False,
                                    auth=(self.settings.username, self.settings.password))
        except requests.RequestException:
            return False
        return response.status_code == 200


def _error_message(response: requests.Response) -> str:
    """The app's ``{"message": ...}`` (its error answer), else the start of the body."""
    try:
        document = response.json()
    except ValueError:
        return response.text[:GATEWAY_REASON_MAX] or "no body"
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        return document["message"]
    return "no error message"


SENDERS[TYPE] = AndroidGateway
