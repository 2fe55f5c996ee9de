"""Admin reader questions: the editors' queue, and answering, rejecting or promoting to FAQs."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g
from flask.views import MethodView

from cms_api.http.admin import ETAG_HEADER, AdminBlueprint, actor
from cms_api.http.admin_resource import JSON_BODY, AdminResource
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.models import ReaderQuestion
from cms_api.schemas.admin.questions import (
    QuestionAnswerIn,
    QuestionList,
    QuestionOut,
    QuestionPromoteIn,
    QuestionQueryArgs,
)
from cms_api.services.accounts import permissions
from cms_api.services.editorial import questions

blp = AdminBlueprint(
    "admin_questions",
    __name__,
    url_prefix="/v1/admin/questions",
    description="Readers' questions: list them, answer or reject them, or promote one into "
    "a FAQ of an article or topic, which readers see once it is reviewed.",
)
QUESTION_ID = {"in": "path", "name": "question_id", "description": "The question's id."}


def _present(items: list[ReaderQuestion]) -> list[dict[str, Any]]:
    # Readers' addresses are for the people who reply, not for every role that reads.
    include_email = permissions.allowed(g.user.role, "questions:manage")
    return questions.present(items, include_email=include_email)


def _get_question(
    question_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = False
) -> ReaderQuestion:
    return questions.get_question(question_id, for_update=for_update)


RESOURCE = AdminResource(
    blp,
    kind="question",
    id_parameter="question_id",
    present=lambda question: _present([question])[0],
    fetch=_get_question,
)


@blp.route("")
class QuestionCollection(MethodView):
    @blp.authorize("content:read")
    @blp.query_args(QuestionQueryArgs)
    @blp.response(200, QuestionList, headers=LINK_HEADER)
    def get(self, args: dict[str, Any]) -> Any:
        """List reader questions

        Newest first. Filter with `status` (`new` is the queue to work through). The
        reader's `email` is shown to roles that may answer, null to the others.
        """
        limit = args["limit"]
        page = questions.list_questions(
            status=args.get("status"), limit=limit, cursor=args.get("cursor")
        )
        return page_answer(page, _present(page.items))


@blp.route("/<uuid:question_id>", parameters=[QUESTION_ID])
class QuestionById(MethodView):
    @blp.authorize("content:read")
    @blp.response(200, QuestionOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, question_id: uuid.UUID) -> Any:
        """Get a reader question

        The question, what it is about, its status and answer. The reader's email is shown
        only to roles that manage questions.
        """
        question = questions.get_question(question_id)
        return RESOURCE.show(question)


def _decision(view: Any) -> Any:
    """What every decision shares: editors only, 404 and 409. Each decision's view is
    `RESOURCE.locked(required=False)`: deciding is a POST, so If-Match is optional; sent,
    it is checked."""
    view = blp.alt_response(409, response="CONFLICT")(view)
    view = blp.alt_response(404, response="NOT_FOUND")(view)
    return blp.authorize("questions:manage")(view)


@blp.route("/<uuid:question_id>/answer", parameters=[QUESTION_ID])
class QuestionAnswer(MethodView):
    @_decision
    @blp.arguments(QuestionAnswerIn, **JSON_BODY)
    @blp.response(200, QuestionOut, headers=ETAG_HEADER)
    @RESOURCE.locked(required=False)
    def post(self, data: dict[str, Any], question: ReaderQuestion) -> Any:
        """Answer a reader question

        `new` or `answered` → `answered`; answering again replaces the answer. The answer
        is kept with the question (it is not sent to the reader by this API).
        """
        return RESOURCE.answer(questions.answer(question, data["answer"], actor()))


@blp.route("/<uuid:question_id>/reject", parameters=[QUESTION_ID])
class QuestionReject(MethodView):
    @_decision
    @blp.response(200, QuestionOut, headers=ETAG_HEADER)
    @RESOURCE.locked(required=False)
    def post(self, question: ReaderQuestion) -> Any:
        """Reject a reader question

        `new` or `answered` → `rejected`, for spam, off-topic questions or requests for
        personal medical advice. Rejected questions stay listed; the decision is final.
        """
        return RESOURCE.answer(questions.reject(question, actor()))


@blp.route("/<uuid:question_id>/promote", parameters=[QUESTION_ID])
class QuestionPromote(MethodView):
    @_decision
    @blp.arguments(QuestionPromoteIn, required=False, **JSON_BODY)
    @blp.response(200, QuestionOut, headers=ETAG_HEADER)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @RESOURCE.locked(required=False)
    def post(self, data: dict[str, Any], question: ReaderQuestion) -> Any:
        """Promote a reader question into an FAQ

        `new` or `answered` → `promoted`: a FAQ is added at the end of the FAQs of the
        article or topic the reader asked about (unless `article_id`, `article` or `topic`
        names another), worded as the reader asked unless `question` rewords it, with the
        question's answer unless `answer` gives one. `faq_id` names the new FAQ.

        Nothing reaches readers unreviewed: on an article the FAQ goes into a new article
        revision, shown once that revision is approved and published (a published article
        goes back to `in_review`); on a topic it is a `draft` awaiting its own review
        (`POST /v1/admin/faqs/{id}/submit`, then a reviewer's `.../approve`).
        """
        return RESOURCE.answer(questions.promote(question, data or {}, actor()))
