"""Publishing is rendering: drafts stay private; changes reach every document embedding them."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select, update

from cms_api.database import db
from cms_api.domain.clock import add_months
from cms_api.domain.errors import Conflict
from cms_api.models import (
    Article,
    ArticleAuthor,
    Credential,
    Faq,
    Person,
    PublishedDocument,
    RelatedLink,
)
from cms_api.services.publishing import articles as article_documents
from cms_api.services.publishing import revisions
from cms_api.services.publishing.cascade import person_changed

SLUG = "headache-after-botox"


def _article(slug: str) -> Article:
    return db.session.scalars(select(Article).where(Article.slug == slug)).one()


def _draft(slug: str, *, author: Person) -> Article:
    article = Article(
        id=uuid.uuid4(),
        slug=slug,
        title="Neck pain after a long drive",
        summary="Why it happens and what helps.",
        status="draft",
    )
    article.authorships = [ArticleAuthor(person=author)]
    db.session.add(article)
    db.session.flush()
    return article


def test_a_draft_is_never_served_and_publishing_makes_it_visible(app, client):
    with app.app_context():
        author = db.session.scalars(select(Person)).first()
        draft = _draft("neck-pain-after-driving", author=author)
        db.session.add(Faq(article=draft, question="Is it serious?", answer="Rarely."))
        db.session.add(
            RelatedLink(source_id=draft.id, target_id=_article(SLUG).id, relation="see_also")
        )
        db.session.commit()

        assert client.get("/v1/articles/neck-pain-after-driving").status_code == 404
        listed = client.get("/v1/articles?limit=100").get_json()["items"]
        assert "neck-pain-after-driving" not in {item["slug"] for item in listed}
        faqs = client.get("/v1/faqs?limit=100").get_json()["items"]
        assert "Is it serious?" not in {faq["question"] for faq in faqs}

        article_documents.publish_article(draft.id)
        db.session.commit()

    article = client.get("/v1/articles/neck-pain-after-driving").get_json()
    assert article["faqs"][0]["question"] == "Is it serious?"
    assert article["related"][0]["article"]["slug"] == SLUG
    faqs = client.get("/v1/faqs?article=neck-pain-after-driving").get_json()["items"]
    assert [faq["question"] for faq in faqs] == ["Is it serious?"]


def test_unpublishing_removes_the_article_its_faqs_and_links_to_it(app, client):
    target = "tmj-headache"
    before = client.get(f"/v1/articles/{SLUG}/related").get_json()["items"]
    assert target in {item["article"]["slug"] for item in before}
    with app.app_context():
        article_id = _article(target).id
        article_documents.unpublish_article(article_id)
        db.session.commit()

    assert client.get(f"/v1/articles/{target}").status_code == 404
    after = client.get(f"/v1/articles/{SLUG}/related").get_json()["items"]
    assert target not in {item["article"]["slug"] for item in after}
    assert client.get(f"/v1/faqs?article={target}").get_json()["items"] == []
    with app.app_context():
        kinds = db.session.scalars(
            select(PublishedDocument.kind).where(PublishedDocument.entity_id == article_id)
        ).all()
    assert kinds == []


def test_a_credential_change_re_renders_every_article_that_shows_the_person(app, client):
    article = client.get(f"/v1/articles/{SLUG}").get_json()
    reviewer_slug = article["reviewers"][0]["slug"]
    old_etag = client.get(f"/v1/articles/{SLUG}").headers["ETag"]
    with app.app_context():
        reviewer = db.session.scalars(select(Person).where(Person.slug == reviewer_slug)).one()
        reviewer.credentials.append(
            Credential(kind="board_certification", name="Mohs Surgery", issuer="Test Board")
        )
        db.session.flush()
        person_changed(reviewer.id)
        db.session.commit()

    response = client.get(f"/v1/articles/{SLUG}")
    names = {c["name"] for c in response.get_json()["reviewers"][0]["credentials"]}
    assert "Mohs Surgery" in names
    assert response.headers["ETag"] != old_etag
    profile = client.get(f"/v1/people/{reviewer_slug}").get_json()
    assert "Mohs Surgery" in {c["name"] for c in profile["credentials"]}


def test_a_draft_edit_stays_private_until_its_revision_is_published(app, client):
    with app.app_context():
        target = _article("liver-rash")
        target.title = "Liver Rash, Explained"
        revisions.record(target, reason="edit")
        db.session.flush()
        # Re-rendering (as any dependency change does) still shows the live revision.
        article_documents.refresh_articles([target.id])
        db.session.commit()
    assert client.get("/v1/articles/liver-rash").get_json()["title"].startswith("Liver Rash:")

    with app.app_context():
        article_documents.publish_article(_article("liver-rash").id)
        db.session.commit()

    article = client.get("/v1/articles/liver-rash").get_json()
    assert article["title"] == "Liver Rash, Explained"
    assert article["updated_at"] > article["published_at"]
    related = client.get(f"/v1/articles/{SLUG}/related").get_json()["items"]
    titles = {item["article"]["slug"]: item["article"]["title"] for item in related}
    assert titles["liver-rash"] == "Liver Rash, Explained"


def test_a_former_slug_redirects_permanently_to_the_current_one(app, client):
    with app.app_context():
        article_documents.change_slug(_article(SLUG).id, "botox-headache")
        db.session.commit()

    moved = client.get(f"/v1/articles/{SLUG}?sections=causes")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/v1/articles/botox-headache?sections=causes")
    assert client.get(f"/v1/articles/{SLUG}/faqs").status_code == 301
    assert client.get("/v1/articles/botox-headache").get_json()["slug"] == "botox-headache"


def test_a_slug_in_use_cannot_be_taken(app):
    with app.app_context():
        article = _article(SLUG)
        with pytest.raises(Conflict):
            article_documents.change_slug(article.id, "liver-rash")


def test_review_due_date_follows_the_interval_and_clamps_month_ends():
    assert add_months(date(2026, 10, 2), 12) == date(2027, 10, 2)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 12, 15), 3) == date(2028, 3, 15)


def _documents() -> dict[tuple[str, uuid.UUID], tuple[str, str, str, list[str]]]:
    rows = db.session.execute(
        select(
            PublishedDocument.kind,
            PublishedDocument.entity_id,
            PublishedDocument.body,
            PublishedDocument.summary,
            PublishedDocument.etag,
            PublishedDocument.tags,
        )
    ).all()
    return {(kind, entity_id): rest for kind, entity_id, *rest in rows}


def _make_article_documents_stale(ids: list[uuid.UUID]) -> None:
    """What delivery holds before a refresh: a summary no render may copy."""
    db.session.execute(
        update(PublishedDocument)
        .where(PublishedDocument.kind == "article", PublishedDocument.entity_id.in_(ids))
        .values(summary='{"title": "Stale"}', body="{}", etag='"stale"')
    )


def _count_article_renders(monkeypatch) -> list[str]:
    rendered: list[str] = []
    render = article_documents._article_row

    def counted(live, document, summary):
        rendered.append(live.article.slug)
        return render(live, document, summary)

    monkeypatch.setattr(article_documents, "_article_row", counted)
    return rendered


def _published_articles() -> list[Article]:
    return list(
        db.session.scalars(
            select(Article).where(Article.live_revision.is_not(None)).order_by(Article.slug)
        )
    )


def test_a_refresh_in_many_batches_renders_each_article_once_and_as_one_batch(app, monkeypatch):
    with app.app_context():
        expected = _documents()
        articles = _published_articles()
        ids = [article.id for article in articles]
        _make_article_documents_stale(ids)
        monkeypatch.setattr(article_documents, "RENDER_BATCH", 2)
        rendered = _count_article_renders(monkeypatch)

        article_documents.refresh_articles(ids)

        assert sorted(rendered) == [article.slug for article in articles]
        assert _documents() == expected
        db.session.rollback()


def test_an_article_outside_a_large_refresh_that_links_into_it_is_rendered_once(app, monkeypatch):
    with app.app_context():
        expected = _documents()
        outside = _article(SLUG)
        assert outside.outgoing_links, "the seeds link this article to others"
        ids = [article.id for article in _published_articles() if article.id != outside.id]
        _make_article_documents_stale(ids)
        # Its summary stays what it is: the articles refreshed embed it as stored.
        db.session.execute(
            update(PublishedDocument)
            .where(PublishedDocument.entity_id == outside.id)
            .values(body="{}", etag='"stale"')
        )
        monkeypatch.setattr(article_documents, "RENDER_BATCH", 2)
        rendered = _count_article_renders(monkeypatch)

        article_documents.refresh_articles(ids)

        assert rendered.count(SLUG) == 1
        assert len(rendered) == len(ids) + 1
        assert _documents() == expected
        db.session.rollback()
