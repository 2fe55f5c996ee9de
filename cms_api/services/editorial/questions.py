"""Reader questions: readers submit them; editors answer, reject or promote them into FAQs."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, func, select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import Article, ArticleSlug, Faq, ReaderQuestion, Topic
from cms_api.services import runtime
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import faqs
from cms_api.services.paging import paginate
from cms_api.services.publishing import outbox
from cms_api.services.publishing.articles import is_public

# An FAQ shows at most this much question; a longer reader question needs rewording first.
FAQ_QUESTION_MAX: int = Faq.__table__.c.question.type.length

# What an editor may still do with a question in each state; promoted and rejected are final.
ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "new": ("answer", "reject", "promote"),
    "answered": ("answer", "reject", "promote"),
    "rejected": (),
    "promoted": (),
}


def _invalid(field: str, message: str) -> DomainError:
    """A 422 naming the body field at fault, shaped like a schema validation error."""
    return ValidationFailed(message, errors={"json": {field: [message]}})


# -- readers -------------------------------------------------------------------------------


def _public_article(slug: str, locale: str) -> Article | None:
    """The published article answering at `slug` in `locale` (slugs are unique per
    locale), including at a slug it used to have."""
    article = db.session.scalar(
        select(Article).where(Article.locale == locale, Article.slug == slug)
    )
    if article is None:
        # A reader on an old link still asks about the right article.
        article = db.session.scalar(
            select(Article)
            .join(ArticleSlug, ArticleSlug.article_id == Article.id)
            .where(ArticleSlug.locale == locale, ArticleSlug.slug == slug)
        )
    return article if article is not None and is_public(article) else None


def submit(data: dict[str, Any]) -> ReaderQuestion:
    """Store a reader's question for the editors; the article or topic must be visible."""
    question = ReaderQuestion(
        id=uuid.uuid4(), question=data["question"], email=data.get("email"), status="new"
    )
    if data.get("article") is not None:
        locale = data.get("locale") or runtime.settings().default_locale
        article = _public_article(data["article"], locale)
        if article is None:
            raise _invalid("article", "No published article has this slug.")
        question.article_id = article.id
    if data.get("topic") is not None:
        topic_id = db.session.scalar(
            select(Topic.id).where(Topic.slug == data["topic"], Topic.deleted_at.is_(None))
        )
        if topic_id is None:
            raise _invalid("topic", "No topic has this slug.")
        question.topic_id = topic_id
    db.session.add(question)
    db.session.flush()
    outbox.question_received(question)
    return question


# -- editors: reading ----------------------------------------------------------------------


def get_question(question_id: uuid.UUID, *, for_update: bool = False) -> ReaderQuestion:
    query = select(ReaderQuestion).where(ReaderQuestion.id == question_id)
    if for_update:
        # Editors deciding on the same question queue on its row, so If-Match sees the latest.
        query = query.with_for_update()
    question = db.session.scalar(query)
    if question is None:
        raise NotFound("No reader question has this id.")
    return question


# Newest first: (created_at, id).
QUESTIONS_KEYSET = Keyset("questions", (aware_datetime, uuid_value))


def list_questions(*, status: str | None, limit: int, cursor: str | None) -> Page[ReaderQuestion]:
    """Newest first, keyset-paginated on (created_at, id), with the total matching."""
    return paginate(
        select(ReaderQuestion),
        [ReaderQuestion.status == status] if status else [],
        order=(ReaderQuestion.created_at, ReaderQuestion.id),
        descending=True,
        keyset=QUESTIONS_KEYSET,
        cursor=cursor,
        limit=limit,
    )


def _slugs(model: type[Article] | type[Topic], ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(model.id, model.slug).where(model.id.in_(ids)))
    return dict(rows.all())  # each row is an (id, slug) pair


def present(questions: list[ReaderQuestion], *, include_email: bool) -> list[dict[str, Any]]:
    """The admin representation, with the article's and topic's current slugs.

    The reader's email is personal data: only roles that answer questions see it.
    """
    # Two lookups for the whole page rather than two per question.
    article_slugs = _slugs(Article, {q.article_id for q in questions if q.article_id})
    topic_slugs = _slugs(Topic, {q.topic_id for q in questions if q.topic_id})
    return [
        {
            "id": q.id,
            "question": q.question,
            "article_id": q.article_id,
            "article": article_slugs.get(q.article_id) if q.article_id else None,
            "topic": topic_slugs.get(q.topic_id) if q.topic_id else None,
            "email": q.email if include_email else None,
            "status": q.status,
            "answer": q.answer,
            "faq_id": q.faq_id,
            "created_at": q.created_at,
            "updated_at": q.updated_at,
            "handled_at": q.handled_at,
            "version": q.version,
        }
        for q in questions
    ]


# -- editors: deciding ---------------------------------------------------------------------


def _require_action(question: ReaderQuestion, action: str) -> None:
    allowed = ACTIONS_BY_STATUS[question.status]
    if action not in allowed:
        raise Conflict(
            f"Cannot {action} a question that is {question.status}.",
            kind="illegal-transition",
            allowed_transitions=list(allowed),
        )


def _record(question: ReaderQuestion, action: str, before: dict[str, Any], actor: Actor) -> None:
    after = {key: getattr(question, key) for key in before}
    audit.record(
        actor_id=actor.user_id,
        action=f"question.{action}",
        target_type="question",
        target_id=question.id,
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=actor.request_id,
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: str(value) if isinstance(value, uuid.UUID) else value for key, value in values.items()
    }


def answer(question: ReaderQuestion, text: str, actor: Actor) -> ReaderQuestion:
    """Record the editor's answer; answering again replaces it."""
    _require_action(question, "answer")
    before = {"status": question.status, "answer": question.answer}
    question.answer = text
    question.status = "answered"
    question.handled_at = utcnow()
    db.session.flush()
    _record(question, "answer", before, actor)
    return question


def reject(question: ReaderQuestion, actor: Actor) -> ReaderQuestion:
    """Set the question aside for good (spam, off-topic, a request for personal advice)."""
    _require_action(question, "reject")
    before = {"status": question.status}
    question.status = "rejected"
    question.handled_at = utcnow()
    db.session.flush()
    _record(question, "reject", before, actor)
    return question


def _promotion_target(question: ReaderQuestion, data: dict[str, Any]) -> dict[str, Any]:
    """The owner the FAQ gets, as a FAQ write names it (`article_id` or `topic`)."""
    if data.get("article_id") is not None:
        field, condition = "article_id", Article.id == data["article_id"]
    elif data.get("article") is not None:
        # A slug in the locale of the article asked about (slugs are unique per locale).
        asked_about = db.session.get(Article, question.article_id) if question.article_id else None
        locale = asked_about.locale if asked_about else runtime.settings().default_locale
        field = "article"
        condition = and_(Article.locale == locale, Article.slug == data["article"])
    elif data.get("topic") is not None:
        return {"topic": data["topic"]}
    elif question.article_id is not None:
        field, condition = "article_id", Article.id == question.article_id
    elif question.topic_id is not None:
        topic = db.session.get(Topic, question.topic_id)
        if topic is None or topic.deleted_at is not None:
            raise _invalid("topic", "The question's topic is in the trash; name another.")
        return {"topic": topic.slug}
    else:
        raise _invalid("article", "The question is about no article or topic; name one.")
    article = db.session.scalar(select(Article).where(condition))
    if article is None or article.deleted_at is not None:
        raise _invalid(field, "No article (outside the trash) matches.")
    return {"article_id": article.id}


def promote(question: ReaderQuestion, data: dict[str, Any], actor: Actor) -> ReaderQuestion:
    """Turn the question into a FAQ at the end of an article's or a topic's FAQs.

    `data` may name the owner (`article_id`, `article` slug or `topic` slug; default what
    the reader asked about) and replace the question's wording or its answer. Nothing
    reaches readers unreviewed: on an article the FAQ goes into the article's next
    revision, on a topic it is a draft that awaits its own review.
    """
    _require_action(question, "promote")
    owner = _promotion_target(question, data)
    wording = data.get("question") or question.question
    if len(wording) > FAQ_QUESTION_MAX:
        raise _invalid(
            "question",
            f"The reader's question is over an FAQ's {FAQ_QUESTION_MAX} characters; "
            "send a shorter wording.",
        )
    answer_text = data.get("answer") or question.answer
    if not answer_text:
        raise _invalid("answer", "The question has no answer yet; send one.")
    on_article = "article_id" in owner
    owned_by = (
        Faq.article_id == owner["article_id"]
        if on_article
        else Faq.topic.has(Topic.slug == owner["topic"])
    )
    position = db.session.scalar(
        select(func.coalesce(func.max(Faq.position) + 1, 0)).where(
            owned_by, Faq.deleted_at.is_(None)
        )
    )
    faq = faqs.create_faq(
        {
            **owner,
            "question": wording,
            "answer": answer_text,
            "position": position,
            "status": "published" if on_article else "draft",
        },
        actor,
        audit_note={"from_question": question.id},
    )
    before = {"status": question.status, "answer": question.answer, "faq_id": question.faq_id}
    question.status = "promoted"
    question.answer = answer_text
    question.faq_id = faq.id
    question.handled_at = utcnow()
    db.session.flush()
    _record(question, "promote", before, actor)
    return question
