"""GET /v1/articles/{slug}/jsonld: the stored JSON-LD, safe to paste into a script element."""

from __future__ import annotations

import json

from sqlalchemy import update

from cms_api.database import db
from cms_api.models import PublishedDocument
from tests.conftest import bearer
from tests.support.api import CLINICAL, PUBLISHABLE

SLUG = "headache-after-botox"
URL = f"/v1/articles/{SLUG}/jsonld"


def test_jsonld_names_author_reviewer_with_credentials_review_date_codes_and_faqs(client):
    response = client.get(URL)

    assert response.status_code == 200
    assert response.content_type == "application/ld+json"
    graph = json.loads(response.get_data(as_text=True))
    nodes = {node["@id"]: node for node in graph["@graph"]}
    page = next(node for node in graph["@graph"] if node["@type"] == "MedicalWebPage")
    article = nodes[page["mainEntity"]["@id"]]
    author = nodes[article["author"][0]["@id"]]
    reviewer = nodes[page["reviewedBy"][0]["@id"]]
    assert author["name"] == "Miriam Castellanos-Reed" and author["honorificSuffix"] == "MD"
    assert reviewer["name"] == "Tobias Lindqvist"
    assert "Board Certification in Dermatology" in {c["name"] for c in reviewer["hasCredential"]}
    assert page["lastReviewed"] == "2026-10-02"
    codes = {
        (code["codingSystem"], code["codeValue"])
        for ref in page["about"]
        for code in nodes[ref["@id"]].get("code", [])
    }
    assert {("ICD-10-CM", "R51.9"), ("SNOMED-CT", "25064002"), ("MeSH", "D006261")} <= codes
    assert "Can I take painkillers after Botox?" in {q["name"] for q in article["hasPart"]}


def test_jsonld_is_the_articles_structured_data_with_markup_characters_escaped(client):
    article = client.get(f"/v1/articles/{SLUG}").get_json()
    text = client.get(URL).get_data(as_text=True)

    assert json.loads(text) == article["structured_data"]
    # The answers are HTML, yet no `<`, `>` or `&` reaches the text a page would embed.
    assert "<p>" in json.dumps(article["structured_data"])
    assert not {"<", ">", "&"} & set(text)
    assert "\\u003cp\\u003e" in text


def test_jsonld_has_a_strong_etag_and_revalidates_with_304(client):
    first = client.get(URL)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert etag != client.get(f"/v1/articles/{SLUG}").headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=600"

    again = client.get(URL, headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    stale = client.get(URL, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.headers["ETag"] == etag


def test_republished_article_changes_the_jsonld_and_its_etag(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer", person_slug="rafael-oyelaran")
    before = client.get(URL)
    found = client.get(f"/v1/admin/articles?q={SLUG}", headers=bearer(editor)).get_json()
    url = f"/v1/admin/articles/{found['items'][0]['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    edited = client.patch(
        url, json={"title": "Headache After Botox"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert edited.status_code == 200, edited.get_json()
    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer)).status_code == 200
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200

    after = client.get(URL, headers={"If-None-Match": before.headers["ETag"]})

    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    graph = json.loads(after.get_data(as_text=True))
    article = next(node for node in graph["@graph"] if node["@type"] == "Article")
    assert article["headline"] == "Headache After Botox"


def test_hostile_title_and_faq_cannot_break_out_of_a_script_element(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    hostile = '</script><script>alert("x")</script><!-- & -->'
    created = client.post(
        "/v1/admin/articles",
        json={
            "slug": "hostile-title",
            "title": hostile,
            "summary": "A test.",
            "topics": [],
            **PUBLISHABLE,
        },
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    url = created.headers["Location"]
    client.put(
        f"{url}/authors",
        json={"authors": ["rafael-oyelaran"]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    faq = client.post(
        "/v1/admin/faqs",
        json={"article_id": created.get_json()["id"], "question": hostile, "answer": hostile},
        headers=bearer(editor),
    )
    assert faq.status_code == 201, faq.get_json()
    client.patch(
        faq.headers["Location"],
        json={"status": "published"},
        headers=bearer(editor, **{"If-Match": faq.headers["ETag"]}),
    )
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer)).status_code == 200
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200

    response = client.get("/v1/articles/hostile-title/jsonld")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "</script" not in text.lower() and "<!--" not in text
    assert not {"<", ">", "&"} & set(text)
    graph = json.loads(text)
    article = next(node for node in graph["@graph"] if node["@type"] == "Article")
    assert article["headline"] == hostile
    [question] = article["hasPart"]
    assert question["name"] == hostile
    # The answer is rendered Markdown, sanitized: the script element is not kept as markup.
    assert "<script" not in question["acceptedAnswer"]["text"]
    assert (
        json.loads(text) == client.get("/v1/articles/hostile-title").get_json()["structured_data"]
    )


def test_former_slug_answers_301_to_the_current_jsonld(client, make_token):
    editor = make_token("editor")
    found = client.get("/v1/admin/articles?q=tmj-headache", headers=bearer(editor)).get_json()
    url = f"/v1/admin/articles/{found['items'][0]['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    renamed = client.patch(
        url, json={"slug": "jaw-headache"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert renamed.status_code == 200, renamed.get_json()

    moved = client.get("/v1/articles/tmj-headache/jsonld")

    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/v1/articles/jaw-headache/jsonld")
    assert moved.data == b""
    assert client.get(moved.headers["Location"]).content_type == "application/ld+json"


def test_unknown_or_malformed_slug_is_a_404_problem_and_a_query_parameter_a_400(client):
    for slug in ("no-such-article", "Not A Slug", "a" * 500):
        response = client.get(f"/v1/articles/{slug}/jsonld")
        assert response.status_code == 404, slug
        assert response.content_type == "application/problem+json"
        assert response.get_json()["status"] == 404

    extra = client.get(f"{URL}?format=compact")
    assert extra.status_code == 400
    assert extra.content_type == "application/problem+json"
    assert "format" in extra.get_json()["detail"]


def test_a_document_rendered_before_json_ld_existed_is_a_404_problem_not_a_500(app, client):
    body = client.get(f"/v1/articles/{SLUG}").get_json()
    del body["structured_data"]
    with app.app_context():
        db.session.execute(
            update(PublishedDocument)
            .where(PublishedDocument.kind == "article", PublishedDocument.slug == SLUG)
            .values(body=json.dumps(body))
        )
        db.session.commit()

    response = client.get(URL)

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert "not been rendered" in response.get_json()["detail"]
