"""Users and bearer tokens: creation, authentication, revocation."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from cms_api.models import ApiToken, Person, User
from cms_api.models.user import ROLES
from cms_api.services import runtime
from cms_api.services.accounts import audit, sessions
from cms_api.services.accounts.audit import Actor

TOKEN_PREFIX = "cms_"
# last_used_at is a hint, not a log: write it at most once a minute per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough; slow hashes are for passwords.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def create_user(
    *,
    email: str,
    name: str,
    role: str,
    person_slug: str | None = None,
    actor: Actor | None = None,
) -> User:
    if role not in ROLES:
        raise ValidationFailed(
            f"Unknown role {role!r}; roles are {', '.join(ROLES)}.",
            errors={"json": {"role": ["Unknown role."]}},
        )
    person = None
    if person_slug:
        person = _person(person_slug)
    if role == "reviewer" and person is None:
        raise ValidationFailed(
            "A reviewer must be linked to a person with credentials.",
            errors={"json": {"person": ["Required for reviewers."]}},
        )
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"A user with the email {email!r} exists.")
    user = User(id=uuid.uuid4(), email=email, name=name, role=role, person=person)
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor_id=actor.user_id if actor else None,
        action="user.create",
        target_type="user",
        target_id=user.id,
        after={"email": email, "role": role, "person": person_slug},
        request_id=actor.request_id if actor else None,
    )
    return user


def max_token_lifetime() -> timedelta:
    return timedelta(days=runtime.settings().token_max_lifetime_days)


def _expiry_refused(message: str) -> DomainError:
    return ValidationFailed(message, errors={"json": {"expires_at": [message]}})


def token_expiry(expires_at: datetime | None) -> datetime:
    """The expiry a new token gets: the one asked for, within the maximum lifetime, or the
    maximum when none is asked for (a token that never expires is a leak that never ends)."""
    now = utcnow()
    latest = now + max_token_lifetime()
    if expires_at is None:
        return latest
    if expires_at <= now:
        raise _expiry_refused("The expiry is in the past.")
    if expires_at > latest:
        days = runtime.settings().token_max_lifetime_days
        raise _expiry_refused(
            f"Tokens live at most {days} days (CMS_TOKEN_MAX_LIFETIME_DAYS); "
            f"expire it by {latest.isoformat()}."
        )
    return expires_at


def issue_token(user: User, *, name: str, expires_at: datetime | None = None) -> IssuedToken:
    """A new token, expiring as `token_expiry` decides (a disabled user's answers 401 until
    the user is enabled)."""
    expires_at = token_expiry(expires_at)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=uuid.uuid4(),
        user_id=user.id,
        name=name,
        prefix=secret[:12],
        digest=token_digest(secret),
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    return IssuedToken(token=token, secret=secret)


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def authenticate(secret: str) -> User | None:
    """The active user a bearer token belongs to, or None for any token that is not good."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.digest == token_digest(secret))
    ).first()
    if row is None:
        return None
    token, user = row
    now = utcnow()
    if token.revoked_at or user.disabled_at or (token.expires_at and token.expires_at <= now):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # A plain UPDATE: it must not bump versions or collide with the request's own writes.
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        db.session.commit()
    return user


def find_user(email_or_id: str) -> User | None:
    try:
        return db.session.get(User, uuid.UUID(email_or_id))
    except ValueError:
        return db.session.scalar(select(User).where(User.email == email_or_id.strip().lower()))


def issue_token_for(
    user_id: uuid.UUID, *, name: str, expires_at: datetime | None, actor: Actor
) -> IssuedToken:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No user has this id.")
    issued = issue_token(user, name=name, expires_at=expires_at)
    audit.record(
        actor_id=actor.user_id,
        action="token.create",
        target_type="token",
        target_id=issued.token.id,
        after={"user_id": str(user.id), "name": name, "prefix": issued.token.prefix},
        request_id=actor.request_id,
    )
    return issued


def revoke_token_by_id(token_id: uuid.UUID, *, actor: Actor) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No token has this id.")
    was_revoked = token.revoked_at is not None
    revoke_token(token)
    if not was_revoked:
        audit.record(
            actor_id=actor.user_id,
            action="token.revoke",
            target_type="token",
            target_id=token.id,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at.isoformat()},
            request_id=actor.request_id,
        )
    return token


def get_user(
    user_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = False
) -> User:
    """A user by id (disabled ones too: there is no trash for users)."""
    query = select(User).where(User.id == user_id)
    if for_update:
        query = query.with_for_update()
    user = db.session.scalar(query)
    if user is None:
        raise NotFound("No user has this id.")
    return user


def _state(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "person": user.person.slug if user.person else None,
    }


def _keep_an_admin(user: User, *, doing: str) -> None:
    """Refuse to remove the last active admin: no one could manage accounts afterwards."""
    if user.role != "admin" or user.disabled_at is not None:
        return
    others = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "admin", User.disabled_at.is_(None), User.id != user.id)
    )
    if not others:
        raise Conflict(f"This is the last active admin; it cannot be {doing}.")


def _person(slug: str) -> Person:
    person = db.session.scalar(select(Person).where(Person.slug == slug))
    if person is None:
        raise ValidationFailed(
            f"No person has the slug {slug!r}.",
            errors={"json": {"person": ["Unknown person."]}},
        )
    return person


def update_user(user: User, data: dict[str, Any], *, actor: Actor | None = None) -> User:
    """Change a user's name, role or person; a reviewer keeps a person to sign off as."""
    before = _state(user)
    role = data.get("role", user.role)
    if role not in ROLES:
        raise ValidationFailed(
            f"Unknown role {role!r}; roles are {', '.join(ROLES)}.",
            errors={"json": {"role": ["Unknown role."]}},
        )
    if role != "admin":
        _keep_an_admin(user, doing="given another role")
    if "person" in data:
        user.person = _person(data["person"]) if data["person"] else None
    if role == "reviewer" and user.person is None:
        raise ValidationFailed(
            "A reviewer must be linked to a person with credentials.",
            errors={"json": {"person": ["Required for reviewers."]}},
        )
    user.role = role
    if "name" in data:
        user.name = data["name"]
    changed_before, changed_after = audit.changed_fields(before, _state(user))
    if changed_after:
        db.session.flush()
        audit.record(
            actor_id=actor.user_id if actor else None,
            action="user.update",
            target_type="user",
            target_id=user.id,
            before=changed_before,
            after=changed_after,
            request_id=actor.request_id if actor else None,
        )
    return user


@dataclass(frozen=True)
class Disabled:
    """What disabling a user took away."""

    tokens_revoked: int
    sessions_ended: int


def disable_user(user: User, *, actor: Actor | None = None) -> Disabled:
    """Disable a user, revoke every token they hold and end their studio sessions.

    Authentication already refuses a disabled user's tokens; revoking them too means
    enabling the user again does not bring old, possibly leaked, tokens back.
    """
    if user.disabled_at is not None:
        return Disabled(tokens_revoked=0, sessions_ended=0)
    _keep_an_admin(user, doing="disabled")
    now = utcnow()
    user.disabled_at = now
    revoked = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    # Studio sessions end too: enabling the user again must not revive a browser's.
    ended = sessions.end_all_for(user.id)
    db.session.flush()
    audit.record(
        actor_id=actor.user_id if actor else None,
        action="user.disable",
        target_type="user",
        target_id=user.id,
        before={"disabled_at": None},
        after={
            "disabled_at": now.isoformat(),
            "tokens_revoked": revoked,
            "sessions_ended": ended,
        },
        request_id=actor.request_id if actor else None,
    )
    return Disabled(tokens_revoked=revoked, sessions_ended=ended)


def enable_user(user: User, *, actor: Actor | None = None) -> None:
    """Let a disabled user authenticate again, with tokens issued from now on."""
    if user.disabled_at is None:
        return
    before = {"disabled_at": user.disabled_at.isoformat()}
    user.disabled_at = None
    db.session.flush()
    audit.record(
        actor_id=actor.user_id if actor else None,
        action="user.enable",
        target_type="user",
        target_id=user.id,
        before=before,
        after={"disabled_at": None},
        request_id=actor.request_id if actor else None,
    )


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))


def list_tokens_of(user: User) -> list[ApiToken]:
    """One user's tokens, revoked and expired ones too, newest first as in `list_tokens`."""
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query.order_by(ApiToken.created_at.desc())))


def present_user(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "person": user.person.slug if user.person else None,
        "created_at": user.created_at,
        "disabled_at": user.disabled_at,
    }


def present_token(token: ApiToken) -> dict[str, object]:
    return {
        name: getattr(token, name)
        for name in (
            "id",
            "user_id",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        )
    }
