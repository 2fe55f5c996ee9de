"""The fan-out writes one change event for each change announced, in the order announced."""

from __future__ import annotations

from sqlalchemy import select, text

from cms_api.database import db
from cms_api.models import PublishedDocument
from cms_api.services.publishing import fanout


def test_a_bulk_announcement_is_told_in_its_own_order(app) -> None:
    with app.app_context():
        documents = db.session.execute(
            select(
                PublishedDocument.kind,
                PublishedDocument.entity_id,
                PublishedDocument.slug,
                PublishedDocument.locale,
            ).order_by(PublishedDocument.kind, PublishedDocument.entity_id)
        ).all()
        assert len(documents) > 20
        # Neither the order of the table nor of the ids: every other one from the end.
        chosen = documents[::-2] + documents[-2::-2]
        actions = ["updated", "published", "unpublished"]
        changes = [
            (kind, entity_id, slug, actions[n % 3], locale)
            for n, (kind, entity_id, slug, locale) in enumerate(chosen)
        ]
        last = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM change_events"))

        fanout.announce(changes)

        told = db.session.execute(
            text(
                "SELECT kind, entity_id, slug, action, locale FROM change_events "
                "WHERE id > :last ORDER BY id"
            ),
            {"last": last},
        ).all()
        assert [tuple(row) for row in told] == changes
