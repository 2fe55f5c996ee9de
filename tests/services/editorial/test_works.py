"""The works editors see articles in, found for a whole page at once, and reviewers' locales."""

from __future__ import annotations

from sqlalchemy import event, select

from cms_api.database import db
from cms_api.models import Article
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import translations, works
from cms_api.services.editorial.articles import create_article
from cms_api.services.editorial.common import reviews_in

NOBODY = Actor(user_id=None)


def test_the_works_of_a_page_are_found_in_one_query(app):
    with app.app_context():
        originals = [
            create_article({"slug": f"blister-{n}", "title": f"Blister {n}"}, NOBODY)
            for n in range(4)
        ]
        copies = [
            translations.create_translation(original.id, "es", f"ampolla-{n}", actor=NOBODY)
            for n, original in enumerate(originals)
        ]
        page = [*originals, *copies]
        db.session.flush()
        statements: list[str] = []
        connection = db.session.connection()

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(connection, "before_cursor_execute", count)
        try:
            found = works.works(page)
        finally:
            event.remove(connection, "before_cursor_execute", count)

        assert len(statements) == 1
        for original, copy in zip(originals, copies, strict=True):
            assert found[original.id].source is None
            assert found[original.id].translations == [
                {"id": copy.id, "locale": "es", "slug": copy.slug, "status": "draft"}
            ]
            assert found[copy.id].source == {
                "id": original.id,
                "locale": "en",
                "slug": original.slug,
            }
            assert [item["id"] for item in found[copy.id].translations] == [original.id]
            assert found[copy.id].outdated is False


def test_a_translation_is_outdated_once_its_original_publishes_a_newer_revision(app):
    with app.app_context():
        original = create_article({"slug": "corns", "title": "Corns"}, NOBODY)
        copy = translations.create_translation(original.id, "es", "callos", actor=NOBODY)
        db.session.flush()
        assert works.work_of(copy).outdated is False
        original.live_revision = copy.source_revision
        assert works.work_of(copy).outdated is False
        original.live_revision = (copy.source_revision or 0) + 1
        db.session.flush()

        assert works.work_of(copy).outdated is True
        outdated = db.session.scalars(
            select(Article.id).where(
                Article.id.in_([original.id, copy.id]), works.outdated_condition()
            )
        ).all()
        assert outdated == [copy.id]


def test_a_reviewer_s_locales_cover_equal_tags_and_a_bare_language_its_regions():
    assert reviews_in([], "es-MX")
    assert reviews_in(["es"], "es")
    assert reviews_in(["es"], "es-MX")
    assert reviews_in(["en", "es-MX"], "es-MX")
    assert not reviews_in(["es-MX"], "es")
    assert not reviews_in(["es-MX"], "es-AR")
    assert not reviews_in(["en"], "es")
