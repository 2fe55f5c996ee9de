"""Topics, arranged as a tree, and the medical codes that identify them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.base import Base, created_at, updated_at, uuid_pk

CODE_SYSTEMS = {
    "icd10cm": "ICD-10-CM",
    "snomed": "SNOMED CT",
    "mesh": "MeSH",
}


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[uuid.UUID] = uuid_pk()
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("topics.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    # schema.org MedicalSpecialty ("Neurologic", ...); a child topic inherits its parent's.
    specialty: Mapped[str | None] = mapped_column(String(40))
    image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), index=True
    )
    # Other names readers and clinicians use ("earache", "TMJ"): the lookup matches them.
    synonyms: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default=text("'{}'::text[]")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    parent: Mapped[Topic | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Topic]] = relationship(back_populates="parent", order_by="Topic.position")
    codes: Mapped[list[MedicalCode]] = relationship(
        back_populates="topic",
        order_by=lambda: (MedicalCode.system, MedicalCode.code),
        cascade="all, delete-orphan",
    )

    translations: Mapped[list[TopicTranslation]] = relationship(
        back_populates="topic", order_by="TopicTranslation.locale", cascade="all, delete-orphan"
    )

    def ordered_codes(self) -> list[MedicalCode]:
        """The codes in one fixed order (diagnosis, clinical term, index term), whether
        they were loaded (ordered by the query) or just appended."""
        return sorted(self.codes, key=lambda item: (SYSTEM_ORDER[item.system], item.code))


# Diagnosis codes first, then clinical terms, then the index vocabulary.
SYSTEM_ORDER = {"icd10cm": 0, "snomed": 1, "mesh": 2}


class TopicTranslation(Base):
    """A topic's name, description and synonyms in another locale than the default.

    The topic itself holds the default locale's text; its slug, place in the tree, codes
    and specialty are shared by every locale.
    """

    __tablename__ = "topic_translations"
    __table_args__ = (UniqueConstraint("topic_id", "locale"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    topic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    synonyms: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default=text("'{}'::text[]")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    topic: Mapped[Topic] = relationship(back_populates="translations")


class MedicalCode(Base):
    __tablename__ = "medical_codes"
    __table_args__ = (
        UniqueConstraint("topic_id", "system", "code"),
        CheckConstraint("system IN ('icd10cm', 'snomed', 'mesh')", name="system_known"),
        Index("ix_medical_codes_system_code", "system", "code"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    topic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    display: Mapped[str] = mapped_column(String(300))

    topic: Mapped[Topic] = relationship(back_populates="codes")


# Codes by the first 3 characters of their lookup key (upper case, no dot): the ICD-10-CM
# category, which every code the lookup relates to the one asked for shares. Equality, so
# a prepared statement's generic plan uses it too.
Index(
    "ix_medical_codes_lookup_category",
    MedicalCode.system,
    func.left(func.replace(func.upper(MedicalCode.code), ".", ""), 3),
)
