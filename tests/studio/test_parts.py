"""An article's parts in the studio over the test client: who may write, bad input, conflicts."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image as PillowImage
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, Faq, RelatedLink
from cms_api.services.accounts import sign_in, users
from tests.support.api import NO_ID, SEEDED_ARTICLE, bearer

PASSWORD = "a long enough passphrase"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')
TABS = ("citations", "actions", "faqs", "links", "topics", "images", "credits")


def _signed_in(app: Flask, client: FlaskClient, role: str) -> str:
    """Sign a new user of `role` in on `client`; returns the session's CSRF token."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        sign_in.set_password(
            users.create_user(email=email, name=f"Parts {role}", role=role), PASSWORD
        )
        db.session.commit()
    page = client.get("/studio/sign-in").get_data(as_text=True)
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    signed = client.post(
        "/studio/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 303
    home = client.get("/studio/").get_data(as_text=True)
    return CSRF_INPUT.search(home).group(1)  # type: ignore[union-attr]


@pytest.fixture
def editor_client(app: Flask, client: FlaskClient) -> tuple[FlaskClient, str]:
    return client, _signed_in(app, client, "editor")


def _article(app: Flask, slug: str = SEEDED_ARTICLE) -> Article:
    with app.app_context():
        article = db.session.scalar(
            select(Article).where(Article.slug == slug, Article.locale == "en")
        )
        assert article is not None
        db.session.expunge(article)
        return article


def _version(client: FlaskClient, path: str) -> str:
    """The version the page's first form carries (the article's, on all but the images)."""
    return VERSION_INPUT.search(client.get(path).get_data(as_text=True)).group(1)  # type: ignore[union-attr]


def _api_article(client: FlaskClient, token: str, article_id: uuid.UUID) -> dict:
    response = client.get(f"/v1/admin/articles/{article_id}", headers=bearer(token))
    assert response.status_code == 200
    return response.get_json()


def _png(alt: str = "x") -> tuple[io.BytesIO, str]:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer, "red.png"


@pytest.mark.parametrize("tab", TABS)
def test_each_part_page_shows_the_article_header(
    app: Flask, editor_client: tuple[FlaskClient, str], tab: str
) -> None:
    client, _token = editor_client
    article = _article(app)
    response = client.get(f"/studio/articles/{article.id}/{tab}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert article.title in body
    assert f'href="/studio/articles/{article.id}"' in body
    assert article.status.replace("_", " ") in body
    assert 'aria-current="page"' in body
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "<script>" not in body and "style=" not in body


def test_adding_a_citation_reaches_the_api(
    app: Flask, editor_client: tuple[FlaskClient, str], admin_token: str
) -> None:
    client, token = editor_client
    article = _article(app)
    path = f"/studio/articles/{article.id}/citations"
    before = _api_article(client, admin_token, article.id)
    sent = client.post(
        path,
        data={
            "csrf_token": token,
            "version": _version(client, path),
            "title": "Botulinum toxin and headache",
            "authors": "Smith J",
            "year": "2020",
            "doi": "10.1111/head.12345",
            "pmid": "123456",
            "url": "https://example.org/paper",
        },
    )
    assert sent.status_code == 303
    assert sent.headers["Location"] == path
    after = _api_article(client, admin_token, article.id)
    assert len(after["citations"]) == len(before["citations"]) + 1
    added = after["citations"][-1]
    assert added["title"] == "Botulinum toxin and headache"
    assert added["doi"] == "10.1111/head.12345" and added["year"] == 2020
    assert added["publisher"] is None
    assert after["revision_number"] == before["revision_number"] + 1
    assert "Citation added." in client.get(path).get_data(as_text=True)


def test_citations_move_and_are_removed(
    app: Flask, editor_client: tuple[FlaskClient, str], admin_token: str
) -> None:
    client, token = editor_client
    article = _article(app)
    path = f"/studio/articles/{article.id}/citations"
    for title in ("First source", "Second source"):
        client.post(
            path, data={"csrf_token": token, "version": _version(client, path), "title": title}
        )
    titles = [c["title"] for c in _api_article(client, admin_token, article.id)["citations"]]
    last = len(titles) - 1
    moved = client.post(
        f"{path}/{last}/move",
        data={"csrf_token": token, "version": _version(client, path), "direction": "up"},
    )
    assert moved.status_code == 303
    titles = [c["title"] for c in _api_article(client, admin_token, article.id)["citations"]]
    assert titles[-2:] == ["Second source", "First source"]
    removed = client.post(
        f"{path}/{last}/remove", data={"csrf_token": token, "version": _version(client, path)}
    )
    assert removed.status_code == 303
    titles = [c["title"] for c in _api_article(client, admin_token, article.id)["citations"]]
    assert titles[-1] == "Second source" and "First source" not in titles


def test_a_bad_citation_shows_the_form_again_with_messages(
    app: Flask, editor_client: tuple[FlaskClient, str], admin_token: str
) -> None:
    client, token = editor_client
    article = _article(app)
    path = f"/studio/articles/{article.id}/citations"
    before = _api_article(client, admin_token, article.id)["citations"]
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "version": _version(client, path),
            "title": "",
            "doi": "not a doi",
            "year": "99999",
        },
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="new-doi-error"' in body and 'id="new-year-error"' in body
    assert 'id="new-title-error"' in body
    assert 'value="not a doi"' in body  # what was typed is kept
    assert 'role="alert"' in body
    assert _api_article(client, admin_token, article.id)["citations"] == before


def test_a_stale_version_is_a_conflict_and_changes_nothing(
    app: Flask, editor_client: tuple[FlaskClient, str], admin_token: str
) -> None:
    client, token = editor_client
    article = _article(app)
    path = f"/studio/articles/{article.id}/citations"
    loaded = _version(client, path)
    # Someone else edits the article meanwhile, through the API.
    current = client.get(f"/v1/admin/articles/{article.id}", headers=bearer(admin_token))
    edited = client.patch(
        f"/v1/admin/articles/{article.id}",
        json={"summary": "Changed by someone else."},
        headers=bearer(admin_token, **{"If-Match": current.headers["ETag"]}),
    )
    assert edited.status_code == 200
    before = _api_article(client, admin_token, article.id)
    response = client.post(path, data={"csrf_token": token, "version": loaded, "title": "Too late"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Your change was not saved" in body
    assert f'name="version" value="{before["version"]}"' in body  # the current state
    assert _api_article(client, admin_token, article.id) == before


def test_a_stale_faq_edit_is_a_conflict(app: Flask, editor_client: tuple[FlaskClient, str]) -> None:
    client, token = editor_client
    article = _article(app)
    path = f"/studio/articles/{article.id}/faqs"
    added = client.post(
        path, data={"csrf_token": token, "question": "Does it hurt?", "answer": "Rarely."}
    )
    assert added.status_code == 303
    with app.app_context():
        faq = db.session.scalar(select(Faq).where(Faq.question == "Does it hurt?"))
        assert faq is not None and faq.article_id == article.id and faq.status == "published"
        faq_id, version = faq.id, faq.version
    saved = client.post(
        f"{path}/{faq_id}",
        data={
            "csrf_token": token,
            "version": str(version),
            "question": "Does it ever hurt?",
            "answer": "Rarely.",
        },
    )
    assert saved.status_code == 303
    stale = client.post(
        f"{path}/{faq_id}",
        data={
            "csrf_token": token,
            "version": str(version),
            "question": "Overwritten?",
            "answer": "No.",
        },
    )
    assert stale.status_code == 409
    assert "Does it ever hurt?" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Faq, faq_id).question == "Does it ever hurt?"  # type: ignore[union-attr]


def test_a_faq_without_an_answer_is_refused(
    app: Flask, editor_client: tuple[FlaskClient, str]
) -> None:
    client, token = editor_client
    article = _article(app)
    response = client.post(
        f"/studio/articles/{article.id}/faqs",
        data={"csrf_token": token, "question": "Half a FAQ?", "answer": "  "},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="new-answer-error"' in body and 'value="Half a FAQ?"' in body
    with app.app_context():
        assert db.session.scalar(select(Faq).where(Faq.question == "Half a FAQ?")) is None


def test_faqs_reorder_and_go_to_the_trash(
    app: Flask, editor_client: tuple[FlaskClient, str]
) -> None:
    client, token = editor_client
    article = _article(app, "tmj-headache")
    path = f"/studio/articles/{article.id}/faqs"
    for question in ("Q one?", "Q two?"):
        client.post(path, data={"csrf_token": token, "question": question, "answer": "A."})

    def order() -> list[str]:
        with app.app_context():
            rows = db.session.scalars(
                select(Faq)
                .where(Faq.article_id == article.id, Faq.deleted_at.is_(None))
                .order_by(Faq.position)
            )
            return [faq.question for faq in rows]

    assert order()[-2:] == ["Q one?", "Q two?"]
    with app.app_context():
        second = db.session.scalar(select(Faq).where(Faq.question == "Q two?"))
        second_id, version = second.id, second.version  # type: ignore[union-attr]
    moved = client.post(
        f"{path}/{second_id}/move",
        data={"csrf_token": token, "version": str(version), "direction": "up"},
    )
    assert moved.status_code == 303
    assert order()[-2:] == ["Q two?", "Q one?"]
    with app.app_context():
        version = db.session.get(Faq, second_id).version  # type: ignore[union-attr]
    removed = client.post(
        f"{path}/{second_id}/remove", data={"csrf_token": token, "version": str(version)}
    )
    assert removed.status_code == 303
    assert "Q two?" not in order()


def test_a_faq_of_another_article_is_not_found(
    app: Flask, editor_client: tuple[FlaskClient, str]
) -> None:
    client, token = editor_client
    article, other = _article(app), _article(app, "tmj-headache")
    client.post(
        f"/studio/articles/{other.id}/faqs",
        data={"csrf_token": token, "question": "Elsewhere?", "answer": "Yes."},
    )
    with app.app_context():
        faq = db.session.scalar(select(Faq).where(Faq.question == "Elsewhere?"))
        faq_id, version = faq.id, faq.version  # type: ignore[union-attr]
    response = client.post(
        f"/studio/articles/{article.id}/faqs/{faq_id}/remove",
        data={"csrf_token": token, "version": str(version)},
    )
    assert response.status_code == 404
    assert "not one of this article" in response.get_data(as_text=True)


def test_links_are_added_once_and_a_second_is_a_conflict(
    app: Flask, editor_client: tuple[FlaskClient, str], admin_token: str
) -> None:
    client, token = editor_client
    article, target = _article(app, "tmj-headache"), _article(app, "liver-rash")
    path = f"/studio/articles/{article.id}/links"
    page = client.get(path).get_data(as_text=True)
    assert f'<option value="{target.id}"' in page
    data = {
        "csrf_token": token,
        "target_id": str(target.id),
        "relation": "differential",
        "weight": "0.8",
        "anchor_text": "",
    }
    assert client.post(path, data=data).status_code == 303
    listed = client.get(f"/v1/admin/articles/{article.id}/links", headers=bearer(admin_token))
    found = [item for item in listed.get_json()["items"] if item["target_id"] == str(target.id)]
    assert found and found[0]["relation"] == "differential" and found[0]["weight"] == 0.8
    again = client.post(path, data=data)
    assert again.status_code == 409
    assert "already links to this one" in again.get_data(as_text=True)


def test_a_bad_link_weight_and_no_target_are_refused(
    app: Flask, editor_client: tuple[FlaskClient, str]
) -> None:
    client, token = editor_client
    article, target = _article(app, "tmj-headache"), _article(app, "liver-rash")
    path = f"/studio/articles/{article.id}/links"
    none = client.post(path, data={"csrf_token": token, "target_id": "", "relation": "see_also"})
    assert none.status_code == 422
    assert 'id="new-target_id-error"' in none.get_data(as_text=True)
    bad = client.post(
        path,
        data={
            "csrf_token": token,
            "target_id": str(target.id),
            "relation": "see_also",
            "weight": "3",
        },
    )
    assert bad.status_code == 422
    assert 'id="new-weight-error"' in bad.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(RelatedLink).where(
                    RelatedLink.source_id == article.id, RelatedLink.target_id == target.id
                )
            )
            is None
        )


def test_topics_are_chosen_and_an_unknown_one_is_refused(
    app: Flask, editor_client: tuple[FlaskClient, str], admin_token: str
) -> None:
    client, token = editor_client
    article = _article(app)
    path = f"/studio/articles/{article.id}/topics"
    current = _api_article(client, admin_token, article.id)["topics"]
    page = client.get(path).get_data(as_text=True)
    slugs = re.findall(r'name="topics" type="checkbox" value="([^"]+)"', page)
    extra = next(slug for slug in slugs if slug not in current)
    saved = client.post(
        path,
        data={"csrf_token": token, "version": _version(client, path), "topics": [*current, extra]},
    )
    assert saved.status_code == 303
    assert _api_article(client, admin_token, article.id)["topics"] == [*current, extra]
    unknown = client.post(
        path,
        data={"csrf_token": token, "version": _version(client, path), "topics": ["no-such-topic"]},
    )
    assert unknown.status_code == 422
    assert "Unknown topic" in unknown.get_data(as_text=True)
    assert _api_article(client, admin_token, article.id)["topics"] == [*current, extra]


def test_an_uploaded_image_becomes_the_hero(
    app: Flask, editor_client: tuple[FlaskClient, str], admin_token: str
) -> None:
    client, token = editor_client
    article = _article(app)
    path = f"/studio/articles/{article.id}/images"
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "version": str(_api_article(client, admin_token, article.id)["version"]),
            "alt_text": "A red square",
            "hero": "1",
            "file": _png(),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    hero = _api_article(client, admin_token, article.id)["lead_image_id"]
    image = client.get(f"/v1/admin/images/{hero}", headers=bearer(admin_token)).get_json()
    assert image["alt_text"] == "A red square" and image["width"] == 40
    page = client.get(path).get_data(as_text=True)
    assert 'alt="A red square"' in page and f"image:{hero}" in page


def test_an_image_without_alt_text_or_not_an_image_is_refused(
    app: Flask, editor_client: tuple[FlaskClient, str]
) -> None:
    client, token = editor_client
    article = _article(app)
    path = f"/studio/articles/{article.id}/images"
    no_alt = client.post(
        path,
        data={"csrf_token": token, "version": _version(client, path), "file": _png()},
        content_type="multipart/form-data",
    )
    assert no_alt.status_code == 422
    assert 'id="upload-alt_text-error"' in no_alt.get_data(as_text=True)
    not_image = client.post(
        path,
        data={
            "csrf_token": token,
            "alt_text": "Text",
            "file": (io.BytesIO(b"plain text, not a picture"), "notes.png"),
        },
        content_type="multipart/form-data",
    )
    assert not_image.status_code == 422
    assert 'id="upload-file-error"' in not_image.get_data(as_text=True)


def test_a_viewer_reads_the_parts_but_may_not_change_them(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "viewer")
    article = _article(app)
    before = _api_article(client, admin_token, article.id)
    page = client.get(f"/studio/articles/{article.id}/citations")
    assert page.status_code == 200
    assert "Add a citation" not in page.get_data(as_text=True)
    refused = client.post(
        f"/studio/articles/{article.id}/citations",
        data={"csrf_token": token, "version": str(before["version"]), "title": "Nope"},
    )
    assert refused.status_code == 403
    assert "may not do this" in refused.get_data(as_text=True)
    assert _api_article(client, admin_token, article.id) == before


def test_an_unknown_article_is_the_studio_404_page(
    editor_client: tuple[FlaskClient, str],
) -> None:
    client, token = editor_client
    for tab in TABS:
        response = client.get(f"/studio/articles/{NO_ID}/{tab}")
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "No article" in response.get_data(as_text=True) or "not" in response.get_data(
            as_text=True
        )
    posted = client.post(
        f"/studio/articles/{NO_ID}/citations", data={"csrf_token": token, "title": "x"}
    )
    assert posted.status_code == 404 and posted.mimetype == "text/html"


def test_signed_out_browsers_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    article = _article(app)
    response = client.get(f"/studio/articles/{article.id}/faqs")
    assert response.status_code == 303
    assert "/studio/sign-in?next=" in response.headers["Location"]
