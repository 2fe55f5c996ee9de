"""GET /v1/lookup: a medical code or a symptom in, published topics, articles and FAQs out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, MedicalCode, Topic
from cms_api.services.publishing.articles import unpublish_article
from cms_api.services.publishing.topics import refresh_topics

BOTOX = "headache-after-botox"


def lookup(client: FlaskClient, query: str) -> dict:
    response = client.get(f"/v1/lookup?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _topic(slug: str) -> Topic:
    return db.session.scalars(select(Topic).where(Topic.slug == slug)).one()


def test_an_icd10cm_code_finds_its_topic_subtopics_articles_and_faqs(client):
    response = client.get("/v1/lookup?code=icd10cm:R51.9")

    assert response.status_code == 200
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    body = response.get_json()
    assert body["query"] == {"code": "icd10cm:R51.9", "symptom": None, "corrected": None}
    headache, *subtopics = body["topics"]
    assert (headache["slug"], headache["relation"], headache["url"]) == (
        "headache",
        "exact",
        "/v1/topics/headache",
    )
    assert headache["matched_code"] == {
        "system": "icd10cm",
        "code": "R51.9",
        "display": "Headache, unspecified",
    }
    assert {(t["slug"], t["relation"], t["subtopic_of"]) for t in subtopics} == {
        ("migraine", "subtopic", "headache"),
        ("tension-type-headache", "subtopic", "headache"),
    }
    slugs = [article["slug"] for article in body["articles"]]
    assert BOTOX in slugs and "lip-filler-swelling" not in slugs
    assert body["faqs"] and all(faq["question"] for faq in body["faqs"])


@pytest.mark.parametrize("code", ["icd10cm:R51.9", "icd10cm:r519", "icd10cm:R519"])
def test_icd10cm_codes_ignore_the_dot_and_letter_case(client, code):
    assert lookup(client, f"code={code}")["topics"][0]["slug"] == "headache"


def test_icd10cm_codes_match_up_and_down_the_hierarchy(app, client):
    with app.app_context():
        # A broader code on the parent topic: R51.9's category, R51. Published as editing
        # a topic publishes it (lookups answer from memory until published content changes).
        parent = _topic("neurological-symptoms")
        db.session.add(MedicalCode(topic=parent, system="icd10cm", code="R51", display="Headache"))
        db.session.flush()
        refresh_topics([parent.id])
        db.session.commit()

    narrower = lookup(client, "code=icd10cm:R51.9")["topics"]
    broader = lookup(client, "code=icd10cm:R51")["topics"]

    # Exact first, then the broader code's topic, then subtopics.
    assert [(t["slug"], t["relation"]) for t in narrower][:2] == [
        ("headache", "exact"),
        ("neurological-symptoms", "broader"),
    ]
    assert narrower[1]["matched_code"]["code"] == "R51"
    assert [(t["slug"], t["relation"]) for t in broader][:2] == [
        ("neurological-symptoms", "exact"),
        ("headache", "narrower"),
    ]
    assert broader[1]["matched_code"]["code"] == "R51.9"
    assert {t["slug"] for t in broader} >= {"migraine", "tension-type-headache"}


def test_a_chapter_letter_alone_is_not_a_code(client):
    response = client.get("/v1/lookup?code=icd10cm:R5")

    assert response.status_code == 400
    assert "ICD-10-CM" in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("code", "topic"),
    [
        ("snomed:25064002", "headache"),
        ("mesh:D006261", "headache"),
        ("mesh:d018781", "tension-type-headache"),
    ],
)
def test_snomed_and_mesh_codes_match_exactly(client, code, topic):
    first = lookup(client, f"code={code}")["topics"][0]

    assert (first["slug"], first["relation"]) == (topic, "exact")


@pytest.mark.parametrize("code", ["snomed:250640", "snomed:250640020", "mesh:D0062610"])
def test_snomed_and_mesh_codes_have_no_prefix_hierarchy(client, code):
    assert lookup(client, f"code={code}")["topics"] == []


def test_content_on_topics_without_code_comes_from_the_matched_topic(client):
    body = lookup(client, "code=mesh:D001905")

    assert [t["slug"] for t in body["topics"]] == ["cosmetic-injectables"]
    assert {a["slug"] for a in body["articles"]} == {BOTOX, "lip-filler-swelling"}
    assert {f["question"] for f in body["faqs"]} >= {"How long does lip filler swelling last?"}


def test_an_unknown_code_finds_nothing(client):
    body = lookup(client, "code=icd10cm:Z99.89")

    assert body["topics"] == body["articles"] == body["faqs"] == []


def test_a_symptom_finds_topics_articles_and_faqs_best_first(client):
    body = lookup(client, "symptom=headache after injection")

    assert body["query"] == {
        "code": None,
        "symptom": "headache after injection",
        "corrected": None,
    }
    assert body["topics"][0]["slug"] == "headache"
    assert body["topics"][0]["relation"] == "text"
    assert body["articles"][0]["slug"] == BOTOX
    assert "botox" in body["faqs"][0]["question"].casefold()


def test_a_misspelt_symptom_is_corrected(client):
    body = lookup(client, "symptom=hedache injektion botxo&limit=3")

    assert body["query"]["corrected"] == "headache injection botox"
    assert body["articles"][0]["slug"] == BOTOX
    assert len(body["articles"]) <= 3


def test_a_symptom_with_nothing_to_look_for_finds_nothing(client):
    body = lookup(client, "symptom=!!! the")

    assert body["topics"] == body["articles"] == body["faqs"] == []


def test_only_published_content_is_found(app, client):
    with app.app_context():
        unpublish_article(db.session.scalar(select(Article.id).where(Article.slug == BOTOX)))
        ear_pain = _topic("ear-pain")
        ear_pain.deleted_at = datetime.now(UTC)
        db.session.flush()
        refresh_topics([ear_pain.id])
        db.session.commit()

    headache = lookup(client, "code=icd10cm:R51.9")
    ear = lookup(client, "code=icd10cm:H92.09")

    assert BOTOX not in {a["slug"] for a in headache["articles"]}
    assert ear["topics"] == []


def test_revalidation_answers_304(client):
    first = client.get("/v1/lookup?code=icd10cm:R51.9")
    again = client.get(
        "/v1/lookup?code=icd10cm:R51.9", headers={"If-None-Match": first.headers["ETag"]}
    )

    assert again.status_code == 304
    assert again.data == b""


def test_an_unknown_system_is_a_problem_listing_the_known_ones(client):
    response = client.get("/v1/lookup?code=loinc:1234-5")

    assert response.status_code == 400
    problem = response.get_json()
    assert problem["type"] == "/problems/invalid-parameter"
    assert "loinc" in problem["detail"]
    assert "icd10cm, snomed, mesh" in problem["detail"]


@pytest.mark.parametrize(
    ("query", "parameters"),
    [
        ("", {"code", "symptom"}),
        ("limit=5", {"code", "symptom"}),
        ("code=icd10cm:R51.9&symptom=headache", {"code", "symptom"}),
        ("code=R51.9", {"code"}),
        ("code=icd10cm:", {"code"}),
        ("code=icd10cm:R51.9.9", {"code"}),
        ("code=snomed:headache", {"code"}),
        ("code=mesh:123456", {"code"}),
        ("code=icd10cm:" + "R" * 5000, {"code"}),
        ("code=icd10cm:R51%00", {"code"}),
        ("symptom=", {"symptom"}),
        ("symptom=" + "a" * 5000, {"symptom"}),
        ("symptom=head%00ache", {"symptom"}),
        ("symptom=a&symptom=b", {"symptom"}),
        ("symptom=headache&limit=0", {"limit"}),
        ("symptom=headache&limit=51", {"limit"}),
        ("symptom=headache&topic=headache", {"topic"}),
    ],
)
def test_bad_input_is_a_problem_naming_the_parameters(client, query, parameters):
    response = client.get(f"/v1/lookup?{query}")

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert set(response.get_json()["errors"]["query"]) == parameters


def test_the_document_describes_a_partner_api_with_an_example_per_input(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/v1/lookup"]["get"]
    query = next(p for p in operation["parameters"] if p["in"] == "query")
    examples = operation["responses"]["200"]["content"]["application/json"]["examples"]

    assert query["schema"]["oneOf"] == [{"required": ["code"]}, {"required": ["symptom"]}]
    assert set(query["examples"]) == set(examples) == {"code", "symptom"}
    assert "MedlinePlus Connect" in operation["description"]
