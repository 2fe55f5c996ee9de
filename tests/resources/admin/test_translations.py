"""Editors translate an article: a draft in another locale, copied from one reviewed revision."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from cms_api.database import db
from tests.conftest import bearer
from tests.support.api import CLINICAL, NO_ID, PROBLEM, SEEDED_ARTICLE, expect_created

ORIGINAL = {
    "title": "Heat Rash: Why It Happens and How to Cool Down",
    "summary": "Blocked sweat ducts make tiny itchy bumps; cooling the skin settles most.",
    "topics": ["skin-rash"],
    "disclaimer": "General information only; see a doctor for a rash with a fever.",
    "meta_title": "Heat rash: causes and relief",
    "meta_description": "Why heat rash appears in hot weather and what settles it.",
    "canonical_url": "https://partner.example.org/heat-rash",
    "review_interval_months": 18,
    "call_to_actions": [
        {
            "key": "ask",
            "kind": "ask_question",
            "title": "Still unsure?",
            "body": "Send us your question.",
            "button_label": "Ask",
            "url": "https://www.example-health.org/ask",
        }
    ],
    "disclosures": {"sponsor": {"name": "Calder Vale Skin Health Trust", "url": None}},
    "sections": [
        {"key": "overview", "heading": "Overview", "body": "Sweat trapped under the skin."},
        {
            "key": "relief",
            "heading": "Relief",
            "body": "Cool the skin.",
            "subsections": [{"key": "clothes", "heading": "Clothes", "body": "Loose cotton."}],
        },
    ],
    "citations": [
        {"title": "Miliaria", "year": 2024, "url": "https://medlineplus.gov/ency/article.htm"}
    ],
}
IN = {"status": "published"}  # an article FAQ in the article's content
FAQS = [
    ("Is heat rash contagious?", "No: it comes from blocked sweat ducts."),
    ("How long does it last?", "Usually a few days once the skin stays cool."),
]


def _send(client, method: str, url: str, token: str, body: Any = None, *, match: str = ""):
    """Send a write; `match` names the resource whose current ETag goes in If-Match."""
    headers = bearer(token)
    if match:
        headers["If-Match"] = client.get(match, headers=bearer(token)).headers["ETag"]
    response = client.open(url, method=method, json=body, headers=headers)
    assert response.status_code < 300, (method, url, response.get_json())
    return response


def _review_and_publish(client, url: str, editor: str, reviewer: str) -> dict[str, Any]:
    _send(client, "POST", f"{url}/submit", editor)
    _send(client, "POST", f"{url}/approve", reviewer, CLINICAL)
    return _send(client, "POST", f"{url}/publish", editor, {}).get_json()


def _original(client, editor: str, slug: str, *, reviewer: str | None = None) -> str:
    """A complete article (FAQs, a link, a lead image), published when a reviewer is given."""
    image = client.get("/v1/admin/images?limit=1", headers=bearer(editor)).get_json()["items"][0]
    created = client.post(
        "/v1/admin/articles",
        json={**ORIGINAL, "slug": slug, "lead_image_id": image["id"]},
        headers=bearer(editor),
    )
    url = f"/v1/admin/articles/{expect_created(created, 'original')['id']}"
    authors = {"authors": ["rafael-oyelaran"]}
    _send(client, "PUT", f"{url}/authors", editor, authors, match=url)
    article_id = url.rsplit("/", 1)[1]
    for position, (question, answer) in enumerate(FAQS):
        faq = {"article_id": article_id, "question": question, "answer": answer}
        _send(client, "POST", "/v1/admin/faqs", editor, {**faq, "position": position, **IN})
    draft = {"article_id": article_id, "question": "Kept out?", "answer": "A draft."}
    _send(client, "POST", "/v1/admin/faqs", editor, {**draft, "status": "draft"})
    target = client.get(f"/v1/admin/articles?q={SEEDED_ARTICLE}", headers=bearer(editor))
    link = {"target_id": target.get_json()["items"][0]["id"], "anchor_text": "Botox headache"}
    _send(client, "POST", f"{url}/links", editor, link)
    if reviewer is not None:
        _review_and_publish(client, url, editor, reviewer)
    return url


def _translate(client, url: str, token: str, **body: Any):
    return client.post(f"{url}/translations", json=body, headers=bearer(token))


def test_a_translation_is_a_draft_copying_the_live_revision(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _original(client, editor, "heat-rash", reviewer=reviewer)
    # Edited since it was published: the live revision is translated, not the newest.
    _send(client, "PATCH", url, editor, {"title": "Heat rash, in review"}, match=url)
    original = client.get(url, headers=bearer(editor)).get_json()

    response = _translate(client, url, editor, locale="es", slug="sarpullido-por-calor")

    assert response.status_code == 201, response.get_json()
    translation = response.get_json()
    assert response.headers["Location"] == f"/v1/admin/articles/{translation['id']}"
    assert response.headers["ETag"]
    assert translation["locale"] == "es"
    assert translation["slug"] == "sarpullido-por-calor"
    assert translation["status"] == "draft"
    assert translation["revision_number"] == 1
    assert translation["live_revision"] is None
    assert translation["source"] == {"id": original["id"], "locale": "en", "slug": "heat-rash"}
    assert translation["source_revision"] == original["live_revision"]
    assert translation["outdated"] is False
    assert translation["translations"] == [
        {"id": original["id"], "locale": "en", "slug": "heat-rash", "status": "in_review"}
    ]
    assert translation["title"] == ORIGINAL["title"]
    assert translation["authors"] == ["rafael-oyelaran"]
    assert translation["topics"] == ["skin-rash"]

    # The original is untouched and now names its translation.
    after = client.get(url, headers=bearer(editor)).get_json()
    assert after["status"] == "in_review"
    assert after["revision_number"] == original["revision_number"]
    assert after["source"] is None and after["source_revision"] is None
    assert after["translations"] == [
        {
            "id": translation["id"],
            "locale": "es",
            "slug": "sarpullido-por-calor",
            "status": "draft",
        }
    ]

    revisions = client.get(f"{response.headers['Location']}/revisions", headers=bearer(editor))
    assert [item["reason"] for item in revisions.get_json()["items"]] == [
        f"translate:{original['live_revision']}"
    ]
    audit = client.get(
        f"/v1/admin/audit?target_id={translation['id']}", headers=bearer(editor)
    ).get_json()["items"]
    assert [event["action"] for event in audit] == ["article.translate"]
    assert audit[0]["after"]["source_revision"] == original["live_revision"]


def test_the_copy_holds_the_source_revision_content_but_not_its_links(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _original(client, editor, "heat-rash-copy", reviewer=reviewer)
    live = client.get(url, headers=bearer(editor)).get_json()["live_revision"]
    source = client.get(f"{url}/revisions/{live}", headers=bearer(editor)).get_json()["snapshot"]

    created = _translate(client, url, editor, locale="es", slug="sarpullido-copia").get_json()

    copy_url = f"/v1/admin/articles/{created['id']}"
    copy = client.get(f"{copy_url}/revisions/1", headers=bearer(editor)).get_json()["snapshot"]
    for name in (
        "title",
        "summary",
        "disclaimer",
        "call_to_actions",
        "meta_title",
        "meta_description",
        "review_interval_months",
        "disclosures",
        "lead_image_id",
        "sections",
        "citations",
        "authors",
        "topics",
    ):
        assert copy[name] == source[name], name
    assert source["lead_image_id"] is not None and len(source["sections"]) == 2
    assert [(f["question"], f["answer"], f["position"]) for f in copy["faqs"]] == [
        (f["question"], f["answer"], f["position"]) for f in source["faqs"]
    ]
    assert [f["question"] for f in copy["faqs"]] == [question for question, _ in FAQS]
    assert {f["id"] for f in copy["faqs"]}.isdisjoint({f["id"] for f in source["faqs"]})
    # A page of its own: links stay on the original, and no canonical points at it.
    assert len(source["links"]) == 1 and copy["links"] == []
    assert source["canonical_url"] == ORIGINAL["canonical_url"]
    assert copy["canonical_url"] is None

    faqs = client.get(
        "/v1/admin/faqs", query_string={"article_id": created["id"]}, headers=bearer(editor)
    ).get_json()["items"]
    assert sorted((faq["locale"], faq["status"]) for faq in faqs) == [("es", "published")] * 2
    assert {faq["article_revision"] for faq in faqs} == {1}
    links = client.get(f"{copy_url}/links", headers=bearer(editor)).get_json()["items"]
    assert links == []


def test_a_chosen_revision_of_a_draft_is_copied(client, make_token):
    editor = make_token("editor")
    created = client.post(
        "/v1/admin/articles",
        json={"slug": "prickly-heat", "title": "Prickly heat, first words"},
        headers=bearer(editor),
    )
    url = created.headers["Location"]
    _send(client, "PATCH", url, editor, {"title": "Prickly heat, second words"}, match=url)

    first = _translate(client, url, editor, locale="es", slug="calor-espinoso", revision=1)

    assert first.status_code == 201, first.get_json()
    assert first.get_json()["title"] == "Prickly heat, first words"
    assert first.get_json()["source_revision"] == 1


def test_without_a_live_revision_the_latest_is_copied(client, make_token):
    editor = make_token("editor")
    url = client.post(
        "/v1/admin/articles",
        json={"slug": "sweat-rash", "title": "Sweat rash, first words"},
        headers=bearer(editor),
    ).headers["Location"]
    _send(client, "PATCH", url, editor, {"title": "Sweat rash, second words"}, match=url)

    latest = _translate(client, url, editor, locale="es", slug="sarpullido-de-sudor")

    assert latest.get_json()["title"] == "Sweat rash, second words"
    assert latest.get_json()["source_revision"] == 2


def test_translation_errors_are_problems(client, make_token):
    editor, viewer = make_token("editor"), make_token("viewer")
    url = client.post(
        "/v1/admin/articles",
        json={"slug": "cold-urticaria", "title": "Cold"},
        headers=bearer(editor),
    ).headers["Location"]
    es_article = client.post(
        "/v1/admin/articles",
        json={"slug": "urticaria-por-frio", "title": "Frío", "locale": "es"},
        headers=bearer(editor),
    )
    assert es_article.get_json()["locale"] == "es"

    def problem(response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.get_json()
        assert response.content_type == PROBLEM
        return response.get_json()

    problem(_translate(client, f"/v1/admin/articles/{NO_ID}", editor, locale="es", slug="x"), 404)
    same = problem(_translate(client, url, editor, locale="en", slug="cold-again"), 422)
    assert "locale" in same["errors"]["json"]
    unknown = problem(_translate(client, url, editor, locale="fr", slug="froid"), 422)
    assert "locale" in unknown["errors"]["json"]
    problem(_translate(client, url, editor, locale="español", slug="frio"), 422)
    problem(_translate(client, url, editor, slug="frio"), 422)
    missing = problem(_translate(client, url, editor, locale="es", slug="frio", revision=9), 422)
    assert "revision" in missing["errors"]["json"]
    taken = problem(_translate(client, url, editor, locale="es", slug="urticaria-por-frio"), 409)
    assert taken["errors"]["json"]["slug"]
    problem(_translate(client, url, viewer, locale="es", slug="frio"), 403)

    # Slugs are per locale: the translation may keep the original's.
    made = _translate(client, url, editor, locale="ES", slug="cold-urticaria")
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["locale"] == "es"

    again = problem(_translate(client, url, editor, locale="es", slug="otra"), 409)
    assert again["translation"]["slug"] == "cold-urticaria"
    assert again["translation"]["id"] == made.get_json()["id"]
    nested = problem(
        _translate(client, made.headers["Location"], editor, locale="en", slug="y"), 422
    )
    assert nested["original_id"] == url.rsplit("/", 1)[1]


def test_slugs_are_unique_per_locale_when_creating_and_renaming(client, make_token):
    editor = make_token("editor")
    en = client.post(
        "/v1/admin/articles", json={"slug": "hives", "title": "Hives"}, headers=bearer(editor)
    )
    es = client.post(
        "/v1/admin/articles",
        json={"slug": "hives", "title": "Urticaria", "locale": "es"},
        headers=bearer(editor),
    )
    assert en.status_code == 201 and es.status_code == 201, es.get_json()
    assert (en.get_json()["locale"], es.get_json()["locale"]) == ("en", "es")

    duplicate = client.post(
        "/v1/admin/articles",
        json={"slug": "hives", "title": "Again", "locale": "es"},
        headers=bearer(editor),
    )
    assert duplicate.status_code == 409
    other = client.post(
        "/v1/admin/articles",
        json={"slug": "ronchas", "title": "Ronchas", "locale": "es"},
        headers=bearer(editor),
    )
    renamed = client.patch(
        other.headers["Location"],
        json={"slug": "hives"},
        headers=bearer(editor, **{"If-Match": other.headers["ETag"]}),
    )
    assert renamed.status_code == 409
    unsupported = client.post(
        "/v1/admin/articles",
        json={"slug": "urticaire", "title": "Urticaire", "locale": "fr"},
        headers=bearer(editor),
    )
    assert unsupported.status_code == 422


def test_a_translation_goes_live_on_its_own_without_touching_the_original(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _original(client, editor, "heat-rash-live", reviewer=reviewer)
    original = client.get(url, headers=bearer(editor)).get_json()
    translation_url = _translate(
        client, url, editor, locale="es", slug="sarpullido-en-vivo"
    ).headers["Location"]

    published = _review_and_publish(client, translation_url, editor, reviewer)

    assert published["status"] == "published"
    assert published["live_revision"] == published["revision_number"]
    assert published["reviews"][0]["reviewer"] == "tobias-lindqvist"
    source = client.get(url, headers=bearer(editor)).get_json()
    assert (source["status"], source["live_revision"], source["version"]) == (
        "published",
        original["live_revision"],
        original["version"],
    )
    assert source["translations"][0]["status"] == "published"

    withdrawn = _send(client, "POST", f"{translation_url}/unpublish", editor).get_json()
    assert withdrawn["status"] == "draft"
    assert client.get(url, headers=bearer(editor)).get_json()["status"] == "published"


def test_outdated_flips_when_the_original_publishes_a_newer_revision(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _original(client, editor, "heat-rash-outdated", reviewer=reviewer)
    translated = _translate(client, url, editor, locale="es", slug="sarpullido-desfasado")
    translation_url = translated.headers["Location"]
    translation_id = translated.get_json()["id"]

    def listed(**query: str) -> list[str]:
        answer = client.get(
            "/v1/admin/articles", query_string={"limit": 100, **query}, headers=bearer(editor)
        )
        assert answer.status_code == 200, answer.get_json()
        return [item["id"] for item in answer.get_json()["items"]]

    assert translated.get_json()["outdated"] is False
    assert translation_id not in listed(outdated="true")
    assert translation_id in listed(outdated="false")

    # A new revision of the original is not enough: readers must see it.
    _send(client, "PATCH", url, editor, {"summary": "Revised after review."}, match=url)
    assert client.get(translation_url, headers=bearer(editor)).get_json()["outdated"] is False
    _send(client, "POST", f"{url}/approve", reviewer, CLINICAL)
    _send(client, "POST", f"{url}/publish", editor, {})

    assert client.get(translation_url, headers=bearer(editor)).get_json()["outdated"] is True
    assert translation_id in listed(outdated="true")
    assert translation_id not in listed(outdated="false")
    assert url.rsplit("/", 1)[1] in listed(outdated="false"), "an original is never outdated"
    page = client.get(
        "/v1/admin/articles", query_string={"outdated": "true"}, headers=bearer(editor)
    ).get_json()
    entry = next(item for item in page["items"] if item["id"] == translation_id)
    assert entry["outdated"] is True
    assert entry["source"]["slug"] == "heat-rash-outdated"


def test_the_list_filters_by_locale_and_shows_each_article_s_work(client, make_token):
    editor = make_token("editor")
    url = client.post(
        "/v1/admin/articles",
        json={"slug": "chilblains", "title": "Chilblains"},
        headers=bearer(editor),
    ).headers["Location"]
    translation = _translate(client, url, editor, locale="es", slug="sabanones").get_json()
    original_id = url.rsplit("/", 1)[1]

    spanish = client.get("/v1/admin/articles?locale=es&limit=100", headers=bearer(editor))
    english = client.get("/v1/admin/articles?locale=EN&limit=100", headers=bearer(editor))
    everything = client.get("/v1/admin/articles?limit=100", headers=bearer(editor))

    spanish_items = spanish.get_json()["items"]
    assert {item["locale"] for item in spanish_items} == {"es"}
    assert translation["id"] in {item["id"] for item in spanish_items}
    english_ids = {item["id"] for item in english.get_json()["items"]}
    assert original_id in english_ids and translation["id"] not in english_ids
    by_id = {item["id"]: item for item in everything.get_json()["items"]}
    assert by_id[original_id]["translations"] == [
        {"id": translation["id"], "locale": "es", "slug": "sabanones", "status": "draft"}
    ]
    assert by_id[translation["id"]]["source"]["id"] == original_id
    assert by_id[translation["id"]]["translations"][0]["id"] == original_id
    seeded = next(
        item for item in by_id.values() if (item["slug"], item["locale"]) == (SEEDED_ARTICLE, "en")
    )
    assert seeded["source"] is None and seeded["outdated"] is False
    bad = client.get("/v1/admin/articles?locale=klingon-x", headers=bearer(editor))
    assert bad.status_code == 400


def test_the_list_finds_the_works_of_a_whole_page_in_one_query(app, client, make_token):
    editor = make_token("editor")
    for n in range(3):
        url = client.post(
            "/v1/admin/articles",
            json={"slug": f"bunion-{n}", "title": "Bunion"},
            headers=bearer(editor),
        ).headers["Location"]
        _translate(client, url, editor, locale="es", slug=f"juanete-{n}")
    with app.app_context():
        connection = db.session.connection()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        page = client.get("/v1/admin/articles?limit=100", headers=bearer(editor)).get_json()
    finally:
        event.remove(connection, "before_cursor_execute", count)

    assert sum(1 for item in page["items"] if item["source"] is not None) >= 3
    assert len([text for text in statements if "articles.source_id IN" in text]) == 1


def test_links_are_kept_on_originals_only(client, make_token):
    editor = make_token("editor")
    url = _original(client, editor, "heat-rash-links")
    translation = _translate(client, url, editor, locale="es", slug="sarpullido-enlaces")
    translated = f"/v1/admin/articles/{translation.get_json()['id']}"
    seeded = client.get(f"/v1/admin/articles?q={SEEDED_ARTICLE}", headers=bearer(editor))
    other = {"target_id": seeded.get_json()["items"][0]["id"]}

    from_translation = client.post(f"{translated}/links", json=other, headers=bearer(editor))
    to_translation = client.post(
        f"/v1/admin/articles/{other['target_id']}/links",
        json={"target_id": translation.get_json()["id"]},
        headers=bearer(editor),
    )

    assert from_translation.status_code == 422, from_translation.get_json()
    assert from_translation.content_type == PROBLEM
    assert url.rsplit("/", 1)[1] in from_translation.get_json()["detail"]
    assert to_translation.status_code == 422, to_translation.get_json()
    assert "translation" in to_translation.get_json()["errors"]["json"]["target_id"][0]
    links = client.get(f"{translated}/links", headers=bearer(editor)).get_json()
    assert links["items"] == []
