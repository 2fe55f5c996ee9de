"""Shapes of an instant answer: the question, quoted passages with citations, or where to ask."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import Locale, StrictSchema, free_text, nullable_text
from cms_api.schemas.common import text as text_field
from cms_api.schemas.public.red_flags import RedFlagOut

R = {"required": True}
Q_MAX = 300


class AnswerQueryArgs(StrictSchema):
    q = free_text(
        Q_MAX,
        required=True,
        metadata={
            "description": f"The reader's question as typed, 1 to {Q_MAX} characters, no "
            "control characters. Letter case, accents and word endings do not matter.",
            "example": "how long does a headache after botox last",
        },
    )
    locale = Locale(
        metadata={
            "description": "The locale of the question, whose reviewed content answers it "
            "(one of the site's locales, CMS_LOCALES; default: the site's default locale): "
            "only passages written in it are quoted, and an unanswered question is counted "
            "under it.",
            "example": "es",
        }
    )


class AnswerReviewerOut(ma.Schema):
    name = text_field("Dr. Rafael Oyelaran, MD", **R)
    slug = text_field("rafael-oyelaran", **R)


class AnswerCitationOut(ma.Schema):
    url = text_field(
        "https://www.example-health.org/articles/tmj-headache#when-to-see-a-doctor",
        **R,
        metadata={
            "description": "The public page quoted, with `#key` when the passage is a "
            "section (the section heading's HTML id)."
        },
    )
    title = text_field(
        "TMJ Headache: Why Your Jaw Can Make Your Head Hurt",
        **R,
        metadata={"description": "The article's title, or a topic FAQ's question."},
    )
    section = nullable_text(
        "when-to-see-a-doctor", metadata={"description": "The section key; null for a FAQ."}
    )
    reviewers = ma.fields.List(
        ma.fields.Nested(AnswerReviewerOut),
        **R,
        metadata={"description": "Who signed off the review of record."},
    )
    reviewed_on = ma.fields.Date(**R, metadata={"description": "The date of the review of record."})


class AnswerPassageOut(ma.Schema):
    heading = text_field(
        "When to see a doctor",
        **R,
        metadata={"description": "The section heading, or the FAQ's question."},
    )
    text = text_field(
        "See a doctor or dentist if jaw pain and headaches persist beyond a few weeks…",
        **R,
        metadata={
            "description": "The passage verbatim as plain text: the stored HTML's text, "
            "unescaped. Escape it before inserting it into HTML, or use `html`."
        },
    )
    html = text_field(
        "<p>See a doctor or dentist if jaw pain and headaches persist beyond a few weeks…</p>",
        **R,
        metadata={
            "description": "The passage verbatim as the stored, sanitized HTML the page shows."
        },
    )
    confidence = ma.fields.Float(
        **R,
        metadata={
            "description": "The estimated probability that this passage answers the "
            "question, 0..1 (calibrated on a development set of lay questions).",
            "example": 0.86,
        },
    )
    score = ma.fields.Float(
        **R,
        metadata={
            "description": "Its reciprocal-rank-fusion score over the lexical, trigram and "
            "semantic rankings (sum of 1 / (60 + rank)).",
            "example": 0.032,
        },
    )
    citation = ma.fields.Nested(AnswerCitationOut, **R)


class AnswerAskOut(ma.Schema):
    href = text_field("/v1/questions", **R)
    method = text_field("POST", **R, validate=validate.OneOf(["POST"]))


class AnswerOut(ma.Schema):
    q = text_field("how long does a headache after botox last", **R)
    answered = ma.fields.Boolean(
        **R,
        metadata={"description": "Whether passages answer the question (or urgent guidance does)."},
    )
    urgent = ma.fields.Boolean(
        **R,
        metadata={
            "description": "The question describes an emergency: `guidance` says what to do "
            "now, and no passage is quoted."
        },
    )
    guidance = ma.fields.Nested(
        RedFlagOut,
        required=True,
        allow_none=True,
        metadata={"description": "The published red-flag guidance, when `urgent`."},
    )
    confidence = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "The best passage's confidence, 0..1 (null when `urgent`). Below "
            "`CMS_ANSWER_THRESHOLD` nothing is quoted.",
            "example": 0.99,
        },
    )
    passages = ma.fields.List(
        ma.fields.Nested(AnswerPassageOut),
        **R,
        metadata={"description": "Up to three passages, most confident first."},
    )
    ask = ma.fields.Nested(
        AnswerAskOut,
        required=True,
        allow_none=True,
        metadata={"description": "When unanswered: how to send the question to the editors."},
    )
