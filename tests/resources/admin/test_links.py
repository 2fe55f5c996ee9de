"""Editors link articles to related ones; the source article's related list re-renders."""

from __future__ import annotations

from tests.conftest import bearer


def _article_ids(client, token: str) -> dict[str, str]:
    found = client.get("/v1/admin/articles?limit=100", headers=bearer(token)).get_json()
    return {item["slug"]: item["id"] for item in found["items"]}


def _related(client, slug: str) -> dict[str, dict]:
    items = client.get(f"/v1/articles/{slug}/related").get_json()["items"]
    return {item["article"]["slug"]: item for item in items}


def test_add_edit_and_delete_a_link(client, make_token):
    editor = make_token("editor")
    ids = _article_ids(client, editor)
    assert "tmj-headache" not in _related(client, "lip-filler-swelling")

    created = client.post(
        f"/v1/admin/articles/{ids['lip-filler-swelling']}/links",
        json={
            "target_id": ids["tmj-headache"],
            "relation": "differential",
            "weight": 0.7,
            "anchor_text": "Jaw pain and headaches",
        },
        headers=bearer(editor),
    )

    assert created.status_code == 201, created.get_json()
    link = created.get_json()
    url = created.headers["Location"]
    assert url == f"/v1/admin/links/{link['id']}"
    assert link["target"] == "tmj-headache"
    assert link["position"] == 2, "appended after the article's two seeded links"
    shown = _related(client, "lip-filler-swelling")["tmj-headache"]
    assert shown["relation"] == "differential", "the link itself is live at once"
    # Its anchor text is the article's own words: they wait for the article's review, and
    # meanwhile the link shows its target's own reviewed title.
    assert shown["anchor_text"] == shown["article"]["title"]
    assert link["anchor_text"] == "Jaw pain and headaches"
    listed = client.get(
        f"/v1/admin/articles/{ids['lip-filler-swelling']}/links", headers=bearer(editor)
    ).get_json()
    assert [item["target"] for item in listed["items"]][-1] == "tmj-headache"
    assert listed["page"]["total"] == 3

    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    assert etag == created.headers["ETag"]
    assert client.patch(url, json={"weight": 0.9}, headers=bearer(editor)).status_code == 428
    edited = client.patch(
        url, json={"relation": "see_also"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert edited.status_code == 200, edited.get_json()
    assert _related(client, "lip-filler-swelling")["tmj-headache"]["relation"] == "see_also"
    stale = client.patch(url, json={"weight": 0.9}, headers=bearer(editor, **{"If-Match": etag}))
    assert stale.status_code == 412
    assert stale.get_json()["current_etag"] == edited.headers["ETag"]
    assert (
        client.patch(
            url,
            json={"target_id": ids["liver-rash"]},
            headers=bearer(editor, **{"If-Match": edited.headers["ETag"]}),
        ).status_code
        == 422
    ), "the target is what the link is"

    assert client.delete(url, headers=bearer(editor, **{"If-Match": etag})).status_code == 412
    deleted = client.delete(url, headers=bearer(editor, **{"If-Match": edited.headers["ETag"]}))
    assert deleted.status_code == 204
    assert "tmj-headache" not in _related(client, "lip-filler-swelling")
    trashed = client.get(url, headers=bearer(editor))
    assert trashed.status_code == 200, "nothing is hard-deleted: the link is in the trash"
    assert trashed.json["deleted_at"]
    source_links = f"/v1/admin/articles/{ids['lip-filler-swelling']}/links"
    trash = client.get(f"{source_links}?trashed=true", headers=bearer(editor)).json["items"]
    assert [item["id"] for item in trash] == [link["id"]]
    live = client.get(source_links, headers=bearer(editor)).json["items"]
    assert link["id"] not in {item["id"] for item in live}

    restored = client.post(f"{url}/restore", headers=bearer(editor))
    assert restored.status_code == 200
    assert restored.json["deleted_at"] is None
    assert "tmj-headache" in _related(client, "lip-filler-swelling")

    events = client.get(f"/v1/admin/audit?target_id={link['id']}", headers=bearer(editor)).json
    assert [event["action"] for event in events["items"]] == [
        "link.restore",
        "link.trash",
        "link.update",
        "link.create",
    ]
    assert events["items"][1]["after"]["deleted_at"]


def test_self_links_duplicates_and_bad_weights_are_refused(client, make_token):
    editor = make_token("editor")
    ids = _article_ids(client, editor)
    links = f"/v1/admin/articles/{ids['lip-filler-swelling']}/links"

    own = client.post(links, json={"target_id": ids["lip-filler-swelling"]}, headers=bearer(editor))
    assert own.status_code == 422
    assert "target_id" in own.get_json()["errors"]["json"]
    twice = client.post(
        links, json={"target_id": ids["headache-after-botox"]}, headers=bearer(editor)
    )
    assert twice.status_code == 409
    unknown = client.post(
        links, json={"target_id": "00000000-0000-0000-0000-000000000000"}, headers=bearer(editor)
    )
    assert unknown.status_code == 422
    for weight in (0, 1.5, -0.1):
        response = client.post(
            links, json={"target_id": ids["tmj-headache"], "weight": weight}, headers=bearer(editor)
        )
        assert response.status_code == 422, weight
        assert "weight" in response.get_json()["errors"]["json"]
    assert (
        client.post(
            "/v1/admin/articles/00000000-0000-0000-0000-000000000000/links",
            json={"target_id": ids["tmj-headache"]},
            headers=bearer(editor),
        ).status_code
        == 404
    )


def test_link_roles_and_paging(client, make_token):
    viewer = make_token("viewer")
    ids = _article_ids(client, make_token("editor"))
    links = f"/v1/admin/articles/{ids['headache-after-botox']}/links"

    assert client.get(links).status_code == 401
    assert (
        client.post(links, json={"target_id": ids["tmj-headache"]}, headers=bearer(viewer))
    ).status_code == 403
    first = client.get(f"{links}?limit=4", headers=bearer(viewer))
    assert first.status_code == 200
    body = first.get_json()
    assert body["page"]["total"] == 6
    assert 'rel="next"' in first.headers["Link"]
    rest = client.get(
        f"{links}?limit=4&cursor={body['page']['next_cursor']}", headers=bearer(viewer)
    ).get_json()
    assert rest["page"]["next_cursor"] is None
    positions = [item["position"] for item in body["items"] + rest["items"]]
    assert positions == sorted(positions)
    assert len({item["id"] for item in body["items"] + rest["items"]}) == 6
    link_url = f"/v1/admin/links/{body['items'][0]['id']}"
    assert client.get(link_url, headers=bearer(viewer)).status_code == 200
    assert client.delete(link_url, headers=bearer(viewer, **{"If-Match": "*"})).status_code == 403
    differential = client.get(f"{links}?relation=differential", headers=bearer(viewer)).json
    assert [item["target"] for item in differential["items"]] == ["tmj-headache"]
