"""Admin link suggestions: published articles worth linking to, and accepting one."""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for
from flask.views import MethodView

from cms_api.http.admin import ETAG_HEADER, AdminBlueprint, actor
from cms_api.resources.admin.links import RESOURCE as LINK_RESOURCE
from cms_api.schemas.admin.link_suggestions import (
    LinkSuggestionAccept,
    LinkSuggestionArgs,
    LinkSuggestionList,
)
from cms_api.schemas.admin.links import AdminLinkOut
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import link_suggestions

blp = AdminBlueprint(
    "admin_link_suggestions",
    __name__,
    url_prefix="/v1/admin",
    description="Suggested related links: published articles that share topics or wording "
    "with an article and are not linked from it yet. Accepting one creates the link.",
)


@blp.route("/articles/<uuid:article_id>/link-suggestions")
class LinkSuggestions(MethodView):
    @blp.authorize("content:read")
    @blp.query_args(LinkSuggestionArgs)
    @blp.response(200, LinkSuggestionList)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], article_id: uuid.UUID) -> Any:
        """Suggest related links for an article

        Published articles the article does not link to yet (a link in the trash counts:
        restore it instead), best first. `score` (0 to 1) is half the share of the
        article's topics the target is on (or below), half how many word stems their
        titles and summaries share, plus 0.1 when the target already links back;
        `reasons` says which. The article's own title, summary and topics are read from
        its working copy, so a draft gets suggestions too. A complete list of at most
        `limit`; `page.total` counts every candidate that shares a topic or a title
        word.
        """
        article = editorial.get_article(article_id)
        suggestions, total = link_suggestions.suggest(article, limit=args["limit"])
        return {
            "items": [suggestion.present() for suggestion in suggestions],
            "page": {"limit": args["limit"], "next_cursor": None, "total": total},
        }


@blp.route("/articles/<uuid:article_id>/link-suggestions/<uuid:target_id>/accept")
class LinkSuggestionAcceptance(MethodView):
    @blp.authorize("content:assign")
    @blp.arguments(LinkSuggestionAccept, required=False, content_type="application/json")
    @blp.response(
        201,
        AdminLinkOut,
        headers={
            **ETAG_HEADER,
            "Location": {"description": "The new link's address.", "schema": {"type": "string"}},
        },
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any], article_id: uuid.UUID, target_id: uuid.UUID) -> Any:
        """Accept a suggested link

        Creates the link from the article to `target_id`, exactly as
        `POST /v1/admin/articles/{article_id}/links` does (same permission, audit entry
        and re-rendering), and answers the same way. The body is optional: `relation`
        (default `see_also`), `weight` (default 0.5), `anchor_text` (default the
        target's title). A target that is not published, or the article itself, is a
        404; a target already linked is a 409.
        """
        source = editorial.get_article(article_id)
        link = link_suggestions.accept(source, target_id, data or {}, actor())
        location = url_for("admin_links.LinkById", link_id=link.id)
        return LINK_RESOURCE.answer(link, 201, Location=location)
