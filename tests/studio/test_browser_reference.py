"""The whole day's journey in Chromium: an article shaped like the reference page, from an
empty draft to readers, by an editor and a medical reviewer who never leave the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.studio.conftest import PASSWORD, Studio
from tests.studio.test_browser import _serious_violations

pytestmark = pytest.mark.browser

SLUG = "headache-after-botox-injections"
TITLE = "Headache After Botox Injections"


def _signed_in(browser: Browser, studio: Studio, role: str) -> Page:
    """A browser of its own for `role` (two people, two sessions), signed in."""
    page = browser.new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the "are you sure?" prompts
    page.goto(studio.url("/studio/sign-in"))
    page.get_by_label("E-mail address").fill(studio.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(studio.url("/studio/"))
    return page


def _tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="This article").get_by_role(
        "link", name=name, exact=True
    ).click()


def _part_tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Parts of this article").get_by_role(
        "link", name=name, exact=True
    ).click()


def _form_with(page: Page, button: str):
    return page.locator("form", has=page.get_by_role("button", name=button))


def _write_the_draft(editor: Page) -> str:
    """Create the article and write its sections, sub-sections and SEO fields; its id."""
    editor.get_by_role("link", name="Articles", exact=True).first.click()
    editor.get_by_role("link", name="New article").click()
    editor.get_by_label("Title").fill(TITLE)
    editor.get_by_label("Slug").fill(SLUG)
    editor.get_by_label("Summary").fill("Why a headache can follow the injections, and what helps.")
    editor.get_by_role("button", name="Create").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text(TITLE)
    article_id = editor.url.rsplit("/", 1)[1]

    editor.get_by_label("Disclaimer").fill("General information only, not a diagnosis.")
    editor.get_by_role("button", name="Add a section").click()
    editor.locator("#sections-0-heading").fill("Overview")
    editor.locator("#sections-0-key").fill("overview")
    editor.locator("#sections-0-body").fill("A mild headache after the injections is common.")
    editor.get_by_role("button", name="Add a section").click()
    editor.locator("#sections-1-heading").fill("Causes")
    editor.locator("#sections-1-key").fill("causes")
    editor.locator("#sections-1-body").fill("Several things can play a part.")
    editor.get_by_role("button", name="Add a sub-section to section 2").click()
    editor.locator("#sections-1-subsections-0-heading").fill("The injection itself")
    editor.locator("#sections-1-subsections-0-key").fill("injection")
    editor.locator("#sections-1-subsections-0-body").fill("A **small needle** still irritates.")
    # The live preview renders the Markdown as readers will see it.
    expect(editor.locator("#sections-1-subsections-0-preview strong")).to_have_text("small needle")
    editor.get_by_role("button", name="Add a sub-section to section 2").click()
    editor.locator("#sections-1-subsections-1-heading").fill("Muscle changes")
    editor.locator("#sections-1-subsections-1-key").fill("muscles")
    editor.locator("#sections-1-subsections-1-body").fill("Relaxed muscles shift the strain.")
    editor.get_by_label("Meta title").fill("Headache After Botox: Causes and Relief")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.get_by_role("status").first).to_contain_text("Saved at")
    expect(editor.locator("#sections-1-subsections-1-key")).to_have_value("muscles")
    assert _serious_violations(editor) == []
    return article_id


def _add_the_parts(editor: Page) -> None:
    """Citations, a call to action, a FAQ, a topic, the author and the disclosures."""
    _tab(editor, "Citations")
    form = _form_with(editor, "Add citation")
    form.get_by_label("Title").fill("Adverse events of botulinum toxin injections")
    form.get_by_label("Year").fill("2019")
    form.get_by_role("button", name="Add citation").click()
    expect(editor.get_by_text("Citation added.")).to_be_visible()

    _part_tab(editor, "Calls to action")
    form = _form_with(editor, "Add call to action")
    form.get_by_label("Kind").select_option("symptom_checker")
    form.get_by_label("Title").fill("Not sure what is causing your headache?")
    form.get_by_label("Button label").fill("Check your symptoms")
    form.get_by_label("Link").fill("https://www.example-health.org/symptom-checker")
    form.get_by_role("button", name="Add call to action").click()
    expect(editor.get_by_text("Call to action added.")).to_be_visible()
    assert _serious_violations(editor) == []

    _part_tab(editor, "FAQs")
    form = _form_with(editor, "Add FAQ")
    form.get_by_label("Question").fill("How long does the headache last?")
    form.get_by_label("Answer").fill("Usually a few hours to a few days.")
    form.get_by_role("button", name="Add FAQ").click()
    expect(editor.get_by_text("FAQ added.")).to_be_visible()

    _part_tab(editor, "Topics")
    editor.locator("#topic-headache").check()
    editor.get_by_role("button", name="Save topics").click()
    expect(editor.get_by_text("Topics saved.")).to_be_visible()

    _part_tab(editor, "Authors and disclosures")
    editor.locator("#author-miriam-castellanos-reed").check()
    editor.get_by_role("button", name="Save authors").click()
    expect(editor.get_by_text("Authors saved.")).to_be_visible()
    editor.get_by_label("Conflicts of interest").fill("The author declares none.")
    editor.get_by_role("button", name="Save disclosures").click()
    expect(editor.get_by_text("Disclosures saved.")).to_be_visible()
    assert _serious_violations(editor) == []


def test_an_editor_and_a_reviewer_take_the_reference_article_from_draft_to_readers(
    browser: Browser, studio: Studio
) -> None:
    editor = _signed_in(browser, studio, "editor")
    article_id = _write_the_draft(editor)
    _add_the_parts(editor)
    editor.goto(studio.url(f"/studio/articles/{article_id}"))
    editor.get_by_role("button", name="Submit for review").click()
    expect(editor.get_by_text("Submitted for medical review.")).to_be_visible()

    # The reviewer finds it in the queue and asks a question on a section.
    reviewer = _signed_in(browser, studio, "reviewer")
    reviewer.get_by_role("link", name="Reviews", exact=True).first.click()
    reviewer.get_by_role("link", name=TITLE).click()
    expect(reviewer.locator("#section-causes ins").first).to_contain_text("Several things")
    asked = reviewer.locator("form", has=reviewer.get_by_label("New comment on “Causes”"))
    asked.get_by_label("New comment on “Causes”").fill("Name the toxin's usual dose range.")
    asked.get_by_role("button", name="Add comment").click()
    expect(reviewer.get_by_role("status")).to_contain_text("Your comment was added.")

    # The editor answers in the same thread, from the article's Review tab.
    editor.goto(studio.url(f"/studio/articles/{article_id}"))
    _tab(editor, "Review")
    thread = editor.get_by_role("article", name="Comment by")
    expect(thread).to_contain_text("Name the toxin's usual dose range.")
    thread.get_by_label("Reply").fill("Doses vary by area; I added a line to Causes.")
    thread.get_by_role("button", name="Reply").click()
    expect(editor.get_by_role("article", name="Comment by")).to_contain_text("Doses vary by area")

    # The reviewer sees the reply, resolves the thread and approves the page.
    reviewer.reload()
    thread = reviewer.get_by_role("article", name="Comment by")
    expect(thread).to_contain_text("Doses vary by area")
    thread.get_by_role("button", name="Resolve thread").click()
    expect(reviewer.get_by_role("article", name="Comment by")).to_contain_text("Resolved")
    reviewer.get_by_label("Clinical review: I reviewed the whole page").check()
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_role("status")).to_contain_text("as a clinical review")

    # The editor publishes with the editor's own button; readers get the whole article.
    editor.goto(studio.url(f"/studio/articles/{article_id}"))
    editor.get_by_role("button", name="Publish or schedule").click()
    expect(editor.get_by_text("Published.")).to_be_visible()
    expect(editor.locator(".article-meta")).to_contain_text("published")

    public = editor.request.get(studio.url(f"/v1/articles/{SLUG}"))
    assert public.status == 200, public.text()
    article = public.json()
    assert article["title"] == TITLE
    causes = next(section for section in article["sections"] if section["key"] == "causes")
    assert [child["heading"] for child in causes["subsections"]] == [
        "The injection itself",
        "Muscle changes",
    ]
    assert "<strong>small needle</strong>" in causes["subsections"][0]["body_html"]
    assert [cta["title"] for cta in article["call_to_actions"]] == [
        "Not sure what is causing your headache?"
    ]
    assert [faq["question"] for faq in article["faqs"]] == ["How long does the headache last?"]
    assert [author["slug"] for author in article["authors"]] == ["miriam-castellanos-reed"]
    assert article["citations"][0]["title"] == "Adverse events of botulinum toxin injections"
    assert article["disclosures"]["conflicts_of_interest"] == "The author declares none."
    assert [person["slug"] for person in article["reviewers"]], article
    editor.context.close()
    reviewer.context.close()
