"""The reviewer's studio screens over the test client: queue, diff, comments, decisions, preview."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import Article, Credential, ReviewComment
from cms_api.services.accounts import sign_in, users
from cms_api.studio.reviews import section_changes, word_diff
from tests.conftest import bearer
from tests.support.api import NO_ID, PUBLISHABLE, REVIEWER_PERSON

PASSWORD = "a long enough passphrase"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(app: Flask, client: FlaskClient, role: str, *, person: str | None = None) -> str:
    """Sign `client` in as a new user with `role`; its CSRF token."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        if role == "reviewer" and person is None:
            person = REVIEWER_PERSON
        user = users.create_user(email=email, name=f"Studio {role}", role=role, person_slug=person)
        sign_in.set_password(user, PASSWORD)
        db.session.commit()
    token = CSRF_INPUT.search(client.get("/studio/sign-in").get_data(as_text=True))
    assert token
    answer = client.post(
        "/studio/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    found = CSRF_INPUT.search(client.get("/studio/").get_data(as_text=True))
    assert found
    return found.group(1)


def edited_live_article(client: FlaskClient, editor: str, title: str) -> dict[str, Any]:
    """The seeded liver-rash article, edited (so back in review) with a new title and a
    changed section; its admin representation."""
    found = client.get("/v1/admin/articles?q=liver-rash", headers=bearer(editor)).get_json()
    url = f"/v1/admin/articles/{found['items'][0]['id']}"
    current = client.get(url, headers=bearer(editor))
    sections = current.get_json()["sections"]
    sections[0]["body"] = "Brand new <b>words</b> here. " + (sections[0]["body"] or "")
    edited = client.patch(
        url,
        json={"title": title, "sections": sections},
        headers=bearer(editor, **{"If-Match": current.headers["ETag"]}),
    )
    assert edited.status_code == 200, edited.get_json()
    body = edited.get_json()
    assert body["status"] == "in_review"
    return body


def new_article_in_review(client: FlaskClient, editor: str, slug: str, **extra: Any) -> str:
    created = client.post(
        "/v1/admin/articles",
        json={"slug": slug, "title": slug.title(), **PUBLISHABLE, **extra},
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    url = created.headers["Location"]
    client.put(
        f"{url}/authors",
        json={"authors": ["rafael-oyelaran"]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    return url.rsplit("/", 1)[1]


def _revision(app: Flask, article_id: str) -> str:
    with app.app_context():
        article = db.session.get(Article, uuid.UUID(article_id))
        assert article is not None
        return str(article.revision_number)


def test_word_diff_marks_words_and_escapes_html() -> None:
    old, new = word_diff("Take <one> tablet daily", "Take two tablets daily")
    assert old == "Take <del>&lt;one&gt;</del> <del>tablet</del> daily"
    assert new == "Take <ins>two</ins> <ins>tablets</ins> daily"


def test_section_changes_pair_sections_by_key_with_added_and_removed() -> None:
    old = [{"key": "a", "heading": "A", "body": "x", "subsections": []}]
    new = [
        {"key": "b", "heading": "B", "body": "y", "subsections": []},
        {"key": "a", "heading": "A", "body": "x", "subsections": []},
    ]
    shown = section_changes(old, new)
    assert [(s.key, s.status) for s in shown] == [("b", "added"), ("a", "unchanged")]
    assert [(s.key, s.status) for s in section_changes(new, old)] == [
        ("a", "unchanged"),
        ("b", "removed"),
    ]


def test_the_queue_lists_articles_in_review_in_the_reviewers_locales(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    first = new_article_in_review(client, editor, "queued-first")
    second = new_article_in_review(client, editor, "queued-second")
    with app.app_context():
        # One test is one transaction, whose clock stands still: the first waited longer.
        waiting = db.session.get(Article, uuid.UUID(first))
        assert waiting is not None
        waiting.updated_at = utcnow() - timedelta(days=2)
        db.session.commit()
    signed_in(app, client, "reviewer")
    page = client.get("/studio/reviews")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index(f"/studio/reviews/{first}") < html.index(f"/studio/reviews/{second}")
    assert "Overdue reviews" in html


def test_a_reviewer_of_other_locales_sees_none_of_them(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    article_id = new_article_in_review(client, editor, "english-only")
    signed_in(app, client, "reviewer", person="ines-valbuena-soto")  # reviews in es
    html = client.get("/studio/reviews").get_data(as_text=True)
    assert article_id not in html
    assert "You review content in es." in html


def test_editors_may_not_open_the_queue(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client, "editor")
    refused = client.get("/studio/reviews")
    assert refused.status_code == 403
    assert "may not do this" in refused.get_data(as_text=True)


def test_the_review_page_shows_each_changed_field_and_section_as_a_word_diff(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    article = edited_live_article(client, editor, "Liver rash, revised")
    signed_in(app, client, "reviewer")
    page = client.get(f"/studio/reviews/{article['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<ins>revised</ins>" in html or "<ins>Liver rash, revised</ins>" in html
    # The author's text is escaped, never markup of the page.
    assert "&lt;b&gt;words&lt;/b&gt;" in html and "<b>words</b>" not in html
    assert "(changed)" in html and "(unchanged)" in html


def test_an_unknown_article_is_the_studio_404(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client, "reviewer")
    missing = client.get(f"/studio/reviews/{NO_ID}")
    assert missing.status_code == 404
    assert "text/html" in missing.content_type


def test_comments_are_added_on_a_section_replied_to_and_resolved(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    article = edited_live_article(client, editor, "Liver rash, commented")
    key = article["sections"][0]["key"]
    csrf = signed_in(app, client, "reviewer")
    url = f"/studio/reviews/{article['id']}"

    blank = client.post(
        f"{url}/comments", data={"csrf_token": csrf, "body": "  ", "section_key": key}
    )
    assert blank.status_code == 422
    assert "Must not be blank." in blank.get_data(as_text=True)

    added = client.post(
        f"{url}/comments", data={"csrf_token": csrf, "body": "Cite the source.", "section_key": key}
    )
    assert added.status_code == 303 and added.headers["Location"].endswith(f"#comments-{key}")
    listed = client.get(f"/v1/admin/articles/{article['id']}/comments", headers=bearer(editor))
    (thread,) = listed.get_json()["items"]
    assert thread["section_key"] == key and thread["body"] == "Cite the source."

    replied = client.post(
        f"{url}/comments", data={"csrf_token": csrf, "body": "Done.", "parent_id": thread["id"]}
    )
    assert replied.status_code == 303
    stale = client.post(
        f"{url}/comments/{thread['id']}/resolve", data={"csrf_token": csrf, "version": "0"}
    )
    assert stale.status_code == 409
    resolved = client.post(
        f"{url}/comments/{thread['id']}/resolve",
        data={"csrf_token": csrf, "version": str(thread["version"])},
    )
    assert resolved.status_code == 303
    with app.app_context():
        row = db.session.get(ReviewComment, uuid.UUID(thread["id"]))
        assert row is not None and row.resolved_at is not None
    html = client.get(url).get_data(as_text=True)
    assert "Cite the source." in html and "Done." in html and "Resolved by" in html


def test_approving_as_a_clinical_review_records_it(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    article_id = new_article_in_review(client, editor, "approve-me")
    csrf = signed_in(app, client, "reviewer")
    url = f"/studio/reviews/{article_id}"
    revision = _revision(app, article_id)

    stale = client.post(
        f"{url}/approve", data={"csrf_token": csrf, "kind": "clinical", "revision": "999"}
    )
    assert stale.status_code == 409 and "changed since you opened it" in stale.get_data(
        as_text=True
    )
    bad = client.post(
        f"{url}/approve", data={"csrf_token": csrf, "kind": "correction", "revision": revision}
    )
    assert bad.status_code == 422
    approved = client.post(
        f"{url}/approve", data={"csrf_token": csrf, "kind": "clinical", "revision": revision}
    )
    assert approved.status_code == 303
    shown = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert shown["status"] == "approved"
    assert "approved" in client.get("/studio/reviews").get_data(as_text=True)


def test_a_reviewer_outside_the_locale_sees_the_services_refusal(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    article_id = new_article_in_review(client, editor, "not-my-locale")
    csrf = signed_in(app, client, "reviewer", person="ines-valbuena-soto")
    refused = client.post(
        f"/studio/reviews/{article_id}/approve",
        data={"csrf_token": csrf, "kind": "clinical", "revision": _revision(app, article_id)},
    )
    assert refused.status_code == 403
    assert "reviews content in es, not in en" in refused.get_data(as_text=True)
    shown = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert shown["status"] == "in_review"


def test_requesting_changes_needs_a_note_and_leaves_it_for_the_editor(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    article_id = new_article_in_review(client, editor, "send-back")
    csrf = signed_in(app, client, "reviewer")
    url = f"/studio/reviews/{article_id}"
    revision = _revision(app, article_id)
    empty = client.post(
        f"{url}/request-changes", data={"csrf_token": csrf, "notes": " ", "revision": revision}
    )
    assert empty.status_code == 422 and "Say what needs to change." in empty.get_data(as_text=True)
    sent = client.post(
        f"{url}/request-changes",
        data={"csrf_token": csrf, "notes": "Add the dosing table.", "revision": revision},
    )
    assert sent.status_code == 303
    shown = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert shown["status"] == "draft"
    listed = client.get(f"/v1/admin/articles/{article_id}/comments", headers=bearer(editor))
    assert [c["body"] for c in listed.get_json()["items"]] == [
        "Changes requested: Add the dosing table."
    ]


def test_the_start_page_shows_the_queue_and_credentials_to_renew(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    new_article_in_review(client, editor, "on-the-start-page")
    with app.app_context():
        licence = db.session.scalar(
            select(Credential).where(Credential.name == "Medical License").limit(1)
        )
        assert licence is not None
        person_slug = licence.person.slug
        licence.valid_until = utcnow().date() - timedelta(days=3)
        db.session.commit()
    signed_in(app, client, "reviewer", person=person_slug)
    html = client.get("/studio/").get_data(as_text=True)
    assert "Your reviews" in html and "your review</a>" in html
    assert "Medical License: expired on" in html
    # What the start page showed before stays.
    assert "What your role lets you do" in html


def test_the_start_page_shows_editors_drafts_sent_back(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    reviewer = make_token("reviewer")
    article_id = new_article_in_review(client, editor, "sent-back-draft")
    client.post(
        f"/v1/admin/articles/{article_id}/request-changes",
        json={"notes": "Shorten the summary."},
        headers=bearer(reviewer),
    )
    signed_in(app, client, "editor")
    html = client.get("/studio/").get_data(as_text=True)
    assert "Returned with changes requested" in html and "Shorten the summary." in html


def test_the_preview_shows_the_working_copy_beside_the_live_version(
    app: Flask, client: FlaskClient, make_token
) -> None:
    editor = make_token("editor")
    article = edited_live_article(client, editor, "Liver rash, previewed")
    signed_in(app, client, "viewer")
    page = client.get(f"/studio/articles/{article['id']}/preview")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Working copy" in html and "Live now" in html
    assert "Liver rash, previewed" in html
    assert "Liver Rash: Skin Changes Linked to Liver Disease" in html
    assert "<iframe" not in html
    assert client.get(f"/studio/articles/{NO_ID}/preview").status_code == 404
