"""What the seed loaders share: reading files, finding what they name, building articles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import Article, Faq, MedicalReview, Person, Section, Topic
from cms_api.services.publishing import revisions
from cms_api.services.publishing.articles import publish_articles


class SeedError(ValueError):
    """The seed files are inconsistent (an unknown slug, a missing field)."""


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + count

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_optional(path: Path) -> list[Any]:
    """A list file that a seed folder may leave out."""
    return (load(path) or []) if path.exists() else []


def lookup(index: dict[str, Any], slug: str, what: str, where: str) -> Any:
    try:
        return index[slug]
    except KeyError:
        raise SeedError(f"{where}: unknown {what} {slug!r}") from None


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def sections(
    entries: list[dict[str, Any]], article: Article, parent: Section | None = None
) -> list[Section]:
    """The sections of a seed file, subsections after their parent."""
    built = []
    for position, entry in enumerate(entries):
        section = Section(
            id=uuid.uuid4(),
            article=article,
            parent_id=parent.id if parent else None,
            key=entry["key"],
            heading=entry["heading"],
            body=entry.get("body") or "",
            position=position,
        )
        built.append(section)
        built += sections(entry.get("subsections") or [], article, section)
    return built


def article_faqs(entries: list[dict[str, Any]], article: Article) -> None:
    """The article's FAQs, in its locale; they go live with the article."""
    for position, item in enumerate(entries):
        db.session.add(
            Faq(
                article=article,
                locale=article.locale,
                question=item["question"],
                answer=item["answer"],
                position=position,
                status="published",
            )
        )


def topic_faqs(
    entries: list[dict[str, Any]],
    locale: str,
    people: dict[str, Person],
    topics: dict[str, Topic],
    report: SeedReport,
    where: str = "faqs.yaml",
) -> int:
    """The topic FAQs of one locale's faqs.yaml that are missing; they arrive approved by
    their reviewer, so their text is the live text. Returns how many were added."""
    existing = {
        tuple(row)
        for row in db.session.execute(
            select(Faq.topic_id, Faq.question).where(Faq.locale == locale)
        )
    }
    created = 0
    for position, entry in enumerate(entries):
        topic = lookup(topics, entry["topic"], "topic", where)
        if (topic.id, entry["question"]) in existing:
            continue
        db.session.add(
            Faq(
                topic=topic,
                locale=locale,
                question=entry["question"],
                answer=entry["answer"],
                position=position,
                status="published",
                published_at=utcnow(),
                live_question=entry["question"],
                live_answer=entry["answer"],
                reviewed_by=lookup(people, entry["reviewed_by"], "person", where),
                reviewed_on=as_date(entry["reviewed_on"]),
            )
        )
        created += 1
        report.add("topic_faqs")
    return created


def reviews(
    entries: list[dict[str, Any]], people: dict[str, Person], where: str
) -> list[MedicalReview]:
    return [
        MedicalReview(
            reviewer=lookup(people, review["reviewer"], "person", where),
            reviewed_at=as_date(review["reviewed_at"]),
            kind=review.get("kind", "clinical"),
            notes=review.get("notes"),
        )
        for review in entries
    ]


def corrections(
    entry: dict[str, Any], article: Article, people: dict[str, Person]
) -> list[dict[str, Any]]:
    """The article's seeded corrections, oldest first; its sections take the wording from
    before them (the corrected wording is what the seed file says)."""
    slug = entry["slug"]
    found = []
    items = sorted(entry.get("corrections") or [], key=lambda c: str(c["published_at"]))
    # Undone newest first, so that revision 1 has the wording from before all of them.
    for item in reversed(items):
        matching = [s for s in article.all_sections if s.key == item["section"]]
        if not matching or matching[0].body.count(item["now"]) != 1:
            raise SeedError(f"{slug}: correction text not found once in {item['section']!r}")
        matching[0].body = matching[0].body.replace(item["now"], item["was"])
        found.append(
            {
                "section": matching[0],
                "was": item["was"],
                "now": item["now"],
                "reviewer": lookup(people, item["reviewer"], "person", slug),
                "reviewed_at": as_date(item["reviewed_at"]),
                "published_at": as_datetime(item["published_at"]),
                "note": item["note"],
                "notes": item.get("notes"),
            }
        )
    return found[::-1]


def publish_seeded(articles: list[Article]) -> None:
    """Publish newly seeded articles: revision 1 is what their reviewers approved, live as
    of each one's own `published_at`; then each seeded correction in turn."""
    db.session.flush()
    for article in articles:
        revisions.record(article, reason="seed")
        for review in article.reviews:
            review.revision_number = article.revision_number
    db.session.flush()
    # Published as of each seed's own date: that is its last substantive change (sitemaps'
    # lastmod, `updated_at`), not the moment the seeds were loaded.
    by_date: dict[datetime | None, list[uuid.UUID]] = {}
    for article in articles:
        by_date.setdefault(article.published_at, []).append(article.id)
    for published_at, article_ids in by_date.items():
        publish_articles(article_ids, at=published_at)
    for article in articles:
        _publish_corrections(article)


def _publish_corrections(article: Article) -> None:
    """Each seeded correction: its wording becomes the next revision, approved as a
    correction and published on the correction's own date."""
    for correction in getattr(article, "_seed_corrections", []):
        section = correction["section"]
        section.body = section.body.replace(correction["was"], correction["now"])
        revisions.record(article, reason="edit")
        article.reviews.append(
            MedicalReview(
                reviewer=correction["reviewer"],
                reviewed_at=correction["reviewed_at"],
                revision_number=article.revision_number,
                kind="correction",
                notes=correction["notes"],
                public_note=correction["note"],
            )
        )
        db.session.flush()
        publish_articles([article.id], at=correction["published_at"])
