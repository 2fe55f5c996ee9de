"""Webhook signing secrets are stored encrypted with the first of CMS_SECRET_KEYS.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 05:00:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from cms_api.services.integrations.webhooks.signing import seal, unseal

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ENDPOINTS = sa.table(
    "webhook_endpoints", sa.column("id", sa.Uuid()), sa.column("secret", sa.Text())
)


def _rewrite(transform) -> None:
    # The keys are the running configuration's (CMS_SECRET_KEYS, or the development key),
    # the same the app will decrypt with.
    settings = current_app.config["CMS_SETTINGS"]
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(ENDPOINTS.c.id, ENDPOINTS.c.secret).where(ENDPOINTS.c.secret != "")
    ).all()
    for endpoint_id, secret in rows:
        connection.execute(
            ENDPOINTS.update()
            .where(ENDPOINTS.c.id == endpoint_id)
            .values(secret=transform(secret, settings))
        )


def upgrade():
    # Ciphertext is longer than the 200 characters a secret may have.
    op.alter_column(
        "webhook_endpoints",
        "secret",
        existing_type=sa.String(length=200),
        type_=sa.Text(),
        existing_nullable=False,
    )
    _rewrite(seal)


def downgrade():
    _rewrite(unseal)
    op.alter_column(
        "webhook_endpoints",
        "secret",
        existing_type=sa.Text(),
        type_=sa.String(length=200),
        existing_nullable=False,
    )
