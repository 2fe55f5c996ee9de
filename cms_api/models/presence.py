"""Who has an article open in the studio: heartbeats, kept in an UNLOGGED table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, false
from sqlalchemy.orm import Mapped, mapped_column

from cms_api.models.base import Base


class ArticlePresence(Base):
    """One user with one article open, as of their last heartbeat.

    UNLOGGED: presence is worth nothing after a minute, so its writes skip the WAL (and
    replicas); a crash empties the table, which costs everyone one heartbeat.
    """

    __tablename__ = "article_presence"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # When this stretch of heartbeats began: a heartbeat after an expired one starts anew.
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Whether the user says they are changing the article, not only reading it.
    editing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
