"""GET /v1/search: ranked, highlighted hits over published articles and FAQs."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, ArticleTopic, Faq, Person, Section, Topic
from cms_api.services.delivery import remembered
from cms_api.services.discovery import search as search_service
from cms_api.services.publishing.articles import publish_article, unpublish_article

BOTOX = "headache-after-botox"


def publish(
    app: Flask,
    *,
    slug: str,
    title: str,
    summary: str = "A short summary.",
    body: str = "Some text.",
    topics: tuple[str, ...] = (),
    faqs: tuple[tuple[str, str], ...] = (),
) -> uuid.UUID:
    """Write and publish an article with one section and its FAQs; publishing indexes them."""
    with app.app_context():
        author = db.session.scalars(select(Person).order_by(Person.slug)).first()
        article = Article(id=uuid.uuid4(), slug=slug, title=title, summary=summary)
        article.authorships = [ArticleAuthor(person=author)]
        article.all_sections = [Section(key="overview", heading="Overview", body=body)]
        article.topic_links = [
            ArticleTopic(topic=db.session.scalars(select(Topic).where(Topic.slug == name)).one())
            for name in topics
        ]
        db.session.add(article)
        for position, (question, answer) in enumerate(faqs):
            db.session.add(
                Faq(article=article, question=question, answer=answer, position=position)
            )
        db.session.flush()
        publish_article(article.id)
        db.session.commit()
        return article.id


def hits(client: FlaskClient, query: str) -> list[dict]:
    response = client.get(f"/v1/search?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_botox_headache_ranks_the_botox_article_first_with_highlights(client):
    response = client.get("/v1/search?q=botox headache")

    assert response.status_code == 200
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    body = response.get_json()
    first = body["items"][0]
    assert (first["type"], first["slug"], first["url"]) == (
        "article",
        BOTOX,
        f"/v1/articles/{BOTOX}",
    )
    assert first["title"] == "Headache After Botox: Causes, Prevention and Treatment"
    assert "<mark>Botox</mark>" in first["title_html"]
    assert "<mark>" in first["snippet_html"]
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert {item["type"] for item in body["items"]} == {"article", "faq"}
    assert body["query"] == {
        "q": "botox headache",
        "corrected": None,
        "candidate_limit": search_service.CANDIDATE_LIMIT,
        "capped": False,
    }
    assert body["page"]["total"] == len(body["items"])


def test_a_misspelt_query_is_corrected_and_still_finds_the_botox_article(client):
    body = client.get("/v1/search?q=botxo headake").get_json()

    assert body["query"]["corrected"] == "botox headache"
    assert body["items"][0]["slug"] == BOTOX
    assert "<mark>Botox</mark>" in body["items"][0]["title_html"]


def test_a_query_that_matches_is_not_corrected(client):
    body = client.get("/v1/search?q=headache").get_json()

    assert body["query"]["corrected"] is None
    assert body["page"]["total"] > 5


def test_phrases_must_appear_as_written_and_minus_excludes(client):
    ear_pain = {item["id"] for item in hits(client, "q=ear pain")}
    phrase = {item["id"] for item in hits(client, 'q="ear pain"')}
    reversed_phrase = hits(client, 'q="pain ear"')
    excluded = hits(client, 'q="ear pain" -infection')

    assert phrase and phrase <= ear_pain
    assert reversed_phrase == []
    assert excluded and {item["id"] for item in excluded} < phrase
    assert "headache-with-ear-pain" not in {item["slug"] for item in excluded}


def test_accents_letter_case_and_word_endings_do_not_matter(app, client):
    publish(app, slug="cafe-au-lait-spots", title="Café-au-lait spots on a baby's skin")

    for query in ("cafe", "CAFÉ", "café spot"):
        assert "cafe-au-lait-spots" in {item["slug"] for item in hits(client, f"q={query}")}


def test_snippets_escape_a_hostile_title_and_text_but_keep_the_marks(app, client):
    publish(
        app,
        slug="hostile-botox",
        title='<img src=x onerror=alert(1)> Botox "risks" & <b>myths</b> \ue000fake\ue001',
        summary="<script>alert('x')</script> A summary.",
        body='Botox & friends: AT&T says 5 < 6, "quoted" <b onclick="x()">bold</b>',
    )

    item = next(i for i in hits(client, "q=botox") if i["slug"] == "hostile-botox")

    # The private-use characters ts_headline marks matches with are stripped from
    # indexed text, so a title cannot forge a highlight.
    assert item["title"] == '<img src=x onerror=alert(1)> Botox "risks" & <b>myths</b> fake'
    assert item["title_html"] == (
        "&lt;img src=x onerror=alert(1)&gt; <mark>Botox</mark> &quot;risks&quot; &amp; "
        "&lt;b&gt;myths&lt;/b&gt; fake"
    )
    # The snippet comes from the section that mentions Botox, not the summary.
    assert item["snippet_html"].startswith(
        "Overview: <mark>Botox</mark> &amp; friends: AT&amp;T says 5 &lt; 6, &quot;quoted&quot;"
    )
    for html in (item["title_html"], item["snippet_html"]):
        assert "<" not in re.sub(r"</?mark>", "", html)


def test_type_filter(client):
    faqs = hits(client, "q=headache&type=faq")
    articles = hits(client, "q=headache&type=article")

    assert faqs and {item["type"] for item in faqs} == {"faq"}
    assert all(item["url"] == f"/v1/faqs/{item['id']}" and item["slug"] is None for item in faqs)
    assert articles and {item["type"] for item in articles} == {"article"}


def test_topic_filter_includes_subtopics(app, client):
    publish(
        app,
        slug="migraine-aura-zigzags",
        title="Zigzag lines before a migraine",
        topics=("migraine",),
        faqs=(("Are zigzag lines an aura?", "Often they are."),),
    )

    on_headache = hits(client, "q=zigzag&topic=headache")
    on_ear = hits(client, "q=zigzag&topic=ear-conditions")
    on_nothing = hits(client, "q=zigzag&topic=no-such-topic")

    assert {item["type"] for item in on_headache} == {"article", "faq"}
    assert "migraine-aura-zigzags" in {item["slug"] for item in on_headache}
    assert on_ear == on_nothing == []


def test_pages_walk_every_hit_once_with_link_headers(client):
    seen: list[str] = []
    scores: list[float] = []
    url = "/v1/search?q=headache&limit=3"
    total = None
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_json()
        total = body["page"]["total"]
        seen += [item["id"] for item in body["items"]]
        scores += [item["score"] for item in body["items"]]
        cursor = body["page"]["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            url = None
        else:
            assert 'rel="next"' in response.headers["Link"]
            url = f"/v1/search?q=headache&limit=3&cursor={cursor}"

    assert len(seen) == len(set(seen)) == total > 3
    assert scores == sorted(scores, reverse=True)


def test_the_candidate_cap_bounds_ranking_and_says_so(client, monkeypatch):
    monkeypatch.setattr(search_service, "CANDIDATE_LIMIT", 2)
    # Answers kept in memory were given under the real limit, and these must not outlive it.
    remembered.ANSWERS.clear()
    try:
        body = client.get("/v1/search?q=headache&limit=100").get_json()
    finally:
        remembered.ANSWERS.clear()

    assert body["query"]["capped"] is True
    assert body["query"]["candidate_limit"] == 2
    # At most the first two title matches and the first two text matches are ranked.
    assert body["page"]["total"] == len(body["items"]) <= 4


def test_a_withdrawn_article_and_its_faqs_leave_the_results(app, client):
    with app.app_context():
        article_id = db.session.scalar(select(Article.id).where(Article.slug == BOTOX))
        unpublish_article(article_id)
        db.session.commit()

    results = hits(client, "q=botox")

    assert BOTOX not in {item["slug"] for item in results}
    assert not [item for item in results if "after Botox" in item["title"]]


def test_revalidation_answers_304(client):
    first = client.get("/v1/search?q=botox")
    again = client.get("/v1/search?q=botox", headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.data == b""


@pytest.mark.parametrize(
    "query",
    [
        "q=the and of",  # stop words only
        "q=!!!",
        "q=-",
        "q=-botox",  # only an exclusion: it cannot use the index, so it finds nothing
        'q="',
        "q=%F0%9F%98%80",  # an emoji
        "q=or",
        "q=%26|!():*<->",  # tsquery operators are plain text in web search syntax
    ],
)
def test_queries_with_nothing_to_look_for_find_nothing(client, query):
    response = client.get(f"/v1/search?{query}")

    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_unbalanced_quotes_are_forgiven(client):
    # An opening quote without its closing one quotes the rest of the query.
    assert hits(client, 'q="headache after botox')[0]["slug"] == BOTOX


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "q"),
        ("q=", "q"),
        ("q=" + "a" * 10_000, "q"),
        ("q=botox%00", "q"),
        ("q=botox&q=headache", "q"),
        ("q=botox&type=video", "type"),
        ("q=botox&topic=Not_A_Slug", "topic"),
        ("q=botox&limit=0", "limit"),
        ("q=botox&limit=101", "limit"),
        ("q=botox&cursor=nonsense", "cursor"),
        ("q=botox&sort=title", "sort"),
    ],
)
def test_bad_parameters_are_a_problem_naming_the_parameter(client, query, parameter):
    response = client.get(f"/v1/search?{query}")

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "/problems/invalid-parameter"
    assert parameter in problem["errors"]["query"]
