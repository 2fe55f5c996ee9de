"""The rest of the workflow in Chromium: filters, corrections, scheduling, unpublishing, and
the overdue reviews a reviewer's start page lists."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from cms_api.database import db
from cms_api.models import Article
from tests.studio.conftest import Studio
from tests.studio.test_browser import _serious_violations, _sign_in

pytestmark = pytest.mark.browser


def _article_id(studio: Studio, slug: str) -> uuid.UUID:
    with studio.app.app_context():
        found = db.session.scalar(
            select(Article.id).where(Article.slug == slug, Article.locale == "en")
        )
        assert found is not None
        return found


def _make_overdue(studio: Studio, slug: str) -> date:
    """The article's next medical review was due a month ago; that date."""
    due = date.today() - timedelta(days=30)
    with studio.app.app_context():
        db.session.execute(
            update(Article)
            .where(Article.slug == slug, Article.locale == "en")
            .values(next_review_due=due)
        )
        db.session.commit()
    return due


def _admin(page: Page, studio: Studio, token: str, article_id: uuid.UUID) -> dict:
    response = page.request.get(
        studio.url(f"/v1/admin/articles/{article_id}"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.ok, response.text()
    return response.json()


def test_filtering_the_list_by_author_topic_and_overdue_review(page: Page, studio: Studio) -> None:
    _make_overdue(studio, "tmj-headache")
    _sign_in(page, studio, studio.emails["editor"])
    page.goto(studio.url("/studio/articles"))
    rows = page.locator(".article-table tbody tr")

    page.get_by_label("Author (person slug)").fill("rafael-oyelaran")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"author=rafael-oyelaran"))
    expect(page.get_by_role("link", name=re.compile("Ear Infection Headache"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("TMJ Headache"))).to_have_count(0)

    page.get_by_label("Author (person slug)").fill("")
    page.get_by_label("Topic (slug)").fill("cosmetic-injectables")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=re.compile("Headache After Botox")).first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Liver Rash"))).to_have_count(0)

    page.get_by_label("Topic (slug)").fill("")
    page.get_by_label("Medical review").select_option("yes")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("TMJ Headache")
    assert _serious_violations(page) == []


def test_a_reviewer_sees_overdue_reviews_on_the_start_page(page: Page, studio: Studio) -> None:
    due = _make_overdue(studio, "tmj-headache")
    _sign_in(page, studio, studio.emails["reviewer"])
    reviews = page.get_by_role("region", name="Your reviews")
    expect(reviews).to_contain_text("1 overdue review in your locales")
    expect(reviews).to_contain_text(f"review due {due.isoformat()}")
    reviews.get_by_role("link", name=re.compile("TMJ Headache")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("TMJ Headache")


def test_a_correction_is_edited_approved_as_a_correction_and_published(
    page: Page, studio: Studio, live_server: tuple[int, dict[str, str]]
) -> None:
    _port, tokens = live_server
    article_id = _article_id(studio, "liver-rash")
    before = page.request.get(studio.url("/v1/articles/liver-rash")).json()
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, studio, studio.emails["editor"])
    page.goto(studio.url(f"/studio/articles/{article_id}"))
    body = page.locator("#sections-0-body")
    body.fill(body.input_value() + "\n\nSee a doctor if the rash spreads quickly.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Saved at")
    # An edit of published content goes to review by itself; readers keep the live text.
    expect(page.locator(".article-meta")).to_contain_text("in review")
    assert page.request.get(studio.url("/v1/articles/liver-rash")).json() == before

    page.context.clear_cookies()
    _sign_in(page, studio, studio.emails["reviewer"])
    page.goto(studio.url(f"/studio/reviews/{article_id}"))
    # Only the added sentence is new to readers.
    expect(
        page.locator("ins", has_text="See a doctor if the rash spreads quickly.")
    ).to_be_visible()
    page.get_by_label("Correction: a minor edit of reviewed content").check()
    page.get_by_label("Public note (for a correction)").fill("Added when to see a doctor.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("as a correction")

    page.context.clear_cookies()
    _sign_in(page, studio, studio.emails["editor"])
    page.goto(studio.url(f"/studio/articles/{article_id}"))
    page.get_by_role("button", name="Publish or schedule").click()
    expect(page.get_by_text("Published.")).to_be_visible()
    after = page.request.get(studio.url("/v1/articles/liver-rash")).json()
    assert "See a doctor if the rash spreads quickly." in after["sections"][0]["body_html"]
    assert after["corrections"][0]["note"] == "Added when to see a doctor."
    # A correction keeps the date of the last clinical review.
    assert after["last_reviewed_at"] == before["last_reviewed_at"]
    assert _admin(page, studio, tokens["editor"], article_id)["status"] == "published"


def test_scheduling_an_approved_article_and_unpublishing_a_live_one(
    page: Page, studio: Studio, live_server: tuple[int, dict[str, str]]
) -> None:
    _port, tokens = live_server
    article_id = _article_id(studio, "lip-filler-swelling")
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, studio, studio.emails["editor"])

    # Live now: unpublishing takes it from readers at once.
    page.goto(studio.url(f"/studio/articles/{article_id}"))
    page.get_by_role("button", name="Unpublish").click()
    expect(page.get_by_text("Withdrawn from readers: back to draft.")).to_be_visible()
    assert page.request.get(studio.url("/v1/articles/lip-filler-swelling")).status == 404

    # Back through review, then scheduled for a time to come.
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted for medical review.")).to_be_visible()
    approved = page.request.post(
        studio.url(f"/v1/admin/articles/{article_id}/approve"),
        headers={"Authorization": f"Bearer {tokens['reviewer']}"},
        data={"kind": "clinical"},
    )
    assert approved.ok, approved.text()
    page.reload()
    when = (date.today() + timedelta(days=400)).isoformat()
    page.get_by_label("Publish at (UTC; blank: now)").fill(f"{when}T09:30")
    page.get_by_role("button", name="Publish or schedule").click()
    expect(page.get_by_text(f"Scheduled for {when} 09:30 UTC.")).to_be_visible()
    expect(page.locator(".article-meta")).to_contain_text(f"scheduled for {when} 09:30 UTC")
    shown = _admin(page, studio, tokens["editor"], article_id)
    assert shown["publish_at"].startswith(f"{when}T09:30")
    assert page.request.get(studio.url("/v1/articles/lip-filler-swelling")).status == 404

    # A time already past is refused, and the schedule stays as it was.
    page.get_by_label("Publish at (UTC; blank: now)").fill("2020-01-01T09:00")
    page.get_by_role("button", name="Publish or schedule").click()
    expect(page.get_by_text("Choose a time in the future to schedule.")).to_be_visible()
    assert _admin(page, studio, tokens["editor"], article_id)["publish_at"] == shown["publish_at"]


def test_trashing_two_articles_from_the_list_at_once(page: Page, studio: Studio) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, studio, studio.emails["editor"])
    page.goto(studio.url("/studio/articles?q=headache"))
    chosen = ("TMJ Headache", "Allergy Headache Relief")
    for title in chosen:
        page.get_by_label(re.compile(f"^Choose {title}")).check()
    page.get_by_label("With the ticked articles").select_option("trash")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Moved 2 articles to the trash.")
    expect(page).to_have_url(studio.url("/studio/articles?q=headache"))
    for title in chosen:
        expect(page.get_by_role("link", name=re.compile(title))).to_have_count(0)
    assert page.request.get(studio.url("/v1/articles/tmj-headache")).status == 404
    assert _serious_violations(page) == []
