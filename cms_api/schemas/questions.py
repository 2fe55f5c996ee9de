"""Shapes of reader questions: what a reader sends, and what editors read and decide."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.models.faq import Faq
from cms_api.models.question import QUESTION_STATUSES
from cms_api.schemas.common import PageArgs, StrictSchema, list_schema, nullable_text, slug_field

R = {"required": True}
QUESTION_MIN, QUESTION_MAX = 10, 2000
# What the FAQ's question column holds; a longer reader question needs rewording first.
FAQ_QUESTION_MAX: int = Faq.__table__.c.question.type.length
ANSWER_MAX = 20_000


class StrippedText(ma.fields.String):
    """Text without surrounding whitespace, holding only what PostgreSQL can store."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        # A NUL or a lone surrogate (JSON's "\ud800") would fail in the database instead.
        if "\x00" in text:
            raise ma.ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ma.ValidationError("Must be valid Unicode text.") from None
        return text


class QuestionIn(StrictSchema):
    question = StrippedText(
        **R,
        validate=validate.Length(min=QUESTION_MIN, max=QUESTION_MAX),
        metadata={
            "description": f"The question, {QUESTION_MIN} to {QUESTION_MAX} characters "
            "(surrounding whitespace is ignored).",
            "example": "Can a headache after Botox start a week later?",
        },
    )
    article = slug_field(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "The published article the question is about. Not with `topic`.",
            "example": "headache-after-botox",
        },
    )
    topic = slug_field(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "The topic the question is about. Not with `article`.",
            "example": "headache",
        },
    )
    email = ma.fields.Email(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=320),
        metadata={
            "description": "Where an editor may reply; never published.",
            "example": "reader@example.org",
        },
    )

    @ma.validates_schema
    def _article_or_topic(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("article") is not None and data.get("topic") is not None:
            message = "Give an article or a topic, not both."
            raise ma.ValidationError({"article": [message], "topic": [message]})


class QuestionAcceptedOut(ma.Schema):
    id = ma.fields.UUID(**R, metadata={"description": "The question's id, for support."})
    status = ma.fields.String(
        **R, metadata={"description": "Always `new`: an editor reviews it.", "example": "new"}
    )


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
        given = [name for name in ("article_id", "article") if data.get(name) is not None]
        if len(given) > 1:
            raise ma.ValidationError(
                {name: ["Give the article by id or by slug, not both."] for name in given}
            )
