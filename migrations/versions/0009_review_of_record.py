"""Reviews of record: approval kinds, withdrawal and going live; pinned schedules; disclosures.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # A clinical review checks the whole page; a correction approves a minor edit.
    op.add_column(
        "medical_reviews",
        sa.Column("kind", sa.String(20), nullable=False, server_default="clinical"),
    )
    op.create_check_constraint(
        "ck_medical_reviews_kind_known", "medical_reviews", "kind IN ('clinical', 'correction')"
    )
    # What readers are told about a correction; the reviewer's `notes` stay internal.
    op.add_column("medical_reviews", sa.Column("public_note", sa.Text(), nullable=True))
    # Set when request-changes takes the approval back.
    op.add_column(
        "medical_reviews", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Set when the revision it approved went live: only such reviews reach readers.
    op.add_column(
        "medical_reviews", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True)
    )
    # The approved revision a schedule publishes; an edit cancels the schedule.
    op.add_column("articles", sa.Column("publish_at_revision", sa.Integer(), nullable=True))
    # Sponsor, funder, conflicts of interest: part of the reviewed content.
    op.add_column(
        "articles",
        sa.Column(
            "disclosures",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    # A topic's schema.org MedicalSpecialty (inherited from its parent when unset).
    op.add_column("topics", sa.Column("specialty", sa.String(40), nullable=True))
    # A journal article's journal; `publisher` stays for the organisation behind a source.
    op.add_column("citations", sa.Column("periodical", sa.String(300), nullable=True))
    _review_history()
    _citations_name_their_periodical()


def _review_history():
    """Existing approvals and review dates in the new model, public pages unchanged.

    Every approval so far was a clinical review (the column default). Until now a page
    named the reviewers of content up to its live revision; those approvals went live,
    when the audit log says (the first publish of their revision), else when the article
    was published (its live revision's at its last content change). An approval of a
    revision never published that request-changes sent back was withdrawn then. A page's
    review date and cycle follow the latest of those, which is what it said unless an
    unpublished approval had leaked into it. A schedule pins the revision it was set on.
    """
    # Approvals of revisions that went live, dated by the audit log where it knows.
    op.execute(
        """
        UPDATE medical_reviews AS r
        SET published_at = (
            SELECT min(e.at) FROM audit_events AS e
            WHERE e.target_type = 'article' AND e.target_id = r.article_id::text
              AND e.action = 'article.publish' AND e.at >= r.created_at
              AND e.after ->> 'revision' = r.revision_number::text
        )
        WHERE r.revision_number IS NOT NULL
        """
    )
    # Without a trace in the log: what pages showed, the reviews up to the live revision.
    op.execute(
        """
        UPDATE medical_reviews AS r
        SET published_at = CASE
            WHEN r.revision_number = a.live_revision
                THEN coalesce(a.content_updated_at, a.published_at, r.created_at)
            ELSE coalesce(a.published_at, r.created_at)
        END
        FROM articles AS a
        WHERE a.id = r.article_id AND r.published_at IS NULL AND a.live_revision IS NOT NULL
          AND (r.revision_number IS NULL OR r.revision_number <= a.live_revision)
        """
    )
    # Approvals request-changes sent back before their revision was published or edited.
    op.execute(
        """
        UPDATE medical_reviews AS r
        SET withdrawn_at = (
            SELECT min(e.at) FROM audit_events AS e
            WHERE e.target_type = 'article' AND e.target_id = r.article_id::text
              AND e.action = 'article.request_changes' AND e.at >= r.created_at
              AND e.at < coalesce(
                  (SELECT v.created_at FROM revisions AS v
                   WHERE v.article_id = r.article_id AND v.number = r.revision_number + 1),
                  'infinity'
              )
        )
        WHERE r.published_at IS NULL AND r.revision_number IS NOT NULL
        """
    )
    # Review date and cycle from the review of record, where an unpublished approval moved
    # them; add_months' clamping is PostgreSQL's month arithmetic.
    op.execute(
        """
        UPDATE articles AS a
        SET last_reviewed_at = rec.reviewed_at,
            next_review_due = (
                rec.reviewed_at + make_interval(months => a.review_interval_months)
            )::date
        FROM (
            SELECT DISTINCT ON (article_id) article_id, reviewed_at
            FROM medical_reviews
            WHERE published_at IS NOT NULL AND withdrawn_at IS NULL AND kind = 'clinical'
            ORDER BY article_id, coalesce(revision_number, 0) DESC, reviewed_at DESC,
                     created_at DESC
        ) AS rec
        WHERE rec.article_id = a.id AND a.live_revision IS NOT NULL
          AND a.last_reviewed_at IS DISTINCT FROM rec.reviewed_at
        """
    )
    op.execute(
        "UPDATE articles SET publish_at_revision = revision_number "
        "WHERE publish_at IS NOT NULL AND status = 'approved'"
    )


def _citations_name_their_periodical():
    """Journal names recorded as `publisher` move to `periodical`, in rows and revisions."""
    # A source with a DOI or a PubMed id is a journal article, and what was entered as its
    # publisher is its journal; unless that names a publishing house (a report from "The
    # National Academies Press" has a DOI too), which stays the publisher.
    house = r"\y(press|publishers?|publishing|publications|books)\y"
    op.execute(
        "UPDATE citations SET periodical = publisher, publisher = NULL"
        " WHERE publisher IS NOT NULL AND (coalesce(doi, '') <> '' OR coalesce(pmid, '') <> '')"
        f" AND publisher !~* '{house}'"
    )
    # Revisions are rendered from their snapshots: each citation gains `periodical` (null
    # when it has none), so an old revision renders, and compares, as a new one would.
    # Citations that already have the key were written after this step and are left alone.
    op.execute(
        "UPDATE revisions AS r SET snapshot = jsonb_set(r.snapshot, '{citations}', ("
        " SELECT jsonb_agg(CASE"
        "  WHEN jsonb_typeof(c) <> 'object' OR c ? 'periodical' THEN c"
        "  WHEN jsonb_typeof(c->'publisher') = 'string'"
        "   AND (coalesce(c->>'doi', '') <> '' OR coalesce(c->>'pmid', '') <> '')"
        f"  AND c->>'publisher' !~* '{house}'"
        "  THEN c || jsonb_build_object('publisher', NULL, 'periodical', c->'publisher')"
        "  ELSE c || jsonb_build_object('periodical', NULL)"
        " END ORDER BY position)"
        " FROM jsonb_array_elements(r.snapshot->'citations') WITH ORDINALITY AS t(c, position)))"
        " WHERE jsonb_typeof(r.snapshot->'citations') = 'array' AND EXISTS ("
        "  SELECT 1 FROM jsonb_array_elements(r.snapshot->'citations') AS t(c)"
        "  WHERE jsonb_typeof(c) = 'object' AND NOT c ? 'periodical')"
    )


def downgrade():
    op.drop_column("citations", "periodical")
    op.drop_column("topics", "specialty")
    op.drop_column("articles", "disclosures")
    op.drop_column("articles", "publish_at_revision")
    op.drop_column("medical_reviews", "published_at")
    op.drop_column("medical_reviews", "withdrawn_at")
    op.drop_column("medical_reviews", "public_note")
    op.drop_constraint("ck_medical_reviews_kind_known", "medical_reviews", type_="check")
    op.drop_column("medical_reviews", "kind")
