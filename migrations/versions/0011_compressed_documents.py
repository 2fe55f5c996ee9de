"""Published documents carry their body compressed (gzip, brotli), made once when published.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 08:00:00

"""

import gzip

import brotli
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The settings publishing uses (cms_api.services.publishing.store), frozen here so the
# backfill compresses as it did when this revision was written.
GZIP_LEVEL = 4
BROTLI_QUALITY = 5
BATCH = 200


def upgrade():
    op.add_column("published_documents", sa.Column("body_gzip", sa.LargeBinary(), nullable=True))
    op.add_column("published_documents", sa.Column("body_br", sa.LargeBinary(), nullable=True))
    # Compressed already: TOAST keeps them out of line without trying to compress them again.
    op.execute("ALTER TABLE published_documents ALTER COLUMN body_gzip SET STORAGE EXTERNAL")
    op.execute("ALTER TABLE published_documents ALTER COLUMN body_br SET STORAGE EXTERNAL")
    # A write that changes the body without its compressed forms (a repair by hand, code
    # that predates this revision) drops them, so no reader is served an older body
    # compressed: such a row is served uncompressed until it is published again.
    op.execute(
        """
        CREATE FUNCTION published_documents_encodings_follow_body() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.body IS DISTINCT FROM OLD.body THEN
                IF NEW.body_gzip IS NOT DISTINCT FROM OLD.body_gzip THEN
                    NEW.body_gzip := NULL;
                END IF;
                IF NEW.body_br IS NOT DISTINCT FROM OLD.body_br THEN
                    NEW.body_br := NULL;
                END IF;
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER published_documents_encodings_follow_body
        BEFORE UPDATE OF body ON published_documents
        FOR EACH ROW EXECUTE FUNCTION published_documents_encodings_follow_body()
        """
    )
    _backfill(op.get_bind())


def _backfill(connection: sa.Connection) -> None:
    """Compress every stored document now (about 1 ms each), in batches by key."""
    after: tuple = ("", "00000000-0000-0000-0000-000000000000")
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT kind, entity_id, body FROM published_documents "
                "WHERE (kind, entity_id) > (:kind, CAST(:entity_id AS uuid)) "
                "ORDER BY kind, entity_id LIMIT :batch"
            ),
            {"kind": after[0], "entity_id": str(after[1]), "batch": BATCH},
        ).all()
        if not rows:
            return
        connection.execute(
            sa.text(
                "UPDATE published_documents SET body_gzip = :gzip, body_br = :br "
                "WHERE kind = :kind AND entity_id = :entity_id"
            ),
            [
                {
                    "kind": kind,
                    "entity_id": entity_id,
                    "gzip": gzip.compress(body.encode(), GZIP_LEVEL, mtime=0),
                    "br": brotli.compress(body.encode(), quality=BROTLI_QUALITY),
                }
                for kind, entity_id, body in rows
            ],
        )
        after = (rows[-1][0], rows[-1][1])


def downgrade():
    op.execute("DROP TRIGGER published_documents_encodings_follow_body ON published_documents")
    op.execute("DROP FUNCTION published_documents_encodings_follow_body()")
    op.drop_column("published_documents", "body_br")
    op.drop_column("published_documents", "body_gzip")
