"""Signed-in browser sessions of the editor studio, kept server-side."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.base import Base, created_at, uuid_pk
from cms_api.models.user import User


class StudioSession(Base):
    """One signed-in browser. The cookie holds a random secret; only its digest is stored,
    so a copy of this table signs no one in."""

    __tablename__ = "studio_sessions"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The synchronizer token every studio write must carry; not a credential on its own.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at()
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The absolute end, whatever the activity; the idle timeout counts from last_seen_at.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Messages for the next page this browser shows ("Saved."), after a redirect.
    notices: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )

    user: Mapped[User] = relationship()
