"""Admin FAQs: write the questions shown on articles and topic pages, with a trash."""

from __future__ import annotations

from flask import g

from cms_api.http.admin import AdminBlueprint, actor
from cms_api.http.admin_resource import (
    AdminResource,
    StandardViews,
    ViewDocs,
    ViewNames,
    ViewSchemas,
)
from cms_api.http.review_steps import ReviewStep, register_review_steps
from cms_api.schemas.admin.faqs import (
    AdminFaqCreate,
    AdminFaqList,
    AdminFaqOut,
    AdminFaqPatch,
    AdminFaqQueryArgs,
)
from cms_api.schemas.admin.reviews import ReviewNotesIn
from cms_api.services.editorial import faqs
from cms_api.services.editorial.faqs import FAQS

blp = AdminBlueprint(
    "admin_faqs",
    __name__,
    url_prefix="/v1/admin/faqs",
    description="Write FAQs for articles and topics: drafts, edits, the trash, and the review "
    "of topic FAQs. An article's FAQs are reviewed with the article: a change records a "
    "new article revision and readers see it once that revision is approved and published.",
)
RESOURCE = AdminResource.of(blp, FAQS, id_parameter="faq_id")

StandardViews(
    RESOURCE,
    FAQS,
    schemas=ViewSchemas(
        query=AdminFaqQueryArgs,
        page=AdminFaqList,
        out=AdminFaqOut,
        create=AdminFaqCreate,
        patch=AdminFaqPatch,
    ),
    names=ViewNames("FaqCollection", "FaqById", "FaqRestore"),
    conflicts=frozenset({"restore"}),
    docs=ViewDocs(
        list="""List FAQs (drafts included)

        Most recently changed first, in every locale. Filters: `article_id`, `topic`
        (slug), `status`, `q` (text in the question or answer), `locale`;
        `trashed=true` lists the trash.
        """,
        create="""Create a FAQ

        It belongs to exactly one article (`article_id`) or topic (`topic`, a slug); an
        unknown or trashed owner is a 422. The answer is Markdown, served to readers as
        sanitized HTML. It is written in one `locale`, fixed from then on: a topic's FAQ
        in the one given (default: the site's default locale), an article's in the
        article's (another `locale` is a 422).

        An article's FAQ is part of the article's reviewed content: with `status`
        `published` it goes into a new article revision (`article_revision`), and readers
        see it once that revision is approved and published; a published article goes
        back to `in_review` and any schedule is cancelled. A `draft` stays out of the
        article. A topic's FAQ starts as a `draft` and goes live through its own review
        (`.../submit`, then a reviewer's `.../approve`); any other `status` is a 422.
        `awaiting_review` and `review_note` say where the text stands with readers.
        """,
        created_location="The new FAQ's address.",
        get="""Get a FAQ's working copy

        With its Markdown source and state; FAQs in the trash too.
        """,
        patch="""Edit a FAQ (JSON merge patch)

        Only the fields sent change. Naming an `article_id` or a `topic` moves the FAQ
        there (a topic FAQ moved anywhere loses its approval and starts again as a draft).
        A FAQ keeps its locale: moving it to an article in another locale is a 422.

        An article's FAQ: a change to what the article shows (words, order, `status`)
        records a new article revision; readers keep the FAQs of the live revision until
        that one is approved and published. A topic's FAQ: new words go back to `draft`
        while readers keep the approved text; its order changes at once. Setting a topic
        FAQ's `status` is a 422.
        """,
        delete="""Move a FAQ to the trash

        Nothing is deleted and `POST .../restore` brings it back. A topic FAQ leaves its
        topic and `/v1/faqs` at once; an article's FAQ leaves with the article's next
        revision (recorded now), once that is approved and published.
        """,
        restore="""Restore a FAQ from the trash

        A topic FAQ shows its approved text again at once; an article's FAQ returns with
        the article's next revision (recorded now). 409 when it is not in the trash.
        """,
    ),
).register(collection=True)


register_review_steps(
    RESOURCE,
    AdminFaqOut,
    ReviewStep(
        "submit",
        "faqs:submit",
        """Submit a topic FAQ for medical review

        `draft` → `in_review`. Readers keep the approved text (if any) meanwhile. 409 for an
        article's FAQ (it is reviewed with its article: submit the article) or from any other
        status (`allowed_transitions` says what is open); 404 for an unknown or trashed FAQ.
        """,
        lambda faq, body: faqs.submit_faq(faq, actor()),
    ),
    ReviewStep(
        "approve",
        "faqs:review",
        """Approve a topic FAQ

        `in_review` → `published`: its question and answer become the text readers see on the
        topic and at `/v1/faqs/{id}`, which name the reviewer and the review date. Reviewers
        only, reviewing in the FAQ's locale (403 when the person's `review_locales` leave it
        out). 409 when the reviewer's person is in the trash or holds no credential valid
        today (`kind` `reviewer-not-eligible`, `reasons` says which), for an article's FAQ, or
        when the FAQ is not in review; 404 for an unknown or trashed FAQ.
        """,
        lambda faq, body: faqs.approve_faq(faq, g.user, actor(), notes=body.get("notes")),
        ReviewNotesIn,
    ),
    ReviewStep(
        "request-changes",
        "faqs:review",
        """Send a topic FAQ back to its editors

        `in_review` → `draft`, with the reviewer's `notes` in the audit log; readers keep the
        approved text (if any). Reviewers only. 409 for an article's FAQ or when the FAQ is
        not in review; 404 for an unknown or trashed FAQ.
        """,
        lambda faq, body: faqs.request_faq_changes(faq, actor(), notes=body.get("notes")),
        ReviewNotesIn,
    ),
)
