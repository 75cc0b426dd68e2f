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

from central.crypto import SecretBox, open_secret
from central.db import Database
from central.models import AuditEntry, LoginFailure, Officer, WorkbenchSession
from central.service import token_digest
from kiosk.kernel.clock import utc_now
from kiosk.kernel.i18n import N_

log = logging.getLogger(__name__)

ROLES = ("admin", "agency", "viewer")
#: An API token only (``officer add NAME`` without a role, and the tokens made before roles:
#: migration c0009): every lifecycle action through the officer API, no workbench account.
SCRIPT = "script"
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
    """A CLI-level problem: unknown officer, bad role or agency, weak password. ``msgid``:
    the same in words for the workbench's pages (a msgid of kiosk/locale)."""

    def __init__(self, message: str, msgid: str | None = None):
        super().__init__(message)
        self.msgid = msgid or message


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
    agency = _role_and_agency(role, agency, known_agencies)
    if not name.strip() or len(name) > 100 or name != name.strip():
        raise AccountError("a name of 1 to 100 characters is required, without spaces around it",
                           N_("A name of 1 to 100 characters is required."))
    check_password_rules(password)
    now = utc_now()
    try:
        with db.session() as session, session.begin():
            session.add(Officer(name=name, token_sha256=None, created_at=now, role=role, agency_code=agency,
                                password_hash=_hasher.hash(password), failed_logins=0, password_changed_at=now,
                                must_change_password=False))
    except IntegrityError:
        raise AccountError(f"officer {name} is already registered", N_("This name is already registered.")) from None
    log.info("workbench account added (role %s)", role)


def _not_a_script(officer: Officer) -> None:
    """A script's API token never becomes a workbench account (no password, TOTP or role)."""
    if officer.role == SCRIPT:
        raise AccountError(f"{officer.name} is a script's API token (role script), not a workbench account: "
                           "add the officer a workbench account of their own (officer add NAME --role ...)",
                           N_("This is a script's API token, not a workbench account: add the officer an "
                              "account of their own."))


def _role_and_agency(role: str, agency: str | None, known_agencies: set[str]) -> str | None:
    """The agency code a role takes (None but for ``agency``); AccountError when wrong."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of: {', '.join(ROLES)}", N_("Choose a role."))
    if role == "agency":
        agency = (agency or "").strip().upper()
        if agency not in known_agencies:
            raise AccountError(f"role agency needs --agency, one of: {', '.join(sorted(known_agencies))}",
                               N_("An agency officer needs an agency."))
        return agency
    if agency:
        raise AccountError("--agency is only for role agency", N_("Only an agency officer has an agency."))
    return None


def set_password(db: Database, name: str, password: str) -> None:
    """A new password (also unlocks the account and ends its sessions)."""
    check_password_rules(password)
    now = utc_now()
    with db.session() as session, session.begin():
        officer = session.get(Officer, name)
        if officer is None:
            raise AccountError(f"no officer {name}")
        _not_a_script(officer)
        officer.password_hash = _hasher.hash(password)
        officer.password_changed_at = now
        officer.must_change_password = False
        officer.failed_logins = 0
        officer.locked_until = None
        _end_sessions(session, name, now)
        session.add(AuditEntry(at=now, officer_name=name, event="password_set_cli", address=""))


ISSUER = "LAPOR! Workbench"


def enrol_totp(db: Database, name: str, box: SecretBox | None) -> str:
    """A new TOTP secret for the officer (replacing any), sealed with the central's key;
    returns the otpauth:// URI. Without a key: AccountError saying what to configure."""
    import pyotp

    from central.crypto import HOW_TO_CONFIGURE

    if box is None:
        raise AccountError(HOW_TO_CONFIGURE, N_("Two-step login cannot be set up: the central has no secret key "
                                             "configured (docs/DEPLOY.md, the secret key)."))
    secret = pyotp.random_base32()
    with db.session() as session, session.begin():
        officer = session.get(Officer, name)
        if officer is None:
            raise AccountError(f"no officer {name}")
        _not_a_script(officer)
        officer.totp_secret = box.seal(secret)
        officer.totp_last_step = None
        session.add(AuditEntry(at=utc_now(), officer_name=name, event="totp_enrolled", address=""))
    return otpauth_uri(name, secret)


def otpauth_uri(name: str, secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def seal_plain_secrets(db: Database, box: SecretBox) -> int:
    """Seal the TOTP secrets stored in clear before the central had a key (called at every
    start with a key; each row only if it is still the same, so workers starting together
    seal each secret once). Returns how many were sealed."""
    from central.crypto import SEALED

    sealed = 0
    with db.session() as session, session.begin():
        plain = session.execute(select(Officer.name, Officer.totp_secret).where(
            Officer.totp_secret.is_not(None), Officer.totp_secret.not_like(SEALED + "%"))).all()
        for name, secret in plain:
            sealed += session.execute(update(Officer).where(Officer.name == name, Officer.totp_secret == secret)
                                      .values(totp_secret=box.seal(secret))).rowcount
    return sealed


def plain_secrets(db: Database) -> int:
    """How many TOTP secrets are stored in clear (a central without a key warns of them)."""
    from central.crypto import SEALED

    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Officer).where(
            Officer.totp_secret.is_not(None), Officer.totp_secret.not_like(SEALED + "%")))


# -- signing in ------------------------------------------------------------------------------
class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"  # a session at stage ok
    NEEDS_TOTP = "needs_totp"  # a session at stage totp
    ENROL_TOTP = "enrol_totp"  # an admin without TOTP: a session at stage enrol
    MUST_CHANGE = "must_change"  # a one-time password: a session at stage change
    WRONG = "wrong"
    LOCKED = "locked"  # the account (or the name) is locked, or the address waits


#: The stage of a new session for each outcome that makes one.
STAGES = {Outcome.SIGNED_IN: "ok", Outcome.NEEDS_TOTP: "totp", Outcome.ENROL_TOTP: "enrol",
          Outcome.MUST_CHANGE: "change"}


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
        if officer is not None and (officer.disabled_at is not None or officer.password_hash is None
                                    or officer.role not in ROLES):
            officer = None  # no workbench account (an API token only, or disabled): as if unknown
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
            outcome = Outcome.ENROL_TOTP
        elif officer.totp_secret:
            outcome = Outcome.NEEDS_TOTP
        else:
            outcome = _signed_in(session, officer, address, now)
        token = _new_session(session, officer.name, STAGES[outcome], now)
    return Attempt(outcome, token)


def _signed_in(session, officer: Officer, address: str, now: dt.datetime) -> Outcome:
    """Every factor checked: the login counts (audit, last login); a one-time password
    must still be changed before the workbench opens."""
    officer.failed_logins = 0
    officer.last_login_at = now
    session.add(AuditEntry(at=now, officer_name=officer.name, event="login_ok", address=address))
    return Outcome.MUST_CHANGE if officer.must_change_password else Outcome.SIGNED_IN


def _match(secret: str, code: str, last_step: int | None, now: dt.datetime) -> int | None:
    """The time step a code belongs to (the one before, now or after: a phone's clock 30 s
    off), or None when it is wrong or was already used."""
    import pyotp

    totp = pyotp.TOTP(secret)
    step_now = int(now.timestamp()) // totp.interval
    matched = None
    if code.isdigit() and len(code) == totp.digits:
        for step in (step_now - 1, step_now, step_now + 1):
            if hmac.compare_digest(totp.at(step * totp.interval), code):
                matched = step
    if matched is None or (last_step is not None and matched <= last_step):
        return None
    return matched


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def check_totp(db: Database, box: SecretBox | None, token: str, code: str, address: str) -> tuple[Outcome, str | None]:
    """The second step: (SIGNED_IN or MUST_CHANGE, the new session's token: the
    half-signed-in one ends), (WRONG, None) or (LOCKED, None). A wrong code counts as a
    failed login; a code is accepted once (no replay). A sealed secret without the key:
    ``central.crypto.SecretKeyError``."""
    return _second_factor(db, box, token, code, address, stage="totp")


def confirm_enrolment(db: Database, box: SecretBox | None, token: str, code: str,
                      address: str) -> tuple[Outcome, str | None]:
    """An admin enrolling at login confirms the secret shown (``pending_enrolment``) with one
    code: it becomes theirs, and the login goes on as ``check_totp``'s does."""
    return _second_factor(db, box, token, code, address, stage="enrol")


def _second_factor(db: Database, box: SecretBox | None, token: str, code: str, address: str,
                   stage: str) -> tuple[Outcome, str | None]:
    now = utc_now()
    code = "".join(code.split())
    with db.session() as session, session.begin():
        row = session.get(WorkbenchSession, token_digest(token), with_for_update=True)
        if row is None or row.stage != stage or row.ended_at is not None or row.created_at + TOTP_STAGE_TIME < now:
            return Outcome.WRONG, None
        officer = session.get(Officer, row.officer_name, with_for_update=True)
        if (officer.disabled_at is not None or _locked(officer, session, officer.name, now)
                or _address_waits(session, address, now)):
            row.ended_at = now
            session.add(AuditEntry(at=now, officer_name=officer.name, event="login_locked", address=address))
            return Outcome.LOCKED, None
        stored = row.pending_totp if stage == "enrol" else officer.totp_secret
        if stored is None:
            return Outcome.WRONG, None
        matched = _match(open_secret(box, stored), code, officer.totp_last_step if stage == "totp" else None, now)
        if matched is None:
            outcome = _fail(session, officer, officer.name, address, now)
            if outcome is Outcome.LOCKED:
                row.ended_at = now
            return outcome, None
        if stage == "enrol":
            officer.totp_secret = stored
            session.add(AuditEntry(at=now, officer_name=officer.name, event="totp_enrolled", address=address))
        officer.totp_last_step = matched
        row.ended_at = now
        outcome = _signed_in(session, officer, address, now)
        signed_in = _new_session(session, officer.name, STAGES[outcome], now)
    return outcome, signed_in


def pending_enrolment(db: Database, box: SecretBox | None, token: str, stage: str = "enrol") -> tuple[str, str] | None:
    """(secret, otpauth URI) an officer enrolling is shown: an admin at login (stage
    ``enrol``) or anyone from their own page (stage ``ok``, ``confirm_own_enrolment``); made
    at the first look and kept sealed on the session until confirmed. None: no such
    session. Without a key: ``central.crypto.SecretKeyError`` (nothing unsealed is ever
    stored)."""
    import pyotp

    from central.crypto import HOW_TO_CONFIGURE, SecretKeyError

    now = utc_now()
    with db.session() as session, session.begin():
        row = session.get(WorkbenchSession, token_digest(token), with_for_update=True)
        if row is None or row.stage != stage or row.ended_at is not None or (
                stage == "enrol" and row.created_at + TOTP_STAGE_TIME < now):
            return None
        if box is None:
            raise SecretKeyError(HOW_TO_CONFIGURE)
        if row.pending_totp is None:
            row.pending_totp = box.seal(pyotp.random_base32())
        secret = box.open(row.pending_totp)
        return secret, otpauth_uri(row.officer_name, secret)


def confirm_own_enrolment(db: Database, box: SecretBox | None, token: str, password: str, code: str,
                          address: str) -> bool:
    """A signed-in officer turns two-step login on from their own page: their current
    password and one code of the secret shown (``pending_enrolment(..., stage="ok")``) make
    it theirs, and their other sessions end (they began without it). The password keeps a
    borrowed or stolen session from tying the account to someone else's phone. False for a
    wrong password (counted as a failed login) or a wrong code (not counted: the officer
    has just proved who they are and the secret is on their screen)."""
    now = utc_now()
    code = "".join(code.split())
    with db.session() as session, session.begin():
        row = session.get(WorkbenchSession, token_digest(token), with_for_update=True)
        if row is None or row.stage != "ok" or row.ended_at is not None or row.pending_totp is None:
            return False
        officer = session.get(Officer, row.officer_name, with_for_update=True)
        if not _verify(officer.password_hash, password[:PASSWORD_MAX]):
            _fail(session, officer, officer.name, address, now)
            return False
        matched = _match(open_secret(box, row.pending_totp), code, None, now)
        if matched is None or officer.totp_secret is not None:
            return False
        officer.totp_secret, officer.totp_last_step, row.pending_totp = row.pending_totp, matched, None
        _end_sessions(session, officer.name, now, keep=row.token_sha256)
        session.add(AuditEntry(at=now, officer_name=officer.name, event="totp_enrolled", address=address))
    return True


def turn_off_totp(db: Database, box: SecretBox | None, token: str, code: str, address: str) -> bool:
    """A signed-in agency officer or viewer turns two-step login off with a current code
    (each code once); False when the code is wrong, counted as a failed login. An admin
    cannot (AccountError): it is required for the role."""
    now = utc_now()
    code = "".join(code.split())
    with db.session() as session, session.begin():
        row = session.get(WorkbenchSession, token_digest(token))
        officer = session.get(Officer, row.officer_name, with_for_update=True)
        if officer.role == "admin":
            raise AccountError("two-step login is required for admins",
                               N_("Administrators must use two-step login; it cannot be turned off."))
        if officer.totp_secret is None:
            return True
        matched = _match(open_secret(box, officer.totp_secret), code, officer.totp_last_step, now)
        if matched is None:
            _fail(session, officer, officer.name, address, now)
            return False
        officer.totp_secret, officer.totp_last_step = None, None
        session.add(AuditEntry(at=now, officer_name=officer.name, event="totp_disabled", address=address))
    return True


# -- sessions --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SignedIn:
    """The officer behind a live session, as the pages need them."""

    name: str
    role: str
    agency_code: str | None
    csrf_token: str
    stage: str
    totp: bool = False  # two-step login enrolled


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
        if (row.ended_at is not None or officer.disabled_at is not None or row.last_seen_at + SESSION_IDLE < now
                or row.created_at + SESSION_ABSOLUTE < now):
            return None
        signed_in = SignedIn(officer.name, officer.role, officer.agency_code, row.csrf_token, row.stage,
                             officer.totp_secret is not None)
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


def replace_one_time_password(db: Database, token: str, new: str, address: str) -> str | None:
    """At stage ``change``: the officer's own password replaces the one an admin gave;
    returns the new session's token (stage ``ok``), None when the session is no such
    session. AccountError when ``new`` breaks the rules or is the one-time password."""
    check_password_rules(new)
    now = utc_now()
    with db.session() as session, session.begin():
        row = session.get(WorkbenchSession, token_digest(token), with_for_update=True)
        if row is None or row.stage != "change" or row.ended_at is not None or row.created_at + TOTP_STAGE_TIME < now:
            return None
        officer = session.get(Officer, row.officer_name, with_for_update=True)
        if officer.disabled_at is not None:
            return None
        if _verify(officer.password_hash, new):
            raise AccountError("the new password must differ from the one-time password",
                               N_("Choose a password of your own, not the one-time password."))
        officer.password_hash = _hasher.hash(new)
        officer.password_changed_at = now
        officer.must_change_password = False
        _end_sessions(session, officer.name, now)
        session.add(AuditEntry(at=now, officer_name=officer.name, event="password_changed", address=address))
        return _new_session(session, officer.name, "ok", now)


def audit(db: Database, name: str, event: str, address: str, tracking_id: str | None = None,
          detail: str | None = None) -> None:
    """One line of the audit log; ``detail``: what else it needs (never citizen text)."""
    with db.session() as session, session.begin():
        session.add(AuditEntry(at=utc_now(), officer_name=name, event=event, tracking_id=tracking_id, address=address,
                               detail=detail))


def issue_token(db: Database, name: str) -> str:
    """A new API token for an officer (the old one stops working, and a revoked one is
    replaced); returns it, shown once. The token acts with the officer's role and agency
    (``central.actions``), and only while the account is not disabled."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    with db.session() as session, session.begin():
        officer = session.get(Officer, name)
        if officer is None:
            raise AccountError(f"no officer {name}")
        officer.token_sha256 = token_digest(token)
        officer.revoked_at = None
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


# -- accounts from the admin's pages ---------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Account:
    """One line of the accounts page."""

    name: str
    role: str
    agency_code: str | None
    totp: bool
    locked: bool
    last_login_at: dt.datetime | None
    disabled: bool
    has_password: bool
    must_change_password: bool
    token: str | None  # the API token: "active", "revoked", or None when there is none


def list_accounts(db: Database) -> list[Account]:
    """Every officer with a workbench account or an API token, by name."""
    now = utc_now()
    with db.session() as session:
        return [Account(o.name, o.role, o.agency_code, o.totp_secret is not None,
                        o.locked_until is not None and o.locked_until > now, o.last_login_at, o.disabled_at is not None,
                        o.password_hash is not None, o.must_change_password,
                        None if o.token_sha256 is None else "revoked" if o.revoked_at is not None else "active")
                for o in session.scalars(select(Officer).order_by(Officer.name))]


#: A one-time password: 4 groups of 5 from an alphabet without look-alikes (about 99 bits).
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def one_time_password() -> str:
    return "-".join("".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(5)) for _ in range(4))


def _account_audit(session, actor: str, event: str, subject: str, address: str, now: dt.datetime) -> None:
    session.add(AuditEntry(at=now, officer_name=actor, event=event, subject=subject, address=address))


def _target(session, name: str) -> Officer:
    officer = session.get(Officer, name, with_for_update=True)
    if officer is None:
        raise AccountError(f"no officer {name}", N_("There is no such account."))
    return officer


def _active_admins(session) -> set[str]:
    """The admins who can sign in, their rows locked until the end of the transaction, so
    that two admins disabling each other at once cannot both succeed."""
    return set(session.scalars(select(Officer.name).where(
        Officer.role == "admin", Officer.disabled_at.is_(None), Officer.password_hash.is_not(None))
        .with_for_update()))


def _keep_an_admin(session, name: str) -> None:
    if _active_admins(session) <= {name}:
        raise AccountError("the kabupaten would have no active admin left",
                           N_("This would leave no active administrator: add or enable another one first."))


def create_account(db: Database, actor: str, name: str, role: str, agency: str | None, known_agencies: set[str],
                   address: str) -> str:
    """A new account with a one-time password (returned, to be shown once): the officer
    must choose their own at the first login."""
    password = one_time_password()
    add_account(db, name, role, password, agency, known_agencies)
    now = utc_now()
    with db.session() as session, session.begin():
        session.get(Officer, name).must_change_password = True
        _account_audit(session, actor, "account_added", name, address, now)
    return password


def set_disabled(db: Database, actor: str, name: str, disabled: bool, address: str) -> None:
    """Disable (every session ends at once; the API token is revoked; no login) or enable an
    account (it can log in again; a revoked token stays revoked: ``issue_token`` gives a new
    one). Never the last active admin."""
    now = utc_now()
    with db.session() as session, session.begin():
        officer = _target(session, name)
        if disabled:
            if officer.role == "admin":
                _keep_an_admin(session, name)
            officer.disabled_at = officer.disabled_at or now
            if officer.token_sha256 is not None:
                officer.revoked_at = officer.revoked_at or now
            _end_sessions(session, name, now)
        else:
            officer.disabled_at = None
        _account_audit(session, actor, "account_disabled" if disabled else "account_enabled", name, address, now)


def change_role(db: Database, actor: str, name: str, role: str, agency: str | None, known_agencies: set[str],
                address: str) -> None:
    """A new role (and agency). Never the last active admin's role away."""
    agency = _role_and_agency(role, agency, known_agencies)
    now = utc_now()
    with db.session() as session, session.begin():
        officer = _target(session, name)
        _not_a_script(officer)
        if officer.role == "admin" and role != "admin":
            _keep_an_admin(session, name)
        officer.role, officer.agency_code = role, agency
        _account_audit(session, actor, "account_role_changed", name, address, now)


def reset_password(db: Database, actor: str, name: str, address: str) -> str:
    """A one-time password (returned, shown once) that must be changed at the next login;
    unlocks the account and ends its sessions."""
    password = one_time_password()
    now = utc_now()
    with db.session() as session, session.begin():
        officer = _target(session, name)
        _not_a_script(officer)
        officer.password_hash = _hasher.hash(password)
        officer.password_changed_at = now
        officer.must_change_password = True
        officer.failed_logins = 0
        officer.locked_until = None
        _end_sessions(session, name, now)
        _account_audit(session, actor, "password_reset", name, address, now)
    return password


def reset_totp(db: Database, actor: str, name: str, address: str) -> None:
    """Forget the officer's TOTP secret (a lost phone) and end their sessions: an admin
    enrols again at the next login; for others two-step login is off until enrolled."""
    now = utc_now()
    with db.session() as session, session.begin():
        officer = _target(session, name)
        _not_a_script(officer)
        officer.totp_secret = None
        officer.totp_last_step = None
        _end_sessions(session, name, now)
        _account_audit(session, actor, "totp_reset", name, address, now)


def unlock(db: Database, actor: str, name: str, address: str) -> None:
    now = utc_now()
    with db.session() as session, session.begin():
        officer = _target(session, name)
        officer.failed_logins = 0
        officer.locked_until = None
        _account_audit(session, actor, "account_unlocked", name, address, now)
