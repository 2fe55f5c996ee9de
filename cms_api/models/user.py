"""Users, their roles, and how they authenticate: bearer tokens, passwords, sign-in links."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.base import Base, created_at, updated_at, uuid_pk
from cms_api.models.person import Person

ROLES = ("admin", "editor", "reviewer", "viewer")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'editor', 'reviewer', 'viewer')", name="role_known"),
        CheckConstraint("role <> 'reviewer' OR person_id IS NOT NULL", name="reviewer_is_person"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # A reviewer signs off as a person whose credentials readers can verify.
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)
    # The studio's sign-in: an argon2id hash (None: this user signs in by link only).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Failed sign-ins counted since `failed_since`; the fifth within the window locks the
    # account until `locked_until`. Written with plain UPDATEs, which leave `version` (the
    # admin API's ETag) alone: a stranger's wrong guesses must not make an admin's edit stale.
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    failed_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}

    person: Mapped[Person | None] = relationship()


class ApiToken(Base):
    """A bearer token. Only a digest is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # The first characters of the token, so a user can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class LoginLink(Base):
    """A one-time sign-in link for the studio. Only a digest is stored; the link is shown once."""

    __tablename__ = "login_links"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
