"""Reviewers approve content in the locales they review in, and only there."""

from __future__ import annotations

from typing import Any

from tests.conftest import bearer
from tests.support.api import CLINICAL, PROBLEM, PUBLISHABLE

LICENCE = {"kind": "license", "name": "Medical Licence", "valid_from": "2020-01-01"}


def _reviewer(client, make_token, editor: str, slug: str, review_locales: list[str]) -> str:
    """A token for a reviewer whose person reviews in `review_locales`."""
    person = {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "credentials": [LICENCE],
        "review_locales": review_locales,
    }
    created = client.post("/v1/admin/people", json=person, headers=bearer(editor))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["review_locales"] == review_locales
    return make_token("reviewer", person_slug=slug)


def _in_review(client, editor: str, slug: str, **extra: Any) -> str:
    created = client.post(
        "/v1/admin/articles",
        json={"slug": slug, "title": slug, **PUBLISHABLE, **extra},
        headers=bearer(editor),
    )
    url = created.headers["Location"]
    client.put(
        f"{url}/authors",
        json={"authors": ["rafael-oyelaran"]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    return url


def _translation_in_review(client, editor: str, original: str, slug: str) -> str:
    made = client.post(
        f"{original}/translations", json={"locale": "es", "slug": slug}, headers=bearer(editor)
    )
    assert made.status_code == 201, made.get_json()
    url = made.headers["Location"]
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    return url


def test_a_reviewer_approves_only_in_the_locales_they_review_in(client, make_token):
    editor = make_token("editor")
    spanish = _reviewer(client, make_token, editor, "lucia-ferrandiz", ["es"])
    english = _reviewer(client, make_token, editor, "owen-marsh", ["en"])
    original = _in_review(client, editor, "frostnip")
    translation = _translation_in_review(client, editor, original, "congelacion-leve")

    refused = client.post(f"{original}/approve", json=CLINICAL, headers=bearer(spanish))

    assert refused.status_code == 403
    assert refused.content_type == PROBLEM
    problem = refused.get_json()
    assert problem["review_locales"] == ["es"]
    assert problem["locale"] == "en"
    assert "reviews content in es" in problem["detail"]
    assert client.get(original, headers=bearer(editor)).get_json()["status"] == "in_review"
    refused_es = client.post(f"{translation}/approve", json=CLINICAL, headers=bearer(english))
    assert refused_es.status_code == 403
    assert refused_es.get_json()["review_locales"] == ["en"]

    approved_es = client.post(f"{translation}/approve", json=CLINICAL, headers=bearer(spanish))
    approved_en = client.post(f"{original}/approve", json=CLINICAL, headers=bearer(english))

    assert approved_es.status_code == 200, approved_es.get_json()
    assert approved_es.get_json()["reviews"][0]["reviewer"] == "lucia-ferrandiz"
    assert approved_en.status_code == 200, approved_en.get_json()


def test_a_correction_is_refused_outside_the_reviewer_s_locales_too(client, make_token):
    editor, anyone = make_token("editor"), make_token("reviewer")
    spanish = _reviewer(client, make_token, editor, "lucia-ferrandiz", ["es"])
    url = _in_review(client, editor, "trench-foot")
    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(anyone)).status_code == 200
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    client.patch(url, json={"summary": "Typo fixed."}, headers=bearer(editor, **{"If-Match": etag}))

    correction = {"kind": "correction", "note": "Fixed a typo."}
    refused = client.post(f"{url}/approve", json=correction, headers=bearer(spanish))
    approved = client.post(f"{url}/approve", json=correction, headers=bearer(anyone))

    assert refused.status_code == 403
    assert refused.get_json()["locale"] == "en"
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    current = [
        item for item in body["reviews"] if item["revision_number"] == body["revision_number"]
    ]
    assert [item["kind"] for item in current] == ["correction"]


def test_a_topic_faq_is_approved_by_a_reviewer_of_its_locale(client, make_token):
    editor = make_token("editor")
    english = _reviewer(client, make_token, editor, "owen-marsh", ["en"])
    spanish = _reviewer(client, make_token, editor, "lucia-ferrandiz", ["es"])
    faq = client.post(
        "/v1/admin/faqs",
        json={
            "topic": "headache",
            "locale": "es",
            "question": "¿Cuándo es urgente un dolor de cabeza?",
            "answer": "Cuando aparece de golpe y es muy intenso.",
        },
        headers=bearer(editor),
    )
    assert faq.get_json()["locale"] == "es"
    url = faq.headers["Location"]
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200

    refused = client.post(f"{url}/approve", json={}, headers=bearer(english))
    approved = client.post(f"{url}/approve", json={}, headers=bearer(spanish))

    assert refused.status_code == 403
    assert refused.get_json()["review_locales"] == ["en"]
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["reviewed_by"] == "lucia-ferrandiz"


def test_review_locales_are_normalized_checked_and_audited(client, make_token):
    editor = make_token("editor")
    created = client.post(
        "/v1/admin/people",
        json={"slug": "noor-haddad", "name": "Noor Haddad", "review_locales": ["ES", "es", "en"]},
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    person = created.get_json()
    assert person["review_locales"] == ["es", "en"]
    url = created.headers["Location"]

    def patch(locales: list[str]):
        etag = client.get(url, headers=bearer(editor)).headers["ETag"]
        return client.patch(
            url, json={"review_locales": locales}, headers=bearer(editor, **{"If-Match": etag})
        )

    for refused in (["fr"], ["es-MX"], ["not a tag"], ["e"]):
        answer = patch(refused)
        assert answer.status_code == 422, (refused, answer.get_json())
        assert "review_locales" in answer.get_json()["errors"]["json"]
    emptied = patch([])
    assert emptied.status_code == 200
    assert emptied.get_json()["review_locales"] == []
    events = client.get(
        f"/v1/admin/audit?target_id={person['id']}", headers=bearer(editor)
    ).get_json()["items"]
    update = next(event for event in events if event["action"] == "person.update")
    assert "review_locales" in update["after"]
