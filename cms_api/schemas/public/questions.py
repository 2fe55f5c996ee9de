"""Shapes of a reader's question as sent, and the answer that it was received."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import Locale, StrictSchema, StrippedText, slug_field

R = {"required": True}


QUESTION_MIN, QUESTION_MAX = 10, 2000


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
            "description": "The published article the question is about, by its slug in "
            "`locale`. Not with `topic`.",
            "example": "headache-after-botox",
        },
    )
    locale = Locale(
        metadata={
            "description": "The locale of the page the reader asks from (one of the site's "
            "locales, CMS_LOCALES; default: the site's default locale): `article` is that "
            "locale's article at the slug, and the question is kept with it.",
            "example": "en",
        }
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
