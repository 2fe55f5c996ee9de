"""Admin articles: drafts, edits, authors, the review workflow, revisions and the trash."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, url_for
from flask.views import MethodView

from cms_api.http.admin import ETAG_HEADER, AdminBlueprint, actor
from cms_api.http.admin_resource import (
    JSON_BODY,
    AdminResource,
    StandardViews,
    ViewDocs,
    ViewNames,
    ViewSchemas,
)
from cms_api.models import Article
from cms_api.schemas.admin.articles import (
    ApproveIn,
    ArticleAdminList,
    ArticleAdminOut,
    ArticleAdminQueryArgs,
    ArticleCreate,
    ArticlePatch,
    AuthorsIn,
    PublishIn,
    ReviewDecisionIn,
    RevisionDetailOut,
    RevisionDiffArgs,
    RevisionDiffOut,
    RevisionList,
    TranslationCreate,
)
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import changes, history, translations, workflow
from cms_api.services.editorial.articles import ARTICLES

blp = AdminBlueprint(
    "admin_articles",
    __name__,
    url_prefix="/v1/admin/articles",
    description="Write and review articles: drafts, edits, the medical-review workflow, "
    "revisions and the trash.",
)
RESOURCE = AdminResource.of(blp, ARTICLES, id_parameter="article_id")

StandardViews(
    RESOURCE,
    ARTICLES,
    schemas=ViewSchemas(
        query=ArticleAdminQueryArgs,
        page=ArticleAdminList,
        out=ArticleAdminOut,
        create=ArticleCreate,
        patch=ArticlePatch,
    ),
    names=ViewNames("ArticleCollection", "ArticleById", "ArticleRestore"),
    docs=ViewDocs(
        list="""List articles (drafts included)

        Most recently changed first, in every locale. Filters: `status`, `author`,
        `topic`, `overdue` (review date passed), `q` (text in title, summary or slug),
        `locale` (articles in that locale), `outdated` (translations whose original has
        published a newer revision than the one they were made from). Each article says
        its `locale`, the original it translates (`source`) and the other articles of
        its work (`translations`).
        """,
        create="""Create a draft article

        In `locale` (default: the site's default locale); a locale that is not one of
        the site's is a 422. Slugs are unique within a locale (a 409 otherwise),
        including slugs its articles used to have. Set authors with `PUT .../authors`;
        the status starts at `draft`. To translate an existing article, use
        `POST .../{article_id}/translations`.
        """,
        created_location="The new article's address.",
        get="""Get an article's working copy

        The current content with its Markdown, workflow status, revision numbers, reviews,
        whether the current revision is approved, warnings for editors, and the workflow
        moves allowed from here. Trashed articles answer too (see `deleted_at`).
        """,
        patch="""Edit an article (JSON merge patch)

        Only the fields sent change; lists are replaced whole. A change to the content
        records a revision; approved or published content goes back to `in_review`. The
        published version stays live until the new revision is approved and published.
        A translation brought up to date with its original says so with
        `source_revision` (the original's revision it now reflects; 422 for an original,
        a revision the original does not have, or one older than the current value):
        readers see the new value, and `outdated` false, once that revision goes live.
        """,
        delete="""Move an article to the trash

        It disappears from delivery with its FAQs; nothing is deleted and
        `POST .../restore` brings it back.
        """,
        restore="""Restore an article from the trash

        It comes back in the state it was trashed in; if it was published, readers see it
        again (409 if it is not in the trash).
        """,
    ),
).register()


TRANSLATION_LOCATION = {
    "Location": {"description": "The translation's address.", "schema": {"type": "string"}}
}


@blp.route("/<uuid:article_id>/translations")
class ArticleTranslations(MethodView):
    @blp.authorize("content:write")
    @blp.arguments(
        TranslationCreate,
        **JSON_BODY,
        example={"locale": "es", "slug": "dolor-de-cabeza-despues-del-botox"},
    )
    @blp.response(201, ArticleAdminOut, headers={**ETAG_HEADER, **TRANSLATION_LOCATION})
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any], article_id: uuid.UUID) -> Any:
        """Translate an article

        Creates a `draft` article in `locale` at `slug`, copied from one revision of
        the original (`revision`; default the live one, else the latest): title,
        summary, sections, FAQs, citations, calls to action, disclaimer, disclosures,
        meta title and description, authors, topics and lead image. Not its canonical
        URL (a translation is a page of its own) and not its related links: those stay
        on the original and are shared by all its translations. The translation records
        the revision it was made from (`source_revision`; `outdated` once the original
        publishes a newer one) and has its own first revision, review, workflow and
        schedule: publishing it changes no other locale. Its approval needs a reviewer
        whose `review_locales` cover its locale.

        404 for an unknown or trashed article. 409 when the article already has a
        translation in `locale` (`translation` names it, in the trash or not) or the
        slug is taken in that locale. 422 for a locale that is not one of the site's or
        is the original's own, a `revision` the original does not have, or an article
        that is itself a translation (translate its original, `original_id`).
        """
        article = translations.create_translation(
            article_id, data["locale"], data["slug"], data.get("revision"), actor=actor()
        )
        address = url_for(f"{blp.name}.ArticleById", article_id=article.id)
        return RESOURCE.answer(article, 201, Location=address)


@blp.route("/<uuid:article_id>/authors")
class ArticleAuthors(MethodView):
    @blp.authorize("content:assign")
    @blp.arguments(AuthorsIn, **JSON_BODY)
    @blp.response(200, ArticleAdminOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @RESOURCE.locked
    def put(self, data: dict[str, Any], article: Article) -> Any:
        """Set an article's authors

        Person slugs, in display order. Authors are not part of a plain edit, so no edit can
        change who signed an article by accident; a change records a revision and sends
        approved content back to review.
        """
        return RESOURCE.answer(editorial.set_authors(article, data["authors"], actor()))


def _transition_view(
    name: str, action: str, summary: str, schema: type | None, *, body_required: bool = False
) -> None:
    def post(self, *args: Any, **kwargs: Any) -> Any:
        article = editorial.get_article(kwargs["article_id"], for_update=True)
        data = args[0] if args else {}
        if name == "approve":
            workflow.approve(
                article,
                g.user,
                actor(),
                kind=data["kind"],
                notes=data.get("notes"),
                public_note=data.get("note"),
            )
        elif name == "request-changes":
            workflow.request_changes(article, actor(), notes=data.get("notes"))
        elif name == "publish":
            workflow.publish(article, actor(), publish_at=data.get("publish_at"))
        else:
            getattr(workflow, name)(article, actor())
        return RESOURCE.answer(article)

    post.__doc__ = summary
    view = blp.alt_response(409, response="CONFLICT")(post)
    view = blp.alt_response(404, response="NOT_FOUND")(view)
    view = blp.response(200, ArticleAdminOut, headers=ETAG_HEADER)(view)
    if schema is not None:
        view = blp.arguments(schema, required=body_required, **JSON_BODY)(view)
    view = blp.authorize(action)(view)
    blp.route(f"/<uuid:article_id>/{name}", endpoint=f"transition_{name}")(
        type(f"Article{name.title().replace('-', '')}", (MethodView,), {"post": view})
    )


_transition_view(
    "submit",
    "workflow:submit",
    "Submit for medical review\n\n`draft` → `in_review`. The answer's `review_diff` shows "
    "the reviewer what this revision changes from the live one.",
    None,
)
_transition_view(
    "approve",
    "workflow:review",
    "Approve the current revision\n\n"
    "`in_review` → `approved`. Reviewers only, and not an author of the article. `kind` is "
    "required and says what the reviewer did:\n\n"
    "- `clinical`: reviewed the whole page. When this revision goes live it becomes the "
    "review of record: the public `review` block, `reviewers`, `last_reviewed_at` "
    "(JSON-LD `lastReviewed`/`reviewedBy`) and the next due date follow it.\n"
    "- `correction`: approved a minor edit of content that already has a live clinical "
    "review. `note` (required) is shown to readers in `corrections` (JSON-LD "
    "`correction`); `dateModified` moves when it goes live, the review date and cycle do "
    "not.\n\n"
    "Nothing readers see changes until the revision is published. Each kind needs its "
    "permission (`workflow:review:clinical`, `workflow:review:correction`), and the "
    "reviewer's person must review in the article's locale: a 403 when its "
    "`review_locales` leave it out (the problem lists them). 409 when the "
    "reviewer's person is in the trash or holds no credential valid today (`reasons` says "
    "which), when the reviewer is an author, or for a correction without a live clinical "
    "review of record; 422 for a missing `kind` or a correction without `note`.",
    ApproveIn,
    body_required=True,
)
_transition_view(
    "request-changes",
    "workflow:review",
    "Send back with requested changes\n\n`in_review` or `approved` → `draft`. An "
    "approval of the current revision is withdrawn (`withdrawn_at`): it will never reach "
    "readers. A schedule is cancelled.",
    ReviewDecisionIn,
)
_transition_view(
    "publish",
    "workflow:publish",
    "Publish, or schedule\n\n"
    "`approved` → `published`, when a non-author reviewer approved the current "
    "revision. A future `publish_at` schedules exactly this revision (`publish_at_revision`; "
    "`cms-api publish-due` publishes what is due, and any edit cancels the schedule). "
    "Publishing is when the approval reaches readers: a clinical review becomes the "
    "review of record, a correction is listed. 409 when the revision is not approved, or "
    "lacks an author, a disclaimer or a section with a body (`missing` lists them).",
    PublishIn,
)
_transition_view(
    "unpublish",
    "workflow:publish",
    "Withdraw from readers\n\nThe article leaves delivery and goes back to `draft`.",
    None,
)
_transition_view(
    "archive",
    "workflow:publish",
    "Archive\n\nThe article leaves delivery and is kept as `archived`.",
    None,
)


@blp.route("/<uuid:article_id>/revisions")
class ArticleRevisions(MethodView):
    @blp.authorize("content:read")
    @blp.response(200, RevisionList)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id: uuid.UUID) -> Any:
        """List an article's revisions, newest first

        Every save records one: its number, why (create, edit, authors, restore:N) and who.
        """
        article = editorial.get_article(article_id, include_trashed=True)
        return {"items": history.list_revisions(article)}


@blp.route("/<uuid:article_id>/revisions/<int:number>")
class ArticleRevision(MethodView):
    @blp.authorize("content:read")
    @blp.response(200, RevisionDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id: uuid.UUID, number: int) -> Any:
        """Get one revision's full snapshot

        The article's editable content as it was: fields, sections, citations, author and
        topic ids.
        """
        article = editorial.get_article(article_id, include_trashed=True)
        return history.get_revision(article, number)


@blp.route("/<uuid:article_id>/revisions/<int:number>/diff")
class ArticleRevisionDiff(MethodView):
    @blp.authorize("content:read")
    @blp.query_args(RevisionDiffArgs)
    @blp.response(200, RevisionDiffOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], article_id: uuid.UUID, number: int) -> Any:
        """Compare two revisions field by field

        `against` defaults to the revision before this one.
        """
        article = editorial.get_article(article_id, include_trashed=True)
        against = args.get("against", number - 1)
        new = history.get_revision(article, number)
        old = history.get_revision(article, against)
        return {
            "from_revision": against,
            "to_revision": number,
            "changes": changes.diff(old.snapshot, new.snapshot),
        }


@blp.route("/<uuid:article_id>/revisions/<int:number>/restore")
class ArticleRevisionRestore(MethodView):
    @blp.authorize("content:write")
    @blp.response(200, ArticleAdminOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @RESOURCE.locked
    def post(self, article: Article, number: int) -> Any:
        """Restore a revision's content

        The old content becomes a new revision; history is never rewritten. A
        translation also takes back the `source_revision` that content reflected.
        """
        return RESOURCE.answer(history.restore_revision(article, number, actor()))
