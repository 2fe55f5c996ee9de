"""List totals counted once per change; pages, searches and lookups answered from memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import select, text

from cms_api.database import db, libpq_url
from cms_api.models import Article
from cms_api.services.delivery import listings, remembered
from cms_api.services.publishing.articles import unpublish_article

BOTOX = "headache-after-botox"


@pytest.fixture(autouse=True)
def _forget_afterwards() -> Iterator[None]:
    # These tests change documents behind publishing's back, where no version tells the
    # answers kept in memory; the rolled-back change must not outlive the test in them.
    yield
    remembered.ANSWERS.clear()
    listings.TOTALS.clear()


def _unpublish(app, slug: str) -> None:
    with app.app_context():
        unpublish_article(db.session.scalar(select(Article.id).where(Article.slug == slug)))
        db.session.commit()


def _hide_behind_publishings_back(app, slug: str) -> None:
    """Remove a published document without publishing's change events: nothing tells
    delivery, so what it remembers stands (publishing never does this)."""
    with app.app_context():
        db.session.execute(
            text("DELETE FROM published_documents WHERE kind = 'article' AND slug = :slug"),
            {"slug": slug},
        )
        db.session.commit()


def test_a_list_is_answered_again_from_memory_until_content_changes(app, client):
    first = client.get("/v1/articles?limit=3")
    _hide_behind_publishings_back(app, "liver-rash")

    again = client.get("/v1/articles?limit=3")
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Link"] == first.headers["Link"]

    _unpublish(app, BOTOX)  # (which also re-renders the articles that linked to it)
    after = client.get("/v1/articles?limit=3").get_json()
    with app.app_context():
        # The list without `?locale=` is the default locale's.
        published = db.session.scalar(
            text(
                "SELECT count(*) FROM published_documents"
                " WHERE kind = 'article' AND locale = :locale"
            ),
            {"locale": app.config["CMS_SETTINGS"].default_locale},
        )
    assert after["page"]["total"] == published < first.get_json()["page"]["total"]
    assert BOTOX not in {item["slug"] for item in after["items"]}


def test_a_remembered_page_revalidates_with_304(client):
    etag = client.get("/v1/articles?limit=2").headers["ETag"]

    response = client.get("/v1/articles?limit=2", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.headers["ETag"] == etag


def test_the_total_is_not_counted_again_while_the_feed_is_unchanged(app, client):
    """Each page reads its items; the total comes from the count made after the last change."""
    total = client.get("/v1/articles?limit=1").get_json()["page"]["total"]
    _hide_behind_publishings_back(app, "liver-rash")

    # Another address, so a page read now: its items are current, its total remembered.
    page = client.get("/v1/articles?limit=100").get_json()
    assert page["page"]["total"] == total
    assert "liver-rash" not in {item["slug"] for item in page["items"]}


def test_the_next_page_of_a_remembered_page_still_walks_the_list(client):
    first = client.get("/v1/articles?limit=4&sort=title").get_json()
    client.get("/v1/articles?limit=4&sort=title")  # from memory

    cursor = first["page"]["next_cursor"]
    rest = client.get(f"/v1/articles?limit=4&sort=title&cursor={cursor}").get_json()

    titles = [item["title"] for item in first["items"] + rest["items"]]
    assert len(titles) == len(set(titles)) == first["page"]["total"]
    assert rest["page"]["next_cursor"] is None


def test_a_forged_cursor_is_refused_even_beside_remembered_pages(client):
    client.get("/v1/articles?limit=2")
    client.get("/v1/articles?limit=2")

    response = client.get("/v1/articles?limit=2&cursor=bm90LWEtY3Vyc29y")

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


def test_a_refused_query_is_never_remembered(client):
    for _ in range(2):
        response = client.get("/v1/articles?limit=0")
        assert response.status_code == 400


def test_searches_and_lookups_are_fresh_after_a_change(app, client):
    search = client.get("/v1/search?q=botox").get_json()
    looked_up = client.get("/v1/lookup?code=icd10cm:R51.9").get_json()
    assert BOTOX in {item["slug"] for item in search["items"]}
    assert BOTOX in {item["slug"] for item in looked_up["articles"]}
    assert client.get("/v1/search?q=botox").get_json() == search

    _unpublish(app, BOTOX)

    search = client.get("/v1/search?q=botox").get_json()
    looked_up = client.get("/v1/lookup?code=icd10cm:R51.9").get_json()
    assert BOTOX not in {item["slug"] for item in search["items"]}
    assert BOTOX not in {item["slug"] for item in looked_up["articles"]}


def test_a_commit_that_drew_its_event_ids_first_is_still_seen(committed_app):
    """A transaction that wrote before a page was read but commits after it carries smaller
    event ids than commits already seen: the page must not be answered from memory.

    The changes are written by hand, without the NOTIFY publishing sends at commit, so the
    worker checks the change feed on each request: the document cache (whose listener
    would otherwise vouch for the memory) is off."""
    settings = committed_app.config["CMS_SETTINGS"]
    committed_app.config["CMS_SETTINGS"] = dataclasses.replace(settings, document_cache_mb=0)
    client = committed_app.test_client()
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    before = client.get("/v1/articles?limit=50").get_json()
    assert BOTOX in {item["slug"] for item in before["items"]}

    with psycopg.connect(libpq_url(url)) as late, psycopg.connect(libpq_url(url)) as early:
        # `late` takes its event id now and commits last, as a slow publish would.
        late.execute(
            "INSERT INTO change_events (kind, entity_id, slug, action, occurred_at) "
            "SELECT kind, entity_id, slug, 'unpublished', now() FROM published_documents "
            "WHERE kind = 'article' AND slug = %s",
            (BOTOX,),
        )
        late.execute(
            "DELETE FROM published_documents WHERE kind = 'article' AND slug = %s", (BOTOX,)
        )
        # Another change commits meanwhile, with a larger event id, and is read.
        early.execute(
            "INSERT INTO change_events (kind, entity_id, slug, action, occurred_at) "
            "SELECT kind, entity_id, slug, 'updated', now() FROM published_documents "
            "WHERE kind = 'article' AND slug = 'liver-rash'"
        )
        early.commit()
        read = client.get("/v1/articles?limit=50").get_json()
        assert BOTOX in {item["slug"] for item in read["items"]}
        assert client.get("/v1/articles?limit=50").get_json() == read  # now from memory
        late.commit()

    after = client.get("/v1/articles?limit=50").get_json()
    assert BOTOX not in {item["slug"] for item in after["items"]}
    assert after["page"]["total"] == before["page"]["total"] - 1
