"""Translating an article: a new draft in another locale, copied from a revision of the original."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.errors import Conflict, ValidationFailed
from cms_api.models import Article, ArticleAuthor, Faq, Person, Revision, Topic
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.articles import (
    SCALAR_FIELDS,
    apply_content,
    article_slug_taken,
    get_article,
    slug_conflict,
)
from cms_api.services.editorial.common import invalid, unique_or_conflict
from cms_api.services.publishing import revisions
from cms_api.services.runtime import settings

# What a translation copies from the source revision besides sections, citations, FAQs,
# authors and topics. Not `canonical_url`: a translation is a page of its own, and a
# canonical pointing at the original's page would tell search engines to drop it in
# favour of another language.
COPIED_FIELDS = tuple(name for name in SCALAR_FIELDS if name != "canonical_url")


def create_translation(
    source_id: uuid.UUID,
    locale: str,
    slug: str,
    revision: int | None = None,
    *,
    actor: Actor,
) -> Article:
    """A draft translation of the article into `locale`, at `slug`: the content of the
    source's `revision` (default: the live one, else the latest), its FAQs included, with
    its own first revision. Related links stay on the original, shared by its translations.
    """
    # Locked, so two requests translating into the same locale queue here and the second
    # finds the first's translation.
    source = get_article(source_id, for_update=True)
    _check_translatable(source, locale)
    if article_slug_taken(slug, locale, None):
        raise slug_conflict(slug, locale)
    number = revision or source.live_revision or source.revision_number
    content = db.session.scalar(
        select(Revision.snapshot).where(Revision.article_id == source.id, Revision.number == number)
    )
    if content is None:
        raise invalid("revision", f"The article has no revision {number}.")

    article = Article(
        id=uuid.uuid4(),
        slug=slug,
        locale=locale,
        source_id=source.id,
        source_revision=number,
        status="draft",
        summary="",
        call_to_actions=[],
        review_interval_months=12,
    )
    data = _content_data(content)
    db.session.add(article)
    with unique_or_conflict("slug"):  # an article given the slug meanwhile
        apply_content(article, data)
        _copy_authors(article, content.get("authors") or [])
        db.session.flush()
    for entry in content.get("faqs") or []:
        db.session.add(
            Faq(
                id=uuid.uuid4(),
                article_id=article.id,
                locale=locale,
                question=entry["question"],
                answer=entry["answer"],
                position=entry.get("position", 0),
                # In the article's content, reviewed with it like every FAQ of an article.
                status="published",
            )
        )
    db.session.flush()
    revisions.record(article, reason=f"translate:{number}", author_id=actor.user_id)
    for faq in db.session.scalars(select(Faq).where(Faq.article_id == article.id)):
        faq.article_revision = article.revision_number
    db.session.flush()
    audit.record(
        actor_id=actor.user_id,
        action="article.translate",
        target_type="article",
        target_id=article.id,
        after=revisions.snapshot(article)
        | {
            "slug": article.slug,
            "locale": locale,
            "source_id": str(source.id),
            "source_revision": number,
        },
        request_id=actor.request_id,
    )
    return article


def _check_translatable(source: Article, locale: str) -> None:
    """Refuse what no translation can be made of: a translation (translate the original),
    a locale the site does not publish in or the source's own, one already translated."""
    if source.source_id is not None:
        raise ValidationFailed(
            f"This article is itself a translation (into {source.locale}); translate the "
            f"original, {source.source_id}.",
            errors={"path": {"article_id": ["A translation; translate its original."]}},
            original_id=str(source.source_id),
        )
    offered = settings().locales
    if locale not in offered:
        raise invalid("locale", f"Not one of this site's locales: {', '.join(offered)}.")
    if locale == source.locale:
        raise invalid("locale", f"The article is written in {locale}; translate it into another.")
    existing = db.session.scalar(
        select(Article).where(Article.source_id == source.id, Article.locale == locale)
    )
    if existing is not None:
        where = " (in the trash: restore it)" if existing.deleted_at is not None else ""
        raise Conflict(
            f"The article already has a {locale} translation{where}: {existing.slug!r}.",
            errors={"json": {"locale": ["Already translated."]}},
            translation={
                "id": str(existing.id),
                "locale": existing.locale,
                "slug": existing.slug,
                "status": existing.status,
            },
        )


def _content_data(content: dict[str, Any]) -> dict[str, Any]:
    """The revision's content as `apply_content` takes it; topics by slug, those in the
    trash left out (no article may be given one)."""
    data = {name: content.get(name) for name in COPIED_FIELDS if name in content}
    if data.get("lead_image_id"):
        data["lead_image_id"] = uuid.UUID(data["lead_image_id"])
    if "disclosures" in content:
        data["disclosures"] = content["disclosures"]
    data["sections"] = content.get("sections") or []
    data["citations"] = content.get("citations") or []
    topic_ids = [uuid.UUID(item) for item in content.get("topics") or []]
    slugs = dict(
        db.session.execute(
            select(Topic.id, Topic.slug).where(Topic.id.in_(topic_ids), Topic.deleted_at.is_(None))
        ).all()
    )
    data["topics"] = [slugs[item] for item in topic_ids if item in slugs]
    return data


def _copy_authors(article: Article, person_ids: list[str]) -> None:
    """The source revision's authors, in order; people in the trash left out."""
    ids = [uuid.UUID(item) for item in person_ids]
    people = {
        person.id: person
        for person in db.session.scalars(
            select(Person).where(Person.id.in_(ids), Person.deleted_at.is_(None))
        )
    }
    article.authorships.extend(
        ArticleAuthor(person=people[item], position=position)
        for position, item in enumerate(dict.fromkeys(item for item in ids if item in people))
    )
