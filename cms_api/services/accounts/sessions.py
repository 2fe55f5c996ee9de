"""Studio sessions: a random cookie secret per signed-in browser, idle and absolute limits."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import StudioSession, User
from cms_api.services.accounts import audit

# A browser left alone this long signs in again; so does one signed in this long ago,
# however busy: a stolen cookie is good for a working day at most.
IDLE_TIMEOUT = timedelta(hours=12)
LIFETIME = timedelta(hours=24)
# last_seen_at only needs to be as fine as the idle timeout is long.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# Cookie values longer than this are not ours: refuse them before hashing.
MAX_SECRET_LENGTH = 100


def digest(secret: str) -> str:
    # 256 random bits: a fast hash is enough, a slow one would add nothing.
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class IssuedSession:
    session: StudioSession
    secret: str  # the cookie's value, never stored


def start(user: User, *, method: str, request_id: str | None = None) -> IssuedSession:
    """A new session for `user`, with a new secret and CSRF token (never one the browser
    brought: no fixation); audited as a sign-in by `method` (password or link)."""
    now = utcnow()
    prune()
    secret = secrets.token_urlsafe(32)
    session = StudioSession(
        id=uuid.uuid4(),
        user_id=user.id,
        digest=digest(secret),
        csrf_token=secrets.token_urlsafe(32),
        last_seen_at=now,
        expires_at=now + LIFETIME,
        notices=[],
    )
    db.session.add(session)
    db.session.flush()
    audit.record(
        actor_id=user.id,
        action="user.sign_in",
        target_type="user",
        target_id=user.id,
        after={"method": method},
        request_id=request_id,
    )
    return IssuedSession(session=session, secret=secret)


def resolve(secret: str | None) -> StudioSession | None:
    """The live session a cookie secret stands for, with its user; None for any other.

    A session past either limit, or of a disabled user, is deleted on the way (a disabled
    user's sessions all are), so it cannot come back if the user is enabled again.
    """
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    row = db.session.execute(
        select(StudioSession, User)
        .join(User, User.id == StudioSession.user_id)
        .where(StudioSession.digest == digest(secret))
    ).first()
    if row is None:
        return None
    session, user = row
    now = utcnow()
    if user.disabled_at is not None:
        end_all_for(user.id)
        db.session.commit()
        return None
    if session.expires_at <= now or session.last_seen_at + IDLE_TIMEOUT <= now:
        db.session.execute(delete(StudioSession).where(StudioSession.id == session.id))
        db.session.commit()
        return None
    if now - session.last_seen_at > LAST_SEEN_RESOLUTION:
        db.session.execute(
            update(StudioSession).where(StudioSession.id == session.id).values(last_seen_at=now)
        )
        db.session.commit()
    return session


def end(session: StudioSession, *, request_id: str | None = None) -> None:
    """Sign one browser out: its row goes, so its cookie opens nothing any more."""
    user_id = session.user_id
    db.session.execute(delete(StudioSession).where(StudioSession.id == session.id))
    audit.record(
        actor_id=user_id,
        action="user.sign_out",
        target_type="user",
        target_id=user_id,
        request_id=request_id,
    )


def end_all_for(user_id: uuid.UUID) -> int:
    """Sign every browser of a user out (disabled, or a new password); how many there were."""
    return db.session.execute(
        delete(StudioSession)
        .where(StudioSession.user_id == user_id)
        .execution_options(synchronize_session=False)
    ).rowcount


def prune() -> int:
    """Delete every session past either limit; sign-ins call it, so the table stays small."""
    now = utcnow()
    return db.session.execute(
        delete(StudioSession)
        .where(
            or_(
                StudioSession.expires_at <= now,
                StudioSession.last_seen_at <= now - IDLE_TIMEOUT,
            )
        )
        .execution_options(synchronize_session=False)
    ).rowcount


def add_notice(session: StudioSession, text: str, *, category: str = "info") -> None:
    """A message for the next page this browser shows (after a redirect)."""
    notices = [*(session.notices or []), {"text": text, "category": category}]
    db.session.execute(
        update(StudioSession).where(StudioSession.id == session.id).values(notices=notices)
    )
    set_committed_value(session, "notices", notices)


def take_notices(session: StudioSession) -> list[dict[str, Any]]:
    """The messages waiting for this browser, removed as they are shown."""
    notices = list(session.notices or [])
    if notices:
        db.session.execute(
            update(StudioSession).where(StudioSession.id == session.id).values(notices=[])
        )
        set_committed_value(session, "notices", [])
    return notices
