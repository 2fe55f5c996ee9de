"""Admin presence: who else has an article open in the studio, by heartbeats."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g
from flask.views import MethodView

from cms_api.database import db
from cms_api.http.admin import AdminBlueprint
from cms_api.http.admin_resource import JSON_BODY
from cms_api.schemas.admin.presence import PresenceIn, PresenceList
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import presence

blp = AdminBlueprint(
    "admin_presence",
    __name__,
    url_prefix="/v1/admin/articles",
    description="Presence: who else has an article open now, and whether they are editing "
    "it. Clients send a heartbeat while the article is open; an entry lapses "
    f"{presence.PRESENCE_TTL_SECONDS} s after its last one.",
)
ARTICLE_ID = {"in": "path", "name": "article_id", "description": "The article's id."}


def _others(article_id: uuid.UUID) -> dict[str, Any]:
    return {
        "items": presence.others(article_id, g.user.id),
        "expires_after_seconds": presence.PRESENCE_TTL_SECONDS,
    }


@blp.route("/<uuid:article_id>/presence", parameters=[ARTICLE_ID])
class ArticlePresence(MethodView):
    @blp.authorize("content:read")
    @blp.response(200, PresenceList)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id: uuid.UUID) -> Any:
        """List who else has an article open

        Everyone but you whose last heartbeat is under
        `expires_after_seconds` old, longest there first: their user id, name, role,
        since when, their last heartbeat, and whether they say they are editing.
        """
        editorial.get_article(article_id, include_trashed=True)
        return _others(article_id)

    @blp.authorize("content:read", renders=False)
    @blp.arguments(PresenceIn, required=False, **JSON_BODY, example={"editing": True})
    @blp.response(200, PresenceList)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, data: dict[str, Any] | None, article_id: uuid.UUID) -> Any:
        """Say you have an article open (a heartbeat)

        Send one when you open the article and then about every 20 s while it stays
        open; `editing` says whether you are changing it (left out: as your last
        heartbeat said). Answers who else has it open, as `GET` does. Every role may
        send one, viewers too. Presence is not content: no `If-Match`, no version, no
        audit entry.
        """
        editorial.get_article(article_id, include_trashed=True)
        presence.heartbeat(article_id, g.user.id, editing=(data or {}).get("editing"))
        db.session.commit()
        return _others(article_id)

    @blp.authorize("content:read", renders=False)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, article_id: uuid.UUID) -> Any:
        """Say you closed an article

        The others stop seeing you at once, rather than when your last heartbeat
        lapses. Closing an article you did not have open is no error.
        """
        editorial.get_article(article_id, include_trashed=True)
        presence.leave(article_id, g.user.id)
        db.session.commit()
        return "", 204
