"""GET /v1/lookup coverage: ICD-10-CM siblings and categories, borrowed content, topic terms."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import MedicalCode, Topic
from cms_api.services.publishing.topics import refresh_topics
from tests.conftest import bearer

SITE = "https://www.example-health.org"


def lookup(client: FlaskClient, query: str) -> dict:
    response = client.get(f"/v1/lookup?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _add_code(app, slug: str, code: str, display: str) -> None:
    """A code on a seeded topic, published as an edit publishes it (lookups answer from
    memory until published content changes)."""
    with app.app_context():
        topic = db.session.scalars(select(Topic).where(Topic.slug == slug)).one()
        db.session.add(MedicalCode(topic=topic, system="icd10cm", code=code, display=display))
        db.session.flush()
        refresh_topics([topic.id])
        db.session.commit()


@pytest.mark.parametrize(
    ("code", "topic", "matched"),
    [
        ("H92.01", "ear-pain", "H92.09"),
        ("H92.03", "ear-pain", "H92.09"),
        ("h9203", "ear-pain", "H92.09"),
        ("H66.91", "ear-infection", "H66.90"),
        ("H66.93", "ear-infection", "H66.90"),
        ("J30.1", "allergies", "J30.9"),
    ],
)
def test_a_code_finds_the_topic_coded_beside_it_under_the_same_parent(client, code, topic, matched):
    first = lookup(client, f"code=icd10cm:{code}")["topics"][0]

    assert (first["slug"], first["relation"]) == (topic, "sibling")
    assert first["matched_code"]["code"] == matched


@pytest.mark.parametrize(
    ("code", "topic", "matched"),
    [("G43.109", "migraine", "G43.909"), ("G44.219", "tension-type-headache", "G44.209")],
)
def test_a_code_finds_the_topics_in_its_category(client, code, topic, matched):
    first = lookup(client, f"code=icd10cm:{code}")["topics"][0]

    assert (first["slug"], first["relation"]) == (topic, "category")
    assert first["matched_code"]["code"] == matched


def test_siblings_and_categories_rank_after_exact_and_prefix_matches(app, client):
    _add_code(app, "ear-conditions", "H92", "Otalgia and effusion of ear")
    _add_code(app, "headache", "G43.109", "Migraine with aura, not intractable")

    ear = lookup(client, "code=icd10cm:H92.01")["topics"]
    migraine = lookup(client, "code=icd10cm:G43.109")["topics"]

    # ear-pain is also a subtopic of ear-conditions: its own, closer match is what counts.
    assert [(t["slug"], t["relation"]) for t in ear] == [
        ("ear-conditions", "broader"),
        ("ear-pain", "sibling"),
        ("ear-infection", "subtopic"),
    ]
    assert [(t["slug"], t["relation"]) for t in migraine] == [
        ("headache", "exact"),
        ("migraine", "category"),
        ("tension-type-headache", "subtopic"),
    ]


def test_siblings_share_the_parent_code_not_just_the_category(client):
    # G43.909's parent is G43.90: the topic coded G43.909 is its own; G43.119 is under
    # G43.11, so migraine is only in its category.
    topics = lookup(client, "code=icd10cm:G43.119")["topics"]

    assert [(t["slug"], t["relation"]) for t in topics] == [("migraine", "category")]


@pytest.mark.parametrize(
    ("code", "topic"), [("K74.60", "liver-disease"), ("K74.69", "liver-disease")]
)
def test_seeded_codes_cover_common_diagnoses(client, code, topic):
    body = lookup(client, f"code=icd10cm:{code}")

    assert body["topics"][0]["slug"] == topic
    assert body["articles"]


def test_a_code_in_a_category_nobody_codes_still_finds_nothing(client):
    body = lookup(client, "code=icd10cm:Z99.89")

    assert body["topics"] == body["articles"] == body["faqs"] == []


@pytest.mark.parametrize(
    ("code", "topic", "parent"),
    [
        ("icd10cm:G43.909", "migraine", "headache"),
        ("icd10cm:L29.9", "itchy-skin", "skin-rash"),
        ("mesh:D008881", "migraine", "headache"),
    ],
)
def test_a_topic_without_content_answers_with_its_nearest_ancestors(client, code, topic, parent):
    body = lookup(client, f"code={code}")
    first = body["topics"][0]
    ancestor = client.get(f"/v1/topics/{parent}").get_json()

    assert (first["slug"], first["relation"]) == (topic, "exact")
    assert (first["article_count"], first["faq_count"]) == (0, 0)
    assert first["content_from"] == {"slug": parent, "name": ancestor["name"]}
    filed = {item["slug"] for item in ancestor["articles"]["items"]}
    assert filed and {article["slug"] for article in body["articles"]} >= filed


def test_topic_items_carry_counts_and_their_public_page(client):
    body = lookup(client, "code=icd10cm:R51.9")
    headache = body["topics"][0]
    page = client.get("/v1/topics/headache").get_json()
    faqs = client.get("/v1/faqs?topic=headache&limit=100").get_json()

    assert headache["url"] == "/v1/topics/headache"
    assert headache["page_url"] == f"{SITE}/topics/headache"
    # Headache's subtopics have no articles, so its page's total is its own.
    assert headache["article_count"] == page["articles"]["total"] > 0
    assert headache["faq_count"] >= len(page["faqs"]) > 0
    assert headache["faq_count"] <= faqs["page"]["total"]
    assert headache["content_from"] is None
    assert headache["synonyms"] == page["synonyms"]
    migraine = next(t for t in body["topics"] if t["slug"] == "migraine")
    assert migraine["page_url"] == f"{SITE}/topics/migraine"


@pytest.mark.parametrize(
    ("symptom", "topic"),
    [
        ("tmj", "temporomandibular-disorders"),
        ("botox", "cosmetic-injectables"),
        ("earache", "ear-pain"),
        ("sinus headache", "allergies"),
        ("migraine headache", "migraine"),
    ],
)
def test_a_synonym_finds_its_topic(client, symptom, topic):
    body = lookup(client, f"symptom={symptom}")

    assert topic in [t["slug"] for t in body["topics"]][:2]
    assert body["query"]["corrected"] is None


def test_a_topic_term_is_not_taken_for_a_typo(client):
    body = lookup(client, "symptom=tmj hedache")

    assert body["query"]["corrected"] == "tmj headache"
    assert body["topics"][0]["slug"] in {"temporomandibular-disorders", "headache"}


def test_the_public_topic_shows_its_seeded_synonyms(client):
    topic = client.get("/v1/topics/ear-pain").get_json()

    assert "earache" in topic["synonyms"]


def test_editors_change_synonyms_and_the_lookup_follows(client, editor):
    found = client.get("/v1/admin/topics?q=ear-pain", headers=bearer(editor)).get_json()
    topic = next(item for item in found["items"] if item["slug"] == "ear-pain")
    url = f"/v1/admin/topics/{topic['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]

    edited = client.patch(
        url,
        json={"synonyms": [" Swimmer's ear ", "otalgia", "OTALGIA", "ear ache"]},
        headers=bearer(editor, **{"If-Match": etag}),
    )

    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["synonyms"] == ["Swimmer's ear", "otalgia", "ear ache"]
    assert client.get("/v1/topics/ear-pain").get_json()["synonyms"] == [
        "Swimmer's ear",
        "otalgia",
        "ear ache",
    ]
    swimmers = lookup(client, "symptom=swimmer")["topics"]
    assert [t["slug"] for t in swimmers][:1] == ["ear-pain"]
    assert "earache" not in lookup(client, "symptom=earache")["topics"][0]["synonyms"]


@pytest.mark.parametrize(
    "synonyms",
    [["x" * 101], [""], ["ear\x00ache"], ["a"] * 31, "earache", [1]],
)
def test_bad_synonyms_are_refused(client, editor, synonyms):
    found = client.get("/v1/admin/topics?q=ear-pain", headers=bearer(editor)).get_json()
    topic = next(item for item in found["items"] if item["slug"] == "ear-pain")
    url = f"/v1/admin/topics/{topic['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]

    response = client.patch(
        url, json={"synonyms": synonyms}, headers=bearer(editor, **{"If-Match": etag})
    )

    assert response.status_code == 422
    assert "synonyms" in response.get_json()["errors"]["json"]
