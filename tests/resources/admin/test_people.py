"""Editors write people and credentials; published articles showing them re-render at once."""

from __future__ import annotations

from tests.conftest import bearer

PERSON = {
    "slug": "ines-park",
    "name": "Ines Park",
    "honorific_prefix": "Dr.",
    "honorific_suffix": "DO",
    "job_title": "Family physician",
    "bio": "Dr. Park treats **families**.",
    "photo_url": "https://images.example.org/people/ines-park.jpg",
    "profile_links": [{"kind": "orcid", "url": "https://orcid.org/0000-0000-0000-0000"}],
    "specialties": ["Family medicine"],
    "credentials": [
        {
            "kind": "degree",
            "name": "Doctor of Osteopathic Medicine (DO)",
            "issuer": "Example College",
            "valid_from": "2012-05-20",
        }
    ],
}
NEW_LICENSE = {
    "kind": "license",
    "name": "Medical Licence",
    "issuer": "Example Medical Council",
    "jurisdiction": "Ontario, CA",
    "number": "EX-123",
    "valid_from": "2020-01-01",
    "valid_until": "2030-12-31",
    "verified_at": "2026-06-01T09:00:00Z",
}


def _person(client, token: str, slug: str) -> dict:
    found = client.get(f"/v1/admin/people?q={slug}", headers=bearer(token)).get_json()
    return next(item for item in found["items"] if item["slug"] == slug)


def _audit_actions(client, token: str, target_id: str) -> list[str]:
    events = client.get(
        f"/v1/admin/audit?target_id={target_id}&limit=100", headers=bearer(token)
    ).get_json()["items"]
    return [event["action"] for event in reversed(events)]


def test_create_read_edit_person(client, make_token):
    editor = make_token("editor")

    created = client.post("/v1/admin/people", json=PERSON, headers=bearer(editor))

    assert created.status_code == 201, created.get_json()
    person = created.get_json()
    url = created.headers["Location"]
    assert url == f"/v1/admin/people/{person['id']}"
    assert person["credentials"][0]["valid_from"] == "2012-05-20"
    assert person["credentials"][0]["valid_until"] is None
    assert person["bio"] == PERSON["bio"]
    read = client.get(url, headers=bearer(editor))
    assert read.headers["ETag"] == created.headers["ETag"]
    assert client.get("/v1/people/ines-park").status_code == 404, "no published work yet"

    edited = client.patch(
        url,
        json={"job_title": "General practitioner", "specialties": []},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["job_title"] == "General practitioner"
    assert edited.get_json()["specialties"] == []
    assert edited.get_json()["name"] == "Ines Park", "fields not sent are left alone"

    stale = client.patch(
        url, json={"name": "X"}, headers=bearer(editor, **{"If-Match": created.headers["ETag"]})
    )
    assert stale.status_code == 412
    assert stale.get_json()["current_etag"] == edited.headers["ETag"]
    assert client.patch(url, json={"name": "X"}, headers=bearer(editor)).status_code == 428

    assert _audit_actions(client, editor, person["id"]) == ["person.create", "person.update"]


def test_slugs_are_validated_and_unique(client, make_token):
    editor = make_token("editor")

    clash = client.post(
        "/v1/admin/people", json={**PERSON, "slug": "tobias-lindqvist"}, headers=bearer(editor)
    )
    assert clash.status_code == 409
    assert clash.get_json()["errors"]["json"]["slug"] == ["Already in use."]
    bad = client.post(
        "/v1/admin/people", json={**PERSON, "slug": "Not A Slug"}, headers=bearer(editor)
    )
    assert bad.status_code == 422
    assert "slug" in bad.get_json()["errors"]["json"]

    mine = client.post("/v1/admin/people", json=PERSON, headers=bearer(editor))
    renamed = client.patch(
        mine.headers["Location"],
        json={"slug": "rafael-oyelaran"},
        headers=bearer(editor, **{"If-Match": mine.headers["ETag"]}),
    )
    assert renamed.status_code == 409


def test_credential_validity_must_be_ordered(client, make_token):
    editor = make_token("editor")
    backwards = {**NEW_LICENSE, "valid_from": "2030-01-01", "valid_until": "2020-01-01"}

    response = client.post(
        "/v1/admin/people", json={**PERSON, "credentials": [backwards]}, headers=bearer(editor)
    )

    assert response.status_code == 422
    assert "valid_until" in response.get_json()["errors"]["json"]["credentials"]["0"]


def test_a_new_credential_of_the_reviewer_shows_in_the_published_article(client, make_token):
    editor = make_token("editor")
    article = client.get("/v1/articles/headache-after-botox").get_json()
    reviewer_slug = article["reviewers"][0]["slug"]
    reviewer = _person(client, editor, reviewer_slug)
    url = f"/v1/admin/people/{reviewer['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]

    response = client.patch(
        url,
        json={"credentials": [*reviewer["credentials"], NEW_LICENSE]},
        headers=bearer(editor, **{"If-Match": etag}),
    )

    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] != etag, "a credentials-only change is a new version"
    shown = client.get("/v1/articles/headache-after-botox").get_json()["reviewers"][0]
    assert {
        "kind": "license",
        "name": "Medical Licence",
        "issuer": "Example Medical Council",
        "jurisdiction": "Ontario, CA",
        "number": "EX-123",
        "valid_from": "2020-01-01",
        "valid_until": "2030-12-31",
        "verified_at": "2026-06-01T09:00:00Z",
        "valid": True,
    } in shown["credentials"]
    profile = client.get(f"/v1/people/{reviewer_slug}").get_json()
    assert "Medical Licence" in {item["name"] for item in profile["credentials"]}
    audit = client.get(
        f"/v1/admin/audit?target_id={reviewer['id']}", headers=bearer(editor)
    ).get_json()["items"][0]
    assert audit["action"] == "person.update"
    assert audit["before"] == {"credentials": f"{len(reviewer['credentials'])} items"}
    assert audit["after"] == {"credentials": f"{len(reviewer['credentials']) + 1} items"}


def test_trash_hides_a_person_from_delivery_and_restore_brings_them_back(client, make_token):
    editor = make_token("editor")
    person = _person(client, editor, "miriam-castellanos-reed")
    url = f"/v1/admin/people/{person['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    assert client.get("/v1/people/miriam-castellanos-reed").status_code == 200

    assert client.delete(url, headers=bearer(editor)).status_code == 428
    assert client.delete(url, headers=bearer(editor, **{"If-Match": etag})).status_code == 204

    assert client.get("/v1/people/miriam-castellanos-reed").status_code == 404
    listed = client.get("/v1/people").get_json()["items"]
    assert "miriam-castellanos-reed" not in {item["slug"] for item in listed}
    article = client.get("/v1/articles/headache-after-botox").get_json()
    assert "miriam-castellanos-reed" not in {item["slug"] for item in article["authors"]}
    trash = client.get("/v1/admin/people?trashed=true", headers=bearer(editor)).get_json()
    assert [item["slug"] for item in trash["items"]] == ["miriam-castellanos-reed"]

    restored = client.post(f"{url}/restore", headers=bearer(editor))
    assert restored.status_code == 200
    assert client.get("/v1/people/miriam-castellanos-reed").status_code == 200
    article = client.get("/v1/articles/headache-after-botox").get_json()
    assert "miriam-castellanos-reed" in {item["slug"] for item in article["authors"]}
    assert _audit_actions(client, editor, person["id"]) == ["person.trash", "person.restore"]


def test_people_roles(client, make_token):
    viewer, reviewer = make_token("viewer"), make_token("reviewer")

    assert client.get("/v1/admin/people").status_code == 401
    neurologists = client.get("/v1/admin/people?specialty=Neurology", headers=bearer(viewer))
    assert {item["slug"] for item in neurologists.get_json()["items"]} == {
        "miriam-castellanos-reed"
    }
    listed = client.get("/v1/admin/people?limit=2", headers=bearer(viewer))
    assert listed.status_code == 200
    assert listed.get_json()["page"]["total"] >= 3
    person = listed.get_json()["items"][0]
    url = f"/v1/admin/people/{person['id']}"
    assert client.get(url, headers=bearer(viewer)).status_code == 200
    for token in (viewer, reviewer):
        assert (
            client.post("/v1/admin/people", json=PERSON, headers=bearer(token)).status_code == 403
        )
        assert (
            client.patch(url, json={"name": "X"}, headers=bearer(token, **{"If-Match": "*"}))
        ).status_code == 403
        assert client.delete(url, headers=bearer(token, **{"If-Match": "*"})).status_code == 403
    assert client.post(url + "/restore").status_code == 401
