"""Editors write the topic tree and its codes; articles and topic pages re-render at once."""

from __future__ import annotations

from tests.conftest import bearer

TOPIC = {
    "slug": "cluster-headache",
    "name": "Cluster headache",
    "description": "Severe one-sided headaches that come in bouts.",
    "parent": "headache",
    "codes": [
        {"system": "icd10cm", "code": "G44.009", "display": "Cluster headache syndrome"},
        {"system": "mesh", "code": "D003027", "display": "Cluster Headache"},
    ],
}


def _topic(client, token: str, slug: str) -> dict:
    found = client.get(f"/v1/admin/topics?q={slug}&limit=100", headers=bearer(token)).get_json()
    return next(item for item in found["items"] if item["slug"] == slug)


def _etag(client, token: str, topic: dict) -> str:
    return client.get(f"/v1/admin/topics/{topic['id']}", headers=bearer(token)).headers["ETag"]


def test_create_read_edit_topic(client, make_token):
    editor = make_token("editor")

    created = client.post("/v1/admin/topics", json=TOPIC, headers=bearer(editor))

    assert created.status_code == 201, created.get_json()
    topic = created.get_json()
    url = created.headers["Location"]
    assert url == f"/v1/admin/topics/{topic['id']}"
    assert topic["parent"] == "headache"
    assert [code["code"] for code in topic["codes"]] == ["G44.009", "D003027"]
    public = client.get("/v1/topics/cluster-headache").get_json()
    assert public["parent"]["slug"] == "headache"
    headache = client.get("/v1/topics/headache").get_json()
    assert "cluster-headache" in {child["slug"] for child in headache["children"]}
    assert "cluster-headache" in _admin(client, editor, "headache")["children"]

    edited = client.patch(
        url,
        json={"name": "Cluster headaches", "codes": TOPIC["codes"][:1]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["description"] == TOPIC["description"]
    assert client.get("/v1/topics/cluster-headache").get_json()["codes"] == [TOPIC["codes"][0]]

    stale = client.patch(
        url, json={"name": "X"}, headers=bearer(editor, **{"If-Match": created.headers["ETag"]})
    )
    assert stale.status_code == 412
    assert stale.get_json()["current_etag"] == edited.headers["ETag"]
    assert client.patch(url, json={"name": "X"}, headers=bearer(editor)).status_code == 428

    clash = client.post("/v1/admin/topics", json={**TOPIC}, headers=bearer(editor))
    assert clash.status_code == 409
    duplicate_codes = client.post(
        "/v1/admin/topics",
        json={**TOPIC, "slug": "other", "codes": TOPIC["codes"][:1] * 2},
        headers=bearer(editor),
    )
    assert duplicate_codes.status_code == 422
    unknown_parent = client.post(
        "/v1/admin/topics",
        json={**TOPIC, "slug": "other", "parent": "nope"},
        headers=bearer(editor),
    )
    assert unknown_parent.status_code == 422
    assert "parent" in unknown_parent.get_json()["errors"]["json"]

    events = client.get(f"/v1/admin/audit?target_id={topic['id']}", headers=bearer(editor)).json
    assert [event["action"] for event in events["items"]] == ["topic.update", "topic.create"]
    assert events["items"][0]["after"] == {"name": "Cluster headaches", "codes": "1 item"}


def _admin(client, token: str, slug: str) -> dict:
    return _topic(client, token, slug)


def test_a_code_change_shows_in_the_articles_topics(client, make_token):
    editor = make_token("editor")
    headache = _topic(client, editor, "headache")
    new_code = {"system": "icd10cm", "code": "G44.1", "display": "Vascular headache, NEC"}

    response = client.patch(
        f"/v1/admin/topics/{headache['id']}",
        json={"codes": [*headache["codes"], new_code]},
        headers=bearer(editor, **{"If-Match": _etag(client, editor, headache)}),
    )

    assert response.status_code == 200, response.get_json()
    article = client.get("/v1/articles/headache-after-botox").get_json()
    shown = next(topic for topic in article["topics"] if topic["slug"] == "headache")
    assert new_code in shown["codes"]
    found = client.get("/v1/articles?code=icd10cm:G44.1&limit=100").get_json()["items"]
    assert "headache-after-botox" in {item["slug"] for item in found}


def test_the_tree_stays_a_tree(client, make_token):
    editor = make_token("editor")
    headache = _topic(client, editor, "headache")
    url = f"/v1/admin/topics/{headache['id']}"

    for parent in ("migraine", "headache"):
        response = client.patch(
            url,
            json={"parent": parent},
            headers=bearer(editor, **{"If-Match": _etag(client, editor, headache)}),
        )
        assert response.status_code == 409, parent
        assert "parent" in response.get_json()["errors"]["json"]

    moved = client.patch(
        url,
        json={"parent": None},
        headers=bearer(editor, **{"If-Match": _etag(client, editor, headache)}),
    )
    assert moved.status_code == 200
    roots = {topic["slug"] for topic in client.get("/v1/topics?limit=100").get_json()["items"]}
    assert "headache" in roots
    # Articles on a subtopic are tagged with every ancestor: the old one is gone.
    assert client.get("/v1/articles?topic=neurological-symptoms").get_json()["items"] == []


def test_trash_hides_a_topic_and_restore_brings_it_back(client, make_token):
    editor = make_token("editor")
    headache = _topic(client, editor, "headache")
    refused = client.delete(
        f"/v1/admin/topics/{headache['id']}",
        headers=bearer(editor, **{"If-Match": _etag(client, editor, headache)}),
    )
    assert refused.status_code == 409, "it has subtopics"

    liver = _topic(client, editor, "liver-disease")
    url = f"/v1/admin/topics/{liver['id']}"
    assert client.delete(url, headers=bearer(editor)).status_code == 428
    trashed = client.delete(
        url, headers=bearer(editor, **{"If-Match": _etag(client, editor, liver)})
    )
    assert trashed.status_code == 204

    assert client.get("/v1/topics/liver-disease").status_code == 404
    roots = {topic["slug"] for topic in client.get("/v1/topics?limit=100").get_json()["items"]}
    assert "liver-disease" not in roots
    article = client.get("/v1/articles/liver-rash").get_json()
    assert "liver-disease" not in {topic["slug"] for topic in article["topics"]}
    trash = client.get("/v1/admin/topics?trashed=true", headers=bearer(editor)).get_json()
    assert [item["slug"] for item in trash["items"]] == ["liver-disease"]

    restored = client.post(f"{url}/restore", headers=bearer(editor))
    assert restored.status_code == 200
    assert client.get("/v1/topics/liver-disease").status_code == 200
    article = client.get("/v1/articles/liver-rash").get_json()
    assert "liver-disease" in {topic["slug"] for topic in article["topics"]}
    events = client.get(f"/v1/admin/audit?target_id={liver['id']}", headers=bearer(editor)).json
    assert [event["action"] for event in events["items"]] == ["topic.restore", "topic.trash"]


def test_trashing_a_topic_hides_its_faqs(client, make_token):
    editor = make_token("editor")
    created = client.post("/v1/admin/topics", json=TOPIC, headers=bearer(editor))
    faq = client.post(
        "/v1/admin/faqs",
        json={"topic": "cluster-headache", "question": "Q?", "answer": "A."},
        headers=bearer(editor),
    ).get_json()
    # A topic FAQ reaches readers through its own review.
    client.post(f"/v1/admin/faqs/{faq['id']}/submit", headers=bearer(editor))
    client.post(f"/v1/admin/faqs/{faq['id']}/approve", headers=bearer(make_token("reviewer")))
    assert client.get(f"/v1/faqs/{faq['id']}").status_code == 200

    client.delete(
        created.headers["Location"], headers=bearer(editor, **{"If-Match": created.headers["ETag"]})
    )

    assert client.get(f"/v1/faqs/{faq['id']}").status_code == 404
    client.post(created.headers["Location"] + "/restore", headers=bearer(editor))
    assert client.get(f"/v1/faqs/{faq['id']}").status_code == 200


def test_topic_roles(client, make_token):
    viewer = make_token("viewer")

    assert client.post("/v1/admin/topics", json=TOPIC).status_code == 401
    assert client.post("/v1/admin/topics", json=TOPIC, headers=bearer(viewer)).status_code == 403
    listed = client.get("/v1/admin/topics?parent=headache", headers=bearer(viewer))
    assert listed.status_code == 200
    assert {item["slug"] for item in listed.get_json()["items"]} == {
        "tension-type-headache",
        "migraine",
    }
    roots = client.get("/v1/admin/topics?root=true&limit=100", headers=bearer(viewer)).json
    assert all(item["parent"] is None for item in roots["items"])


def test_renaming_a_parent_topic_re_renders_articles_on_its_subtopics(client, make_token):
    editor = make_token("editor")
    parent = _topic(client, editor, "neurological-symptoms")
    article = client.get("/v1/articles/headache-after-botox").get_json()
    assert "neurological-symptoms" not in {topic["slug"] for topic in article["topics"]}

    response = client.patch(
        f"/v1/admin/topics/{parent['id']}",
        json={"name": "Nervous system symptoms"},
        headers=bearer(editor, **{"If-Match": _etag(client, editor, parent)}),
    )

    assert response.status_code == 200, response.get_json()
    graph = client.get("/v1/articles/headache-after-botox/jsonld").get_json()["@graph"]
    page = next(node for node in graph if node["@type"] == "MedicalWebPage")
    crumbs = [item["name"] for item in page["breadcrumb"]["itemListElement"]]
    assert crumbs[0] == "Nervous system symptoms"
