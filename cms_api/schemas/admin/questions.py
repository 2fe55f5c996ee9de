"""Shapes of the editors' queue of reader questions and their decisions."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.models.faq import Faq
from cms_api.models.question import QUESTION_STATUSES
from cms_api.schemas.common import (
    PageArgs,
    StrictSchema,
    StrippedText,
    list_schema,
    nullable_text,
    slug_field,
)
from cms_api.schemas.public.questions import QUESTION_MIN

R = {"required": True}


# What the FAQ's question column holds; a longer reader question needs rewording first.
FAQ_QUESTION_MAX: int = Faq.__table__.c.question.type.length


ANSWER_MAX = 20_000


class QuestionOut(ma.Schema):
    id = ma.fields.UUID(**R)
    question = ma.fields.String(**R, metadata={"example": "Can a headache start a week later?"})
    article_id = ma.fields.UUID(required=True, allow_none=True)
    article = nullable_text(
        "headache-after-botox", metadata={"description": "The article's current slug."}
    )
    topic = nullable_text("headache", metadata={"description": "The topic's slug."})
    email = nullable_text(
        "reader@example.org",
        metadata={"description": "The reader's address; null for roles that cannot answer."},
    )
    status = ma.fields.String(
        **R, validate=validate.OneOf(QUESTION_STATUSES), metadata={"example": "new"}
    )
    answer = nullable_text(metadata={"description": "The editor's answer, Markdown."})
    faq_id = ma.fields.UUID(
        required=True,
        allow_none=True,
        metadata={"description": "The FAQ the question was promoted to."},
    )
    created_at = ma.fields.DateTime(**R)
    updated_at = ma.fields.DateTime(**R)
    handled_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When an editor last answered, rejected or promoted it."},
    )
    version = ma.fields.Integer(**R, metadata={"example": 1})


QuestionList = list_schema(QuestionOut, "QuestionList")


class QuestionQueryArgs(PageArgs):
    status = ma.fields.String(
        validate=validate.OneOf(QUESTION_STATUSES),
        metadata={"description": "Only questions in this state.", "example": "new"},
    )


class QuestionAnswerIn(StrictSchema):
    answer = StrippedText(
        **R,
        validate=validate.Length(min=1, max=ANSWER_MAX),
        metadata={
            "description": "The answer, Markdown (CommonMark).",
            "example": "Rarely: most start within a day or two. See a doctor if it is severe.",
        },
    )


class QuestionPromoteIn(StrictSchema):
    article_id = ma.fields.UUID(
        allow_none=True,
        load_default=None,
        metadata={"description": "The article that gets the FAQ, by id. Not with `article`."},
    )
    article = slug_field(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "The article that gets the FAQ, by slug. Neither given: the "
            "article the reader asked about.",
        },
    )
    topic = slug_field(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "The topic that gets the FAQ (as a draft awaiting its own review), "
            "by slug. Not with `article_id` or `article`.",
        },
    )
    question = StrippedText(
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=QUESTION_MIN, max=FAQ_QUESTION_MAX),
        metadata={
            "description": "The question as the FAQ shows it; default: the reader's words "
            f"(which must then fit {FAQ_QUESTION_MAX} characters).",
        },
    )
    answer = StrippedText(
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=ANSWER_MAX),
        metadata={
            "description": "The FAQ's answer, Markdown; default: the question's answer "
            "(required when it has none).",
        },
    )

    @ma.validates_schema
    def _one_article(self, data: dict[str, Any], **kwargs: Any) -> None:
        given = [name for name in ("article_id", "article", "topic") if data.get(name) is not None]
        if len(given) > 1:
            raise ma.ValidationError(
                {name: ["Name one article (by id or slug) or one topic."] for name in given}
            )
