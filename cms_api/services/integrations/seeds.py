"""Load the sample content in seeds/ idempotently, publishing through the publishing service."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    Citation,
    Credential,
    Image,
    MedicalCode,
    Person,
    RedFlag,
    RelatedLink,
    Topic,
)
from cms_api.services import runtime
from cms_api.services.integrations.seed_files import (
    SeedError,
    SeedReport,
    article_faqs,
    as_date,
    as_datetime,
    corrections,
    load,
    load_optional,
    lookup,
    publish_seeded,
    reviews,
    sections,
    topic_faqs,
)
from cms_api.services.integrations.seed_translations import load_translations
from cms_api.services.media.images import create_image
from cms_api.services.publishing.images import PUBLISHER_LOGO
from cms_api.services.publishing.red_flags import publish_documents as publish_red_flags
from cms_api.services.publishing.topics import refresh_topics

SEEDS_DIRECTORY = Path(__file__).resolve().parents[3] / "seeds"
# Any constant will do: it serialises concurrent seed runs on one database.
_SEED_LOCK = 0x5EED

__all__ = ["SEEDS_DIRECTORY", "SeedError", "SeedReport", "load_seeds"]


def load_seeds(directory: Path = SEEDS_DIRECTORY) -> SeedReport:
    """Create whatever seeded content is missing; running it twice changes nothing.

    The files at the top are the site's default locale; `translations/<locale>/` holds
    the other languages, loaded for each of the site's locales (CMS_LOCALES).
    """
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})
    report = SeedReport()
    people_entries = load(directory / "people.yaml") or []
    articles = [load(path) for path in sorted((directory / "articles").glob("*.yaml"))]
    images = _seed_images(directory, people_entries, articles, report)
    people = _seed_people(people_entries, images, report)
    topics = _seed_topics(load(directory / "topics.yaml") or [], report)
    new_articles = _seed_articles(articles, people, topics, images, report)
    new_topic_faqs = topic_faqs(
        load_optional(directory / "faqs.yaml"), _default_locale(), people, topics, report
    )
    publish_seeded(new_articles)
    if new_topic_faqs or report.created.get("topics"):
        refresh_topics()
    red_flags_path = directory / "red_flags.yaml"
    if red_flags_path.exists():
        _seed_red_flags(load(red_flags_path) or [], people, report)
    load_translations(directory / "translations", people, topics, report)
    return report


def _default_locale() -> str:
    return runtime.settings().default_locale


def _seed_images(
    directory: Path,
    people: list[dict[str, Any]],
    articles: list[dict[str, Any]],
    report: SeedReport,
) -> dict[str, Image]:
    """The seeded pictures the new people and articles show, and the publisher's logo,
    taken into the media library (each once, found again by its file name)."""
    manifest = directory / "images.yaml"
    entries = {entry["file"]: entry for entry in (load(manifest) if manifest.exists() else [])}
    known_people = set(db.session.scalars(select(Person.slug)))
    known_articles = set(
        db.session.scalars(select(Article.slug).where(Article.locale == _default_locale()))
    )
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
        entry = lookup(entries, name, "image", manifest.name)
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
    return lookup(images, name, "image", where).id if name else None


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
            review_locales=[str(tag) for tag in entry.get("review_locales") or []],
            credentials=[
                Credential(
                    position=position,
                    kind=item["kind"],
                    name=item["name"],
                    issuer=item.get("issuer"),
                    jurisdiction=item.get("jurisdiction"),
                    number=item.get("number"),
                    valid_from=as_date(item.get("valid_from")),
                    valid_until=as_date(item.get("valid_until")),
                    verified_at=as_datetime(item.get("verified_at")),
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
            parent=lookup(existing, parent, "topic", entry["slug"]) if parent else None,
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
    # The files at the top are in the default locale; slugs are unique within a locale.
    existing = {
        a.slug: a
        for a in db.session.scalars(select(Article).where(Article.locale == _default_locale()))
    }
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
            target = lookup(existing, link["target"], "article", entry["slug"])
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


def _build_article(
    entry: dict[str, Any], people: dict[str, Person], topics: dict[str, Topic]
) -> Article:
    slug = entry["slug"]
    seo = entry.get("seo") or {}
    approvals = entry.get("reviews") or []
    article = Article(
        id=uuid.uuid4(),
        slug=slug,
        locale=_default_locale(),
        title=entry["title"],
        summary=entry.get("summary") or "",
        status="approved" if approvals else "draft",
        disclaimer=entry.get("disclaimer"),
        call_to_actions=entry.get("call_to_actions") or [],
        meta_title=seo.get("meta_title"),
        meta_description=seo.get("meta_description"),
        canonical_url=seo.get("canonical_url"),
        review_interval_months=int(entry.get("review_interval_months") or 12),
        disclosures=entry.get("disclosures") or {},
        published_at=as_datetime(entry.get("published_at")),
    )
    article.all_sections = sections(entry.get("sections") or [], article)
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
        ArticleAuthor(person=lookup(people, author, "person", slug), position=position)
        for position, author in enumerate(entry.get("authors") or [])
    ]
    article.reviews = reviews(approvals, people, slug)
    article._seed_corrections = corrections(entry, article, people)  # type: ignore[attr-defined]
    if approvals:
        article.last_reviewed_at = max(as_date(review["reviewed_at"]) for review in approvals)
    article.topic_links = [
        ArticleTopic(topic=lookup(topics, topic, "topic", slug), position=position)
        for position, topic in enumerate(entry.get("topics") or [])
    ]
    article_faqs(entry.get("faqs") or [], article)
    return article


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
            reviewed_by=lookup(people, entry["reviewed_by"], "person", "red_flags.yaml"),
            reviewed_on=as_date(entry["reviewed_on"]),
            published_at=utcnow(),
        )
        db.session.add(red_flag)
        created.append(red_flag)
        report.add("red_flags")
    if created:
        publish_red_flags(created)
