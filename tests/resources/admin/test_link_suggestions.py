"""Editors get ranked link suggestions for an article and accept one in a single call."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, ArticleTopic, Person, Topic
from cms_api.services.publishing.articles import publish_article
from tests.conftest import bearer

NO_ID = "00000000-0000-0000-0000-000000000000"
SOURCE = "allergy-headache-relief"  # links to headache-after-botox, ear-infection-headache
LINKED = {"headache-after-botox", "ear-infection-headache", "headache-with-ear-pain"}


def _publish(
    app,
    slug: str,
    title: str,
    summary: str,
    topics: list[str],
    *,
    locale: str = "en",
    translating: str | None = None,
) -> None:
    """Publish an article; `translating` names the English original it translates."""
    with app.app_context():
        author = db.session.scalars(select(Person)).first()
        article = Article(id=uuid.uuid4(), slug=slug, title=title, summary=summary, locale=locale)
        if translating is not None:
            source = db.session.scalar(
                select(Article).where(Article.slug == translating, Article.locale == "en")
            )
            article.source_id, article.source_revision = source.id, source.live_revision
        article.authorships = [ArticleAuthor(person=author)]
        article.topic_links = [
            ArticleTopic(topic_id=db.session.scalar(select(Topic.id).where(Topic.slug == topic)))
            for topic in topics
        ]
        db.session.add(article)
        db.session.flush()
        publish_article(article.id)
        db.session.commit()


def _ids(client, token: str, locale: str = "en") -> dict[str, str]:
    found = client.get(
        "/v1/admin/articles", query_string={"limit": 100, "locale": locale}, headers=bearer(token)
    ).get_json()
    return {item["slug"]: item["id"] for item in found["items"]}


def _suggestions(client, token: str, article_id: str, query: str = "") -> dict:
    response = client.get(
        f"/v1/admin/articles/{article_id}/link-suggestions{query}", headers=bearer(token)
    )
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_suggestions_are_unlinked_published_articles_best_first(app, client, make_token):
    _publish(
        app,
        "allergy-headache-diary",
        "Allergy headache diary",
        "Keep a diary of allergy headache triggers such as pollen to find relief.",
        ["headache", "allergies"],
    )
    _publish(app, "migraine-triggers", "Migraine triggers", "Common triggers.", ["migraine"])
    _publish(app, "sunburn-care", "Sunburn care", "Cool the skin; drink water.", [])
    viewer = make_token("viewer")
    ids = _ids(client, viewer)

    found = _suggestions(client, viewer, ids[SOURCE])

    items = {item["slug"]: item for item in found["items"]}
    assert found["items"][0]["slug"] == "allergy-headache-diary", "both topics, many words"
    diary = items["allergy-headache-diary"]
    assert sorted(diary["shared_topics"]) == ["allergies", "headache"]
    assert {"allergy", "headache"} <= set(diary["shared_terms"]), "words, not stems"
    assert {"Shares the topic headache", "Shares the topic allergies"} <= set(diary["reasons"])
    assert diary["target_id"] == ids["allergy-headache-diary"]
    assert diary["title"] == "Allergy headache diary"
    assert "migraine-triggers" in items, "a subtopic of the article's topic counts"
    assert items["migraine-triggers"]["shared_topics"] == ["headache"]
    assert "sunburn-care" not in items, "nothing in common"
    assert SOURCE not in items
    assert not LINKED & set(items)
    scores = [item["score"] for item in found["items"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < score <= 1 for score in scores)
    assert found["page"] == {"limit": 10, "next_cursor": None, "total": len(items)}
    only = _suggestions(client, viewer, ids[SOURCE], "?limit=1")
    assert [item["slug"] for item in only["items"]] == ["allergy-headache-diary"]
    assert only["page"]["total"] == len(items)


def test_a_target_that_links_back_says_so(client, make_token):
    editor = make_token("editor")
    ids = _ids(client, editor)

    # tmj-headache links to ear-infection-headache, which does not link back.
    found = _suggestions(client, editor, ids["ear-infection-headache"])

    tmj = next(item for item in found["items"] if item["slug"] == "tmj-headache")
    assert "Already links to this article" in tmj["reasons"]


def test_unpublished_and_trashed_articles_are_never_suggested(client, make_token):
    editor = make_token("editor")
    ids = _ids(client, editor)
    before = [item["slug"] for item in _suggestions(client, editor, ids[SOURCE])["items"]]
    assert before == ["tmj-headache"]

    unpublished = client.post(
        f"/v1/admin/articles/{ids['tmj-headache']}/unpublish", headers=bearer(editor)
    )
    assert unpublished.status_code == 200
    assert _suggestions(client, editor, ids[SOURCE])["items"] == []
    accepted = client.post(
        f"/v1/admin/articles/{ids[SOURCE]}/link-suggestions/{ids['tmj-headache']}/accept",
        headers=bearer(editor),
    )
    assert accepted.status_code == 404
    assert accepted.content_type == "application/problem+json"

    trashed_source = client.get(
        f"/v1/admin/articles/{ids['tmj-headache']}", headers=bearer(editor)
    ).headers["ETag"]
    deleted = client.delete(
        f"/v1/admin/articles/{ids['tmj-headache']}",
        headers=bearer(editor, **{"If-Match": trashed_source}),
    )
    assert deleted.status_code == 204
    missing = client.get(
        f"/v1/admin/articles/{ids['tmj-headache']}/link-suggestions", headers=bearer(editor)
    )
    assert missing.status_code == 404, "a trashed article gets none either"


def test_accepting_a_suggestion_creates_the_link_like_a_link_create(client, make_token):
    editor = make_token("editor")
    ids = _ids(client, editor)
    source, target = ids[SOURCE], ids["tmj-headache"]

    accepted = client.post(
        f"/v1/admin/articles/{source}/link-suggestions/{target}/accept",
        json={"relation": "differential", "weight": 0.7},
        headers=bearer(editor),
    )

    assert accepted.status_code == 201, accepted.get_json()
    link = accepted.get_json()
    assert accepted.headers["Location"] == f"/v1/admin/links/{link['id']}"
    assert accepted.headers["Cache-Control"] == "no-store"
    assert link["source_id"] == source
    assert link["target"] == "tmj-headache"
    assert (link["relation"], link["weight"]) == ("differential", 0.7)
    assert link["anchor_text"] == "TMJ Headache: Why Your Jaw Can Make Your Head Hurt"
    assert link["position"] == 3, "after the article's three links"
    shown = client.get(accepted.headers["Location"], headers=bearer(editor))
    assert shown.headers["ETag"] == accepted.headers["ETag"]
    related = client.get(f"/v1/articles/{SOURCE}/related").get_json()["items"]
    assert "tmj-headache" in {item["article"]["slug"] for item in related}
    events = client.get(f"/v1/admin/audit?target_id={link['id']}", headers=bearer(editor))
    assert [event["action"] for event in events.get_json()["items"]] == ["link.create"]
    assert _suggestions(client, editor, source)["items"] == []

    twice = client.post(
        f"/v1/admin/articles/{source}/link-suggestions/{target}/accept", headers=bearer(editor)
    )
    assert twice.status_code == 409
    assert twice.content_type == "application/problem+json"


def test_accept_defaults_and_refusals(client, make_token):
    editor = make_token("editor")
    ids = _ids(client, editor)
    base = f"/v1/admin/articles/{ids['liver-rash']}/link-suggestions"

    plain = client.post(f"{base}/{ids['ear-infection-headache']}/accept", headers=bearer(editor))
    assert plain.status_code == 201, plain.get_json()
    assert (plain.get_json()["relation"], plain.get_json()["weight"]) == ("see_also", 0.5)

    own = client.post(f"{base}/{ids['liver-rash']}/accept", headers=bearer(editor))
    assert own.status_code == 404
    assert client.post(f"{base}/{NO_ID}/accept", headers=bearer(editor)).status_code == 404
    bad = client.post(
        f"{base}/{ids['tmj-headache']}/accept", json={"weight": 2}, headers=bearer(editor)
    )
    assert bad.status_code == 422
    assert "weight" in bad.get_json()["errors"]["json"]
    denied = client.post(
        f"{base}/{ids['tmj-headache']}/accept", headers=bearer(make_token("viewer"))
    )
    assert denied.status_code == 403
    missing = client.get(f"/v1/admin/articles/{NO_ID}/link-suggestions", headers=bearer(editor))
    assert missing.status_code == 404
    for query in ("?limit=0", "?limit=51", "?order=score"):
        response = client.get(f"{base}{query}", headers=bearer(editor))
        assert response.status_code == 400, query
        assert response.content_type == "application/problem+json"


SPANISH_BOTOX = "dolor-de-cabeza-despues-del-botox"  # the seeded translation, published


def test_an_article_is_suggested_only_articles_of_its_locale_outside_its_work(
    app, client, make_token
):
    # Translations of three seeded originals, and a Spanish original.
    for slug, title, summary, topics, original in (
        (
            "dolor-de-cabeza-por-alergia",
            "Dolor de cabeza por alergia",
            "El polen y la congestión nasal pueden causar dolor de cabeza.",
            ["headache", "allergies"],
            SOURCE,
        ),
        (
            "dolor-de-cabeza-por-otitis",
            "Dolor de cabeza por otitis",
            "Una infección de oído puede doler hasta la cabeza.",
            ["headache"],
            "ear-infection-headache",
        ),
        (
            "dolor-de-cabeza-mandibular",
            "Dolor de cabeza y mandíbula",
            "Apretar los dientes cansa los músculos de la cara.",
            ["headache"],
            "tmj-headache",
        ),
        (
            "dolor-de-cabeza-y-sueno",
            "Dolor de cabeza y sueño",
            "Dormir poco o mal puede provocar dolor de cabeza.",
            ["headache"],
            None,
        ),
    ):
        _publish(app, slug, title, summary, topics, locale="es", translating=original)
    viewer = make_token("viewer")
    english, spanish = _ids(client, viewer), _ids(client, viewer, "es")
    assert SPANISH_BOTOX in spanish

    def found(slug: str) -> dict[str, dict]:
        items = _suggestions(client, viewer, spanish[slug])["items"]
        return {item["slug"]: item for item in items}

    # A Spanish original: every Spanish article in common, no English one.
    sleep = found("dolor-de-cabeza-y-sueno")
    assert set(sleep) == {
        SPANISH_BOTOX,
        "dolor-de-cabeza-por-alergia",
        "dolor-de-cabeza-por-otitis",
        "dolor-de-cabeza-mandibular",
    }
    assert not set(sleep) & set(english)
    assert {"dolor", "cabeza"} <= set(sleep["dolor-de-cabeza-por-otitis"]["shared_terms"])
    # A translation: not its original, and not the translations of the works its original
    # links to already (links are made between originals and shared by translations).
    # headache-after-botox links to all three originals translated above.
    assert set(found(SPANISH_BOTOX)) == {"dolor-de-cabeza-y-sueno"}
    # ear-infection-headache links to allergy-headache-relief and headache-after-botox;
    # tmj-headache links to ear-infection-headache, so its translation links back.
    otitis = found("dolor-de-cabeza-por-otitis")
    assert set(otitis) == {"dolor-de-cabeza-y-sueno", "dolor-de-cabeza-mandibular"}
    assert "Already links to this article" in otitis["dolor-de-cabeza-mandibular"]["reasons"]
    assert "Already links to this article" not in otitis["dolor-de-cabeza-y-sueno"]["reasons"]
    # An English original is never offered its own or any other translation.
    botox = _suggestions(client, viewer, english["headache-after-botox"])["items"]
    assert not {item["slug"] for item in botox} & set(spanish)
    assert [item["slug"] for item in _suggestions(client, viewer, english[SOURCE])["items"]] == [
        "tmj-headache"
    ]


def test_accepting_a_suggestion_for_a_translation_links_the_originals(app, client, make_token):
    _publish(
        app,
        "dolor-de-cabeza-mandibular",
        "Dolor de cabeza y mandíbula",
        "Apretar los dientes cansa los músculos de la cara.",
        ["headache"],
        locale="es",
        translating="tmj-headache",
    )
    _publish(
        app,
        "dolor-de-cabeza-por-alergia",
        "Dolor de cabeza por alergia",
        "El polen y la congestión nasal pueden causar dolor de cabeza.",
        ["headache", "allergies"],
        locale="es",
        translating=SOURCE,
    )
    editor = make_token("editor")
    english, spanish = _ids(client, editor), _ids(client, editor, "es")

    accepted = client.post(
        f"/v1/admin/articles/{spanish['dolor-de-cabeza-por-alergia']}/link-suggestions/"
        f"{spanish['dolor-de-cabeza-mandibular']}/accept",
        json={"anchor_text": "mandíbula"},
        headers=bearer(editor),
    )

    assert accepted.status_code == 201, accepted.get_json()
    link = accepted.get_json()
    assert (link["source_id"], link["target"]) == (english[SOURCE], "tmj-headache")
    assert link["anchor_text"] == "TMJ Headache: Why Your Jaw Can Make Your Head Hurt"
    related = client.get(
        "/v1/articles/dolor-de-cabeza-por-alergia/related", query_string={"locale": "es"}
    ).get_json()["items"]
    assert "dolor-de-cabeza-mandibular" in {item["article"]["slug"] for item in related}
