"""The article screens over the test client: permissions, CSRF, versions, bad input, workflow."""

from __future__ import annotations

import re
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticlePresence, User
from cms_api.services.accounts import sign_in, users
from tests.support.api import NO_ID, SEEDED_ARTICLE, bearer

PASSWORD = "a long enough passphrase"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
ETAG_INPUT = re.compile(r'name="etag" id="etag" value="([^"]+)"')


def _signed_in(app: Flask, client: FlaskClient, role: str = "editor") -> str:
    """Sign a new user of `role` in; returns the session's CSRF token."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        user = users.create_user(email=email, name=f"Studio {role}", role=role)
        sign_in.set_password(user, PASSWORD)
        db.session.commit()
    page = client.get("/studio/sign-in").get_data(as_text=True)
    token = CSRF_INPUT.search(page)
    assert token
    signed = client.post(
        "/studio/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert signed.status_code == 303
    found = CSRF_INPUT.search(client.get("/studio/").get_data(as_text=True))
    assert found
    return found.group(1)


def _seeded(app: Flask) -> uuid.UUID:
    with app.app_context():
        found = db.session.scalar(
            select(Article.id).where(Article.slug == SEEDED_ARTICLE, Article.locale == "en")
        )
    assert found is not None
    return found


def _create(client: FlaskClient, token: str, slug: str = "studio-draft") -> str:
    response = client.post(
        "/studio/articles/new",
        data={
            "csrf_token": token,
            "title": "A studio draft",
            "slug": slug,
            "locale": "en",
            "summary": "Written in the studio.",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def _editor_form(client: FlaskClient, article_id: str) -> dict[str, str]:
    """The edit form's fields as a browser would send them back."""
    page = client.get(f"/studio/articles/{article_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    etag = ETAG_INPUT.search(text)
    assert etag
    values = {
        "etag": etag.group(1).replace("&#34;", '"'),
        "sections-present": "1",
        "review_interval_months": "12",
    }
    for name in ("title", "slug", "meta_title", "canonical_url", "lead_image_id"):
        found = re.search(rf'id="{name}" name="{name}" type="[a-z]+" value="([^"]*)"', text)
        values[name] = found.group(1) if found else ""
    return values


def test_the_list_filters_by_status_and_locale_and_links_to_the_editor(
    app: Flask, client: FlaskClient
) -> None:
    _signed_in(app, client)
    everything = client.get("/studio/articles").get_data(as_text=True)
    assert "Headache After Botox" in everything
    drafts = client.get("/studio/articles?status=draft&locale=en").get_data(as_text=True)
    assert "Headache After Botox" not in drafts  # seeded as published
    published = client.get("/studio/articles?status=published&locale=en")
    assert published.status_code == 200
    assert f'href="/studio/articles/{_seeded(app)}"' in published.get_data(as_text=True)


def test_the_list_pages_with_a_next_link_and_refuses_bad_filters(
    app: Flask, client: FlaskClient
) -> None:
    _signed_in(app, client)
    first = client.get("/studio/articles").get_data(as_text=True)
    found = re.search(r'href="(/studio/articles\?cursor=[^"]+)" rel="next"', first)
    if found:  # the seeds hold more than a page of articles
        second = client.get(found.group(1).replace("&amp;", "&"))
        assert second.status_code == 200
    assert client.get("/studio/articles?status=nonsense").status_code == 400
    bad_cursor = client.get("/studio/articles?cursor=garbage")
    assert bad_cursor.status_code == 400
    assert bad_cursor.mimetype == "text/html"


def test_creating_an_article_goes_through_the_service(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client)
    article_id = _create(client, token)
    with app.app_context():
        article = db.session.get(Article, uuid.UUID(article_id))
        assert article is not None
        assert (article.title, article.status, article.revision_number) == (
            "A studio draft",
            "draft",
            1,
        )
    page = client.get(f"/studio/articles/{article_id}").get_data(as_text=True)
    assert "Created “A studio draft”." in page
    assert f'href="/studio/articles/{article_id}/citations"' in page
    assert f'href="/studio/reviews/{article_id}"' in page


def test_bad_input_shows_the_form_again_with_messages(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client)
    refused = client.post(
        "/studio/articles/new",
        data={"csrf_token": token, "title": "", "slug": "Not A Slug", "locale": "en"},
    )
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'aria-invalid="true"' in body and "Not A Slug" in body
    taken = client.post(
        "/studio/articles/new",
        data={"csrf_token": token, "title": "Again", "slug": SEEDED_ARTICLE, "locale": "en"},
    )
    assert taken.status_code == 422
    assert "already in use in en" in taken.get_data(as_text=True)
    article_id = _create(client, token)
    form = _editor_form(client, article_id)
    edit = client.post(
        f"/studio/articles/{article_id}",
        data={
            **form,
            "csrf_token": token,
            "title": "",
            "canonical_url": "not a url",
            "review_interval_months": "soon",
        },
    )
    assert edit.status_code == 422
    text = edit.get_data(as_text=True)
    assert "Not saved" in text and 'id="canonical_url-error"' in text
    assert 'id="review_interval_months-error"' in text
    assert 'value="not a url"' in text  # what the editor typed is kept


def test_saving_records_a_revision_and_the_api_shows_it(
    app: Flask, client: FlaskClient, editor: str
) -> None:
    token = _signed_in(app, client)
    article_id = _create(client, token)
    form = _editor_form(client, article_id)
    saved = client.post(
        f"/studio/articles/{article_id}",
        data={
            **form,
            "csrf_token": token,
            "title": "A better title",
            "summary": "Changed",
            "sections-0-key": "overview",
            "sections-0-heading": "Overview",
            "sections-0-body": "**Bold** text",
        },
    )
    assert saved.status_code == 303
    api = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert api["title"] == "A better title" and api["summary"] == "Changed"
    assert api["sections"][0]["body"] == "**Bold** text"
    assert api["revision_number"] == 2


def test_section_buttons_add_move_and_remove(app: Flask, client: FlaskClient, editor: str) -> None:
    token = _signed_in(app, client)
    article_id = _create(client, token)
    form = {**_editor_form(client, article_id), "csrf_token": token}
    assert client.post(f"/studio/articles/{article_id}", data={**form, "op": "add"}).status_code
    form = {**_editor_form(client, article_id), "csrf_token": token}
    sections = {
        "sections-0-key": "first",
        "sections-0-heading": "First",
        "sections-1-key": "second",
        "sections-1-heading": "Second",
    }
    moved = client.post(f"/studio/articles/{article_id}", data={**form, **sections, "op": "up:1"})
    assert moved.status_code == 303
    api = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert [s["key"] for s in api["sections"]] == ["second", "first"]
    form = {**_editor_form(client, article_id), "csrf_token": token}
    sections = {
        "sections-0-key": "second",
        "sections-0-heading": "Second",
        "sections-1-key": "first",
        "sections-1-heading": "First",
    }
    client.post(f"/studio/articles/{article_id}", data={**form, **sections, "op": "remove:0"})
    api = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert [s["key"] for s in api["sections"]] == ["first"]


def test_a_stale_version_gets_the_conflict_screen_and_nothing_is_overwritten(
    app: Flask, client: FlaskClient, editor: str
) -> None:
    token = _signed_in(app, client)
    article_id = _create(client, token)
    form = _editor_form(client, article_id)
    # Another editor saves through the API in between.
    api = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor))
    other = client.patch(
        f"/v1/admin/articles/{article_id}",
        json={"title": "Their title"},
        headers=bearer(editor, **{"If-Match": api.headers["ETag"]}),
    )
    assert other.status_code == 200
    stale = client.post(
        f"/studio/articles/{article_id}",
        data={**form, "csrf_token": token, "title": "My title"},
    )
    assert stale.status_code == 409
    text = stale.get_data(as_text=True)
    assert "Someone else saved this article" in text
    assert "My title" in text and "Their title" in text
    after = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert after["title"] == "Their title"
    # The autosave says so in its status, for htmx, and asks for the comparison.
    autosaved = client.post(
        f"/studio/articles/{article_id}/autosave",
        data={**form, "csrf_token": token, "title": "My title"},
        headers={"HX-Request": "true"},
    )
    assert autosaved.status_code == 200
    assert autosaved.headers["HX-Trigger"] == "article-conflict"
    assert "Compare and choose" in autosaved.get_data(as_text=True)
    # Keeping mine saves against their version.
    etag = re.search(r'name="etag" value="([^"]+)"', text)
    mine = re.search(r'name="mine" value="([^"]+)"', text)
    assert etag and mine
    resolved = client.post(
        f"/studio/articles/{article_id}/resolve",
        data={
            "csrf_token": token,
            "etag": etag.group(1).replace("&#34;", '"'),
            "mine": mine.group(1).replace("&#34;", '"'),
            "keep-title": "mine",
            "choice": "fields",
        },
    )
    assert resolved.status_code == 303
    damaged = client.post(
        f"/studio/articles/{article_id}/resolve",
        data={"csrf_token": token, "etag": "x", "mine": "{not json", "choice": "mine"},
    )
    assert damaged.status_code == 400 and damaged.mimetype == "text/html"
    final = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert final["title"] == "My title"


def test_autosave_answers_the_new_version(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client)
    article_id = _create(client, token)
    form = _editor_form(client, article_id)
    first = client.post(
        f"/studio/articles/{article_id}/autosave",
        data={**form, "csrf_token": token, "title": "Typed"},
    )
    assert first.status_code == 200
    body = first.get_data(as_text=True)
    assert "Saved at" in body and 'hx-swap-oob="true"' in body
    etag = re.search(r'name="etag" id="etag" value="([^"]+)"', body)
    assert etag and etag.group(1).replace("&#34;", '"') != form["etag"]
    second = client.post(
        f"/studio/articles/{article_id}/autosave",
        data={
            **form,
            "csrf_token": token,
            "title": "Typed more",
            "etag": etag.group(1).replace("&#34;", '"'),
        },
    )
    assert "Saved at" in second.get_data(as_text=True)
    invalid = client.post(
        f"/studio/articles/{article_id}/autosave",
        data={**form, "csrf_token": token, "title": ""},
    )
    assert invalid.status_code == 422
    assert "Not saved" in invalid.get_data(as_text=True)


def test_writes_need_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client)
    article_id = _create(client, token)
    form = _editor_form(client, article_id)
    refused = client.post(f"/studio/articles/{article_id}", data={**form, "title": "Forged"})
    assert refused.status_code == 403
    assert client.post(f"/studio/articles/{article_id}/trash").status_code == 403
    with app.app_context():
        article = db.session.get(Article, uuid.UUID(article_id))
        assert article is not None and article.title == "A studio draft"
        assert article.deleted_at is None


def test_a_viewer_may_list_but_not_edit(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client, "viewer")
    article_id = _seeded(app)
    with app.app_context():
        title = db.session.get(Article, article_id).title
    assert client.get("/studio/articles").status_code == 200
    assert client.get(f"/studio/articles/{article_id}").status_code == 403
    assert client.get("/studio/articles/new").status_code == 403
    refused = client.post(
        f"/studio/articles/{article_id}", data={"csrf_token": token, "title": "Mine now"}
    )
    assert refused.status_code == 403
    submit = client.post(f"/studio/articles/{article_id}/submit", data={"csrf_token": token})
    assert submit.status_code == 403
    with app.app_context():
        article = db.session.get(Article, article_id)
        assert article is not None and article.title == title


def test_unknown_articles_are_the_studio_404_page(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client)
    missing = client.get(f"/studio/articles/{NO_ID}")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert client.get("/studio/articles/not-an-id").status_code == 404
    posted = client.post(f"/studio/articles/{NO_ID}", data={"csrf_token": token, "title": "x"})
    assert posted.status_code == 404


def test_the_preview_renders_markdown_and_strips_scripts(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client)
    shown = client.post(
        "/studio/articles/preview",
        data={
            "csrf_token": token,
            "field": "sections-0-body",
            "sections-0-body": "**bold**\n\n- one\n- two\n\n<script>alert(1)</script>",
        },
    )
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "<strong>bold</strong>" in html and "<li>one</li>" in html
    assert "<script" not in html
    assert client.post("/studio/articles/preview", data={"csrf_token": token}).status_code == 400


def test_presence_heartbeats_and_shows_the_others(app: Flask, client: FlaskClient) -> None:
    article_id = _seeded(app)
    other = app.test_client()
    other_token = _signed_in(app, other, "admin")
    assert (
        other.post(
            f"/studio/articles/{article_id}/presence", data={"csrf_token": other_token}
        ).status_code
        == 200
    )
    token = _signed_in(app, client)
    banner = client.post(f"/studio/articles/{article_id}/presence", data={"csrf_token": token})
    assert "Studio admin (Administrator) is also editing this article." in banner.get_data(
        as_text=True
    )
    with app.app_context():
        editing = db.session.scalars(
            select(User.role)
            .join(ArticlePresence, ArticlePresence.user_id == User.id)
            .where(ArticlePresence.article_id == article_id)
        ).all()
        assert sorted(editing) == ["admin", "editor"]


def test_workflow_buttons_follow_the_allowed_moves(
    app: Flask, client: FlaskClient, editor: str
) -> None:
    token = _signed_in(app, client)
    article_id = _create(client, token)
    page = client.get(f"/studio/articles/{article_id}").get_data(as_text=True)
    assert "Submit for review" in page and "Unpublish" not in page
    assert "Publish or schedule" not in page
    submitted = client.post(f"/studio/articles/{article_id}/submit", data={"csrf_token": token})
    assert submitted.status_code == 303
    api = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert api["status"] == "in_review"
    again = client.post(f"/studio/articles/{article_id}/submit", data={"csrf_token": token})
    assert "Cannot submit" in client.get(again.headers["Location"]).get_data(as_text=True)
    seeded = client.get(f"/studio/articles/{_seeded(app)}").get_data(as_text=True)
    assert "Unpublish" in seeded and "Submit for review" not in seeded


def test_trash_and_restore(app: Flask, client: FlaskClient, editor: str) -> None:
    token = _signed_in(app, client)
    article_id = _create(client, token)
    form = _editor_form(client, article_id)
    trashed = client.post(
        f"/studio/articles/{article_id}/trash", data={"csrf_token": token, "etag": form["etag"]}
    )
    assert trashed.headers["Location"] == "/studio/articles?trashed=1"
    listed = client.get("/studio/articles?trashed=1").get_data(as_text=True)
    assert "A studio draft" in listed
    assert client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()[
        "deleted_at"
    ]
    restored = client.post(f"/studio/articles/{article_id}/restore", data={"csrf_token": token})
    assert restored.status_code == 303
    api = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert api["deleted_at"] is None


def test_trashing_with_a_stale_version_is_refused(
    app: Flask, client: FlaskClient, editor: str
) -> None:
    token = _signed_in(app, client)
    article_id = _create(client, token)
    old = _editor_form(client, article_id)["etag"]
    client.post(
        f"/studio/articles/{article_id}/autosave",
        data={**_editor_form(client, article_id), "csrf_token": token, "title": "Changed"},
    )
    refused = client.post(
        f"/studio/articles/{article_id}/trash", data={"csrf_token": token, "etag": old}
    )
    assert refused.headers["Location"] == f"/studio/articles/{article_id}"
    assert "Someone else saved this article" in client.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    api = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(editor)).get_json()
    assert api["deleted_at"] is None
