"""Preview tokens: short-lived secrets that show one article's working copy on delivery."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cms_api.models.base import Base, created_at, uuid_pk


class PreviewToken(Base):
    """Opens one article's draft to whoever holds it, until it expires or is revoked.

    Only a digest is stored; the token itself is shown once, when it is minted.
    """

    __tablename__ = "preview_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    # Who minted it; the token outlives a removed user only until it expires anyway.
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The first characters of the token, so an editor can tell their links apart.
    prefix: Mapped[str] = mapped_column(String(24))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at()
    # Always set: a preview link that never expires would be a second, unreviewed way to
    # publish a draft.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
