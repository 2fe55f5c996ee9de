"""The media library: images, their stored files, and the images articles, people and topics show.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 08:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ATTACHED = (("articles", "lead_image_id"), ("people", "image_id"), ("topics", "image_id"))


def upgrade():
    op.create_table(
        "images",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("alt_text", sa.Text(), nullable=True),
        sa.Column("decorative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("credit", sa.String(300), nullable=True),
        sa.Column("license", sa.String(200), nullable=True),
        sa.Column("license_url", sa.String(2048), nullable=True),
        sa.Column("focal_x", sa.Float(), server_default="0.5", nullable=False),
        sa.Column("focal_y", sa.Float(), server_default="0.5", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "decorative OR (alt_text IS NOT NULL AND btrim(alt_text) <> '')",
            name=op.f("ck_images_alt_text_unless_decorative"),
        ),
        sa.CheckConstraint(
            "focal_x BETWEEN 0 AND 1 AND focal_y BETWEEN 0 AND 1",
            name=op.f("ck_images_focal_inside"),
        ),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_images_dimensions_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
    )
    op.create_index(op.f("ix_images_content_sha256"), "images", ["content_sha256"])
    op.create_table(
        "image_files",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("image_id", sa.Uuid(), nullable=False),
        sa.Column("ratio", sa.String(20), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "width > 0 AND height > 0", name=op.f("ck_image_files_dimensions_positive")
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_image_files_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "image_id", "ratio", "format", "width", name=op.f("pk_image_files")
        ),
    )
    op.create_index(op.f("ix_image_files_key"), "image_files", ["key"])
    for table, column in ATTACHED:
        op.add_column(table, sa.Column(column, sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_{table}_{column}_images"),
            table,
            "images",
            [column],
            ["id"],
            ondelete="SET NULL",
        )
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def downgrade():
    for table, column in ATTACHED:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        op.drop_constraint(op.f(f"fk_{table}_{column}_images"), table, type_="foreignkey")
        op.drop_column(table, column)
    op.drop_index(op.f("ix_image_files_key"), table_name="image_files")
    op.drop_table("image_files")
    op.drop_index(op.f("ix_images_content_sha256"), table_name="images")
    op.drop_table("images")
