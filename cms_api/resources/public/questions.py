"""Readers' questions on an article or topic: accepted for the editors, rate limited."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.http.arguments import no_query_args
from cms_api.http.problems import PROBLEM_CONTENT_TYPE, REQUEST_ID_HEADER_REF, ProblemSchema
from cms_api.http.requests import BODY_CHECKED_AFTER_AUTH, check_request_body, small_body
from cms_api.ratelimit import rate_limited
from cms_api.schemas.public.questions import QuestionAcceptedOut, QuestionIn
from cms_api.services.editorial import questions

blp = Blueprint(
    "questions",
    __name__,
    url_prefix="/v1/questions",
    description="Readers' questions, which editors answer or turn into FAQs.",
)

# flask-limiter's headers, on every answer of a rate-limited operation.
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {
        "description": "Questions one client address may send per window.",
        "schema": {"type": "integer", "example": 5},
    },
    "X-RateLimit-Remaining": {
        "description": "Questions left in the current window.",
        "schema": {"type": "integer", "example": 4},
    },
    "X-RateLimit-Reset": {
        "description": "When the window ends, in Unix seconds.",
        "schema": {"type": "integer", "example": 1795000000},
    },
    "X-Request-ID": REQUEST_ID_HEADER_REF,
}


# The body's schema, plus the rule marshmallow checks in code: `article` and `topic` are not
# both given. Stated in the document so clients (and schemathesis) know it up front.
QUESTION_BODY = {
    "allOf": [QuestionIn],
    "not": {
        "required": ["article", "topic"],
        "properties": {"article": {"type": "string"}, "topic": {"type": "string"}},
    },
}


def _question_rate_limit() -> str:
    # Read per request, so each app (and each test app) uses its own settings.
    return current_app.config["CMS_SETTINGS"].question_rate_limit


# A question of 2,000 characters, each escaped as a surrogate pair (12 bytes), with an
# article slug and an e-mail address, fits with room to spare.
QUESTION_BODY_LIMIT = 32 * 1024


def _json_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a body that is not JSON with a 415, before the schema reports missing fields.

    It runs inside the rate limit: a client past its limit gets its 429 without the server
    reading, let alone checking, the body it sent.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not request.is_json:
            raise DomainError(
                "Send the question as `Content-Type: application/json`.",
                status=415,
                kind="unsupported-media-type",
            )
        check_request_body()
        return view(*args, **kwargs)

    setattr(wrapper, BODY_CHECKED_AFTER_AUTH, True)
    return blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")(wrapper)


@blp.route("")
class QuestionCollection(MethodView):
    # Every attempt counts, valid or not: the limit also shields the lookups behind validation.
    @small_body(QUESTION_BODY_LIMIT)
    @rate_limited(
        _question_rate_limit,
        error_message="Too many questions from this address; retry after `Retry-After` seconds.",
    )
    @_json_only
    @no_query_args(blp)
    @blp.arguments(
        QuestionIn,
        content_type="application/json",
        example={
            "question": "Can a headache after Botox start a week later?",
            "article": "headache-after-botox",
            "email": "reader@example.org",
        },
    )
    @blp.doc(requestBody={"content": {"application/json": {"schema": QUESTION_BODY}}})
    @blp.response(202, QuestionAcceptedOut, headers=RATE_LIMIT_HEADERS)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(
        429,
        schema=ProblemSchema,
        content_type=PROBLEM_CONTENT_TYPE,
        description="Too many questions from this client address.",
        headers={"Retry-After": "RETRY_AFTER", **RATE_LIMIT_HEADERS},
    )
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, data: dict[str, Any]) -> Any:
        """Ask a question

        A reader's question, optionally about one published `article` (its slug in
        `locale`, by default the site's default locale) or one `topic` (not both), with an
        optional `email` for a reply. It is stored for the editors,
        who may answer it or publish it as an FAQ; the answer is `202 Accepted` with the
        question's id. Each client address may send a few questions a minute (5 by
        default); past that the answer is `429` with `Retry-After`.
        """
        question = questions.submit(data)
        db.session.commit()
        return {"id": question.id, "status": question.status}, 202
