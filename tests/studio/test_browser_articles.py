"""Article screens in Chromium: write, autosave, preview, conflicts, presence, workflow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from cms_api.database import db
from cms_api.services.accounts import users
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from tests.studio.conftest import Studio
from tests.studio.test_browser import _serious_violations, _sign_in
from tests.support.api import bearer

pytestmark = pytest.mark.browser


@pytest.fixture
def editor_token(live_server: tuple[int, dict[str, str]]) -> str:
    """The API token of the editor who also signs in to the studio."""
    return live_server[1]["editor"]


@pytest.fixture
def second(context: BrowserContext, studio: Studio) -> Iterator[Page]:
    """Another browser (profile) at once, for a second person."""
    other = context.browser.new_context()  # type: ignore[union-attr]
    yield other.new_page()
    other.close()


def _draft(studio: Studio, slug: str, **data: Any) -> str:
    with studio.app.app_context():
        author = users.find_user(studio.emails["editor"])
        assert author is not None
        article = editorial.create_article(
            {"title": f"Draft {slug}", "slug": slug, "summary": "", **data},
            Actor(user_id=author.id),
        )
        db.session.commit()
        return str(article.id)


def _api(page: Page, studio: Studio, token: str, article_id: str) -> dict[str, Any]:
    response = page.request.get(
        studio.url(f"/v1/admin/articles/{article_id}"), headers=bearer(token)
    )
    assert response.ok
    return response.json()


def _open(page: Page, studio: Studio, role: str, article_id: str) -> None:
    _sign_in(page, studio, studio.emails[role])
    expect(page).to_have_url(studio.url("/studio/"))
    page.goto(studio.url(f"/studio/articles/{article_id}"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_creating_an_article_shows_it_in_the_list(page: Page, studio: Studio) -> None:
    _sign_in(page, studio, studio.emails["editor"])
    page.get_by_role("navigation", name="Studio sections").get_by_role(
        "link", name="Articles"
    ).click()
    page.get_by_role("link", name="New article").click()
    page.get_by_label("Title", exact=True).fill("Sleep after a migraine")
    page.get_by_label("Slug").fill("sleep-after-a-migraine")
    page.get_by_label("Summary").fill("Why rest helps.")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_text("Created “Sleep after a migraine”.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sleep after a migraine")
    page.get_by_role("navigation", name="Studio sections").get_by_role(
        "link", name="Articles"
    ).click()
    expect(page.get_by_role("link", name="Sleep after a migraine")).to_be_visible()


def test_autosave_keeps_the_text_and_the_api_has_it(
    page: Page, studio: Studio, editor_token: str
) -> None:
    article_id = _draft(studio, "autosaved")
    _open(page, studio, "editor", article_id)
    page.get_by_label("Summary").fill("Typed, then left alone.")
    expect(page.locator("#save-status")).to_contain_text("Saved at", timeout=10_000)
    assert _api(page, studio, editor_token, article_id)["summary"] == "Typed, then left alone."
    page.reload()
    expect(page.get_by_label("Summary")).to_have_value("Typed, then left alone.")
    # Typing again saves again: the new version came back with the first save.
    page.get_by_label("Summary").fill("Typed twice.")
    page.get_by_label("Title", exact=True).focus()  # leaving the field saves at once
    expect(page.locator("#save-status")).to_contain_text("Saved at")
    assert _api(page, studio, editor_token, article_id)["summary"] == "Typed twice."


def test_the_live_preview_renders_markdown_and_strips_scripts(page: Page, studio: Studio) -> None:
    sections = [{"key": "overview", "heading": "Overview", "body": ""}]
    article_id = _draft(studio, "previewed", sections=sections)
    _open(page, studio, "editor", article_id)
    page.get_by_label("Body (Markdown)").fill(
        "Some **bold** words\n\n- first\n- second\n\n<script>window.pwned = 1</script>"
    )
    preview = page.locator("#sections-0-preview")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(preview.locator("li")).to_have_count(2)
    expect(preview.locator("script")).to_have_count(0)
    assert page.evaluate("window.pwned") is None


def test_two_editors_at_once_lose_no_save(
    page: Page, second: Page, studio: Studio, editor_token: str
) -> None:
    article_id = _draft(studio, "contested", summary="Original summary")
    _open(page, studio, "editor", article_id)
    _open(second, studio, "admin", article_id)
    # The editor saves first.
    page.get_by_label("Title", exact=True).fill("Title by the editor")
    page.get_by_label("Summary").focus()
    expect(page.locator("#save-status")).to_contain_text("Saved at")
    # The admin, who loaded the older version, is told and not saved over it.
    second.get_by_label("Title", exact=True).fill("Title by the admin")
    second.get_by_label("Summary").fill("Summary by the admin")
    second.get_by_label("Disclaimer").focus()
    status = second.locator("#save-status")
    expect(status).to_contain_text("someone else saved this article")
    assert _api(page, studio, editor_token, article_id)["title"] == "Title by the editor"
    second.get_by_role("button", name="Compare and choose").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("Someone else saved this article")
    title = second.get_by_role("group", name="Title", exact=True)
    expect(title).to_contain_text("Title by the admin")
    expect(title).to_contain_text("Title by the editor")
    title.get_by_label("Take theirs").check()
    second.get_by_role("group", name="Summary", exact=True).get_by_label("Keep mine").check()
    second.get_by_role("button", name="Save my choices").click()
    expect(second.get_by_text("with your choices")).to_be_visible()
    expect(second.get_by_label("Title", exact=True)).to_have_value("Title by the editor")
    expect(second.get_by_label("Summary")).to_have_value("Summary by the admin")
    saved = _api(page, studio, editor_token, article_id)
    assert (saved["title"], saved["summary"]) == ("Title by the editor", "Summary by the admin")


def test_the_presence_banner_names_the_other_editor(
    page: Page, second: Page, studio: Studio
) -> None:
    article_id = _draft(studio, "shared")
    _open(page, studio, "editor", article_id)
    expect(page.locator("#presence")).to_have_text("")
    _open(second, studio, "admin", article_id)
    expect(second.locator("#presence")).to_contain_text(
        "editor (Editor) is also editing this article."
    )


def test_submitting_for_review(page: Page, studio: Studio, editor_token: str) -> None:
    article_id = _draft(studio, "for-review")
    _open(page, studio, "editor", article_id)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted for medical review.")).to_be_visible()
    expect(page.locator(".article-meta")).to_contain_text("in review")
    expect(page.get_by_role("button", name="Submit for review")).to_have_count(0)
    assert _api(page, studio, editor_token, article_id)["status"] == "in_review"


def test_trash_and_restore(page: Page, studio: Studio, editor_token: str) -> None:
    article_id = _draft(studio, "binned")
    _open(page, studio, "editor", article_id)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Move to trash").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Articles in the trash")
    assert _api(page, studio, editor_token, article_id)["deleted_at"] is not None
    page.get_by_role("button", name="Restore Draft binned").click()
    expect(page.get_by_text("Restored from the trash.")).to_be_visible()
    assert _api(page, studio, editor_token, article_id)["deleted_at"] is None


def test_filtering_the_list_by_status_and_locale(page: Page, studio: Studio) -> None:
    _draft(studio, "filtered-draft")
    _sign_in(page, studio, studio.emails["editor"])
    page.goto(studio.url("/studio/articles"))
    page.get_by_label("Status").select_option("draft")
    page.get_by_label("Locale").select_option("en")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=draft.*locale=en|locale=en.*status=draft"))
    expect(page.get_by_role("link", name="Draft filtered-draft")).to_be_visible()
    expect(page.locator(".article-table .status--published")).to_have_count(0)
    page.get_by_label("Status").select_option("published")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Draft filtered-draft")).to_have_count(0)


def test_the_list_and_editor_pass_axe(page: Page, studio: Studio) -> None:
    sections = [{"key": "overview", "heading": "Overview", "body": "**Hello**"}]
    article_id = _draft(studio, "accessible", sections=sections)
    _sign_in(page, studio, studio.emails["editor"])
    page.goto(studio.url("/studio/articles"))
    assert _serious_violations(page) == []
    page.goto(studio.url(f"/studio/articles/{article_id}"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert _serious_violations(page) == []
    page.goto(studio.url("/studio/articles/new"))
    assert _serious_violations(page) == []
