"""Admin related-article links: typed, weighted links from one article to another."""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for
from flask.views import MethodView

from cms_api.database import db
from cms_api.http.admin import ETAG_HEADER, Versioned, actor, admin_blueprint, authorize, if_match
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.resources.delivery import query_args
from cms_api.schemas.admin_content import (
    AdminLinkCreate,
    AdminLinkList,
    AdminLinkOut,
    AdminLinkPatch,
    AdminLinkQueryArgs,
)
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import links as links_admin

blp = admin_blueprint(
    "admin_links",
    __name__,
    url_prefix="/v1/admin",
    description="Link articles to related articles (see also, similar symptom, complication "
    "of, treatment for, differential). Links are not content: deleting one removes it, and "
    "the audit log keeps what it was.",
)
JSON_BODY = {"content_type": "application/json"}


VERSIONED = Versioned(
    "link",
    links_admin.present,
    lambda link_id: links_admin.get_link(link_id, for_update=True, include_trashed=False),
)
_etag, _respond, _locked = VERSIONED.etag, VERSIONED.respond, VERSIONED.locked


@blp.route("/articles/<uuid:article_id>/links")
class ArticleLinks(MethodView):
    @authorize(blp, "content:read")
    @query_args(blp, AdminLinkQueryArgs)
    @blp.response(200, AdminLinkList, headers=LINK_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], article_id: uuid.UUID) -> Any:
        """List an article's links

        The links from this article, in display order; `relation` keeps one kind.
        """
        article = editorial.get_article(article_id, include_trashed=True)
        page = links_admin.list_links(
            article,
            relation=args.get("relation"),
            trashed=args["trashed"],
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return page_answer(page, [links_admin.present(row) for row in page.items])

    @authorize(blp, "content:assign")
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
        link = links_admin.create_link(source, data, actor())
        location = url_for("admin_links.LinkById", link_id=link.id)
        return _respond(link, 201, Location=location)


@blp.route("/links/<uuid:link_id>")
class LinkById(MethodView):
    @authorize(blp, "content:read")
    @blp.response(200, AdminLinkOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, link_id: uuid.UUID) -> Any:
        """Get a link

        Its source and target articles, relation, weight, anchor text and position.
        """
        link = links_admin.get_link(link_id)
        return links_admin.present(link), 200, {"ETag": _etag(link)}

    @authorize(blp, "content:assign")
    @if_match(blp)
    @blp.arguments(AdminLinkPatch, **JSON_BODY)
    @blp.response(200, AdminLinkOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data: dict[str, Any], link_id: uuid.UUID) -> Any:
        """Edit a link (JSON merge patch)

        Only the fields sent change. The target is what the link is: to point elsewhere,
        delete it and create another. The source article's document re-renders.
        """
        link = _locked(link_id)
        return _respond(links_admin.update_link(link, data, actor()))

    @authorize(blp, "content:assign")
    @if_match(blp)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, link_id: uuid.UUID) -> Any:
        """Move a link to the trash

        Readers stop seeing it (the source article re-renders); nothing is deleted, and
        `POST /v1/admin/links/{link_id}/restore` brings it back.
        """
        links_admin.trash_link(_locked(link_id), actor())
        db.session.commit()
        return "", 204


@blp.route("/links/<uuid:link_id>/restore")
class LinkRestore(MethodView):
    @authorize(blp, "content:assign")
    @blp.response(200, AdminLinkOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, link_id: uuid.UUID) -> Any:
        """Restore a link from the trash

        Readers see the link again; 409 if it is not in the trash.
        """
        link = links_admin.get_link(link_id, for_update=True)
        return _respond(links_admin.restore_link(link, actor()))
