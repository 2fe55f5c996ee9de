"""Signing in to the studio: argon2 passwords, lockout after failures, one-time links."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher, extract_parameters, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION
from sqlalchemy import select, update

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import ValidationFailed
from cms_api.models import LoginLink, User
from cms_api.services import runtime
from cms_api.services.accounts import audit, sessions
from cms_api.services.accounts.audit import Actor

# NIST SP 800-63B: length is what makes a password strong; any characters are allowed.
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024
# The fifth failure within the window locks the account for LOCKOUT: online guessing gets
# 20 tries an hour per account, while a colleague who mistypes waits a coffee break.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
LINK_LIFETIME = timedelta(minutes=15)
# Where a sign-in link lands, below CMS_API_BASE_URL (the studio's route for it).
LINK_PATH = "/studio/sign-in/link"
MAX_SECRET_LENGTH = 100

# argon2id at each cost CMS_PASSWORD_HASHING may name (config.PASSWORD_HASHINGS).
HASHERS = {
    # argon2-cffi's default: RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes).
    "rfc9106-low-memory": PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
    # 8 KiB and one pass: a test suite signs in hundreds of times.
    "insecure-fast-for-tests": PasswordHasher.from_parameters(profiles.CHEAPEST),
}


def _hasher() -> PasswordHasher:
    return HASHERS[runtime.settings().password_hashing]


def _weaker_than_configured(password_hash: str) -> bool:
    """Whether this hash costs less to guess than the configured cost would make it: it is
    remade at sign-in then. A stronger one is kept (never made weaker by a cheaper setting)."""
    hasher = _hasher()
    stored = extract_parameters(password_hash)  # it has just verified: it is well formed
    return (
        stored.type != hasher.type
        or stored.version < ARGON2_VERSION
        or any(
            getattr(stored, name) < getattr(hasher, name)
            for name in ("time_cost", "memory_cost", "parallelism", "hash_len", "salt_len")
        )
    )


@cache
def _stand_in_hash(hashing: str) -> str:
    """A hash no password matches, verified against when there is no real one, so an
    unknown e-mail address costs the same argon2 time as a known one."""
    return HASHERS[hashing].hash(secrets.token_urlsafe(32))


def _verify(password_hash: str | None, password: str) -> bool:
    hashing = runtime.settings().password_hashing
    try:
        return HASHERS[hashing].verify(password_hash or _stand_in_hash(hashing), password)
    except (VerificationError, InvalidHashError):
        return False


def _link_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing (or too long to be one)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        message = f"A password needs at least {PASSWORD_MIN_LENGTH} characters."
    elif len(password) > PASSWORD_MAX_LENGTH:
        message = f"A password has at most {PASSWORD_MAX_LENGTH} characters."
    else:
        return
    raise ValidationFailed(message, errors={"json": {"password": [message]}})


def set_password(user: User, password: str, *, actor: Actor | None = None) -> int:
    """Give `user` a new password; every browser signed in as them is signed out, and a
    lock from failed sign-ins is lifted. Returns how many sessions ended."""
    check_password(password)
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            password_hash=_hasher().hash(password),
            failed_sign_ins=0,
            failed_since=None,
            locked_until=None,
        )
    )
    ended = sessions.end_all_for(user.id)
    audit.record(
        actor_id=actor.user_id if actor else None,
        action="user.password_set",
        target_type="user",
        target_id=user.id,
        after={"sessions_ended": ended},
        request_id=actor.request_id if actor else None,
    )
    return ended


@dataclass(frozen=True)
class SignInOutcome:
    """The user signed in, or None and why (for the audit log only: whoever is signing
    in is told the same thing for every reason, so that it reveals nothing)."""

    user: User | None
    reason: str | None = None  # unknown, wrong-password, locked, disabled

    @property
    def signed_in(self) -> bool:
        return self.user is not None


def attempt(email: str, password: str, *, request_id: str | None = None) -> SignInOutcome:
    """Check an e-mail address and password, counting failures towards a lock.

    The caller commits whatever the outcome: a failure's count must be kept. The user's
    row is locked while counting, so concurrent guesses cannot undercount.
    """
    address = email.strip().lower()[:320]
    user = db.session.scalar(select(User).where(User.email == address).with_for_update())
    # Always one argon2 verification, whatever is wrong: the answer's timing tells nothing.
    matches = _verify(user.password_hash if user else None, password[:PASSWORD_MAX_LENGTH])
    matches = matches and len(password) <= PASSWORD_MAX_LENGTH
    now = utcnow()
    if user is None:
        _record_failure(None, "unknown", request_id, email=address)
        return SignInOutcome(None, "unknown")
    if user.disabled_at is not None:
        _record_failure(user.id, "disabled", request_id)
        return SignInOutcome(None, "disabled")
    if user.locked_until is not None and user.locked_until > now:
        # Not counted: a lock ends when it says, however many guesses hit it meanwhile.
        _record_failure(user.id, "locked", request_id)
        return SignInOutcome(None, "locked")
    if not matches:
        _count_failure(user, now, request_id)
        return SignInOutcome(None, "wrong-password")
    values: dict[str, object] = {"failed_sign_ins": 0, "failed_since": None, "locked_until": None}
    if user.password_hash and _weaker_than_configured(user.password_hash):
        values["password_hash"] = _hasher().hash(password)
    db.session.execute(update(User).where(User.id == user.id).values(**values))
    return SignInOutcome(user)


def _count_failure(user: User, now: datetime, request_id: str | None) -> None:
    in_window = user.failed_since is not None and user.failed_since > now - FAILURE_WINDOW
    failures = user.failed_sign_ins + 1 if in_window else 1
    since = user.failed_since if in_window else now
    _record_failure(user.id, "wrong-password", request_id)
    if failures < MAX_FAILURES:
        values = {"failed_sign_ins": failures, "failed_since": since}
    else:
        locked_until = now + LOCKOUT
        values = {"failed_sign_ins": 0, "failed_since": None, "locked_until": locked_until}
        audit.record(
            actor_id=None,
            action="user.locked",
            target_type="user",
            target_id=user.id,
            after={"locked_until": locked_until.isoformat(), "failures": failures},
            request_id=request_id,
        )
    db.session.execute(update(User).where(User.id == user.id).values(**values))


def _record_failure(
    user_id: uuid.UUID | None, reason: str, request_id: str | None, *, email: str | None = None
) -> None:
    audit.record(
        actor_id=None,
        action="user.sign_in_failed",
        target_type="user",
        target_id=user_id or "unknown",
        after={"reason": reason} | ({"email": email} if email is not None else {}),
        request_id=request_id,
    )


@dataclass(frozen=True)
class IssuedLink:
    link: LoginLink
    url: str  # shown once; only its digest is stored


def link_url(secret: str) -> str:
    return f"{runtime.settings().api_base_url.rstrip('/')}{LINK_PATH}?token={secret}"


def issue_login_link(user: User, *, actor: Actor | None = None) -> IssuedLink:
    """A link that signs `user` in once, within LINK_LIFETIME (a disabled user's never)."""
    if user.disabled_at is not None:
        raise ValidationFailed(
            f"{user.email} is disabled; enable the user first.",
            errors={"json": {"user": ["Disabled."]}},
        )
    secret = secrets.token_urlsafe(32)
    link = LoginLink(
        id=uuid.uuid4(),
        user_id=user.id,
        digest=_link_digest(secret),
        expires_at=utcnow() + LINK_LIFETIME,
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        actor_id=actor.user_id if actor else None,
        action="user.login_link_create",
        target_type="user",
        target_id=user.id,
        after={"expires_at": link.expires_at.isoformat()},
        request_id=actor.request_id if actor else None,
    )
    return IssuedLink(link=link, url=link_url(secret))


def redeem_login_link(secret: str, *, request_id: str | None = None) -> User | None:
    """The user a link signs in, once; None for a link unknown, used, expired or of a
    disabled user. An admin made it, so it also lifts a lock from failed sign-ins.

    The caller commits whatever the outcome: a link is spent by its first use.
    """
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    link = db.session.scalar(
        select(LoginLink).where(LoginLink.digest == _link_digest(secret)).with_for_update()
    )
    now = utcnow()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    link.used_at = now
    db.session.flush()
    user = db.session.get(User, link.user_id)
    if user is None or user.disabled_at is not None:
        _record_failure(link.user_id, "disabled", request_id)
        return None
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_sign_ins=0, failed_since=None, locked_until=None)
    )
    return user
