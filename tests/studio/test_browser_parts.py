"""Journeys through an article's parts in Chromium: citations, FAQs, links, topics, images."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image as PillowImage
from playwright.sync_api import Page, expect
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, Faq
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import link_suggestions, links
from cms_api.services.media import images
from tests.studio.conftest import PASSWORD, Studio

pytestmark = pytest.mark.browser


def _sign_in(page: Page, studio: Studio, role: str = "editor") -> None:
    page.goto(studio.url("/studio/sign-in"))
    page.get_by_label("E-mail address").fill(studio.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(studio.url("/studio/"))


def _article_id(studio: Studio, slug: str) -> uuid.UUID:
    with studio.app.app_context():
        found = db.session.scalar(
            select(Article.id).where(Article.slug == slug, Article.locale == "en")
        )
        assert found is not None
        return found


def _admin_article(studio: Studio, article_id: uuid.UUID) -> dict[str, Any]:
    """The article as the admin API presents it."""
    with studio.app.app_context():
        return editorial.present(editorial.get_article(article_id))


def _serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def _open(page: Page, studio: Studio, article_id: uuid.UUID, part: str) -> None:
    page.goto(studio.url(f"/studio/articles/{article_id}/{part}"))
    expect(page.get_by_role("link", name="Back to the article")).to_have_attribute(
        "href", f"/studio/articles/{article_id}"
    )


def test_adding_a_citation_shows_it_in_the_api(page: Page, studio: Studio) -> None:
    article_id = _article_id(studio, "headache-after-botox")
    _sign_in(page, studio)
    _open(page, studio, article_id, "citations")
    form = page.locator("form", has=page.get_by_role("button", name="Add citation"))
    form.get_by_label("Title").fill("Headache after botulinum toxin: a case series")
    form.get_by_label("Authors").fill("Lee K, Smith J")
    form.get_by_label("Year").fill("2021")
    form.get_by_label("DOI").fill("10.1111/head.14001")
    form.get_by_label("PMID").fill("3456789")
    form.get_by_label("URL").fill("https://example.org/case-series")
    form.get_by_role("button", name="Add citation").click()
    expect(page.get_by_text("Citation added.")).to_be_visible()
    listed = page.locator(".parts-item__title", has_text="Headache after botulinum toxin")
    expect(listed).to_be_visible()
    cited = _admin_article(studio, article_id)["citations"][-1]
    assert cited["title"] == "Headache after botulinum toxin: a case series"
    assert cited["doi"] == "10.1111/head.14001" and cited["year"] == 2021


def test_adding_a_faq(page: Page, studio: Studio) -> None:
    article_id = _article_id(studio, "headache-after-botox")
    _sign_in(page, studio)
    _open(page, studio, article_id, "faqs")
    form = page.locator("form", has=page.get_by_role("button", name="Add FAQ"))
    form.get_by_label("Question").fill("Can I exercise after the injections?")
    form.get_by_label("Answer").fill("Wait **24 hours** before hard exercise.")
    form.get_by_role("button", name="Add FAQ").click()
    expect(page.get_by_text("FAQ added.")).to_be_visible()
    listed = page.locator(".parts-item__title", has_text="Can I exercise after the injections?")
    expect(listed).to_be_visible()
    with studio.app.app_context():
        faq = db.session.scalar(
            select(Faq).where(Faq.question == "Can I exercise after the injections?")
        )
        assert faq is not None and faq.article_id == article_id
        assert faq.status == "published" and faq.answer.startswith("Wait **24 hours**")


def test_adding_a_related_link_by_choosing_the_target(page: Page, studio: Studio) -> None:
    article_id = _article_id(studio, "tmj-headache")
    target_id = _article_id(studio, "liver-rash")
    _sign_in(page, studio)
    _open(page, studio, article_id, "links")
    page.get_by_label("Find articles by title, summary or slug").fill("liver")
    page.get_by_role("button", name="Find").click()
    form = page.locator("form", has=page.get_by_role("button", name="Add link"))
    form.get_by_label("Article to link to").select_option(str(target_id))
    form.get_by_label("Relation").select_option("differential")
    form.get_by_role("button", name="Add link").click()
    expect(page.get_by_text("Related link added.")).to_be_visible()
    with studio.app.app_context():
        source = editorial.get_article(article_id)
        found = links.list_links(source, relation=None, trashed=False, limit=50, cursor=None)
        made = [links.present(item) for item in found.items if item.target_id == target_id]
    assert made and made[0]["relation"] == "differential"
    listed = page.locator(".parts-item", has_text=made[0]["target"])
    expect(listed.first).to_contain_text("differential")


def test_accepting_a_link_suggestion(page: Page, studio: Studio) -> None:
    article_id = _article_id(studio, "tmj-headache")
    with studio.app.app_context():
        article = editorial.get_article(article_id)
        suggestions, _ = link_suggestions.suggest(article, limit=10)
        if not suggestions:
            # No published article shares a topic or a word yet: give it one's topics.
            donor = _admin_article(studio, _article_id(studio, "headache-after-botox"))
            editorial.update_article(article, {"topics": donor["topics"]}, Actor(None, None))
            db.session.commit()
            suggestions, _ = link_suggestions.suggest(article, limit=10)
        assert suggestions
        chosen = suggestions[0]
    _sign_in(page, studio)
    _open(page, studio, article_id, "links")
    page.get_by_role("button", name=f"Accept: link to {chosen.title}").click()
    expect(page.get_by_text("Suggestion accepted: link added.")).to_be_visible()
    with studio.app.app_context():
        source = editorial.get_article(article_id)
        found = links.list_links(source, relation=None, trashed=False, limit=50, cursor=None)
        assert chosen.target_id in {item.target_id for item in found.items}
    expect(page.get_by_role("button", name=f"Accept: link to {chosen.title}")).to_have_count(0)


def test_assigning_a_topic(page: Page, studio: Studio) -> None:
    article_id = _article_id(studio, "liver-rash")
    before = _admin_article(studio, article_id)["topics"]
    _sign_in(page, studio)
    _open(page, studio, article_id, "topics")
    boxes = page.locator('input[name="topics"]:not(:checked)')
    slug = boxes.first.get_attribute("value")
    assert slug
    page.locator(f"#topic-{slug}").check()
    page.get_by_role("button", name="Save topics").click()
    expect(page.get_by_text("Topics saved.")).to_be_visible()
    expect(page.locator(f"#topic-{slug}")).to_be_checked()
    assert _admin_article(studio, article_id)["topics"] == [*before, slug]


def test_uploading_an_image_with_alt_text(page: Page, studio: Studio, tmp_path: Path) -> None:
    article_id = _article_id(studio, "lip-filler-swelling")
    picture = tmp_path / "swelling.png"
    buffer = io.BytesIO()
    PillowImage.new("RGB", (64, 48), (30, 120, 200)).save(buffer, format="PNG")
    picture.write_bytes(buffer.getvalue())
    _sign_in(page, studio)
    _open(page, studio, article_id, "images")
    form = page.locator("form", has=page.get_by_role("button", name="Upload image"))
    form.get_by_label("Image file").set_input_files(str(picture))
    form.get_by_label("Alt text", exact=True).fill("A blue test card")
    form.get_by_label("Use as this article's hero image").check()
    form.get_by_role("button", name="Upload image").click()
    expect(page.get_by_text("Image uploaded.")).to_be_visible()
    hero = page.locator(".parts-figure img")
    expect(hero).to_have_attribute("alt", "A blue test card")
    # The browser loaded the rendition from the app itself.
    assert hero.evaluate("image => image.naturalWidth") > 0
    lead = _admin_article(studio, article_id)["lead_image_id"]
    assert lead is not None
    with studio.app.app_context():
        stored = images.present(images.get_image(uuid.UUID(str(lead))))
    assert stored["alt_text"] == "A blue test card" and stored["width"] == 64
    assert stored["filename"] == "swelling.png"


def test_the_citations_and_links_pages_pass_axe(page: Page, studio: Studio) -> None:
    article_id = _article_id(studio, "headache-after-botox")
    _sign_in(page, studio)
    _open(page, studio, article_id, "citations")
    assert _serious_violations(page) == []
    # With a refused form's messages showing.
    form = page.locator("form", has=page.get_by_role("button", name="Add citation"))
    form.get_by_label("Title").fill("A source")
    form.get_by_label("DOI").fill("not a doi")
    form.get_by_role("button", name="Add citation").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    assert _serious_violations(page) == []
    _open(page, studio, article_id, "links")
    assert _serious_violations(page) == []
