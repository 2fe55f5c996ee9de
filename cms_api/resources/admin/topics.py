"""Admin topics: the topic tree and its medical codes, with a trash."""

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
    AdminTopicCreate,
    AdminTopicList,
    AdminTopicOut,
    AdminTopicPatch,
    AdminTopicQueryArgs,
)
from cms_api.services.editorial import topics as topics_admin
from cms_api.services.editorial.topics import TopicFilters

blp = admin_blueprint(
    "admin_topics",
    __name__,
    url_prefix="/v1/admin/topics",
    description="Write the topic tree and the ICD-10-CM, SNOMED CT and MeSH codes of each topic.",
)
JSON_BODY = {"content_type": "application/json"}


VERSIONED = Versioned(
    "topic",
    topics_admin.present,
    lambda topic_id: topics_admin.get_topic(topic_id, for_update=True),
)
_etag, _respond, _locked = VERSIONED.etag, VERSIONED.respond, VERSIONED.locked


@blp.route("")
class TopicCollection(MethodView):
    @authorize(blp, "content:read")
    @query_args(blp, AdminTopicQueryArgs)
    @blp.response(200, AdminTopicList, headers=LINK_HEADER)
    def get(self, args: dict[str, Any]) -> Any:
        """List topics

        Most recently changed first. Filters: `parent` (slug), `root`, `q` (text in the
        name or slug); `trashed=true` lists the trash.
        """
        filters = TopicFilters(
            **{k: args[k] for k in ("parent", "root", "q", "trashed") if k in args}
        )
        page = topics_admin.list_topics(filters, limit=args["limit"], cursor=args.get("cursor"))
        return page_answer(page, [topics_admin.present(row) for row in page.items])

    @authorize(blp, "content:write")
    @blp.arguments(AdminTopicCreate, **JSON_BODY)
    @blp.response(
        201,
        AdminTopicOut,
        headers={
            **ETAG_HEADER,
            "Location": {"description": "The new topic's address.", "schema": {"type": "string"}},
        },
    )
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a topic

        Slugs are unique (a 409 otherwise, trashed topics included); `parent` names an
        existing topic (422 otherwise). Topics are public at once, in `/v1/topics`.
        """
        topic = topics_admin.create_topic(data, actor())
        location = url_for("admin_topics.TopicById", topic_id=topic.id)
        return _respond(topic, 201, Location=location)


@blp.route("/<uuid:topic_id>")
class TopicById(MethodView):
    @authorize(blp, "content:read")
    @blp.response(200, AdminTopicOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, topic_id: uuid.UUID) -> Any:
        """Get a topic

        With its parent, children and codes; topics in the trash too.
        """
        topic = topics_admin.get_topic(topic_id, include_trashed=True)
        return topics_admin.present(topic), 200, {"ETag": _etag(topic)}

    @authorize(blp, "content:write")
    @if_match(blp)
    @blp.arguments(AdminTopicPatch, **JSON_BODY)
    @blp.response(200, AdminTopicOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data: dict[str, Any], topic_id: uuid.UUID) -> Any:
        """Edit a topic (JSON merge patch)

        Only the fields sent change; `codes` are replaced whole. A `parent` that is the
        topic itself or one of its subtopics is a 409 (the tree stays a tree). The topic
        tree and every published article on the topic are re-rendered.
        """
        topic = _locked(topic_id)
        return _respond(topics_admin.update_topic(topic, data, actor()))

    @authorize(blp, "content:write")
    @if_match(blp)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, topic_id: uuid.UUID) -> Any:
        """Move a topic to the trash

        The topic and its FAQs leave delivery and articles stop listing it; nothing is
        deleted and `POST .../restore` brings it back. A topic with subtopics outside
        the trash is a 409: move or trash them first.
        """
        topics_admin.trash_topic(_locked(topic_id), actor())
        db.session.commit()
        return "", 204


@blp.route("/<uuid:topic_id>/restore")
class TopicRestore(MethodView):
    @authorize(blp, "content:write")
    @blp.response(200, AdminTopicOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, topic_id: uuid.UUID) -> Any:
        """Restore a topic from the trash

        409 when it is not in the trash, or when its parent still is.
        """
        topic = topics_admin.get_topic(topic_id, for_update=True, include_trashed=True)
        return _respond(topics_admin.restore_topic(topic, actor()))
