"""The editor studio's sign-in: passwords, lockout, one-time links and browser sessions.

Users get an argon2 `password_hash` (none yet: every existing user signs in by a link an
admin makes until a password is set), a count of recent failed sign-ins and a lock.
`login_links` and `studio_sessions` store only digests of the secrets they stand for.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-22 09:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.add_column(
        "users",
        sa.Column("failed_sign_ins", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("users", sa.Column("failed_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "login_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_links")),
        sa.UniqueConstraint("digest", name=op.f("uq_login_links_digest")),
    )
    op.create_index(op.f("ix_login_links_user_id"), "login_links", ["user_id"], unique=False)
    op.create_table(
        "studio_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "notices",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_studio_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_sessions")),
        sa.UniqueConstraint("digest", name=op.f("uq_studio_sessions_digest")),
    )
    op.create_index(
        op.f("ix_studio_sessions_user_id"), "studio_sessions", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_studio_sessions_expires_at"), "studio_sessions", ["expires_at"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_studio_sessions_expires_at"), table_name="studio_sessions")
    op.drop_index(op.f("ix_studio_sessions_user_id"), table_name="studio_sessions")
    op.drop_table("studio_sessions")
    op.drop_index(op.f("ix_login_links_user_id"), table_name="login_links")
    op.drop_table("login_links")
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_since")
    op.drop_column("users", "failed_sign_ins")
    op.drop_column("users", "password_hash")
