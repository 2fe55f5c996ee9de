"""People who write or review content, and their verifiable credentials."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.base import Base, created_at, updated_at, uuid_pk

CREDENTIAL_KINDS = ("degree", "license", "board_certification")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[uuid.UUID] = uuid_pk()
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    honorific_prefix: Mapped[str | None] = mapped_column(String(40))
    honorific_suffix: Mapped[str | None] = mapped_column(String(80))
    job_title: Mapped[str | None] = mapped_column(String(200))
    bio: Mapped[str | None] = mapped_column(Text)
    photo_url: Mapped[str | None] = mapped_column(String(2048))
    image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), index=True
    )
    # [{"kind": "orcid", "url": "https://orcid.org/..."}]: identity links for `sameAs`.
    profile_links: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    specialties: Mapped[list[str]] = mapped_column(ARRAY(String(120)), default=list)
    # The locales this person reviews medical content in; empty: any locale.
    review_locales: Mapped[list[str]] = mapped_column(
        ARRAY(String(35)), default=list, server_default=text("'{}'::varchar[]")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    credentials: Mapped[list[Credential]] = relationship(
        back_populates="person",
        order_by="Credential.position",
        cascade="all, delete-orphan",
    )
    translations: Mapped[list[PersonTranslation]] = relationship(
        back_populates="person",
        order_by="PersonTranslation.locale",
        cascade="all, delete-orphan",
    )


class PersonTranslation(Base):
    """A person's job title and bio in another locale than the default (the person holds
    the default locale's); name, slug, links and credentials are shared by every locale."""

    __tablename__ = "person_translations"
    __table_args__ = (UniqueConstraint("person_id", "locale"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    job_title: Mapped[str | None] = mapped_column(String(200))
    bio: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    person: Mapped[Person] = relationship(back_populates="translations")


class Credential(Base):
    __tablename__ = "credentials"
    __table_args__ = (
        CheckConstraint("kind IN ('degree', 'license', 'board_certification')", name="kind_known"),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name="validity_ordered",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str | None] = mapped_column(String(200))
    jurisdiction: Mapped[str | None] = mapped_column(String(120))
    number: Mapped[str | None] = mapped_column(String(80))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    person: Mapped[Person] = relationship(back_populates="credentials")
