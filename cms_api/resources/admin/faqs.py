"""Admin FAQs: write the questions shown on articles and topic pages, with a trash."""

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
    AdminFaqCreate,
    AdminFaqList,
    AdminFaqOut,
    AdminFaqPatch,
    AdminFaqQueryArgs,
)
from cms_api.services.editorial import faqs as faqs_admin
from cms_api.services.editorial.faqs import FaqFilters

blp = admin_blueprint(
    "admin_faqs",
    __name__,
    url_prefix="/v1/admin/faqs",
    description="Write FAQs for articles and topics: drafts, edits and the trash.",
)
JSON_BODY = {"content_type": "application/json"}


VERSIONED = Versioned(
    "faq", faqs_admin.present, lambda faq_id: faqs_admin.get_faq(faq_id, for_update=True)
)
_etag, _respond, _locked = VERSIONED.etag, VERSIONED.respond, VERSIONED.locked


@blp.route("")
class FaqCollection(MethodView):
    @authorize(blp, "content:read")
    @query_args(blp, AdminFaqQueryArgs)
    @blp.response(200, AdminFaqList, headers=LINK_HEADER)
    def get(self, args: dict[str, Any]) -> Any:
        """List FAQs (drafts included)

        Most recently changed first. Filters: `article_id`, `topic` (slug), `status`,
        `q` (text in the question or answer); `trashed=true` lists the trash.
        """
        filters = FaqFilters(
            **{k: args[k] for k in ("article_id", "topic", "status", "q", "trashed") if k in args}
        )
        page = faqs_admin.list_faqs(filters, limit=args["limit"], cursor=args.get("cursor"))
        return page_answer(page, [faqs_admin.present(row) for row in page.items])

    @authorize(blp, "content:write")
    @blp.arguments(AdminFaqCreate, **JSON_BODY)
    @blp.response(
        201,
        AdminFaqOut,
        headers={
            **ETAG_HEADER,
            "Location": {"description": "The new FAQ's address.", "schema": {"type": "string"}},
        },
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Create a FAQ

        It belongs to exactly one article (`article_id`) or topic (`topic`, a slug); an
        unknown or trashed owner is a 422. It starts as a `draft` unless `status` says
        `published`; a published FAQ is shown once its article is published (a topic's
        at once). The answer is Markdown, served to readers as sanitized HTML.
        """
        faq = faqs_admin.create_faq(data, actor())
        location = url_for("admin_faqs.FaqById", faq_id=faq.id)
        return _respond(faq, 201, Location=location)


@blp.route("/<uuid:faq_id>")
class FaqById(MethodView):
    @authorize(blp, "content:read")
    @blp.response(200, AdminFaqOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, faq_id: uuid.UUID) -> Any:
        """Get a FAQ's working copy

        With its Markdown source and state; FAQs in the trash too.
        """
        faq = faqs_admin.get_faq(faq_id, include_trashed=True)
        return faqs_admin.present(faq), 200, {"ETag": _etag(faq)}

    @authorize(blp, "content:write")
    @if_match(blp)
    @blp.arguments(AdminFaqPatch, **JSON_BODY)
    @blp.response(200, AdminFaqOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data: dict[str, Any], faq_id: uuid.UUID) -> Any:
        """Edit a FAQ (JSON merge patch)

        Only the fields sent change. Naming an `article_id` or a `topic` moves the FAQ
        there. The article or topic pages showing it are re-rendered.
        """
        faq = _locked(faq_id)
        return _respond(faqs_admin.update_faq(faq, data, actor()))

    @authorize(blp, "content:write")
    @if_match(blp)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, faq_id: uuid.UUID) -> Any:
        """Move a FAQ to the trash

        It disappears from its article, its topic and `/v1/faqs`; nothing is deleted and
        `POST .../restore` brings it back.
        """
        faqs_admin.trash_faq(_locked(faq_id), actor())
        db.session.commit()
        return "", 204


@blp.route("/<uuid:faq_id>/restore")
class FaqRestore(MethodView):
    @authorize(blp, "content:write")
    @blp.response(200, AdminFaqOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, faq_id: uuid.UUID) -> Any:
        """Restore a FAQ from the trash

        It is shown again wherever its status and its owner allow; 409 when it is not
        in the trash.
        """
        faq = faqs_admin.get_faq(faq_id, for_update=True, include_trashed=True)
        return _respond(faqs_admin.restore_faq(faq, actor()))
