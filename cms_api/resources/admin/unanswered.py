"""Admin unanswered questions: what readers asked that no reviewed passage answered."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from cms_api.http.admin import AdminBlueprint
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.models import UnansweredQuestion
from cms_api.schemas.admin.unanswered import UnansweredList, UnansweredOut, UnansweredQueryArgs
from cms_api.services.discovery import answers

blp = AdminBlueprint(
    "admin_unanswered",
    __name__,
    url_prefix="/v1/admin/unanswered",
    description="Questions instant answers declined, counted: content the editors could "
    "write next. Listed next to reader questions, dismissed when dealt with.",
)
UNANSWERED_ID = {"in": "path", "name": "unanswered_id", "description": "The question's id."}


def _present(question: UnansweredQuestion) -> dict[str, Any]:
    return {
        "id": question.id,
        "locale": question.locale,
        "question": question.text,
        "normalized": question.normalized,
        "count": question.asked_count,
        "first_asked_at": question.first_asked_at,
        "last_asked_at": question.last_asked_at,
        "dismissed_at": question.dismissed_at,
    }


@blp.route("")
class UnansweredCollection(MethodView):
    @blp.authorize("content:read")
    @blp.query_args(UnansweredQueryArgs)
    @blp.response(200, UnansweredList, headers=LINK_HEADER)
    def get(self, args: dict[str, Any]) -> Any:
        """List unanswered questions

        Questions `GET /v1/answers` found no confident answer to, most asked first, each
        with the locale it was asked in and how often and when it was first and last asked;
        dismissed ones are left out. `locale` lists one locale's questions only (the same
        words asked in two locales are two questions).
        A question is counted each time its answer is computed: a client or CDN answering
        from its cache (a `304`, or a stored copy) does not reach the API and is not counted.
        """
        page = answers.list_unanswered(
            limit=args["limit"], cursor=args.get("cursor"), locale=args.get("locale")
        )
        return page_answer(page, [_present(item) for item in page.items])


@blp.route("/<uuid:unanswered_id>/dismiss", parameters=[UNANSWERED_ID])
class UnansweredDismiss(MethodView):
    @blp.authorize("questions:manage")
    @blp.response(200, UnansweredOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, unanswered_id: uuid.UUID) -> Any:
        """Dismiss an unanswered question

        Takes it off the list (new content answers it, or it is not worth answering). It
        is still counted if asked again, out of sight; dismissing it twice changes nothing.
        """
        return _present(answers.dismiss_unanswered(unanswered_id))
