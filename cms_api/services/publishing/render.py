"""Turn model objects into the public JSON documents that delivery serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cms_api.domain.formats import iso_date, iso_datetime
from cms_api.models import (
    Article,
    Credential,
    Faq,
    MedicalCode,
    Person,
    Topic,
)
from cms_api.services.publishing import jsonld
from cms_api.services.publishing.markdown import reading_time_minutes, to_html, word_count


def article_path(slug: str) -> str:
    return f"/v1/articles/{slug}"


def display_name(person: Person) -> str:
    name = f"{person.honorific_prefix} {person.name}" if person.honorific_prefix else person.name
    return f"{name}, {person.honorific_suffix}" if person.honorific_suffix else name


def credential(item: Credential) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "name": item.name,
        "issuer": item.issuer,
        "jurisdiction": item.jurisdiction,
        "number": item.number,
        "valid_from": iso_date(item.valid_from),
        "valid_until": iso_date(item.valid_until),
        "verified_at": iso_datetime(item.verified_at),
    }


def person_summary(person: Person) -> dict[str, Any]:
    return {
        "id": str(person.id),
        "slug": person.slug,
        "name": person.name,
        "display_name": display_name(person),
        "honorific_prefix": person.honorific_prefix,
        "honorific_suffix": person.honorific_suffix,
        "job_title": person.job_title,
        "photo_url": person.photo_url,
    }


def person_profile(person: Person) -> dict[str, Any]:
    """The person as embedded in an article: enough to show and verify who they are."""
    return {
        **person_summary(person),
        "specialties": list(person.specialties or []),
        "profile_links": [
            {"kind": link.get("kind"), "url": link.get("url")}
            for link in person.profile_links or []
        ],
        "credentials": [credential(item) for item in person.credentials],
    }


def code(item: MedicalCode) -> dict[str, Any]:
    return {"system": item.system, "code": item.code, "display": item.display}


def topic_summary(topic: Topic) -> dict[str, Any]:
    return {
        "id": str(topic.id),
        "slug": topic.slug,
        "name": topic.name,
        "codes": [code(item) for item in topic.ordered_codes()],
    }


def section(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": item["key"],
        "heading": item["heading"],
        "body_html": to_html(item.get("body")),
        "subsections": [section(child) for child in item.get("subsections") or []],
    }


def faq_entry(faq: Faq) -> dict[str, Any]:
    return {
        "id": str(faq.id),
        "question": faq.question,
        "answer_html": to_html(faq.answer),
        "position": faq.position,
    }


@dataclass(frozen=True)
class LiveArticle:
    """An article as readers see it: the row, the content of its live revision, and the
    people and topics that content names."""

    article: Article
    content: dict[str, Any]
    authors: list[Person]
    topics: list[Topic]


def _section_words(items: list[dict[str, Any]]) -> list[str | None]:
    texts: list[str | None] = []
    for item in items:
        texts += [item.get("heading"), item.get("body")]
        texts += _section_words(item.get("subsections") or [])
    return texts


def article_summary(live: LiveArticle) -> dict[str, Any]:
    article, content = live.article, live.content
    words = word_count(content["title"], content["summary"], *_section_words(content["sections"]))
    return {
        "id": str(article.id),
        "slug": article.slug,
        "url": article_path(article.slug),
        "title": content["title"],
        "summary": content["summary"],
        "topics": [{"slug": topic.slug, "name": topic.name} for topic in live.topics],
        "authors": [
            {"slug": person.slug, "display_name": display_name(person)} for person in live.authors
        ],
        "published_at": iso_datetime(article.published_at),
        "updated_at": iso_datetime(article.content_updated_at or article.published_at),
        "last_reviewed_at": iso_date(article.last_reviewed_at),
        "reading_time_minutes": reading_time_minutes(words),
    }


def latest_reviews(article: Article) -> list[dict[str, Any]]:
    """The most recent review by each reviewer of content up to the live revision.

    A reviewer in the trash is left out, as authors are: their profile no longer answers."""
    seen: set[Any] = set()
    reviews = []
    for review in article.reviews:
        if (
            review.reviewer_id in seen
            or review.reviewer.deleted_at is not None
            or (
                review.revision_number is not None
                and article.live_revision is not None
                and review.revision_number > article.live_revision
            )
        ):
            continue
        seen.add(review.reviewer_id)
        reviews.append(
            {**person_profile(review.reviewer), "reviewed_at": iso_date(review.reviewed_at)}
        )
    return reviews


def article_document(
    live: LiveArticle,
    faqs: list[Faq],
    related: list[tuple[Any, dict[str, Any]]],
) -> dict[str, Any]:
    """The whole public article. `related` pairs each link with its target's summary.

    Its schema.org JSON-LD is derived from the rest of it and embedded as `structured_data`,
    so it is rendered once here and served as stored.
    """
    article, content = live.article, live.content
    document: dict[str, Any] = {
        **article_summary(live),
        "sections": [section(item) for item in content["sections"]],
        "faqs": [faq_entry(faq) for faq in faqs],
        "authors": [person_profile(person) for person in live.authors],
        "reviewers": latest_reviews(article),
        "topics": [topic_summary(topic) for topic in live.topics],
        "citations": [
            {
                name: item.get(name)
                for name in ("title", "authors", "publisher", "year", "doi", "pmid", "url")
            }
            for item in content["citations"]
        ],
        "related": [
            {
                "relation": link.relation,
                "anchor_text": link.anchor_text,
                "weight": link.weight,
                "article": target,
            }
            for link, target in related
        ],
        "disclaimer_html": to_html(content.get("disclaimer")) or None,
        "call_to_actions": [
            {
                "key": block.get("key"),
                "kind": block.get("kind"),
                "title": block.get("title"),
                "body_html": to_html(block.get("body")) or None,
                "button_label": block.get("button_label"),
                "url": block.get("url"),
            }
            for block in content.get("call_to_actions") or []
        ],
        "seo": {
            "meta_title": content.get("meta_title") or content["title"],
            "meta_description": content.get("meta_description") or content["summary"],
            "canonical_url": content.get("canonical_url"),
        },
        "next_review_due": iso_date(article.next_review_due),
    }
    document["structured_data"] = jsonld.article_graph(document, live.topics)
    return document


def faq_document(faq: Faq, *, article_title: str | None = None) -> dict[str, Any]:
    """A FAQ on its own; an article's FAQ names the article by its live title."""
    article = faq.article
    return {
        **faq_entry(faq),
        "article": (
            {
                "slug": article.slug,
                "title": article_title or article.title,
                "url": article_path(article.slug),
            }
            if article
            else None
        ),
        "topic": {"slug": faq.topic.slug, "name": faq.topic.name} if faq.topic else None,
        "published_at": iso_datetime(faq.published_at),
        "updated_at": iso_datetime(faq.updated_at or faq.published_at),
    }


def person_document(
    person: Person,
    authored: list[dict[str, Any]],
    authored_total: int,
    reviewed: list[dict[str, Any]],
    reviewed_total: int,
) -> dict[str, Any]:
    return {
        **person_profile(person),
        "bio_html": to_html(person.bio) or None,
        "roles": [
            role
            for role, total in (("author", authored_total), ("reviewer", reviewed_total))
            if total
        ],
        "articles_authored": {"total": authored_total, "items": authored},
        "articles_reviewed": {"total": reviewed_total, "items": reviewed},
    }


def topic_tree(topic: Topic) -> dict[str, Any]:
    """A topic with its descendants nested under `children`."""
    return {
        **topic_summary(topic),
        "children": [topic_tree(child) for child in topic.children if child.deleted_at is None],
    }


def topic_document(
    topic: Topic,
    articles: list[dict[str, Any]],
    article_total: int,
    faqs: list[Faq],
) -> dict[str, Any]:
    parent = topic.parent if topic.parent and topic.parent.deleted_at is None else None
    return {
        **topic_summary(topic),
        "description": topic.description,
        "parent": {"slug": parent.slug, "name": parent.name} if parent else None,
        "children": [
            {"slug": child.slug, "name": child.name}
            for child in topic.children
            if child.deleted_at is None
        ],
        "articles": {"total": article_total, "items": articles},
        "faqs": [faq_entry(faq) for faq in faqs],
    }
