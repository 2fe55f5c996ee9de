"""Load the sample content in seeds/ idempotently, publishing through the publishing service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    Citation,
    Credential,
    Faq,
    Image,
    MedicalCode,
    MedicalReview,
    Person,
    RedFlag,
    RelatedLink,
    Section,
    Topic,
)
from cms_api.services.media.images import create_image
from cms_api.services.publishing import revisions
from cms_api.services.publishing.articles import publish_articles
from cms_api.services.publishing.images import PUBLISHER_LOGO
from cms_api.services.publishing.red_flags import publish_documents as publish_red_flags
from cms_api.services.publishing.topics import refresh_topics

SEEDS_DIRECTORY = Path(__file__).resolve().parents[3] / "seeds"
# Any constant will do: it serialises concurrent seed runs on one database.
_SEED_LOCK = 0x5EED


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


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_seeds(directory: Path = SEEDS_DIRECTORY) -> SeedReport:
    """Create whatever seeded content is missing; running it twice changes nothing."""
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})
    report = SeedReport()
    people_entries = _load(directory / "people.yaml") or []
    articles = [_load(path) for path in sorted((directory / "articles").glob("*.yaml"))]
    images = _seed_images(directory, people_entries, articles, report)
    people = _seed_people(people_entries, images, report)
    topics = _seed_topics(_load(directory / "topics.yaml") or [], report)
    new_articles = _seed_articles(articles, people, topics, images, report)
    faqs_path = directory / "faqs.yaml"
    new_topic_faqs = _seed_topic_faqs(
        _load(faqs_path) if faqs_path.exists() else [], people, topics, report
    )
    db.session.flush()
    for article in new_articles:
        # Seeded articles arrive reviewed: revision 1 is what the reviewer approved.
        revisions.record(article, reason="seed")
        for review in article.reviews:
            review.revision_number = article.revision_number
    db.session.flush()
    # Published as of each seed's own date: that is its last substantive change (sitemaps'
    # lastmod, `updated_at`), not the moment the seeds were loaded.
    by_date: dict[datetime | None, list[uuid.UUID]] = {}
    for article in new_articles:
        by_date.setdefault(article.published_at, []).append(article.id)
    for published_at, article_ids in by_date.items():
        publish_articles(article_ids, at=published_at)
    for article in new_articles:
        _publish_corrections(article)
    if new_topic_faqs or report.created.get("topics"):
        refresh_topics()
    red_flags_path = directory / "red_flags.yaml"
    if red_flags_path.exists():
        _seed_red_flags(_load(red_flags_path) or [], people, report)
    return report


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


def _corrections(
    entry: dict[str, Any], article: Article, people: dict[str, Person]
) -> list[dict[str, Any]]:
    """The article's seeded corrections, oldest first; its sections take the wording from
    before them (the corrected wording is what the seed file says)."""
    slug = entry["slug"]
    found = []
    items = sorted(entry.get("corrections") or [], key=lambda c: str(c["published_at"]))
    # Undone newest first, so that revision 1 has the wording from before all of them.
    for item in reversed(items):
        sections = [s for s in article.all_sections if s.key == item["section"]]
        if not sections or sections[0].body.count(item["now"]) != 1:
            raise SeedError(f"{slug}: correction text not found once in {item['section']!r}")
        sections[0].body = sections[0].body.replace(item["now"], item["was"])
        found.append(
            {
                "section": sections[0],
                "was": item["was"],
                "now": item["now"],
                "reviewer": _lookup(people, item["reviewer"], "person", slug),
                "reviewed_at": _date(item["reviewed_at"]),
                "published_at": _datetime(item["published_at"]),
                "note": item["note"],
                "notes": item.get("notes"),
            }
        )
    return found[::-1]


def _lookup(index: dict[str, Any], slug: str, what: str, where: str) -> Any:
    try:
        return index[slug]
    except KeyError:
        raise SeedError(f"{where}: unknown {what} {slug!r}") from None


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _seed_images(
    directory: Path,
    people: list[dict[str, Any]],
    articles: list[dict[str, Any]],
    report: SeedReport,
) -> dict[str, Image]:
    """The seeded pictures the new people and articles show, and the publisher's logo,
    taken into the media library (each once, found again by its file name)."""
    manifest = directory / "images.yaml"
    entries = {entry["file"]: entry for entry in (_load(manifest) if manifest.exists() else [])}
    known_people = set(db.session.scalars(select(Person.slug)))
    known_articles = set(db.session.scalars(select(Article.slug)))
    wanted = {name for name in entries if name.partition(".")[0] == PUBLISHER_LOGO}
    wanted |= {e["image"] for e in people if e.get("image") and e["slug"] not in known_people}
    wanted |= {
        e["lead_image"] for e in articles if e.get("lead_image") and e["slug"] not in known_articles
    }
    found = {
        image.filename: image
        for image in db.session.scalars(
            select(Image).where(Image.filename.in_(wanted), Image.deleted_at.is_(None))
        )
        if image.filename
    }
    for name in sorted(wanted - found.keys()):
        entry = _lookup(entries, name, "image", manifest.name)
        found[name] = create_image(
            (directory / "images" / name).read_bytes(),
            filename=name,
            alt_text=entry["alt_text"],
            caption=entry.get("caption"),
            credit=entry.get("credit"),
            license=entry.get("license"),
            license_url=entry.get("license_url"),
            focal_x=float(entry.get("focal_x", 0.5)),
            focal_y=float(entry.get("focal_y", 0.5)),
        )
        report.add("images")
    return found


def _image_id(images: dict[str, Image], name: str | None, where: str) -> uuid.UUID | None:
    return _lookup(images, name, "image", where).id if name else None


def _seed_people(
    entries: list[dict[str, Any]], images: dict[str, Image], report: SeedReport
) -> dict[str, Person]:
    existing = {p.slug: p for p in db.session.scalars(select(Person))}
    for entry in entries:
        if entry["slug"] in existing:
            continue
        person = Person(
            id=uuid.uuid4(),
            slug=entry["slug"],
            name=entry["name"],
            honorific_prefix=entry.get("honorific_prefix"),
            honorific_suffix=entry.get("honorific_suffix"),
            job_title=entry.get("job_title"),
            bio=entry.get("bio"),
            photo_url=entry.get("photo_url"),
            image_id=_image_id(images, entry.get("image"), entry["slug"]),
            profile_links=entry.get("profile_links") or [],
            specialties=entry.get("specialties") or [],
            credentials=[
                Credential(
                    position=position,
                    kind=item["kind"],
                    name=item["name"],
                    issuer=item.get("issuer"),
                    jurisdiction=item.get("jurisdiction"),
                    number=item.get("number"),
                    valid_from=_date(item.get("valid_from")),
                    valid_until=_date(item.get("valid_until")),
                    verified_at=_datetime(item.get("verified_at")),
                )
                for position, item in enumerate(entry.get("credentials") or [])
            ],
        )
        db.session.add(person)
        existing[person.slug] = person
        report.add("people")
    return existing


def _seed_topics(entries: list[dict[str, Any]], report: SeedReport) -> dict[str, Topic]:
    existing = {t.slug: t for t in db.session.scalars(select(Topic))}
    for position, entry in enumerate(entries):
        if entry["slug"] in existing:
            continue
        parent = entry.get("parent")
        topic = Topic(
            id=uuid.uuid4(),
            slug=entry["slug"],
            name=entry["name"],
            description=entry.get("description"),
            parent=_lookup(existing, parent, "topic", entry["slug"]) if parent else None,
            position=position,
            specialty=entry.get("specialty"),
            synonyms=[str(term) for term in entry.get("synonyms") or []],
            codes=[
                MedicalCode(system=item["system"], code=str(item["code"]), display=item["display"])
                for item in entry.get("codes") or []
            ],
        )
        db.session.add(topic)
        existing[topic.slug] = topic
        report.add("topics")
    return existing


def _seed_articles(
    entries: list[dict[str, Any]],
    people: dict[str, Person],
    topics: dict[str, Topic],
    images: dict[str, Image],
    report: SeedReport,
) -> list[uuid.UUID]:
    existing = {a.slug: a for a in db.session.scalars(select(Article))}
    created: dict[str, Article] = {}
    for entry in entries:
        if entry["slug"] in existing:
            continue
        article = _build_article(entry, people, topics)
        article.lead_image_id = _image_id(images, entry.get("lead_image"), entry["slug"])
        db.session.add(article)
        existing[article.slug] = created[article.slug] = article
        report.add("articles")
        report.add("faqs", len(entry.get("faqs") or []))
    for entry in entries:
        article = created.get(entry["slug"])
        if article is None:
            continue
        for position, link in enumerate(entry.get("related") or []):
            target = _lookup(existing, link["target"], "article", entry["slug"])
            db.session.add(
                RelatedLink(
                    source_id=article.id,
                    target_id=target.id,
                    relation=link.get("relation", "see_also"),
                    weight=float(link.get("weight", 0.5)),
                    anchor_text=link.get("anchor_text"),
                    position=position,
                )
            )
            report.add("related_links")
    return list(created.values())


def _sections(
    entries: list[dict[str, Any]], article: Article, parent: Section | None = None
) -> list[Section]:
    sections = []
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
        sections.append(section)
        sections += _sections(entry.get("subsections") or [], article, section)
    return sections


def _build_article(
    entry: dict[str, Any], people: dict[str, Person], topics: dict[str, Topic]
) -> Article:
    slug = entry["slug"]
    seo = entry.get("seo") or {}
    reviews = entry.get("reviews") or []
    article = Article(
        id=uuid.uuid4(),
        slug=slug,
        title=entry["title"],
        summary=entry.get("summary") or "",
        status="approved" if reviews else "draft",
        disclaimer=entry.get("disclaimer"),
        call_to_actions=entry.get("call_to_actions") or [],
        meta_title=seo.get("meta_title"),
        meta_description=seo.get("meta_description"),
        canonical_url=seo.get("canonical_url"),
        review_interval_months=int(entry.get("review_interval_months") or 12),
        disclosures=entry.get("disclosures") or {},
        published_at=_datetime(entry.get("published_at")),
    )
    article.all_sections = _sections(entry.get("sections") or [], article)
    article.citations = [
        Citation(
            position=position,
            title=item["title"],
            authors=item.get("authors"),
            publisher=item.get("publisher"),
            periodical=item.get("periodical"),
            year=item.get("year"),
            doi=item.get("doi"),
            pmid=str(item["pmid"]) if item.get("pmid") else None,
            url=item.get("url"),
        )
        for position, item in enumerate(entry.get("citations") or [])
    ]
    article.authorships = [
        ArticleAuthor(person=_lookup(people, author, "person", slug), position=position)
        for position, author in enumerate(entry.get("authors") or [])
    ]
    article.reviews = [
        MedicalReview(
            reviewer=_lookup(people, review["reviewer"], "person", slug),
            reviewed_at=_date(review["reviewed_at"]),
            kind=review.get("kind", "clinical"),
            notes=review.get("notes"),
        )
        for review in reviews
    ]
    article._seed_corrections = _corrections(entry, article, people)  # type: ignore[attr-defined]
    if reviews:
        article.last_reviewed_at = max(_date(review["reviewed_at"]) for review in reviews)
    article.topic_links = [
        ArticleTopic(topic=_lookup(topics, topic, "topic", slug), position=position)
        for position, topic in enumerate(entry.get("topics") or [])
    ]
    for position, item in enumerate(entry.get("faqs") or []):
        db.session.add(
            Faq(
                article=article,
                question=item["question"],
                answer=item["answer"],
                position=position,
                status="published",
            )
        )
    return article


def _seed_topic_faqs(
    entries: list[dict[str, Any]],
    people: dict[str, Person],
    topics: dict[str, Topic],
    report: SeedReport,
) -> int:
    existing = {tuple(row) for row in db.session.execute(select(Faq.topic_id, Faq.question))}
    created = 0
    for position, entry in enumerate(entries):
        topic = _lookup(topics, entry["topic"], "topic", "faqs.yaml")
        if (topic.id, entry["question"]) in existing:
            continue
        db.session.add(
            Faq(
                topic=topic,
                question=entry["question"],
                answer=entry["answer"],
                position=position,
                status="published",
                published_at=utcnow(),
                # Seeded topic FAQs arrive approved: their text is the live text.
                live_question=entry["question"],
                live_answer=entry["answer"],
                reviewed_by=_lookup(people, entry["reviewed_by"], "person", "faqs.yaml"),
                reviewed_on=_date(entry["reviewed_on"]),
            )
        )
        created += 1
        report.add("topic_faqs")
    return created


def _seed_red_flags(
    entries: list[dict[str, Any]], people: dict[str, Person], report: SeedReport
) -> None:
    """Seeded red flags arrive approved by their reviewer and published."""
    existing = set(db.session.scalars(select(RedFlag.slug)))
    created = []
    for entry in entries:
        if entry["slug"] in existing:
            continue
        red_flag = RedFlag(
            id=uuid.uuid4(),
            slug=entry["slug"],
            name=entry["name"],
            locale=entry.get("locale", "en"),
            priority=int(entry["priority"]),
            triggers=[" ".join(str(trigger).split()) for trigger in entry["triggers"]],
            title=entry["title"],
            body=entry["body"],
            action_label=entry["action"]["label"],
            action_url=entry["action"]["url"],
            status="published",
            reviewed_by=_lookup(people, entry["reviewed_by"], "person", "red_flags.yaml"),
            reviewed_on=_date(entry["reviewed_on"]),
            published_at=utcnow(),
        )
        db.session.add(red_flag)
        created.append(red_flag)
        report.add("red_flags")
    if created:
        publish_red_flags(created)
