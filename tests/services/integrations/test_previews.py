"""A preview renders a working copy as publishing would, in every locale."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, PublishedDocument
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.translations import create_translation
from cms_api.services.integrations import previews
from cms_api.services.publishing.articles import publish_article

ORIGINAL = "headache-after-botox"
TRANSLATION = "dolor-de-cabeza-despues-del-botox"


def _article(locale: str, slug: str) -> Article:
    return db.session.scalars(
        select(Article).where(Article.locale == locale, Article.slug == slug)
    ).one()


def _published(article: Article) -> dict:
    stored = db.session.get(PublishedDocument, ("article", article.id))
    assert stored is not None
    return json.loads(stored.body)


@pytest.mark.parametrize(("locale", "slug"), [("en", ORIGINAL), ("es", TRANSLATION)])
def test_an_unedited_published_article_previews_as_its_published_document(app, locale, slug):
    with app.app_context():
        article = _article(locale, slug)

        assert previews.render(article) == _published(article)


def test_a_translation_previews_its_originals_links_to_articles_of_its_locale(app):
    with app.app_context():
        target = _article("en", "tmj-headache")
        translated = create_translation(target.id, "es", "cefalea-y-atm", actor=Actor(None))
        publish_article(translated.id)
        article = _article("es", TRANSLATION)

        preview = previews.render(article)
        published = _published(article)

    assert preview == published
    assert [item["article"]["slug"] for item in preview["related"]] == ["cefalea-y-atm"]
    assert preview["related"][0]["article"]["locale"] == "es"
