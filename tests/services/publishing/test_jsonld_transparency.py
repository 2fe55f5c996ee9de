"""JSON-LD that says true things: specialty from topics, a typed audience, cited journals."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, ArticleTopic, MedicalReview, Person, Topic
from cms_api.services.publishing import jsonld
from cms_api.services.publishing.articles import publish_article

SPECIALTY = "https://schema.org/"


def graph_of(slug: str) -> list[dict[str, Any]]:
    stored = jsonld.published(slug)
    assert stored is not None
    return json.loads(stored.body)["@graph"]


def node(graph: list[dict[str, Any]], type_name: str) -> dict[str, Any]:
    [found] = [item for item in graph if item["@type"] == type_name]
    return found


def test_each_seeded_page_claims_the_specialties_of_its_topics_and_a_patient_audience(app):
    expected = {
        "headache-after-botox": ["Neurologic", "Dermatology"],
        "tmj-headache": ["Dentistry", "Neurologic"],
        "ear-infection-headache": ["Otolaryngologic", "Neurologic"],
        "headache-with-ear-pain": ["Otolaryngologic", "Neurologic"],
        # Allergies claim no specialty: schema.org has no member for allergy and immunology.
        "allergy-headache-relief": ["Neurologic"],
        "liver-rash": ["Dermatology", "Gastroenterologic"],
        "lip-filler-swelling": ["Dermatology"],
    }
    with app.app_context():
        pages = {slug: node(graph_of(slug), "MedicalWebPage") for slug in expected}

    assert {slug: page["specialty"] for slug, page in pages.items()} == {
        slug: [SPECIALTY + member for member in members] for slug, members in expected.items()
    }
    assert {json.dumps(page["medicalAudience"]) for page in pages.values()} == {
        '{"@type": "Patient"}'
    }


def test_a_headache_page_reviewed_by_a_dermatologist_is_not_a_dermatology_page(app):
    with app.app_context():
        people = {p.slug: p for p in db.session.scalars(select(Person))}
        headache = db.session.scalars(select(Topic).where(Topic.slug == "headache")).one()
        article = Article(
            id=uuid.uuid4(),
            slug="headache-reviewed-by-a-dermatologist",
            title="Headache",
            summary="S",
            status="approved",
            revision_number=0,
        )
        article.authorships = [ArticleAuthor(person=people["rafael-oyelaran"])]
        article.topic_links = [ArticleTopic(topic=headache, position=0)]
        db.session.add(article)
        db.session.flush()
        publish_article(article.id)
        article.reviews.append(
            MedicalReview(
                reviewer=people["tobias-lindqvist"],
                reviewed_at=date(2026, 11, 1),
                revision_number=article.live_revision,
                kind="clinical",
            )
        )
        db.session.flush()
        publish_article(article.id)
        graph = graph_of("headache-reviewed-by-a-dermatologist")

    page = node(graph, "MedicalWebPage")
    reviewers = [item["name"] for item in graph if item["@type"] == "Person"]
    assert "Tobias Lindqvist" in reviewers  # the dermatologist is on the page...
    assert page["specialty"] == [SPECIALTY + "Neurologic"]  # ...and does not decide its field


def test_topic_nodes_name_their_relevant_specialty(app):
    with app.app_context():
        graph = graph_of("tmj-headache")

    topics = {item["name"]: item for item in graph if "/topics/" in item.get("url", "")}
    assert topics["Temporomandibular disorders (TMD)"]["relevantSpecialty"] == (
        SPECIALTY + "Dentistry"
    )
    assert topics["Headache"]["relevantSpecialty"] == SPECIALTY + "Neurologic"


def test_journal_articles_are_part_of_a_periodical_and_publishers_are_organisations(app):
    with app.app_context():
        citations = [
            citation
            for slug in ("headache-after-botox", "tmj-headache")
            for citation in node(graph_of(slug), "Article")["citation"]
        ]
    by_name = {citation["name"]: citation for citation in citations}

    journals = [c for c in citations if c["@type"] == "ScholarlyArticle"]
    assert {c["isPartOf"]["name"] for c in journals} == {
        "Journal of the American Academy of Dermatology",
        "Cephalalgia",
        "Headache",
        "Cochrane Database of Systematic Reviews",
    }
    assert all(c["isPartOf"]["@type"] == "Periodical" and "publisher" not in c for c in journals)
    medlineplus = by_name["OnabotulinumtoxinA Injection"]
    assert medlineplus["@type"] == "CreativeWork" and "isPartOf" not in medlineplus
    assert medlineplus["publisher"] == {
        "@type": "Organization",
        "name": "U.S. National Library of Medicine",
    }
    # A report with a DOI, from a press: its publisher, not a journal.
    report = by_name["Temporomandibular Disorders: Priorities for Research and Care"]
    assert report["@type"] == "CreativeWork"
    assert report["publisher"]["name"] == "The National Academies Press"
