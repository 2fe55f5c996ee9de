"""Topics' and people's text in other locales, and the locale each FAQ is written in."""

from __future__ import annotations

from tests.conftest import bearer
from tests.support.api import NO_ID, PROBLEM

TOPIC_ES = {
    "name": "Sarpullido",
    "description": "Cambios en la piel: manchas, granos o picor.",
    "synonyms": ["erupción", "Erupción", "exantema"],
}


def _topic(client, token: str, slug: str, name: str) -> str:
    """A new topic's address: one no seed has translated."""
    created = client.post(
        "/v1/admin/topics", json={"slug": slug, "name": name}, headers=bearer(token)
    )
    assert created.status_code == 201, created.get_json()
    return created.headers["Location"]


def _audit(client, token: str, url: str) -> list[dict]:
    target = url.rsplit("/", 1)[1]
    answer = client.get(f"/v1/admin/audit?target_id={target}&limit=100", headers=bearer(token))
    return answer.get_json()["items"]


def test_a_topic_translation_is_created_replaced_read_and_deleted(client, make_token):
    editor, viewer = make_token("editor"), make_token("viewer")
    topic = _topic(client, editor, "heat-bumps", "Heat bumps")
    listed = client.get(f"{topic}/translations", headers=bearer(viewer))
    assert listed.status_code == 200
    assert listed.get_json() == {"items": []}
    etag = listed.headers["ETag"]
    assert etag == client.get(topic, headers=bearer(viewer)).headers["ETag"]

    assert (
        client.put(f"{topic}/translations/es", json=TOPIC_ES, headers=bearer(editor)).status_code
        == 428
    )
    created = client.put(
        f"{topic}/translations/ES", json=TOPIC_ES, headers=bearer(editor, **{"If-Match": etag})
    )

    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == f"{topic}/translations/es"
    body = created.get_json()
    assert body["locale"] == "es"
    assert body["name"] == "Sarpullido"
    assert body["synonyms"] == ["erupción", "exantema"]
    assert created.headers["ETag"] != etag, "the topic's version moves"
    assert client.get(topic, headers=bearer(viewer)).headers["ETag"] == created.headers["ETag"]
    read = client.get(created.headers["Location"], headers=bearer(viewer))
    assert read.status_code == 200
    assert read.get_json()["description"] == TOPIC_ES["description"]

    stale = client.put(
        f"{topic}/translations/es",
        json={"name": "Otro"},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    assert stale.status_code == 412
    replaced = client.put(
        f"{topic}/translations/es",
        json={"name": "Erupción cutánea"},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json()["name"] == "Erupción cutánea"
    assert replaced.get_json()["description"] is None, "replaced whole"
    assert replaced.get_json()["synonyms"] == []
    assert [
        item["locale"]
        for item in client.get(f"{topic}/translations", headers=bearer(viewer)).get_json()["items"]
    ] == ["es"]
    assert client.get(topic, headers=bearer(viewer)).get_json()["name"] == "Heat bumps", (
        "the default locale's text stays the topic's own"
    )

    deleted = client.delete(
        f"{topic}/translations/es", headers=bearer(editor, **{"If-Match": replaced.headers["ETag"]})
    )
    assert deleted.status_code == 204
    gone = client.get(f"{topic}/translations/es", headers=bearer(viewer))
    assert gone.status_code == 404
    assert gone.content_type == PROBLEM
    assert client.get(f"{topic}/translations", headers=bearer(viewer)).get_json()["items"] == []
    actions = [event["action"] for event in _audit(client, editor, topic)]
    assert {
        "topic.translation_create",
        "topic.translation_update",
        "topic.translation_delete",
    } <= set(actions)


def test_topic_translations_refuse_the_default_and_unknown_locales(client, make_token):
    editor, viewer = make_token("editor"), make_token("viewer")
    topic = _topic(client, editor, "scalp-itch", "Scalp itch")

    def put(locale: str, body: dict | None = None):
        etag = client.get(topic, headers=bearer(editor)).headers["ETag"]
        return client.put(
            f"{topic}/translations/{locale}",
            json=body if body is not None else {"name": "Cefalea"},
            headers=bearer(editor, **{"If-Match": etag}),
        )

    default = put("en")
    assert default.status_code == 422
    assert default.content_type == PROBLEM
    assert "default locale" in default.get_json()["detail"]
    assert put("fr").status_code == 422
    assert put("not-a-tag!").status_code == 404, "a segment that cannot be a tag is no route"
    assert put("es-419").status_code == 422
    assert put("es", {"description": "Sin nombre"}).status_code == 422
    assert put("es", {"name": "Cefalea", "color": "azul"}).status_code == 422
    assert client.get(f"{topic}/translations/en", headers=bearer(viewer)).status_code == 422
    etag = client.get(topic, headers=bearer(editor)).headers["ETag"]
    missing = client.delete(
        f"{topic}/translations/es", headers=bearer(editor, **{"If-Match": etag})
    )
    assert missing.status_code == 404
    unknown = client.get(f"/v1/admin/topics/{NO_ID}/translations", headers=bearer(viewer))
    assert unknown.status_code == 404
    assert (
        client.put(
            f"{topic}/translations/es",
            json={"name": "Cefalea"},
            headers=bearer(viewer, **{"If-Match": etag}),
        ).status_code
        == 403
    )


def test_a_person_translation_is_saved_listed_and_deleted(client, make_token):
    editor = make_token("editor")
    person = client.post(
        "/v1/admin/people",
        json={"slug": "amara-okafor", "name": "Amara Okafor", "job_title": "Family doctor"},
        headers=bearer(editor),
    ).headers["Location"]
    etag = client.get(f"{person}/translations", headers=bearer(editor)).headers["ETag"]

    empty = client.put(
        f"{person}/translations/es", json={}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert empty.status_code == 422
    created = client.put(
        f"{person}/translations/es",
        json={"job_title": "Médico de familia", "bio": "Atiende a **familias**."},
        headers=bearer(editor, **{"If-Match": etag}),
    )

    assert created.status_code == 201, created.get_json()
    assert created.get_json()["job_title"] == "Médico de familia"
    listed = client.get(f"{person}/translations", headers=bearer(editor))
    assert [item["bio"] for item in listed.get_json()["items"]] == ["Atiende a **familias**."]
    assert listed.headers["ETag"] == created.headers["ETag"]
    unchanged = client.put(
        f"{person}/translations/es",
        json={"job_title": "Médico de familia", "bio": "Atiende a **familias**."},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert unchanged.status_code == 200
    assert unchanged.headers["ETag"] == created.headers["ETag"], "nothing changed"
    default = client.put(
        f"{person}/translations/en",
        json={"job_title": "Family doctor"},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert default.status_code == 422
    deleted = client.delete(
        f"{person}/translations/es", headers=bearer(editor, **{"If-Match": created.headers["ETag"]})
    )
    assert deleted.status_code == 204
    assert client.get(f"{person}/translations", headers=bearer(editor)).get_json()["items"] == []
    actions = [event["action"] for event in _audit(client, editor, person)]
    assert {"person.translation_create", "person.translation_delete"} <= set(actions)


def test_faqs_are_written_in_one_locale(client, make_token):
    editor = make_token("editor")
    original = client.post(
        "/v1/admin/articles", json={"slug": "windburn", "title": "Windburn"}, headers=bearer(editor)
    )
    translation = client.post(
        f"{original.headers['Location']}/translations",
        json={"locale": "es", "slug": "quemadura-por-viento"},
        headers=bearer(editor),
    ).get_json()

    def create(**body: object):
        return client.post(
            "/v1/admin/faqs",
            json={"question": "¿Duele?", "answer": "Un poco.", **body},
            headers=bearer(editor),
        )

    on_topic = create(topic="skin-rash")
    on_topic_es = create(topic="skin-rash", locale="es")
    on_article = create(article_id=translation["id"], status="published")
    wrong = create(article_id=translation["id"], locale="en")

    assert on_topic.get_json()["locale"] == "en"
    assert on_topic_es.get_json()["locale"] == "es"
    assert on_article.status_code == 201, on_article.get_json()
    assert on_article.get_json()["locale"] == "es"
    assert wrong.status_code == 422
    assert "locale" in wrong.get_json()["errors"]["json"]
    assert create(topic="skin-rash", locale="fr").status_code == 422

    moved = client.patch(
        on_topic.headers["Location"],
        json={"article_id": translation["id"]},
        headers=bearer(editor, **{"If-Match": on_topic.headers["ETag"]}),
    )
    assert moved.status_code == 422
    assert "article_id" in moved.get_json()["errors"]["json"]
    relabelled = client.patch(
        on_topic_es.headers["Location"],
        json={"locale": "en"},
        headers=bearer(editor, **{"If-Match": on_topic_es.headers["ETag"]}),
    )
    assert relabelled.status_code == 422, "a FAQ keeps the locale it was written in"

    spanish = client.get(
        "/v1/admin/faqs", query_string={"locale": "es", "limit": 100}, headers=bearer(editor)
    ).get_json()["items"]
    ids = {item["id"] for item in spanish}
    assert {on_topic_es.get_json()["id"], on_article.get_json()["id"]} <= ids
    assert on_topic.get_json()["id"] not in ids
    assert {item["locale"] for item in spanish} == {"es"}
