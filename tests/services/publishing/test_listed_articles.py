"""listed_articles follows the hub tags of article documents and listed_article_counts
follows listed_articles, kept by triggers; profiles and topic pages read them."""

from __future__ import annotations

import json

from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing import store
from cms_api.services.publishing.listed import embedded_articles

LISTED = "SELECT tag, locale, kind, published_at, entity_id FROM listed_articles"
# The hub tags the trigger keeps must be those the code lists pages by.
HUB_PREFIXES = ", ".join(f"'{prefix}'" for prefix in sorted(store._HUB_OF_TAG))
EXPECTED = f"""
SELECT DISTINCT tag, d.locale, d.kind, d.published_at, d.entity_id
FROM published_documents AS d CROSS JOIN LATERAL unnest(d.tags) AS tag
WHERE d.kind = 'article' AND split_part(tag, ':', 1) IN ({HUB_PREFIXES})
"""
COUNTED = "SELECT tag, locale, documents FROM listed_article_counts WHERE documents > 0"
RECOUNTED = "SELECT tag, locale, count(*) FROM listed_articles GROUP BY tag, locale"

# What a hub page lists, read the slow way: every article document with the tag.
NEWEST = """
SELECT summary FROM published_documents
WHERE kind = 'article' AND locale = :locale AND :tag = ANY(tags)
ORDER BY published_at DESC, entity_id DESC
"""


def _rows(sql: str) -> set[tuple]:
    return set(db.session.execute(text(sql)).all())


def _in_step() -> None:
    assert _rows(LISTED) == _rows(EXPECTED)
    assert _rows(COUNTED) == _rows(RECOUNTED)


def _article_with_tags() -> dict:
    row = db.session.execute(
        text(
            "SELECT kind, entity_id FROM published_documents WHERE kind = 'article' "
            "AND cardinality(tags) >= 3 ORDER BY entity_id LIMIT 1"
        )
    ).one()
    return {"kind": row.kind, "entity_id": row.entity_id}


def test_the_seeded_articles_are_listed_under_their_hub_tags_only(app) -> None:
    with app.app_context():
        listed = _rows(LISTED)
        _in_step()
        prefixes = {tag.split(":", 1)[0] for tag, *_ in listed}
        assert prefixes == set(store._HUB_OF_TAG) == {"topic", "author", "reviewer"}
        assert "topic:headache" in {tag for tag, *_ in listed}


def test_changed_tags_dates_deletes_and_upserts_keep_the_rows_in_step(app) -> None:
    with app.app_context():
        key = _article_with_tags()
        mine = LISTED + " WHERE entity_id = :entity_id"

        db.session.execute(
            text(
                "UPDATE published_documents SET tags = ARRAY['topic:only-this', "
                "'topic:only-this', 'code:icd10:R51'] WHERE kind = :kind AND entity_id = :entity_id"
            ),
            key,
        )
        assert [row.tag for row in db.session.execute(text(mine), key)] == ["topic:only-this"]
        _in_step()

        db.session.execute(
            text(
                "UPDATE published_documents SET published_at = published_at - interval '1 day' "
                "WHERE kind = :kind AND entity_id = :entity_id"
            ),
            key,
        )
        _in_step()

        # An update that changes no tag, locale or date leaves its rows alone.
        before = db.session.execute(text(mine + " ORDER BY tag"), key).all()
        db.session.execute(
            text("UPDATE published_documents SET etag = etag WHERE kind = 'article'")
        )
        assert db.session.execute(text(mine + " ORDER BY tag"), key).all() == before
        _in_step()

        db.session.execute(
            text("DELETE FROM published_documents WHERE kind = :kind AND entity_id = :entity_id"),
            key,
        )
        assert db.session.execute(text(mine), key).all() == []
        _in_step()  # the cascade's deletes are counted too
        db.session.rollback()


def test_store_upsert_lists_a_new_document_and_moves_a_changed_one(app) -> None:
    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT * FROM published_documents WHERE kind = 'article' "
                "AND cardinality(tags) >= 1 ORDER BY entity_id LIMIT 1"
            )
        ).one()
        stored = store.row(
            "article",
            row.entity_id,
            slug=row.slug,
            document=json.loads(row.body),
            summary=json.loads(row.summary),
            tags=set(row.tags) | {"author:someone-new"},
            published_at=row.published_at,
            updated_at=row.updated_at,
            title=row.title,
            reviewed_on=row.reviewed_on,
            locale=row.locale,
        )
        store.upsert([stored])
        tags = {
            tag
            for (tag,) in db.session.execute(
                text("SELECT tag FROM listed_articles WHERE entity_id = :id"),
                {"id": row.entity_id},
            )
        }
        assert "author:someone-new" in tags
        _in_step()
        db.session.rollback()


def test_embedded_articles_are_the_newest_of_each_tag_and_their_total(app) -> None:
    with app.app_context():
        wanted = {(locale, tag) for tag, locale, *_ in db.session.execute(text(LISTED))} | {
            ("en", "topic:no-such-topic")
        }
        listed = embedded_articles(wanted)
        assert listed[("en", "topic:no-such-topic")] == ([], 0)
        for locale, tag in wanted:
            everything = [
                json.loads(summary)
                for (summary,) in db.session.execute(text(NEWEST), {"locale": locale, "tag": tag})
            ]
            assert listed[(locale, tag)] == (
                everything[: store.EMBEDDED_ARTICLES],
                len(everything),
            )
