"""Admin reader questions: the editors' queue, and answering, rejecting or promoting to FAQs."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, request
from flask.views import MethodView

from cms_api.database import db
from cms_api.domain.etags import version_etag
from cms_api.http.admin import (
    ETAG_HEADER,
    IF_MATCH,
    actor,
    admin_blueprint,
    authorize,
    require_if_match,
)
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.models import ReaderQuestion
from cms_api.resources.delivery import query_args
from cms_api.schemas.questions import (
    QuestionAnswerIn,
    QuestionList,
    QuestionOut,
    QuestionPromoteIn,
    QuestionQueryArgs,
)
from cms_api.services.accounts import permissions
from cms_api.services.editorial import questions

blp = admin_blueprint(
    "admin_questions",
    __name__,
    url_prefix="/v1/admin/questions",
    description="Readers' questions: list them, answer or reject them, or promote one into "
    "a published FAQ of an article.",
)
JSON_BODY = {"content_type": "application/json"}
# Deciding on a question is a POST, so If-Match is optional; sent, it is checked.
OPTIONAL_IF_MATCH = {
    **IF_MATCH,
    "required": False,
    "description": "The ETag of the version you read. Optional; when sent and stale: 412.",
}
QUESTION_ID = {"in": "path", "name": "question_id", "description": "The question's id."}


def _etag(question: ReaderQuestion) -> str:
    return version_etag("question", question.id, question.version)


def _present(items: list[ReaderQuestion]) -> list[dict[str, Any]]:
    # Readers' addresses are for the people who reply, not for every role that reads.
    include_email = permissions.allowed(g.user.role, "questions:manage")
    return questions.present(items, include_email=include_email)


def _respond(question: ReaderQuestion) -> Any:
    db.session.commit()
    return _present([question])[0], 200, {"ETag": _etag(question)}


def _locked(question_id: uuid.UUID) -> ReaderQuestion:
    """The question, locked for this transaction, after checking If-Match when it was sent."""
    question = questions.get_question(question_id, for_update=True)
    if request.headers.get("If-Match"):
        require_if_match(_etag(question))
    return question


@blp.route("")
class QuestionCollection(MethodView):
    @authorize(blp, "content:read")
    @query_args(blp, QuestionQueryArgs)
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
    @authorize(blp, "content:read")
    @blp.response(200, QuestionOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, question_id: uuid.UUID) -> Any:
        """Get a reader question

        The question, what it is about, its status and answer. The reader's email is shown
        only to roles that manage questions.
        """
        question = questions.get_question(question_id)
        return _present([question])[0], 200, {"ETag": _etag(question)}


def _decision(view: Any) -> Any:
    """What every decision shares: editors only, optional If-Match, 404, 409."""
    view = blp.alt_response(409, response="CONFLICT")(view)
    view = blp.alt_response(404, response="NOT_FOUND")(view)
    view = blp.alt_response(412, response="PRECONDITION_FAILED")(view)
    view = blp.doc(parameters=[OPTIONAL_IF_MATCH])(view)
    return authorize(blp, "questions:manage")(view)


@blp.route("/<uuid:question_id>/answer", parameters=[QUESTION_ID])
class QuestionAnswer(MethodView):
    @_decision
    @blp.arguments(QuestionAnswerIn, **JSON_BODY)
    @blp.response(200, QuestionOut, headers=ETAG_HEADER)
    def post(self, data: dict[str, Any], question_id: uuid.UUID) -> Any:
        """Answer a reader question

        `new` or `answered` → `answered`; answering again replaces the answer. The answer
        is kept with the question (it is not sent to the reader by this API).
        """
        question = _locked(question_id)
        return _respond(questions.answer(question, data["answer"], actor()))


@blp.route("/<uuid:question_id>/reject", parameters=[QUESTION_ID])
class QuestionReject(MethodView):
    @_decision
    @blp.response(200, QuestionOut, headers=ETAG_HEADER)
    def post(self, question_id: uuid.UUID) -> Any:
        """Reject a reader question

        `new` or `answered` → `rejected`, for spam, off-topic questions or requests for
        personal medical advice. Rejected questions stay listed; the decision is final.
        """
        return _respond(questions.reject(_locked(question_id), actor()))


@blp.route("/<uuid:question_id>/promote", parameters=[QUESTION_ID])
class QuestionPromote(MethodView):
    @_decision
    @blp.arguments(QuestionPromoteIn, required=False, **JSON_BODY)
    @blp.response(200, QuestionOut, headers=ETAG_HEADER)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data: dict[str, Any], question_id: uuid.UUID) -> Any:
        """Promote a reader question into an FAQ

        `new` or `answered` → `promoted`: a published FAQ is added at the end of an
        article's FAQs (the article the reader asked about, unless `article_id` or
        `article` names another), worded as the reader asked unless `question` rewords it,
        with the question's answer unless `answer` gives one. A published article shows the
        FAQ at once; a draft shows it when published. `faq_id` names the new FAQ.
        """
        question = _locked(question_id)
        return _respond(questions.promote(question, data or {}, actor()))
