"""Transparency: disclosures, advertising labels, the editorial policy, topic specialties."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from cms_api.config import Settings
from cms_api.database import db
from cms_api.models import Article, Revision
from cms_api.services.publishing.articles import publish_article, refresh_articles
from tests.conftest import bearer
from tests.support.api import PROBLEM

SPONSOR = {"name": "Brightwell Pharmacy Group", "url": "https://www.example.com/brightwell"}
FUNDER = {"name": "Calder Vale Skin Health Trust", "url": None}
COI = "The author has received speaking fees from a maker of sunscreen."
DRAFT: dict[str, Any] = {
    "slug": "sunscreen-basics",
    "title": "Sunscreen Basics",
    "summary": "How to choose and use sunscreen.",
    "topics": ["skin-rash", "headache"],
    "sections": [{"key": "overview", "heading": "Overview", "body": "Use it daily."}],
    "citations": [
        {
            "title": "Sunscreen use and melanoma",
            "periodical": "Journal of Clinical Oncology",
            "doi": "10.1200/JCO.2010.28.7078",
        },
        {
            "title": "Sun protection",
            "publisher": "U.S. National Library of Medicine",
            "url": "https://medlineplus.gov/sunexposure.html",
        },
    ],
    "call_to_actions": [
        {"key": "shop", "kind": "booking", "title": "Buy SPF 50", "advertising": True},
        {
            "key": "clinic",
            "kind": "booking",
            "title": "Book a skin check",
            "advertising": True,
            "advertising_label": "Sponsored",
        },
        {"key": "ask", "kind": "ask_question", "title": "Ask us"},
    ],
    "disclosures": {"sponsor": SPONSOR, "funder": FUNDER, "conflicts_of_interest": COI},
}


def _create(client: FlaskClient, editor: str, **changes: Any) -> Any:
    return client.post("/v1/admin/articles", json={**DRAFT, **changes}, headers=bearer(editor))


def _publish(app: Flask, article_id: str) -> None:
    with app.app_context():
        publish_article(uuid.UUID(article_id))
        db.session.commit()


def _graph(client: FlaskClient, slug: str) -> dict[str, Any]:
    response = client.get(f"/v1/articles/{slug}/jsonld")
    assert response.status_code == 200
    return {node["@type"]: node for node in json.loads(response.get_data(as_text=True))["@graph"]}


def test_the_seeded_funder_is_shown_to_readers_and_in_the_jsonld(client):
    document = client.get("/v1/articles/lip-filler-swelling").get_json()

    assert document["disclosures"] == {
        "sponsor": None,
        "funder": {
            "name": "Calder Vale Skin Health Trust",
            "url": "https://www.example.org/calder-vale-skin-health-trust",
        },
        "conflicts_of_interest": None,
        "advertising": False,
    }
    article = _graph(client, "lip-filler-swelling")["Article"]
    assert article["funder"] == {
        "@type": "Organization",
        "name": "Calder Vale Skin Health Trust",
        "url": "https://www.example.org/calder-vale-skin-health-trust",
    }
    assert "sponsor" not in article
    # An article without disclosures says so plainly.
    other = client.get("/v1/articles/tmj-headache").get_json()["disclosures"]
    assert other == {
        "sponsor": None,
        "funder": None,
        "conflicts_of_interest": None,
        "advertising": False,
    }
    assert "funder" not in _graph(client, "tmj-headache")["Article"]


def test_disclosures_advertising_and_periodicals_reach_readers_and_the_jsonld(app, client, editor):
    created = _create(client, editor)
    assert created.status_code == 201, created.get_json()
    admin = created.get_json()
    assert admin["disclosures"] == {
        "sponsor": SPONSOR,
        "funder": FUNDER,
        "conflicts_of_interest": COI,
    }
    assert [(c["advertising"], c["advertising_label"]) for c in admin["call_to_actions"]] == [
        (True, None),
        (True, "Sponsored"),
        (False, None),
    ]
    assert admin["citations"][0]["periodical"] == "Journal of Clinical Oncology"

    _publish(app, admin["id"])
    document = client.get("/v1/articles/sunscreen-basics").get_json()

    assert document["disclosures"] == {
        "sponsor": SPONSOR,
        "funder": FUNDER,
        "conflicts_of_interest": COI,
        "advertising": True,
    }
    assert [(c["advertising"], c["label"]) for c in document["call_to_actions"]] == [
        (True, "Advertisement"),
        (True, "Sponsored"),
        (False, None),
    ]
    journal, web = document["citations"]
    assert (journal["periodical"], journal["publisher"]) == ("Journal of Clinical Oncology", None)
    assert (web["periodical"], web["publisher"]) == (None, "U.S. National Library of Medicine")

    graph = _graph(client, "sunscreen-basics")
    article = graph["Article"]
    assert article["sponsor"] == {"@type": "Organization", **SPONSOR}
    # No address: none is claimed.
    assert article["funder"] == {"@type": "Organization", "name": FUNDER["name"]}
    scholarly, page = article["citation"]
    assert scholarly["@type"] == "ScholarlyArticle"
    assert scholarly["isPartOf"] == {"@type": "Periodical", "name": "Journal of Clinical Oncology"}
    assert "publisher" not in scholarly
    assert page["@type"] == "CreativeWork" and "isPartOf" not in page
    assert page["publisher"] == {
        "@type": "Organization",
        "name": "U.S. National Library of Medicine",
    }
    # Its topics' specialties, in topic order: skin rash, then headache.
    assert graph["MedicalWebPage"]["specialty"] == [
        "https://schema.org/Dermatology",
        "https://schema.org/Neurologic",
    ]


def test_disclosures_are_replaced_whole_and_null_clears_them(client, editor):
    created = _create(client, editor)
    url = created.headers["Location"]

    only_funder = client.patch(
        url,
        json={"disclosures": {"funder": FUNDER}},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert only_funder.status_code == 200, only_funder.get_json()
    body = only_funder.get_json()
    assert body["disclosures"] == {"sponsor": None, "funder": FUNDER, "conflicts_of_interest": None}
    assert body["revision_number"] == 2
    revision = client.get(f"{url}/revisions/2", headers=bearer(editor)).get_json()
    assert revision["snapshot"]["disclosures"] == {"funder": FUNDER}

    cleared = client.patch(
        url,
        json={"disclosures": None},
        headers=bearer(editor, **{"If-Match": only_funder.headers["ETag"]}),
    )
    assert cleared.status_code == 200, cleared.get_json()
    assert cleared.get_json()["disclosures"] == {
        "sponsor": None,
        "funder": None,
        "conflicts_of_interest": None,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"disclosures": {"sponsor": {"name": "X", "url": "javascript:alert(1)"}}}, "disclosures"),
        ({"disclosures": {"sponsor": {"name": "X", "url": "ftp://example.com/"}}}, "disclosures"),
        ({"disclosures": {"funder": {"url": "https://example.com/"}}}, "disclosures"),
        ({"disclosures": {"funder": {"name": "   "}}}, "disclosures"),
        ({"disclosures": {"funder": {"name": "X", "logo": "y"}}}, "disclosures"),
        ({"disclosures": {"funder": "Calder Vale"}}, "disclosures"),
        ({"disclosures": {"conflicts_of_interest": "x" * 2001}}, "disclosures"),
        ({"disclosures": {"conflicts_of_interest": ""}}, "disclosures"),
        ({"disclosures": {"grants": []}}, "disclosures"),
        ({"disclosures": []}, "disclosures"),
        (
            {"call_to_actions": [{"key": "a", "kind": "booking", "title": "T", "advertising": 1}]},
            "call_to_actions",
        ),
        (
            {
                "call_to_actions": [
                    {"key": "a", "kind": "booking", "title": "T", "advertising": "yes"}
                ]
            },
            "call_to_actions",
        ),
        (
            {
                "call_to_actions": [
                    {"key": "a", "kind": "booking", "title": "T", "advertising_label": "Ad"}
                ]
            },
            "call_to_actions",
        ),
        (
            {
                "call_to_actions": [
                    {
                        "key": "a",
                        "kind": "booking",
                        "title": "T",
                        "advertising": True,
                        "advertising_label": "x" * 41,
                    }
                ]
            },
            "call_to_actions",
        ),
        ({"citations": [{"title": "T", "periodical": "x" * 301}]}, "citations"),
    ],
)
def test_bad_disclosures_labels_and_periodicals_are_422_problems(client, editor, changes, field):
    response = _create(client, editor, **changes)

    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert field in response.get_json()["errors"]["json"]


def test_an_old_revision_without_disclosures_or_periodicals_renders_as_having_none(
    app, client, editor
):
    created = _create(client, editor)
    article_id = created.get_json()["id"]
    _publish(app, article_id)
    with app.app_context():
        revision = db.session.scalars(
            select(Revision).where(Revision.article_id == uuid.UUID(article_id))
        ).one()
        # As revisions were saved before migration 0009's columns existed.
        snapshot = {key: value for key, value in revision.snapshot.items() if key != "disclosures"}
        snapshot["citations"] = [
            {key: value for key, value in item.items() if key != "periodical"}
            for item in snapshot["citations"]
        ]
        snapshot["call_to_actions"] = [{"key": "ask", "kind": "ask_question", "title": "Ask us"}]
        db.session.execute(
            update(Revision).where(Revision.id == revision.id).values(snapshot=snapshot)
        )
        refresh_articles([uuid.UUID(article_id)])
        db.session.commit()

    document = client.get("/v1/articles/sunscreen-basics").get_json()
    assert document["disclosures"] == {
        "sponsor": None,
        "funder": None,
        "conflicts_of_interest": None,
        "advertising": False,
    }
    assert document["call_to_actions"][0]["advertising"] is False
    assert document["call_to_actions"][0]["label"] is None
    assert [c["periodical"] for c in document["citations"]] == [None, None]
    assert "sponsor" not in _graph(client, "sunscreen-basics")["Article"]


def test_the_editorial_policy_is_the_publishers_principles(
    app, client, monkeypatch: pytest.MonkeyPatch
):
    policy = "https://www.example-health.org/editorial-policy"
    before = client.get("/v1/articles/tmj-headache").get_json()
    assert {key: value for key, value in before["publisher"].items() if key != "logo"} == {
        "name": "Example Health",
        "url": "https://www.example-health.org/",
        "editorial_policy_url": None,
    }
    assert "publishingPrinciples" not in _graph(client, "tmj-headache")["Organization"]

    settings = dataclasses.replace(app.config["CMS_SETTINGS"], editorial_policy_url=policy)
    monkeypatch.setitem(app.config, "CMS_SETTINGS", settings)
    # A change of setting reaches published documents when they are rendered again.
    with app.app_context():
        article_id = db.session.scalar(select(Article.id).where(Article.slug == "tmj-headache"))
        refresh_articles([article_id])
        db.session.commit()

    publisher = client.get("/v1/articles/tmj-headache").get_json()["publisher"]
    assert publisher["editorial_policy_url"] == policy
    graph = _graph(client, "tmj-headache")
    assert graph["Organization"]["publishingPrinciples"] == policy
    assert graph["MedicalWebPage"]["publishingPrinciples"] == policy


@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", "/editorial-policy", "https://", "https://x.org/a b"]
)
def test_an_editorial_policy_that_is_not_a_web_address_stops_startup(value: str):
    with pytest.raises(ValueError, match="CMS_EDITORIAL_POLICY_URL"):
        Settings.from_environ({"CMS_EDITORIAL_POLICY_URL": value})


def test_the_editorial_policy_setting_is_read_from_the_environment():
    url = "https://www.example-health.org/editorial-policy"

    assert Settings.from_environ({"CMS_EDITORIAL_POLICY_URL": url}).editorial_policy_url == url
    assert Settings.from_environ({}).editorial_policy_url is None


def test_a_topic_specialty_is_validated_inherited_and_re_renders_articles(client, editor):
    parent = client.post(
        "/v1/admin/topics",
        json={"slug": "sun-damage", "name": "Sun damage", "specialty": "Dermatologic"},
        headers=bearer(editor),
    )
    assert parent.status_code == 201, parent.get_json()
    assert (parent.get_json()["specialty"], parent.get_json()["effective_specialty"]) == (
        "Dermatologic",
        "Dermatology",
    )
    child = client.post(
        "/v1/admin/topics",
        json={"slug": "sunburn", "name": "Sunburn", "parent": "sun-damage"},
        headers=bearer(editor),
    )
    assert child.status_code == 201, child.get_json()
    assert (child.get_json()["specialty"], child.get_json()["effective_specialty"]) == (
        None,
        "Dermatology",
    )
    assert client.get("/v1/topics/sunburn").get_json()["specialty"] == "Dermatology"

    article = _create(client, editor, topics=["sunburn"], disclosures={})
    assert article.status_code == 201, article.get_json()
    _publish(client.application, article.get_json()["id"])
    page = _graph(client, "sunscreen-basics")["MedicalWebPage"]
    assert page["specialty"] == ["https://schema.org/Dermatology"]

    moved = client.patch(
        parent.headers["Location"],
        json={"specialty": "Oncologic"},
        headers=bearer(editor, **{"If-Match": parent.headers["ETag"]}),
    )
    assert moved.status_code == 200, moved.get_json()
    # The article is on the subtopic, which inherits: it is rendered again.
    assert _graph(client, "sunscreen-basics")["MedicalWebPage"]["specialty"] == [
        "https://schema.org/Oncologic"
    ]
    assert client.get("/v1/topics/sunburn").get_json()["specialty"] == "Oncologic"
    tree = client.get("/v1/topics?limit=100").get_json()["items"]
    assert {item["slug"]: item["specialty"] for item in tree}["sun-damage"] == "Oncologic"


@pytest.mark.parametrize("specialty", ["Dermatologist", "neurologic", "", 7])
def test_a_specialty_outside_schema_orgs_enumeration_is_a_422_problem(client, editor, specialty):
    response = client.post(
        "/v1/admin/topics",
        json={"slug": "odd", "name": "Odd", "specialty": specialty},
        headers=bearer(editor),
    )

    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert "specialty" in response.get_json()["errors"]["json"]


def test_seeded_topics_carry_their_specialty(client):
    assert client.get("/v1/topics/headache").get_json()["specialty"] == "Neurologic"
    # Migraine has none of its own: headache's applies.
    assert client.get("/v1/topics/migraine").get_json()["specialty"] == "Neurologic"
    assert client.get("/v1/topics/allergies").get_json()["specialty"] is None
