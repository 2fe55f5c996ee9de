"""Admin articles: drafts, edits, authors, the review workflow, revisions and the trash."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, url_for
from flask.views import MethodView

from cms_api.database import db
from cms_api.http.admin import ETAG_HEADER, Versioned, actor, admin_blueprint, authorize, if_match
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.resources.delivery import query_args
from cms_api.schemas.admin_articles import (
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
)
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import workflow
from cms_api.services.editorial.articles import ArticleFilters

blp = admin_blueprint(
    "admin_articles",
    __name__,
    url_prefix="/v1/admin/articles",
    description="Write and review articles: drafts, edits, the medical-review workflow, "
    "revisions and the trash.",
)
JSON_BODY = {"content_type": "application/json"}


VERSIONED = Versioned(
    "article",
    editorial.present,
    lambda article_id: editorial.get_article(article_id, for_update=True),
)
_etag, _respond, _locked = VERSIONED.etag, VERSIONED.respond, VERSIONED.locked


@blp.route("")
class ArticleCollection(MethodView):
    @authorize(blp, "content:read")
    @query_args(blp, ArticleAdminQueryArgs)
    @blp.response(200, ArticleAdminList, headers=LINK_HEADER)
    def get(self, args: dict[str, Any]) -> Any:
        """List articles (drafts included)

        Most recently changed first. Filters: `status`, `author`, `topic`, `overdue`
        (review date passed), `q` (text in title, summary or slug).
        """
        filters = ArticleFilters(
            **{
                k: args[k]
                for k in ("status", "author", "topic", "overdue", "q", "trashed")
                if k in args
            }
        )
        page = editorial.list_articles(filters, limit=args["limit"], cursor=args.get("cursor"))
        return page_answer(page, [editorial.present(article) for article in page.items])

    @authorize(blp, "content:write")
    @blp.arguments(ArticleCreate, **JSON_BODY)
    @blp.response(
        201,
        ArticleAdminOut,
        headers={
            **ETAG_HEADER,
            "Location": {"description": "The new article's address.", "schema": {"type": "string"}},
        },
    )
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a draft article

        Slugs are unique (a 409 otherwise), including slugs articles used to have. Set
        authors with `PUT .../authors`; the status starts at `draft`.
        """
        article = editorial.create_article(data, actor())
        location = url_for("admin_articles.ArticleById", article_id=article.id)
        return _respond(article, 201, Location=location)


@blp.route("/<uuid:article_id>")
class ArticleById(MethodView):
    @authorize(blp, "content:read")
    @blp.response(200, ArticleAdminOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id: uuid.UUID) -> Any:
        """Get an article's working copy

        The current content with its Markdown, workflow status, revision numbers, reviews,
        whether the current revision is approved, warnings for editors, and the workflow
        moves allowed from here. Trashed articles answer too (see `deleted_at`).
        """
        article = editorial.get_article(article_id, include_trashed=True)
        return editorial.present(article), 200, {"ETag": _etag(article)}

    @authorize(blp, "content:write")
    @if_match(blp)
    @blp.arguments(ArticlePatch, **JSON_BODY)
    @blp.response(200, ArticleAdminOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data: dict[str, Any], article_id: uuid.UUID) -> Any:
        """Edit an article (JSON merge patch)

        Only the fields sent change; lists are replaced whole. A change to the content
        records a revision; approved or published content goes back to `in_review`. The
        published version stays live until the new revision is approved and published.
        """
        article = _locked(article_id)
        return _respond(editorial.update_article(article, data, actor()))

    @authorize(blp, "content:write")
    @if_match(blp)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, article_id: uuid.UUID) -> Any:
        """Move an article to the trash

        It disappears from delivery with its FAQs; nothing is deleted and
        `POST .../restore` brings it back.
        """
        editorial.trash_article(_locked(article_id), actor())
        db.session.commit()
        return "", 204


@blp.route("/<uuid:article_id>/authors")
class ArticleAuthors(MethodView):
    @authorize(blp, "content:assign")
    @if_match(blp)
    @blp.arguments(AuthorsIn, **JSON_BODY)
    @blp.response(200, ArticleAdminOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, data: dict[str, Any], article_id: uuid.UUID) -> Any:
        """Set an article's authors

        Person slugs, in display order. Authors are not part of a plain edit, so no edit can
        change who signed an article by accident; a change records a revision and sends
        approved content back to review.
        """
        article = _locked(article_id)
        return _respond(editorial.set_authors(article, data["authors"], actor()))


@blp.route("/<uuid:article_id>/restore")
class ArticleRestore(MethodView):
    @authorize(blp, "content:write")
    @blp.response(200, ArticleAdminOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, article_id: uuid.UUID) -> Any:
        """Restore an article from the trash

        It comes back in the state it was trashed in; if it was published, readers see it
        again (409 if it is not in the trash).
        """
        article = editorial.get_article(article_id, for_update=True, include_trashed=True)
        return _respond(editorial.restore_article(article, actor()))


def _transition_view(name: str, action: str, summary: str, schema: type | None) -> None:
    def post(self, *args: Any, **kwargs: Any) -> Any:
        article = editorial.get_article(kwargs["article_id"], for_update=True)
        data = args[0] if args else {}
        if name == "approve":
            workflow.approve(article, g.user, actor(), notes=data.get("notes"))
        elif name == "request-changes":
            workflow.request_changes(article, actor(), notes=data.get("notes"))
        elif name == "publish":
            workflow.publish(article, actor(), publish_at=data.get("publish_at"))
        else:
            getattr(workflow, name)(article, actor())
        return _respond(article)

    post.__doc__ = summary
    view = blp.alt_response(409, response="CONFLICT")(post)
    view = blp.alt_response(404, response="NOT_FOUND")(view)
    view = blp.response(200, ArticleAdminOut, headers=ETAG_HEADER)(view)
    if schema is not None:
        view = blp.arguments(schema, required=False, **JSON_BODY)(view)
    view = authorize(blp, action)(view)
    blp.route(f"/<uuid:article_id>/{name}", endpoint=f"transition_{name}")(
        type(f"Article{name.title().replace('-', '')}", (MethodView,), {"post": view})
    )


_transition_view(
    "submit", "workflow:submit", "Submit for medical review\n\n`draft` → `in_review`.", None
)
_transition_view(
    "approve",
    "workflow:review",
    "Approve the current revision\n\n"
    "`in_review` → `approved`. Reviewers only, and not an author of the article. "
    "Records the reviewer, date, revision and notes.",
    ReviewDecisionIn,
)
_transition_view(
    "request-changes",
    "workflow:review",
    "Send back with requested changes\n\n`in_review` or `approved` → `draft`.",
    ReviewDecisionIn,
)
_transition_view(
    "publish",
    "workflow:publish",
    "Publish, or schedule\n\n"
    "`approved` → `published`, when a non-author reviewer approved the current "
    "revision. A future `publish_at` schedules it (`cms-api publish-due` "
    "publishes what is due).",
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
    @authorize(blp, "content:read")
    @blp.response(200, RevisionList)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id: uuid.UUID) -> Any:
        """List an article's revisions, newest first

        Every save records one: its number, why (create, edit, authors, restore:N) and who.
        """
        article = editorial.get_article(article_id, include_trashed=True)
        return {"items": editorial.list_revisions(article)}


@blp.route("/<uuid:article_id>/revisions/<int:number>")
class ArticleRevision(MethodView):
    @authorize(blp, "content:read")
    @blp.response(200, RevisionDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id: uuid.UUID, number: int) -> Any:
        """Get one revision's full snapshot

        The article's editable content as it was: fields, sections, citations, author and
        topic ids.
        """
        article = editorial.get_article(article_id, include_trashed=True)
        return editorial.get_revision(article, number)


@blp.route("/<uuid:article_id>/revisions/<int:number>/diff")
class ArticleRevisionDiff(MethodView):
    @authorize(blp, "content:read")
    @query_args(blp, RevisionDiffArgs)
    @blp.response(200, RevisionDiffOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], article_id: uuid.UUID, number: int) -> Any:
        """Compare two revisions field by field

        `against` defaults to the revision before this one.
        """
        article = editorial.get_article(article_id, include_trashed=True)
        against = args.get("against", number - 1)
        new = editorial.get_revision(article, number)
        old = editorial.get_revision(article, against)
        return {
            "from_revision": against,
            "to_revision": number,
            "changes": editorial.diff(old.snapshot, new.snapshot),
        }


@blp.route("/<uuid:article_id>/revisions/<int:number>/restore")
class ArticleRevisionRestore(MethodView):
    @authorize(blp, "content:write")
    @if_match(blp)
    @blp.response(200, ArticleAdminOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, article_id: uuid.UUID, number: int) -> Any:
        """Restore a revision's content

        The old content becomes a new revision; history is never rewritten.
        """
        article = _locked(article_id)
        return _respond(editorial.restore_revision(article, number, actor()))
