"""Editing articles: create, edit, trash and restore, with a revision and an audit entry each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict, ValidationFailed
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleSlug,
    ArticleTopic,
    Citation,
    Faq,
    MedicalReview,
    Person,
    RelatedLink,
    Revision,
    Section,
    Topic,
)
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.changes import under_review
from cms_api.services.editorial.common import (
    ContentType,
    fetch,
    invalid,
    like_pattern,
    recently_changed,
)
from cms_api.services.editorial.transitions import allowed_transitions
from cms_api.services.editorial.works import outdated_condition, preload, work_of
from cms_api.services.publishing import images, revisions
from cms_api.services.publishing import reviews as review_record
from cms_api.services.publishing.articles import change_slug, refresh_articles
from cms_api.services.runtime import settings
from cms_api.services.trash import move_to_trash, take_out_of_trash

# Fields a plain create or edit may set. Status, authors and reviews have their own calls.
SCALAR_FIELDS = (
    "title",
    "summary",
    "disclaimer",
    "call_to_actions",
    "meta_title",
    "meta_description",
    "canonical_url",
    "review_interval_months",
    "lead_image_id",
)
STRUCTURED_FIELDS = ("sections", "citations", "topics")


def get_article(
    article_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = False
) -> Article:
    return fetch(
        Article, article_id, label="article", for_update=for_update, include_trashed=include_trashed
    )


def article_slug_taken(slug: str, locale: str, article_id: uuid.UUID | None) -> bool:
    """Whether another article of the locale has the slug, now or as a former slug (which
    keeps redirecting); each locale has its own slugs."""
    other = select(Article.id).where(Article.locale == locale, Article.slug == slug)
    former = select(ArticleSlug.article_id).where(
        ArticleSlug.locale == locale, ArticleSlug.slug == slug
    )
    if article_id is not None:
        other = other.where(Article.id != article_id)
        former = former.where(ArticleSlug.article_id != article_id)
    return bool(db.session.scalar(select(exists(other) | exists(former))))


def _topics_by_slug(slugs: list[str]) -> list[Topic]:
    found = {
        topic.slug: topic
        for topic in db.session.scalars(
            select(Topic).where(Topic.slug.in_(slugs), Topic.deleted_at.is_(None))
        )
    }
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise ValidationFailed(
            f"Unknown topic {', '.join(unknown)}.",
            errors={"json": {"topics": [f"Unknown topic: {slug}." for slug in unknown]}},
        )
    return [found[slug] for slug in dict.fromkeys(slugs)]


def _build_sections(article: Article, items: list[dict[str, Any]]) -> list[Section]:
    keys: list[str] = []
    sections: list[Section] = []
    for position, item in enumerate(items):
        parent = Section(
            id=uuid.uuid4(),
            article_id=article.id,
            key=item["key"],
            heading=item["heading"],
            body=item.get("body") or "",
            position=position,
        )
        sections.append(parent)
        keys.append(item["key"])
        for child_position, child in enumerate(item.get("subsections") or []):
            sections.append(
                Section(
                    id=uuid.uuid4(),
                    article_id=article.id,
                    parent_id=parent.id,
                    key=child["key"],
                    heading=child["heading"],
                    body=child.get("body") or "",
                    position=child_position,
                )
            )
            keys.append(child["key"])
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValidationFailed(
            f"Section keys must be unique within an article: {', '.join(duplicates)}.",
            errors={"json": {"sections": [f"Duplicate key: {key}." for key in duplicates]}},
        )
    return sections


def apply_content(article: Article, data: dict[str, Any]) -> None:
    # Images readers could not see are refused before anything changes.
    if data.get("lead_image_id") != article.lead_image_id:
        images.check_attachable(data.get("lead_image_id"), "lead_image_id")
    if "sections" in data:
        images.check_sections(data["sections"])
    for name in SCALAR_FIELDS:
        if name in data:
            setattr(article, name, data[name])
    if "disclosures" in data:
        # Only what is stated is stored, so "no sponsor" is one value ({}) in every revision.
        stated = data["disclosures"] or {}
        article.disclosures = {name: value for name, value in stated.items() if value is not None}
    if "sections" in data:
        # One statement: sub-sections go with their parents (ON DELETE CASCADE), and the
        # old keys are gone before the new rows reuse them.
        db.session.flush()
        db.session.execute(delete(Section).where(Section.article_id == article.id))
        db.session.expire(article, ["all_sections", "sections"])
        article.all_sections.extend(_build_sections(article, data["sections"]))
    if "citations" in data:
        article.citations = [
            Citation(position=position, **item) for position, item in enumerate(data["citations"])
        ]
    if "topics" in data:
        article.topic_links.clear()
        db.session.flush()
        article.topic_links.extend(
            ArticleTopic(topic=topic, position=position)
            for position, topic in enumerate(_topics_by_slug(data["topics"]))
        )


def slug_conflict(slug: str, locale: str) -> Conflict:
    return Conflict(
        f"The slug {slug!r} is already in use in {locale}.",
        errors={"json": {"slug": ["Already in use."]}},
    )


def create_article(data: dict[str, Any], actor: Actor) -> Article:
    """A new draft, in `locale` (the site's default locale when not given)."""
    locale = data.get("locale") or settings().default_locale
    if locale not in settings().locales:
        raise ValidationFailed(
            f"{locale!r} is not one of this site's locales.",
            errors={"json": {"locale": [f"Not one of: {', '.join(settings().locales)}."]}},
        )
    if article_slug_taken(data["slug"], locale, None):
        raise slug_conflict(data["slug"], locale)
    article = Article(
        id=uuid.uuid4(),
        slug=data["slug"],
        locale=locale,
        status="draft",
        summary="",
        call_to_actions=[],
        review_interval_months=12,
    )
    db.session.add(article)
    apply_content(article, data)
    db.session.flush()
    revisions.record(article, reason="create", author_id=actor.user_id)
    db.session.flush()
    audit.record(
        actor_id=actor.user_id,
        action="article.create",
        target_type="article",
        target_id=article.id,
        after=revisions.snapshot(article) | {"slug": article.slug, "locale": article.locale},
        request_id=actor.request_id,
    )
    return article


def update_article(article: Article, data: dict[str, Any], actor: Actor) -> Article:
    """Apply a merge patch. A change to the content records a revision, and content that
    was approved or published goes back to review."""
    before = revisions.snapshot(article) | {"slug": article.slug}
    if "source_revision" in data:
        article.source_revision = _caught_up_to(article, data["source_revision"])
    if "slug" in data and data["slug"] != article.slug:
        if article_slug_taken(data["slug"], article.locale, article.id):
            raise slug_conflict(data["slug"], article.locale)
        if article.published_at is not None:
            change_slug(article.id, data["slug"])
        else:
            article.slug = data["slug"]
    apply_content(article, data)
    db.session.flush()
    after = revisions.snapshot(article) | {"slug": article.slug}
    changed_before, changed_after = audit.changed_fields(before, after)
    content_changed = any(key != "slug" for key in changed_after)
    if content_changed:
        revisions.record(article, reason="edit", author_id=actor.user_id)
        if article.status in ("approved", "published"):
            article.status = "in_review"
        log_cancelled_schedule(article, actor)
    elif changed_after:
        article.updated_at = utcnow()  # a slug-only change still bumps the version
    db.session.flush()
    if changed_after:
        audit.record(
            actor_id=actor.user_id,
            action="article.update",
            target_type="article",
            target_id=article.id,
            before=changed_before,
            after=changed_after,
            request_id=actor.request_id,
        )
    return article


def _caught_up_to(article: Article, number: int) -> int:
    """Check the revision of its original a translation now says it reflects: one the
    original has, and none older than the one it reflected already."""
    if article.source_id is None:
        raise invalid("source_revision", "Only a translation has a source revision.")
    known = db.session.scalar(
        select(exists().where(Revision.article_id == article.source_id, Revision.number == number))
    )
    if not known:
        raise invalid("source_revision", f"The original has no revision {number}.")
    if article.source_revision is not None and number < article.source_revision:
        raise invalid(
            "source_revision",
            f"Older than the revision already reflected ({article.source_revision}).",
        )
    return number


def set_authors(article: Article, person_slugs: list[str], actor: Actor) -> Article:
    people = {
        person.slug: person
        for person in db.session.scalars(
            select(Person).where(Person.slug.in_(person_slugs), Person.deleted_at.is_(None))
        )
    }
    unknown = [slug for slug in person_slugs if slug not in people]
    if unknown:
        raise ValidationFailed(
            f"Unknown person {', '.join(unknown)}.",
            errors={"json": {"authors": [f"Unknown person: {s}." for s in unknown]}},
        )
    before = [link.person.slug for link in article.authorships]
    article.authorships.clear()
    db.session.flush()
    article.authorships.extend(
        ArticleAuthor(person=people[slug], position=position)
        for position, slug in enumerate(dict.fromkeys(person_slugs))
    )
    db.session.flush()
    if before != list(dict.fromkeys(person_slugs)):
        revisions.record(article, reason="authors", author_id=actor.user_id)
        if article.status in ("approved", "published"):
            article.status = "in_review"
        log_cancelled_schedule(article, actor)
        db.session.flush()
        audit.record(
            actor_id=actor.user_id,
            action="article.authors",
            target_type="article",
            target_id=article.id,
            before={"authors": ", ".join(before)},
            after={"authors": ", ".join(person_slugs)},
            request_id=actor.request_id,
        )
    return article


def log_cancelled_schedule(article: Article, actor: Actor) -> None:
    """Audit a schedule that a new revision cancelled (`revisions.record` cancels it: a
    schedule publishes only the approved revision it was set for)."""
    if article.schedule_cancelled:
        audit.record(
            actor_id=actor.user_id,
            action="article.schedule_cancelled",
            target_type="article",
            target_id=article.id,
            after={"revision": article.revision_number, "reason": "a new revision"},
            request_id=actor.request_id,
        )


def trash_article(article: Article, actor: Actor) -> None:
    """Move to the trash: hidden from delivery with its FAQs and links, nothing deleted."""
    move_to_trash(article, "article", actor)
    refresh_articles([article.id])


def restore_article(article: Article, actor: Actor) -> Article:
    take_out_of_trash(article, "article", actor)
    refresh_articles([article.id])
    return article


@dataclass(frozen=True)
class ArticleFilters:
    status: str | None = None
    author: str | None = None
    topic: str | None = None
    overdue: bool | None = None
    q: str | None = None
    locale: str | None = None
    outdated: bool | None = None
    trashed: bool = False


ARTICLES_KEYSET = Keyset("admin-articles", (aware_datetime, uuid_value))


def list_articles(filters: ArticleFilters, *, limit: int, cursor: str | None) -> Page[Article]:
    """Articles by most recently changed first, keyset-paginated on (updated_at, id)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(Article.status == filters.status)
    if filters.author:
        conditions.append(
            Article.authorships.any(ArticleAuthor.person.has(Person.slug == filters.author))
        )
    if filters.topic:
        conditions.append(
            Article.topic_links.any(ArticleTopic.topic.has(Topic.slug == filters.topic))
        )
    if filters.overdue is not None:
        overdue = and_(
            Article.live_revision.is_not(None), Article.next_review_due < func.current_date()
        )
        conditions.append(overdue if filters.overdue else ~overdue)
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(
            or_(
                Article.title.ilike(pattern),
                Article.summary.ilike(pattern),
                Article.slug.ilike(pattern),
            )
        )
    if filters.locale:
        conditions.append(Article.locale == filters.locale)
    if filters.outdated is not None:
        outdated = outdated_condition()
        conditions.append(outdated if filters.outdated else ~outdated)
    page = recently_changed(
        Article,
        conditions,
        trashed=filters.trashed,
        keyset=ARTICLES_KEYSET,
        cursor=cursor,
        limit=limit,
    )
    preload(page.items)
    return page


# -- what the admin representation shows ------------------------------------------------------


def approval_is_current(article: Article) -> MedicalReview | None:
    """The approval of the current revision by a reviewer who is not an author, if any;
    one withdrawn by request-changes does not count."""
    authors = {link.person_id for link in article.authorships}
    for review in article.reviews:
        if (
            review.revision_number == article.revision_number
            and review.reviewer_id not in authors
            and review.withdrawn_at is None
        ):
            return review
    return None


def review_flags(article: Article, today: date | None = None) -> list[str]:
    """Warnings an editor should see: expired reviewer credentials, overdue review."""
    today = today or utcnow().date()
    flags = []
    # The reviewers the public page names; before anything went live, the latest approval.
    for review in review_record.record_reviews(article) or article.reviews[:1]:
        expired = [
            c.name
            for c in review.reviewer.credentials
            if c.valid_until is not None and c.valid_until < today
        ]
        if expired:
            flags.append(
                f"Reviewer {review.reviewer.name} has expired credentials: {', '.join(expired)}."
            )
    if article.next_review_due and article.next_review_due < today and article.live_revision:
        flags.append(f"Medical review overdue since {article.next_review_due.isoformat()}.")
    return flags


def faqs_and_links_of(article_id: uuid.UUID) -> tuple[list[Faq], list[RelatedLink]]:
    faqs = list(db.session.scalars(select(Faq).where(Faq.article_id == article_id)))
    links = list(db.session.scalars(select(RelatedLink).where(RelatedLink.source_id == article_id)))
    return faqs, links


def present(article: Article) -> dict[str, Any]:
    """The admin representation: the working copy with its Markdown, state and warnings."""
    content = revisions.snapshot(article)
    work = work_of(article)
    return {
        **{
            name: getattr(article, name)
            for name in (
                "id",
                "slug",
                "locale",
                "source_revision",
                "status",
                "version",
                "revision_number",
                "live_revision",
                "published_at",
                "content_updated_at",
                "last_reviewed_at",
                "next_review_due",
                "publish_at",
                "publish_at_revision",
                "schedule_cancelled",
                "created_at",
                "updated_at",
                "deleted_at",
            )
        },
        **{
            name: content[name] for name in (*SCALAR_FIELDS, "disclosures", "sections", "citations")
        },
        "topics": [
            link.topic.slug for link in sorted(article.topic_links, key=lambda x: x.position)
        ],
        "authors": [
            link.person.slug for link in sorted(article.authorships, key=lambda x: x.position)
        ],
        "reviews": [
            {
                "reviewer": review.reviewer.slug,
                "reviewed_at": review.reviewed_at,
                "revision_number": review.revision_number,
                "kind": review.kind,
                "notes": review.notes,
                "public_note": review.public_note,
                "withdrawn_at": review.withdrawn_at,
                "published_at": review.published_at,
            }
            for review in article.reviews
        ],
        "review_diff": under_review(article),
        "approval_current": approval_is_current(article) is not None,
        "review_flags": review_flags(article),
        "allowed_transitions": allowed_transitions(article),
        "source": work.source,
        "outdated": work.outdated,
        "translations": work.translations,
    }


ARTICLES = ContentType[Article](
    kind="article",
    get=get_article,
    update=update_article,
    trash=trash_article,
    restore=restore_article,
    present=present,
    filters=ArticleFilters,
    list=list_articles,
    create=create_article,
)
