"""Officers' workbench accounts, without HTTP: roles, argon2id passwords, TOTP, failed-login
locks, server-side sessions and the audit log.

Everything lives in the database, so a lock, a session or a logout holds across workers and
machines. Only digests of session tokens are stored; the CSRF token of a session is kept
as is (it proves nothing without the session cookie).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import hmac
import logging
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from central.db import Database
from central.models import AuditEntry, LoginFailure, Officer, WorkbenchSession
from central.service import token_digest
from kiosk.kernel.clock import utc_now

log = logging.getLogger(__name__)

ROLES = ("admin", "agency", "viewer")
PASSWORD_MIN = 12
PASSWORD_MAX = 1024  # argon2 takes any length; this only bounds the work one request can ask for
#: After this many failures in a row an account is locked for LOCK_TIME (also a name that
#: is no account, so the page cannot tell which names exist).
MAX_FAILURES = 5
LOCK_TIME = dt.timedelta(minutes=15)
#: Failures from one client address (any names) within LOCK_TIME before it must wait.
MAX_ADDRESS_FAILURES = 20
SESSION_IDLE = dt.timedelta(minutes=30)
SESSION_ABSOLUTE = dt.timedelta(hours=12)
#: A session between the password and the TOTP code lives this long.
TOTP_STAGE_TIME = dt.timedelta(minutes=5)

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
#: Verified for a name that is no account, so such an attempt costs the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A CLI-level problem: unknown officer, bad role or agency, weak password."""


def _name_digest(name: str) -> str:
    return hashlib.sha256(name.strip().casefold().encode("utf-8")).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"a password needs at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise AccountError(f"a password has at most {PASSWORD_MAX} characters")


# -- accounts (the CLI) ---------------------------------------------------------------------
def add_account(db: Database, name: str, role: str, password: str, agency: str | None, known_agencies: set[str]) -> None:
    """A workbench account (no API token). ``agency`` is required for, and only for, ``agency``."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    if role == "agency":
        agency = (agency or "").strip().upper()
        if agency not in known_agencies:
            raise AccountError(f"role agency needs --agency, one of: {', '.join(sorted(known_agencies))}")
    elif agency:
        raise AccountError("--agency is only for role agency")
    if not name.strip() or len(name) > 100:
        raise AccountError("a name of 1 to 100 characters is required")
    check_password_rules(password)
    now = utc_now()
    try:
        with db.session() as session, session.begin():
            session.add(Officer(name=name, token_sha256=None, created_at=now, role=role, agency_code=agency or None,
                                password_hash=_hasher.hash(password), failed_logins=0, password_changed_at=now))
    except IntegrityError:
        raise AccountError(f"officer {name} is already registered") from None
    log.info("workbench account added (role %s)", role)


def set_password(db: Database, name: str, password: str) -> None:
    """A new password (also unlocks the account and ends its sessions)."""
    check_password_rules(password)
    now = utc_now()
    with db.session() as session, session.begin():
        officer = session.get(Officer, name)
        if officer is None:
            raise AccountError(f"no officer {name}")
        officer.password_hash = _hasher.hash(password)
        officer.password_changed_at = now
        officer.failed_logins = 0
        officer.locked_until = None
        _end_sessions(session, name, now)
        session.add(AuditEntry(at=now, officer_name=name, event="password_set_cli", address=""))


def enrol_totp(db: Database, name: str, issuer: str = "LAPOR! Workbench") -> str:
    """A new TOTP secret for the officer (replacing any); returns the otpauth:// URI."""
    import pyotp

    secret = pyotp.random_base32()
    with db.session() as session, session.begin():
        officer = session.get(Officer, name)
        if officer is None:
            raise AccountError(f"no officer {name}")
        officer.totp_secret = secret
        officer.totp_last_step = None
        session.add(AuditEntry(at=utc_now(), officer_name=name, event="totp_enrolled", address=""))
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


# -- signing in ------------------------------------------------------------------------------
class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"  # a session at stage ok
    NEEDS_TOTP = "needs_totp"  # a session at stage totp
    ENROL_TOTP = "enrol_totp"  # an admin without TOTP: no session
    WRONG = "wrong"
    LOCKED = "locked"  # the account (or the name) is locked, or the address waits


@dataclasses.dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    token: str | None = None  # the new session's cookie value


def _address_waits(session, address: str, now: dt.datetime) -> bool:
    count = session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.address == address, LoginFailure.at > now - LOCK_TIME))
    return count >= MAX_ADDRESS_FAILURES


def _fail(session, officer: Officer | None, name: str, address: str, now: dt.datetime) -> Outcome:
    session.add(LoginFailure(at=now, address=address, name_sha256=_name_digest(name)))
    if officer is not None:
        officer.failed_logins += 1
        if officer.failed_logins >= MAX_FAILURES:
            officer.failed_logins = 0
            officer.locked_until = now + LOCK_TIME
            session.add(AuditEntry(at=now, officer_name=officer.name, event="login_locked", address=address))
            return Outcome.LOCKED
        session.add(AuditEntry(at=now, officer_name=officer.name, event="login_failed", address=address))
        return Outcome.WRONG
    session.add(AuditEntry(at=now, officer_name=None, event="login_failed", address=address))
    recent = session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.name_sha256 == _name_digest(name), LoginFailure.at > now - LOCK_TIME))
    return Outcome.LOCKED if recent >= MAX_FAILURES else Outcome.WRONG


def _locked(officer: Officer | None, session, name: str, now: dt.datetime) -> bool:
    if officer is not None:
        return officer.locked_until is not None and officer.locked_until > now
    recent = session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.name_sha256 == _name_digest(name), LoginFailure.at > now - LOCK_TIME))
    return recent >= MAX_FAILURES


def sign_in(db: Database, name: str, password: str, address: str) -> Attempt:
    """Check a name and password. A wrong password, a locked account and a name that is no
    account take the same time and say only WRONG or LOCKED."""
    now = utc_now()
    name = name.strip()[:100]
    password = password[:PASSWORD_MAX]
    with db.session() as session, session.begin():
        officer = session.get(Officer, name, with_for_update=True) if name else None
        if officer is not None and (officer.revoked_at is not None or officer.password_hash is None):
            officer = None  # no workbench account (an API token only, or revoked): as if unknown
        if _address_waits(session, address, now) or _locked(officer, session, name, now):
            _verify(_DUMMY_HASH, password)
            session.add(AuditEntry(at=now, officer_name=officer.name if officer else None, event="login_locked",
                                   address=address))
            return Attempt(Outcome.LOCKED)
        if officer is None or not _verify(officer.password_hash, password):
            if officer is None:
                _verify(_DUMMY_HASH, password)
            return Attempt(_fail(session, officer, name, address, now))
        officer.failed_logins = 0
        officer.locked_until = None
        if _hasher.check_needs_rehash(officer.password_hash):
            officer.password_hash = _hasher.hash(password)
        if officer.totp_secret is None and officer.role == "admin":
            session.add(AuditEntry(at=now, officer_name=officer.name, event="login_needs_totp_enrolment", address=address))
            return Attempt(Outcome.ENROL_TOTP)
        stage = "totp" if officer.totp_secret else "ok"
        token = _new_session(session, officer.name, stage, now)
        if stage == "ok":
            session.add(AuditEntry(at=now, officer_name=officer.name, event="login_ok", address=address))
    return Attempt(Outcome.SIGNED_IN if stage == "ok" else Outcome.NEEDS_TOTP, token)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def check_totp(db: Database, token: str, code: str, address: str) -> tuple[Outcome, str | None]:
    """The second step: (SIGNED_IN, the new session's token: the half-signed-in one ends),
    (WRONG, None) or (LOCKED, None). A wrong code counts as a failed login; a code is
    accepted once (no replay)."""
    import pyotp

    now = utc_now()
    code = "".join(code.split())
    with db.session() as session, session.begin():
        row = session.get(WorkbenchSession, token_digest(token), with_for_update=True)
        if row is None or row.stage != "totp" or row.ended_at is not None or row.created_at + TOTP_STAGE_TIME < now:
            return Outcome.WRONG, None
        officer = session.get(Officer, row.officer_name, with_for_update=True)
        if _locked(officer, session, officer.name, now) or _address_waits(session, address, now):
            row.ended_at = now
            session.add(AuditEntry(at=now, officer_name=officer.name, event="login_locked", address=address))
            return Outcome.LOCKED, None
        totp = pyotp.TOTP(officer.totp_secret)
        step_now = int(now.timestamp()) // totp.interval
        matched = None
        if code.isdigit() and len(code) == totp.digits:
            for step in (step_now - 1, step_now, step_now + 1):  # a phone's clock 30 s off
                if hmac.compare_digest(totp.at(step * totp.interval), code):
                    matched = step
        if matched is None or (officer.totp_last_step is not None and matched <= officer.totp_last_step):
            outcome = _fail(session, officer, officer.name, address, now)
            if outcome is Outcome.LOCKED:
                row.ended_at = now
            return outcome, None
        officer.totp_last_step = matched
        officer.failed_logins = 0
        row.ended_at = now
        signed_in = _new_session(session, officer.name, "ok", now)
        session.add(AuditEntry(at=now, officer_name=officer.name, event="login_ok", address=address))
    return Outcome.SIGNED_IN, signed_in


# -- sessions --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SignedIn:
    """The officer behind a live session, as the pages need them."""

    name: str
    role: str
    agency_code: str | None
    csrf_token: str
    stage: str


def _new_session(session, name: str, stage: str, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(WorkbenchSession(token_sha256=token_digest(token), officer_name=name, csrf_token=secrets.token_urlsafe(32),
                                 stage=stage, created_at=now, last_seen_at=now))
    return token


def session_of(db: Database, token: str) -> SignedIn | None:
    """The live session of a cookie (idle and absolute expiry, not ended, officer not
    revoked); touches its last use at most once a minute."""
    if not token:
        return None
    now = utc_now()
    digest = token_digest(token)
    with db.session() as session:
        found = session.execute(select(WorkbenchSession, Officer).join(Officer).where(
            WorkbenchSession.token_sha256 == digest)).first()
        if found is None:
            return None
        row, officer = found
        if (row.ended_at is not None or officer.revoked_at is not None or row.last_seen_at + SESSION_IDLE < now
                or row.created_at + SESSION_ABSOLUTE < now):
            return None
        signed_in = SignedIn(officer.name, officer.role, officer.agency_code, row.csrf_token, row.stage)
        if now - row.last_seen_at > dt.timedelta(minutes=1):
            session.execute(update(WorkbenchSession).where(WorkbenchSession.token_sha256 == digest)
                            .values(last_seen_at=now))
            session.commit()
        return signed_in


def sign_out(db: Database, token: str, address: str) -> None:
    now = utc_now()
    with db.session() as session, session.begin():
        row = session.get(WorkbenchSession, token_digest(token))
        if row is not None and row.ended_at is None:
            row.ended_at = now
            session.add(AuditEntry(at=now, officer_name=row.officer_name, event="logout", address=address))


def _end_sessions(session, name: str, now: dt.datetime, keep: str | None = None) -> None:
    query = update(WorkbenchSession).where(WorkbenchSession.officer_name == name, WorkbenchSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(WorkbenchSession.token_sha256 != keep)
    session.execute(query.values(ended_at=now))


def change_password(db: Database, token: str, old: str, new: str, address: str) -> bool:
    """False when ``old`` is wrong (counted as a failed login); raises AccountError for a
    new password that breaks the rules. Ends the officer's other sessions."""
    check_password_rules(new)
    now = utc_now()
    with db.session() as session, session.begin():
        row = session.get(WorkbenchSession, token_digest(token))
        officer = session.get(Officer, row.officer_name, with_for_update=True)
        if not _verify(officer.password_hash, old[:PASSWORD_MAX]):
            _fail(session, officer, officer.name, address, now)
            return False
        officer.password_hash = _hasher.hash(new)
        officer.password_changed_at = now
        _end_sessions(session, officer.name, now, keep=row.token_sha256)
        session.add(AuditEntry(at=now, officer_name=officer.name, event="password_changed", address=address))
    return True


def audit(db: Database, name: str, event: str, address: str, tracking_id: str | None = None) -> None:
    with db.session() as session, session.begin():
        session.add(AuditEntry(at=utc_now(), officer_name=name, event=event, tracking_id=tracking_id, address=address))


def issue_token(db: Database, name: str) -> str:
    """A new API token for an officer (the old one stops working); returns it, shown once.
    The token acts with the officer's role and agency (``central.actions``)."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    with db.session() as session, session.begin():
        officer = session.get(Officer, name)
        if officer is None:
            raise AccountError(f"no officer {name}")
        officer.token_sha256 = token_digest(token)
        session.add(AuditEntry(at=now, officer_name=name, event="token_issued", address=""))
    return token


def forget_old_sessions(db: Database) -> int:
    """Delete sessions and failures nobody can use any more (called at sign-in)."""
    now = utc_now()
    with db.session() as session, session.begin():
        gone = session.execute(delete(WorkbenchSession).where(
            WorkbenchSession.created_at < now - SESSION_ABSOLUTE - dt.timedelta(days=1))).rowcount
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - dt.timedelta(days=1)))
    return gone
