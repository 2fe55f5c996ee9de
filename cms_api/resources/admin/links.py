"""Admin related-article links: typed, weighted links from one article to another."""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for
from flask.views import MethodView

from cms_api.http.admin import ETAG_HEADER, AdminBlueprint, actor
from cms_api.http.admin_resource import (
    JSON_BODY,
    AdminResource,
    Permissions,
    StandardViews,
    ViewDocs,
    ViewNames,
    ViewSchemas,
)
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.schemas.admin.links import (
    AdminLinkCreate,
    AdminLinkList,
    AdminLinkOut,
    AdminLinkPatch,
    AdminLinkQueryArgs,
)
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import links
from cms_api.services.editorial.links import LINKS

blp = AdminBlueprint(
    "admin_links",
    __name__,
    url_prefix="/v1/admin",
    description="Link articles to related articles (see also, similar symptom, complication "
    "of, treatment for, differential). Links are not content: deleting one removes it, and "
    "the audit log keeps what it was.",
)
RESOURCE = AdminResource.of(blp, LINKS, id_parameter="link_id")


# Links are listed and created under the article they start from.
@blp.route("/articles/<uuid:article_id>/links")
class ArticleLinks(MethodView):
    @blp.authorize("content:read")
    @blp.query_args(AdminLinkQueryArgs)
    @blp.response(200, AdminLinkList, headers=LINK_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], article_id: uuid.UUID) -> Any:
        """List an article's links

        The links from this article, in display order; `relation` keeps one kind.
        """
        article = editorial.get_article(article_id, include_trashed=True)
        page = links.list_links(
            article,
            relation=args.get("relation"),
            trashed=args["trashed"],
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return page_answer(page, [links.present(row) for row in page.items])

    @blp.authorize("content:assign")
    @blp.arguments(AdminLinkCreate, **JSON_BODY)
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
    def post(self, data: dict[str, Any], article_id: uuid.UUID) -> Any:
        """Link an article to another

        A link to the article itself, or to an unknown or trashed article, is a 422; a
        second link to the same article is a 409 (edit the first). The article's
        published document shows the link at once.
        """
        source = editorial.get_article(article_id)
        link = links.create_link(source, data, actor())
        location = url_for("admin_links.LinkById", link_id=link.id)
        return RESOURCE.answer(link, 201, Location=location)


StandardViews(
    RESOURCE,
    LINKS,
    schemas=ViewSchemas(out=AdminLinkOut, patch=AdminLinkPatch),
    names=ViewNames("ArticleLinks", "LinkById", "LinkRestore"),
    conflicts=frozenset({"restore"}),
    permissions=Permissions(write="content:assign"),
    docs=ViewDocs(
        get="""Get a link

        Its source and target articles, relation, weight, anchor text and position.
        """,
        patch="""Edit a link (JSON merge patch)

        Only the fields sent change. The target is what the link is: to point elsewhere,
        delete it and create another. The source article's document re-renders.
        """,
        delete="""Move a link to the trash

        Readers stop seeing it (the source article re-renders); nothing is deleted, and
        `POST /v1/admin/links/{link_id}/restore` brings it back.
        """,
        restore="""Restore a link from the trash

        Readers see the link again; 409 if it is not in the trash.
        """,
    ),
).register(collection=False, path="/links")
