"""Admin review comments: threads on an article's sections, replies, resolving and reopening."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, request, url_for
from flask.views import MethodView

from cms_api.database import db
from cms_api.http.admin import ETAG_HEADER, AdminBlueprint, actor
from cms_api.http.admin_resource import JSON_BODY, AdminResource
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.models import ReviewComment
from cms_api.schemas.admin.comments import (
    CommentCreate,
    CommentList,
    CommentOut,
    CommentPatch,
    CommentQueryArgs,
)
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import comments

blp = AdminBlueprint(
    "admin_comments",
    __name__,
    url_prefix="/v1/admin/articles",
    description="Review comments: editors and medical reviewers discuss an article, each "
    "thread about one of its sections or the whole article, with replies, until someone "
    "resolves it. Viewers read them.",
)
ARTICLE_ID = {"in": "path", "name": "article_id", "description": "The article's id."}
COMMENT_ID = {"in": "path", "name": "comment_id", "description": "The comment's id."}
LOCATION = {"Location": {"description": "The comment's address.", "schema": {"type": "string"}}}


def _get_comment(
    comment_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = True
) -> ReviewComment:
    # A comment is addressed under its article: under another article's id it is not found.
    article_id = (request.view_args or {})["article_id"]
    return comments.get_comment(
        article_id, comment_id, for_update=for_update, include_trashed=include_trashed
    )


RESOURCE = AdminResource(
    blp,
    kind="comment",
    id_parameter="comment_id",
    present=lambda comment: comments.present([comment])[0],
    fetch=_get_comment,
)


@blp.route("/<uuid:article_id>/comments", parameters=[ARTICLE_ID])
class ArticleComments(MethodView):
    @blp.authorize("content:read")
    @blp.query_args(CommentQueryArgs)
    @blp.response(200, CommentList, headers=LINK_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], article_id: uuid.UUID) -> Any:
        """List an article's review comments

        Threads oldest first, each with its replies (oldest first). `resolved` keeps
        resolved or open threads, `section_key` the threads about one section. A thread
        whose section was removed from the article since stays listed, with
        `anchor_missing` true. The article may be in the trash.
        """
        article = editorial.get_article(article_id, include_trashed=True)
        page = comments.list_threads(
            article,
            resolved=args.get("resolved"),
            section_key=args.get("section_key"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return page_answer(page, comments.present(page.items))

    @blp.authorize("comments:write")
    @blp.arguments(
        CommentCreate,
        **JSON_BODY,
        example={
            "body": "The dose here differs from the label; please cite the source.",
            "section_key": "treatment",
        },
    )
    @blp.response(201, CommentOut, headers={**ETAG_HEADER, **LOCATION})
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], article_id: uuid.UUID) -> Any:
        """Comment on an article, or reply

        A new thread about one of the article's sections (`section_key`, one it has now)
        or about the whole article, or with `parent_id` a reply to a thread; written
        against the article's current revision (`revision_number`). Editors, reviewers
        and admins comment; the article itself does not change (its ETag stays). 404 for
        an unknown or trashed article; 422 for a section the article does not have, or a
        `parent_id` that is not a thread of this article.
        """
        article = editorial.get_article(article_id)
        comment = comments.create_comment(article, data, g.user, actor())
        address = url_for(
            f"{blp.name}.ArticleCommentById", article_id=article.id, comment_id=comment.id
        )
        return RESOURCE.answer(comment, 201, Location=address)


@blp.route("/<uuid:article_id>/comments/<uuid:comment_id>", parameters=[ARTICLE_ID, COMMENT_ID])
class ArticleCommentById(MethodView):
    @blp.authorize("content:read")
    @blp.response(200, CommentOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id: uuid.UUID, comment_id: uuid.UUID) -> Any:
        """Get a review comment

        With its replies when it starts a thread, and its ETag for an edit or a delete.
        """
        return RESOURCE.show(comments.get_comment(article_id, comment_id))

    @blp.authorize("comments:write")
    @blp.arguments(CommentPatch, **JSON_BODY)
    @blp.response(200, CommentOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @RESOURCE.locked
    def patch(self, data: dict[str, Any], comment: ReviewComment, article_id: uuid.UUID) -> Any:
        """Edit a review comment, or resolve or reopen its thread

        `body` replaces the text: its author only (403 for anyone else). `resolved`
        true resolves the thread, false reopens it: its author, an editor, a reviewer or
        an admin; a reply is resolved with its thread (422). Resolving twice changes
        nothing. Each change is in the audit log (`comment.update`, `comment.resolve`,
        `comment.reopen`).
        """
        return RESOURCE.answer(comments.update_comment(comment, data, g.user, actor()))

    @blp.authorize("comments:write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @RESOURCE.locked
    def delete(self, comment: ReviewComment, article_id: uuid.UUID) -> Any:
        """Delete a review comment

        Its author only (403 for anyone else), and only while it has no replies (409:
        resolve the thread instead). The comment is gone for good; the audit log keeps
        what it said (`comment.delete`).
        """
        comments.delete_comment(comment, g.user, actor())
        db.session.commit()
        return "", 204
