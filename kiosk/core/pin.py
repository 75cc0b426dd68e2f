"""The admin PIN: a slow, salted hash (scrypt) and a guard that locks after repeated wrong
PINs, keeping its count in a file so that switching the kiosk off and on again does not
reset a lock. UI-free: the admin screen's PIN pad and ``kiosk admin hash-pin`` use it.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
from pathlib import Path
from typing import Callable

from kiosk.core.flow import Message
from kiosk.kernel.i18n import N_

log = logging.getLogger(__name__)

PIN_PATTERN = re.compile(r"^[0-9]{6,12}$")
#: scrypt cost: about 0.1 s and 32 MiB per try on a small kiosk PC (RFC 7914's interactive
#: login figures), so a stolen config file does not give the PIN away cheaply.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
#: Wrong PINs in a row before the admin screen locks; the lock doubles each time.
MAX_TRIES = 5
FIRST_LOCK_S, LONGEST_LOCK_S = 300.0, 3600.0


class PinError(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 2**20, dklen=32)


def hash_pin(pin: str) -> str:
    """``scrypt$N$r$p$salt$hash`` for the config key ``admin_pin_hash``."""
    if not PIN_PATTERN.match(pin):
        raise PinError("the PIN must be 6 to 12 digits")
    salt = os.urandom(16)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(_scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        raise ValueError(scheme)
    return int(n), int(r), int(p), _unb64(salt), _unb64(digest)


def check_pin_hash(value: str) -> str | None:
    """Config check: empty (admin screen off) or a hash made by ``kiosk admin hash-pin``."""
    if not value:
        return None
    try:
        n, r, p, salt, digest = _parse(value)
    except (ValueError, TypeError):
        return "not a PIN hash: make one with `kiosk admin hash-pin`"
    if n < 2**14 or len(salt) < 16 or len(digest) != 32:
        return "too weak a PIN hash: make one with `kiosk admin hash-pin`"
    return None


def verify_pin(pin: str, stored: str) -> bool:
    try:
        n, r, p, salt, digest = _parse(stored)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(_scrypt(pin, salt, n, r, p), digest)


@dataclasses.dataclass(frozen=True)
class PinAnswer:
    ok: bool
    locked_s: float = 0.0  # > 0: locked, try again after this many seconds
    tries_left: int = MAX_TRIES


class PinGuard:
    """Checks PINs and keeps the count of wrong ones in a file, so switching the kiosk
    off and on again does not reset a lock."""

    def __init__(self, stored_hash: str, state_file: Path, now: Callable[[], dt.datetime]):
        self.stored_hash, self.state_file, self.now = stored_hash, state_file, now

    @property
    def enabled(self) -> bool:
        return bool(self.stored_hash)

    def _state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(state), encoding="utf-8")
            os.replace(tmp, self.state_file)
        except OSError as exc:  # a full disk must not open the admin screen: the count stays in memory too
            log.warning("admin lockout state not saved: %s", exc.strerror)

    def locked_for(self) -> float:
        until = self._state().get("locked_until")
        if not until:
            return 0.0
        return max(0.0, (dt.datetime.fromisoformat(until) - self.now()).total_seconds())

    def try_pin(self, pin: str) -> PinAnswer:
        if not self.enabled:
            return PinAnswer(False, tries_left=0)
        state = self._state()
        locked = self.locked_for()
        if locked > 0:
            return PinAnswer(False, locked_s=locked, tries_left=0)
        if verify_pin(pin, self.stored_hash):
            self._save({})
            log.info("admin screen unlocked")
            return PinAnswer(True)
        failures = state.get("failures", 0) + 1
        log.warning("wrong admin PIN (%d in a row)", failures)
        if failures < MAX_TRIES:
            self._save({**state, "failures": failures})
            return PinAnswer(False, tries_left=MAX_TRIES - failures)
        lockouts = state.get("lockouts", 0) + 1
        seconds = min(LONGEST_LOCK_S, FIRST_LOCK_S * 2 ** (lockouts - 1))
        self._save({"failures": 0, "lockouts": lockouts,
                    "locked_until": (self.now() + dt.timedelta(seconds=seconds)).isoformat()})
        log.warning("admin screen locked for %d s after %d wrong PINs", seconds, MAX_TRIES)
        return PinAnswer(False, locked_s=seconds, tries_left=0)


#: Digits the pad takes: the longest PIN ``hash_pin`` accepts.
PAD_MAX_DIGITS = 12
WRONG_PIN = N_("Wrong PIN. {tries} tries left before the admin screen locks.")
LOCKED = N_("Too many wrong PINs. The admin screen is locked for {minutes} minutes.")


class PinPad:
    """The admin screen's PIN pad without a screen: the digits typed (never shown, only
    counted), and what to say after a try, as a msgid for the screen's language."""

    def __init__(self) -> None:
        self._digits = ""
        self.message: Message | None = None

    @property
    def shown(self) -> str:
        """One dot per digit typed."""
        return "\u25cf" * len(self._digits)

    def press(self, digit: str) -> None:
        if not (len(digit) == 1 and digit.isdigit()):
            raise ValueError("the PIN pad has only digits")
        self._digits = (self._digits + digit)[:PAD_MAX_DIGITS]
        self.message = None

    def backspace(self) -> None:
        self._digits = self._digits[:-1]

    def clear(self) -> None:
        """Leaving the admin screen: forget the digits and the message."""
        self._digits, self.message = "", None

    def submit(self, guard: PinGuard) -> bool:
        """Try the digits against ``guard`` (which counts and locks); True when they open
        the admin screen. The digits are forgotten either way."""
        pin, self._digits = self._digits, ""
        answer = guard.try_pin(pin)
        if answer.ok:
            self.message = None
        elif answer.locked_s:
            self.message = Message(LOCKED, (("minutes", max(1, round(answer.locked_s / 60))),))
        else:
            self.message = Message(WRONG_PIN, (("tries", answer.tries_left),))
        return answer.ok
