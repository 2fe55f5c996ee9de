"""Journeys of medical review in Chromium: queue, diff, comments, decisions, preview, questions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import Person
from cms_api.services.accounts import sign_in, users
from tests.studio.conftest import PASSWORD, Studio
from tests.studio.test_browser import _serious_violations, _sign_in
from tests.support.api import PUBLISHABLE

pytestmark = pytest.mark.browser


def _api(page: Page, studio: Studio, token: str, method: str, path: str, **kwargs):
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return page.request.fetch(studio.url(path), method=method, headers=headers, **kwargs)


def _submitted(page: Page, studio: Studio, editor: str, slug: str, body: str) -> str:
    """A new article with `body` in its overview, submitted for review; its id."""
    content = {
        **PUBLISHABLE,
        "sections": [{"key": "overview", "heading": "Overview", "body": body}],
    }
    created = _api(
        page,
        studio,
        editor,
        "POST",
        "/v1/admin/articles",
        data={"slug": slug, "title": "Frostnip", "summary": "Cold skin.", **content},
    )
    assert created.status == 201, created.text()
    article = created.json()
    authors = _api(
        page,
        studio,
        editor,
        "PUT",
        f"/v1/admin/articles/{article['id']}/authors",
        data={"authors": ["rafael-oyelaran"]},
        headers={"If-Match": created.headers["etag"]},
    )
    assert authors.status == 200, authors.text()
    submitted = _api(page, studio, editor, "POST", f"/v1/admin/articles/{article['id']}/submit")
    assert submitted.status == 200, submitted.text()
    return article["id"]


def test_the_reference_flow_from_submission_to_the_public_page(
    page: Page, studio: Studio, live_server: tuple[int, dict[str, str]]
) -> None:
    _port, tokens = live_server
    article_id = _submitted(page, studio, tokens["editor"], "frostnip", "Warm the skin slowly.")
    _sign_in(page, studio, studio.emails["reviewer"])
    page.get_by_role("link", name="Reviews", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reviews")
    assert _serious_violations(page) == []
    page.get_by_role("link", name="Frostnip").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review: Frostnip")
    # Nothing is live yet: every word is new.
    expect(page.locator("#section-overview ins")).to_contain_text("Warm the skin slowly.")
    assert _serious_violations(page) == []

    page.get_by_label("New comment on “Overview”").fill("Say how warm the water should be.")
    page.get_by_role("button", name="Add comment").first.click()
    expect(page.get_by_role("status")).to_contain_text("Your comment was added.")
    comments = _api(
        page, studio, tokens["editor"], "GET", f"/v1/admin/articles/{article_id}/comments"
    ).json()["items"]
    assert [(c["section_key"], c["body"]) for c in comments] == [
        ("overview", "Say how warm the water should be.")
    ]

    page.get_by_label("Clinical review: I reviewed the whole page").check()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text(
        "You approved “Frostnip” as a clinical review"
    )
    published = _api(
        page, studio, tokens["editor"], "POST", f"/v1/admin/articles/{article_id}/publish"
    )
    assert published.status == 200, published.text()
    public = page.request.get(studio.url("/v1/articles/frostnip"))
    assert public.status == 200
    assert "Warm the skin slowly." in public.text()


def test_requesting_changes_returns_the_article_with_the_note(
    page: Page, studio: Studio, live_server: tuple[int, dict[str, str]]
) -> None:
    _port, tokens = live_server
    article_id = _submitted(page, studio, tokens["editor"], "chilblains", "Keep feet dry.")
    _sign_in(page, studio, studio.emails["reviewer"])
    page.goto(studio.url(f"/studio/reviews/{article_id}"))
    page.get_by_label("What needs to change").fill("Add when to see a doctor.")
    page.get_by_role("button", name="Request changes").click()
    expect(page.get_by_role("status")).to_contain_text("went back to its editors")
    shown = _api(page, studio, tokens["editor"], "GET", f"/v1/admin/articles/{article_id}").json()
    assert shown["status"] == "draft"
    # The editor sees the note on the start page.
    page.context.clear_cookies()
    _sign_in(page, studio, studio.emails["editor"])
    expect(page.get_by_text("Add when to see a doctor.")).to_be_visible()


def test_the_preview_shows_the_unpublished_working_copy(
    page: Page, studio: Studio, live_server: tuple[int, dict[str, str]]
) -> None:
    _port, tokens = live_server
    article_id = _submitted(
        page, studio, tokens["editor"], "trench-foot", "Not yet published text."
    )
    _sign_in(page, studio, studio.emails["editor"])
    page.goto(studio.url(f"/studio/articles/{article_id}/preview"))
    expect(page.get_by_role("heading", name="Working copy (revision 2)")).to_be_visible()
    expect(page.get_by_text("Not yet published text.")).to_be_visible()
    expect(page.get_by_text("Nothing of this article is live yet.")).to_be_visible()
    assert page.request.get(studio.url("/v1/articles/trench-foot")).status == 404


def test_answering_and_promoting_reader_questions(page: Page, studio: Studio) -> None:
    asked = [
        page.request.post(
            studio.url("/v1/questions"),
            data={"question": text, "article": "headache-after-botox"},
        ).json()["id"]
        for text in ("Can I exercise after the injection?", "Where can I buy it cheaply?")
    ]
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, studio, studio.emails["editor"])
    page.goto(studio.url("/studio/questions"))
    first = page.locator(f"#question-{asked[0]}")
    first.get_by_label("Your answer").fill("Wait a day before hard exercise.")
    first.get_by_role("button", name="Answer").click()
    expect(page.get_by_role("status")).to_contain_text("The question is answered.")
    page.goto(studio.url("/studio/questions?status=answered"))
    answered = page.locator(f"#question-{asked[0]}")
    answered.get_by_text("Make it an FAQ").click()
    answered.get_by_role("button", name="Promote to an FAQ").click()
    expect(page.get_by_role("status")).to_contain_text("The question is now an FAQ")
    page.locator(f"#question-{asked[1]}").get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_contain_text("The question is rejected.")
    page.goto(studio.url("/studio/questions?status=promoted"))
    expect(page.get_by_text("Can I exercise after the injection?")).to_be_visible()


def _spanish_reviewer(studio: Studio, *, expired_licence: bool = False) -> str:
    """A reviewer signing off as the seeded person who reviews in es; their e-mail."""
    with studio.app.app_context():
        person = db.session.scalar(select(Person).where(Person.slug == "ines-valbuena-soto"))
        assert person is not None
        if expired_licence:
            for credential in person.credentials:
                credential.valid_until = utcnow().date() - timedelta(days=1)
        user = users.create_user(
            email="ines@example.org", name="Ines", role="reviewer", person_slug=person.slug
        )
        sign_in.set_password(user, PASSWORD)
        db.session.commit()
    return "ines@example.org"


def test_a_reviewer_outside_the_articles_locale_is_refused(
    page: Page, studio: Studio, live_server: tuple[int, dict[str, str]]
) -> None:
    _port, tokens = live_server
    article_id = _submitted(page, studio, tokens["editor"], "frostbite", "Seek care.")
    _sign_in(page, studio, _spanish_reviewer(studio))
    page.goto(studio.url("/studio/reviews"))
    expect(page.get_by_role("link", name="Frostnip")).to_have_count(0)
    page.goto(studio.url(f"/studio/reviews/{article_id}"))
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("alert")).to_contain_text("reviews content in es, not in en")
    shown = _api(page, studio, tokens["editor"], "GET", f"/v1/admin/articles/{article_id}").json()
    assert shown["status"] == "in_review"


def test_the_start_page_shows_an_expired_credential(page: Page, studio: Studio) -> None:
    _sign_in(page, studio, _spanish_reviewer(studio, expired_licence=True))
    expect(page.get_by_role("heading", name="Your reviews")).to_be_visible()
    expect(
        page.get_by_text("Degree in Medicine (Licenciatura en Medicina): expired on")
    ).to_be_visible()
    assert _serious_violations(page) == []


def test_a_preview_link_opens_the_working_copy_until_revoked(
    page: Page, studio: Studio, live_server: tuple[int, dict[str, str]]
) -> None:
    _port, tokens = live_server
    article_id = _submitted(page, studio, tokens["editor"], "immersion-foot", "Dry socks help.")
    _sign_in(page, studio, studio.emails["editor"])
    page.goto(studio.url(f"/studio/articles/{article_id}/preview"))
    page.get_by_label("Works for").select_option("8")
    page.get_by_role("button", name="Create a preview link").click()
    link = page.get_by_role("textbox", name="Your new preview link").input_value()
    assert link.startswith(studio.url("/v1/articles/immersion-foot?preview_token="))
    assert _serious_violations(page) == []
    opened = page.request.get(link)
    assert opened.status == 200 and "Dry socks help." in opened.text()
    assert page.request.get(studio.url("/v1/articles/immersion-foot")).status == 404

    page.goto(studio.url(f"/studio/articles/{article_id}/preview"))
    page.get_by_role("button", name=re.compile("^Revoke the link")).click()
    expect(page.get_by_role("status")).to_contain_text("no longer opens the article")
    assert page.request.get(link).status == 401
