"""Draft preview: short-lived tokens that show an article's working copy on delivery."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.clock import add_months, utcnow
from cms_api.domain.errors import DomainError, NotFound, ValidationFailed
from cms_api.domain.formats import dumps, iso_datetime
from cms_api.domain.previews import MAX_LIFETIME, MAX_TOKEN_LENGTH, MIN_LIFETIME, TOKEN_PREFIX
from cms_api.models import (
    Article,
    ArticleSlug,
    PreviewToken,
    PublishedDocument,
    Revision,
)
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.delivery.articles import only_sections
from cms_api.services.editorial import articles as editorial
from cms_api.services.publishing import render as rendering
from cms_api.services.publishing import revisions
from cms_api.services.publishing.articles import Works, live_articles
from cms_api.services.publishing.faqs import public_faqs

CHALLENGE = 'PreviewToken realm="cms-api"'


class InvalidPreviewToken(DomainError):
    """A preview was asked for with a token that does not open this article."""

    status = 401
    kind = "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": CHALLENGE})


@dataclass(frozen=True)
class IssuedPreview:
    token: PreviewToken
    secret: str
    slug: str


def token_digest(secret: str) -> str:
    # 256 random bits: a fast hash is enough, as for admin tokens.
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


# -- minting, listing, revoking ---------------------------------------------------------------


def mint(article_id: uuid.UUID, *, lifetime: timedelta, actor: Actor) -> IssuedPreview:
    """A new preview token for the article (not one in the trash); its secret is returned once."""
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        low, high = int(MIN_LIFETIME.total_seconds()), int(MAX_LIFETIME.total_seconds())
        raise ValidationFailed(
            f"A preview token lives {low} to {high} seconds.",
            errors={"json": {"expires_in": [f"Must be between {low} and {high}."]}},
        )
    article = editorial.get_article(article_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    # The clock, not the transaction's start: tokens minted together still list in order.
    now = utcnow()
    token = PreviewToken(
        id=uuid.uuid4(),
        article_id=article.id,
        created_by=actor.user_id,
        prefix=secret[: len(TOKEN_PREFIX) + 8],
        digest=token_digest(secret),
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        actor_id=actor.user_id,
        action="preview_token.create",
        target_type="article",
        target_id=article.id,
        after={
            "token_id": str(token.id),
            "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat(),
        },
        request_id=actor.request_id,
    )
    return IssuedPreview(token=token, secret=secret, slug=article.slug)


def active_tokens(article_id: uuid.UUID) -> list[PreviewToken]:
    """The article's tokens that still open it, newest first."""
    editorial.get_article(article_id, include_trashed=True)  # 404 for an unknown article
    return list(
        db.session.scalars(
            select(PreviewToken)
            .where(
                PreviewToken.article_id == article_id,
                PreviewToken.revoked_at.is_(None),
                PreviewToken.expires_at > utcnow(),
            )
            .order_by(PreviewToken.created_at.desc(), PreviewToken.id)
        )
    )


def get_token(token_id: uuid.UUID) -> PreviewToken:
    token = db.session.get(PreviewToken, token_id)
    if token is None:
        raise NotFound("No preview token has this id.")
    return token


def revoke(token_id: uuid.UUID, *, actor: Actor) -> PreviewToken:
    """Stop a token from opening its article; revoking twice changes nothing."""
    token = get_token(token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        audit.record(
            actor_id=actor.user_id,
            action="preview_token.revoke",
            target_type="article",
            target_id=token.article_id,
            before={"token_id": str(token.id), "revoked_at": None},
            after={"token_id": str(token.id), "revoked_at": token.revoked_at.isoformat()},
            request_id=actor.request_id,
        )
    return token


def is_active(token: PreviewToken, now: datetime | None = None) -> bool:
    return token.revoked_at is None and token.expires_at > (now or utcnow())


# -- opening a preview ----------------------------------------------------------------------


def article_for(secret: str, slug: str) -> Article:
    """The article a preview token opens at this address: its slug or a former one.

    Anything else is a 401 problem whose detail tells the holder why, so a frontend can
    ask for a new link instead of showing "not found".
    """
    token = None
    if secret.startswith(TOKEN_PREFIX) and len(secret) <= MAX_TOKEN_LENGTH:
        token = db.session.scalar(
            select(PreviewToken).where(PreviewToken.digest == token_digest(secret))
        )
    if token is None:
        raise InvalidPreviewToken(
            "The preview token is unknown. Mint one with "
            "POST /v1/admin/articles/{id}/preview-tokens."
        )
    if token.revoked_at is not None:
        raise InvalidPreviewToken("The preview token was revoked.")
    if token.expires_at <= utcnow():
        raise InvalidPreviewToken(f"The preview token expired at {iso_datetime(token.expires_at)}.")
    article = db.session.get(Article, token.article_id)
    if article is None or article.deleted_at is not None:
        raise InvalidPreviewToken("The article of this preview token is in the trash.")
    if slug != article.slug:
        former = db.session.get(ArticleSlug, (article.locale, slug))
        if former is None or former.article_id != article.id:
            # Its holder may see that article anyway: say where it is (a draft renamed
            # after the link was sent, say), rather than only "wrong".
            raise InvalidPreviewToken(
                "The preview token is for another article, now at "
                f"{rendering.article_path(article.slug)}."
            )
    return article


class _AsIfPublished:
    """The article row as publishing its working copy would leave it.

    Rendering reads dates, reviews and the live revision from the row; this answers
    those as `publish_articles` would set them, and everything else from the
    row, which stays untouched (the preview must never write). What publishing would
    date "now" is dated when the working copy last changed: a preview of unchanged
    content is then the same bytes with the same ETag, so revalidating it answers 304.
    """

    def __init__(self, article: Article, changed_at: datetime) -> None:
        self._article = article
        # Reviews of the working copy count, as they will once it is live.
        self.live_revision = article.revision_number or None
        self.published_at = article.published_at or changed_at
        edited = article.live_revision != article.revision_number
        updated = changed_at if edited and article.published_at else article.content_updated_at
        self.content_updated_at = updated or self.published_at
        self.next_review_due = (
            add_months(article.last_reviewed_at, article.review_interval_months)
            if article.last_reviewed_at
            else article.next_review_due
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._article, name)


def render(article: Article) -> dict[str, Any]:
    """The article document that publishing its working copy would store."""
    as_if_published = cast(Article, _AsIfPublished(article, _working_copy_changed_at(article)))
    live = live_articles([(as_if_published, revisions.snapshot(article))])
    faqs = public_faqs(live)[article.id]  # the working copy's, as publishing would show
    return rendering.article_document(live[article.id], faqs, _related(article))


def _working_copy_changed_at(article: Article) -> datetime:
    """When the working copy took its content: its current revision's save."""
    saved = db.session.scalar(
        select(Revision.created_at).where(
            Revision.article_id == article.id, Revision.number == article.revision_number
        )
    )
    return saved or article.updated_at


def article_text(document: dict[str, Any], sections: list[str] | None = None) -> str:
    """The previewed article as served, cut down to `sections` as delivery does."""
    return dumps(only_sections(document, sections) if sections else document)


def _related(article: Article) -> list[tuple[Any, dict[str, Any]]]:
    """The article's links to published articles, each with the summary readers see, as
    publishing shows them: a translation shows its original's links, and each link shows
    its target's published article in the previewed article's locale."""
    owner = db.session.get(Article, article.source_id) if article.source_id else article
    links = owner.outgoing_links if owner is not None else []
    if not links:
        return []
    works = Works.of_articles({link.target_id for link in links})
    shown = [(link, works.shown_in(link.target_id, article.locale)) for link in links]
    rows = db.session.execute(
        select(PublishedDocument.entity_id, PublishedDocument.summary).where(
            PublishedDocument.kind == "article",
            PublishedDocument.entity_id.in_({target for _, target in shown if target}),
        )
    ).all()
    summaries = {entity_id: json.loads(summary) for entity_id, summary in rows}
    return [(link, summaries[target]) for link, target in shown if target in summaries]
