"""Delivery of people, topics and FAQs."""

from __future__ import annotations

from sqlalchemy import func, select

from cms_api.database import db
from cms_api.models import Faq


def test_people_list_and_role_filter(client):
    everyone = client.get("/v1/people").get_json()
    reviewers = client.get("/v1/people?role=reviewer").get_json()["items"]
    authors = client.get("/v1/people?role=author").get_json()["items"]

    names = [person["name"] for person in everyone["items"]]
    assert names == sorted(names, key=str.casefold)
    assert everyone["page"]["total"] == 3
    assert reviewers and all("reviewer" in person["roles"] for person in reviewers)
    assert authors and all("author" in person["roles"] for person in authors)


def test_person_profile_has_credentials_and_their_published_articles(client):
    article = client.get("/v1/articles/headache-after-botox").get_json()
    author_slug = article["authors"][0]["slug"]

    response = client.get(f"/v1/people/{author_slug}")

    assert response.status_code == 200
    assert "ETag" in response.headers
    person = response.get_json()
    assert person["display_name"].startswith("Dr. ")
    assert person["bio_html"].startswith("<p>")
    assert {c["kind"] for c in person["credentials"]} == {
        "degree",
        "license",
        "board_certification",
    }
    authored = person["articles_authored"]
    assert "headache-after-botox" in {item["slug"] for item in authored["items"]}
    assert authored["total"] == len(authored["items"])


def test_unknown_person_is_404(client):
    assert client.get("/v1/people/nobody-at-all").status_code == 404
    assert client.get("/v1/people/NOT_A_SLUG").status_code == 404


def test_topic_tree_nests_children_with_codes(client):
    response = client.get("/v1/topics")

    assert response.status_code == 200
    roots = response.get_json()["items"]
    by_slug = {topic["slug"]: topic for topic in roots}
    assert "headache" not in by_slug, "a child topic is listed under its parent"
    neuro = by_slug["neurological-symptoms"]
    headache = next(child for child in neuro["children"] if child["slug"] == "headache")
    assert {"system": "icd10cm", "code": "R51.9", "display": "Headache, unspecified"} in headache[
        "codes"
    ]
    assert {child["slug"] for child in headache["children"]} >= {"tension-type-headache"}


def test_topic_page_has_codes_articles_and_faqs(client):
    topic = client.get("/v1/topics/headache").get_json()

    assert topic["parent"]["slug"] == "neurological-symptoms"
    assert ("snomed", "25064002") in {(c["system"], c["code"]) for c in topic["codes"]}
    slugs = {item["slug"] for item in topic["articles"]["items"]}
    assert "headache-after-botox" in slugs
    assert topic["articles"]["total"] == len(slugs)
    assert topic["faqs"], "topic-level FAQs are part of the topic page"
    assert client.get("/v1/topics/no-such-topic").status_code == 404


def test_faq_list_filters_and_single_faq(app, client):
    everything = client.get("/v1/faqs?limit=100").get_json()
    with app.app_context():
        # The list is of the default locale's FAQs (`?locale=` reads another's).
        stored = db.session.scalar(select(func.count()).select_from(Faq).where(Faq.locale == "en"))
    assert everything["page"]["total"] == stored

    article_faqs = client.get("/v1/faqs?article=headache-after-botox").get_json()["items"]
    assert len(article_faqs) >= 5
    assert all(faq["article"]["slug"] == "headache-after-botox" for faq in article_faqs)

    topic_faqs = client.get("/v1/faqs?topic=headache&limit=100").get_json()["items"]
    assert any(faq["topic"] for faq in topic_faqs), "FAQs attached to the topic itself"
    assert any(faq["article"] for faq in topic_faqs), "FAQs of articles on the topic"

    one = article_faqs[0]
    response = client.get(f"/v1/faqs/{one['id']}")
    assert response.status_code == 200
    assert response.get_json() == one
    assert client.get("/v1/faqs/00000000-0000-0000-0000-000000000000").status_code == 404
