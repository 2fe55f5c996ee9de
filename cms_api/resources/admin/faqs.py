"""Admin FAQs: write the questions shown on articles and topic pages, with a trash."""

from __future__ import annotations

from cms_api.http.admin import AdminBlueprint
from cms_api.http.admin_resource import (
    AdminResource,
    StandardViews,
    ViewDocs,
    ViewNames,
    ViewSchemas,
)
from cms_api.schemas.admin.faqs import (
    AdminFaqCreate,
    AdminFaqList,
    AdminFaqOut,
    AdminFaqPatch,
    AdminFaqQueryArgs,
)
from cms_api.services.editorial.faqs import FAQS

blp = AdminBlueprint(
    "admin_faqs",
    __name__,
    url_prefix="/v1/admin/faqs",
    description="Write FAQs for articles and topics: drafts, edits and the trash.",
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

        Most recently changed first. Filters: `article_id`, `topic` (slug), `status`,
        `q` (text in the question or answer); `trashed=true` lists the trash.
        """,
        create="""Create a FAQ

        It belongs to exactly one article (`article_id`) or topic (`topic`, a slug); an
        unknown or trashed owner is a 422. It starts as a `draft` unless `status` says
        `published`; a published FAQ is shown once its article is published (a topic's
        at once). The answer is Markdown, served to readers as sanitized HTML.
        """,
        created_location="The new FAQ's address.",
        get="""Get a FAQ's working copy

        With its Markdown source and state; FAQs in the trash too.
        """,
        patch="""Edit a FAQ (JSON merge patch)

        Only the fields sent change. Naming an `article_id` or a `topic` moves the FAQ
        there. The article or topic pages showing it are re-rendered.
        """,
        delete="""Move a FAQ to the trash

        It disappears from its article, its topic and `/v1/faqs`; nothing is deleted and
        `POST .../restore` brings it back.
        """,
        restore="""Restore a FAQ from the trash

        It is shown again wherever its status and its owner allow; 409 when it is not
        in the trash.
        """,
    ),
).register(collection=True)
