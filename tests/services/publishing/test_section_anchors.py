"""Section headings carry their key as `id`, the only ids in an article's HTML: TOC anchors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from html import escape
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain.etags import etag_for
from cms_api.domain.formats import dumps
from cms_api.models import Article, ArticleAuthor, Person, Section
from cms_api.services.delivery import remembered
from cms_api.services.publishing.articles import publish_article
from tests.conftest import bearer
from tests.support.api import PROBLEM, SEEDED_ARTICLE
from tests.support.html import html_fields

# What an editor might type to get an id of their own into the page.
HOSTILE_BODY = """<h2 id="location">Raw heading</h2>

## A Markdown heading {#cookie}

<a id="alert" name="alert">link</a> and [a link](https://example.org/ "t\\" id=\\"x")
"""
HOSTILE_HEADING = 'Side effects" id="alert'


@pytest.fixture(autouse=True)
def _forget_afterwards() -> Iterator[None]:
    # Documents changed here are rolled back, which no change event tells the answers
    # kept in memory.
    yield
    remembered.ANSWERS.clear()


def ids(html: str) -> list[str]:
    found: list[str] = []

    class Ids(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend(value or "" for name, value in attrs if name == "id")

        handle_startendtag = handle_starttag

    parser = Ids(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return found


def every_id(document: dict[str, Any]) -> list[str]:
    return [found for _, html in html_fields(document) for found in ids(html)]


def sections_of(sections: list[dict[str, Any]], level: int = 2) -> Iterator[tuple[dict, int]]:
    for section in sections:
        yield section, level
        yield from sections_of(section["subsections"], level + 1)


def article(client: FlaskClient, slug: str, query: str = "") -> dict[str, Any]:
    response = client.get(f"/v1/articles/{slug}{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_each_heading_carries_its_sections_key_as_its_id(client):
    document = article(client, SEEDED_ARTICLE)
    sections = list(sections_of(document["sections"]))

    assert any(level == 3 for _, level in sections), "the seeded article has subsections"
    for section, level in sections:
        assert section["heading_html"] == (
            f'<h{level} id="{section["key"]}">{escape(section["heading"])}</h{level}>'
        )
    keys = [section["key"] for section, _ in sections]
    # The ids a contents list links to: one per section, each once, and no other.
    assert every_id(document) == keys
    assert len(set(keys)) == len(keys)


def test_a_chosen_section_keeps_its_anchor(client):
    document = article(client, SEEDED_ARTICLE, "?sections=causes")

    assert [section["key"] for section in document["sections"]] == ["causes"]
    assert document["sections"][0]["heading_html"].startswith('<h2 id="causes">')


def test_no_id_an_editor_types_reaches_the_page(app: Flask, client):
    with app.app_context():
        author = db.session.scalars(select(Person).order_by(Person.slug)).first()
        draft = Article(id=uuid.uuid4(), slug="anchors-and-ids", title="Anchors", summary="Ids.")
        draft.authorships = [ArticleAuthor(person=author)]
        overview = Section(
            id=uuid.uuid4(), key="overview", heading=HOSTILE_HEADING, body=HOSTILE_BODY
        )
        draft.all_sections = [
            overview,
            Section(key="detail", heading="Detail", body=HOSTILE_BODY, parent_id=overview.id),
        ]
        db.session.add(draft)
        db.session.flush()
        publish_article(draft.id)
        db.session.commit()

    document = article(client, "anchors-and-ids")

    assert every_id(document) == ["overview", "detail"]
    overview_html = document["sections"][0]["heading_html"]
    assert overview_html == '<h2 id="overview">Side effects&quot; id=&quot;alert</h2>'
    assert document["sections"][0]["subsections"][0]["heading_html"] == (
        '<h3 id="detail">Detail</h3>'
    )
    # The editor's text is all there, as text.
    assert '&lt;h2 id="location"&gt;Raw heading' in document["sections"][0]["body_html"]


def test_a_key_used_twice_in_an_article_is_refused(client, editor):
    response = client.post(
        "/v1/admin/articles",
        json={
            "slug": "twice-keyed",
            "title": "Twice keyed",
            "sections": [
                {
                    "key": "causes",
                    "heading": "Causes",
                    "subsections": [{"key": "causes", "heading": "More causes"}],
                }
            ],
        },
        headers=bearer(editor),
    )

    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert response.get_json()["errors"]["json"]["sections"] == ["Duplicate key: causes."]


def _as_stored_before_anchors(app: Flask, slug: str) -> str:
    """Store the article's document as a version without heading anchors rendered it;
    return its ETag."""

    def without(sections: list[dict[str, Any]]) -> None:
        for section in sections:
            section.pop("heading_html")
            without(section["subsections"])

    with app.app_context():
        found = text("SELECT body FROM published_documents WHERE kind = 'article' AND slug = :s")
        document = json.loads(db.session.execute(found, {"s": slug}).scalar_one())
        without(document["sections"])
        body = dumps(document)
        db.session.execute(
            text(
                "UPDATE published_documents SET body = :body, etag = :etag"
                " WHERE kind = 'article' AND slug = :s"
            ),
            {"body": body, "etag": etag_for(body), "s": slug},
        )
        db.session.commit()
        return etag_for(body)


def test_cms_api_render_gives_documents_stored_before_anchors_their_ids(app, runner, client):
    old_etag = _as_stored_before_anchors(app, SEEDED_ARTICLE)
    stored = client.get(f"/v1/articles/{SEEDED_ARTICLE}")
    assert stored.headers["ETag"] == old_etag
    assert "heading_html" not in stored.get_json()["sections"][0]

    result = runner.invoke(args=["render"])

    assert result.exit_code == 0, result.output
    rendered = client.get(f"/v1/articles/{SEEDED_ARTICLE}", headers={"If-None-Match": old_etag})
    assert rendered.status_code == 200
    assert rendered.headers["ETag"] != old_etag
    document = rendered.get_json()
    assert every_id(document) == [
        section["key"] for section, _ in sections_of(document["sections"])
    ]
