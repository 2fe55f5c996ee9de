"""Images in the media library, and the files (original and renditions) made from each."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.base import Base, created_at, updated_at, uuid_pk


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (
        # A picture that carries meaning needs words for readers who cannot see it; one
        # marked decorative is skipped by screen readers (alt="").
        CheckConstraint(
            "decorative OR (alt_text IS NOT NULL AND btrim(alt_text) <> '')",
            name="alt_text_unless_decorative",
        ),
        CheckConstraint("focal_x BETWEEN 0 AND 1 AND focal_y BETWEEN 0 AND 1", name="focal_inside"),
        CheckConstraint("width > 0 AND height > 0", name="dimensions_positive"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # SHA-256 of the stored original (metadata stripped, orientation applied).
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    alt_text: Mapped[str | None] = mapped_column(Text)
    decorative: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    caption: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str | None] = mapped_column(String(300))
    license: Mapped[str | None] = mapped_column(String(200))
    license_url: Mapped[str | None] = mapped_column(String(2048))
    # Where crops keep their centre, as fractions of width and height from the top left.
    focal_x: Mapped[float] = mapped_column(Float, default=0.5, server_default="0.5")
    focal_y: Mapped[float] = mapped_column(Float, default=0.5, server_default="0.5")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    files: Mapped[list[ImageFile]] = relationship(
        back_populates="image",
        order_by="(ImageFile.ratio, ImageFile.format, ImageFile.width)",
        cascade="all, delete-orphan",
    )


class ImageFile(Base):
    """One stored file of an image: the original, or a rendition from a named preset.

    `key` is the file's name in storage and in its public URL: the SHA-256 of its bytes
    and an extension, so a URL names one content forever and can be cached as immutable.
    """

    __tablename__ = "image_files"
    __table_args__ = (CheckConstraint("width > 0 AND height > 0", name="dimensions_positive"),)

    image_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    # "original", or a preset's aspect ratio: "16:9", "4:3", "1:1".
    ratio: Mapped[str] = mapped_column(String(20), primary_key=True)
    format: Mapped[str] = mapped_column(String(10), primary_key=True)  # jpeg, png, webp, avif
    width: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Two presets may make the same bytes (a picture smaller than every preset width gives
    # each ratio's crop at one size): rows then share a key, and storage holds one file.
    key: Mapped[str] = mapped_column(String(80), index=True)
    media_type: Mapped[str] = mapped_column(String(40))
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)

    image: Mapped[Image] = relationship(back_populates="files")
