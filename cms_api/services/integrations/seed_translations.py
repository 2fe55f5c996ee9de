"""Load the sample content's other languages (seeds/translations/<locale>/) idempotently."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cms_api.database import db
from cms_api.domain import locales
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    Citation,
    Person,
    PersonTranslation,
    Topic,
    TopicTranslation,
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
from cms_api.services.publishing.people import refresh_people
from cms_api.services.publishing.topics import refresh_topics

# Columns of a citation that a translation copies from its source.
_CITATION_COLUMNS = (
    "position",
    "title",
    "authors",
    "publisher",
    "periodical",
    "year",
    "doi",
    "pmid",
    "url",
)


def load_translations(
    directory: Path, people: dict[str, Person], topics: dict[str, Topic], report: SeedReport
) -> None:
    """Each folder of `directory` named after one of the site's locales other than the
    default: its topics', people's and topic FAQs' text, and its article translations.
    Folders of locales the site does not serve (CMS_LOCALES) are left alone."""
    if not directory.is_dir():
        return
    settings = runtime.settings()
    for folder in sorted(path for path in directory.iterdir() if path.is_dir()):
        locale = locales.normalized(folder.name)
        if locale is None:
            raise SeedError(f"translations/{folder.name}: not a language tag such as 'es'")
        if locale != settings.default_locale and locale in settings.locales:
            _load_locale(folder, locale, people, topics, report)


def _load_locale(
    folder: Path,
    locale: str,
    people: dict[str, Person],
    topics: dict[str, Topic],
    report: SeedReport,
) -> None:
    where = f"translations/{folder.name}"
    named_topics = _seed_topic_translations(
        load_optional(folder / "topics.yaml"), locale, topics, report, where
    )
    translated_people = _seed_person_translations(
        load_optional(folder / "people.yaml"), locale, people, report, where
    )
    new_faqs = topic_faqs(
        load_optional(folder / "faqs.yaml"), locale, people, topics, report, f"{where}/faqs.yaml"
    )
    db.session.flush()
    # Names and profiles first: the articles published next show them.
    if named_topics or new_faqs:
        refresh_topics()
    refresh_people(translated_people)
    entries = [load(path) for path in sorted((folder / "articles").glob("*.yaml"))]
    publish_seeded(_seed_article_translations(entries, locale, people, report, where))


def _seed_topic_translations(
    entries: list[dict[str, Any]],
    locale: str,
    topics: dict[str, Topic],
    report: SeedReport,
    where: str,
) -> int:
    translated = set(
        db.session.scalars(
            select(TopicTranslation.topic_id).where(TopicTranslation.locale == locale)
        )
    )
    created = 0
    for entry in entries:
        topic = lookup(topics, entry["slug"], "topic", f"{where}/topics.yaml")
        if topic.id in translated:
            continue
        db.session.add(
            TopicTranslation(
                topic=topic,
                locale=locale,
                name=entry["name"],
                description=entry.get("description"),
                synonyms=[str(term) for term in entry.get("synonyms") or []],
            )
        )
        translated.add(topic.id)
        created += 1
        report.add("topic_translations")
    return created


def _seed_person_translations(
    entries: list[dict[str, Any]],
    locale: str,
    people: dict[str, Person],
    report: SeedReport,
    where: str,
) -> list[uuid.UUID]:
    translated = set(
        db.session.scalars(
            select(PersonTranslation.person_id).where(PersonTranslation.locale == locale)
        )
    )
    created = []
    for entry in entries:
        person = lookup(people, entry["slug"], "person", f"{where}/people.yaml")
        if person.id in translated:
            continue
        db.session.add(
            PersonTranslation(
                person=person, locale=locale, job_title=entry.get("job_title"), bio=entry.get("bio")
            )
        )
        translated.add(person.id)
        created.append(person.id)
        report.add("person_translations")
    return created


def _seed_article_translations(
    entries: list[dict[str, Any]],
    locale: str,
    people: dict[str, Person],
    report: SeedReport,
    where: str,
) -> list[Article]:
    default = runtime.settings().default_locale
    sources = {
        article.slug: article
        for article in db.session.scalars(select(Article).where(Article.locale == default))
    }
    present = db.session.execute(
        select(Article.slug, Article.source_id).where(Article.locale == locale)
    ).all()
    slugs = {slug for slug, _ in present}
    translated = {source_id for _, source_id in present if source_id is not None}
    created = []
    for entry in entries:
        if locales.normalized(str(entry.get("locale", locale))) != locale:
            raise SeedError(f"{where}/{entry['slug']}: its locale is not {locale!r}")
        source = lookup(sources, entry["translation_of"], "article", f"{where}/{entry['slug']}")
        if entry["slug"] in slugs or source.id in translated:
            continue
        article = _build_translation(entry, locale, source, people, where)
        db.session.add(article)
        slugs.add(article.slug)
        translated.add(source.id)
        created.append(article)
        report.add("article_translations")
        report.add("faqs", len(entry.get("faqs") or []))
    return created


def _build_translation(
    entry: dict[str, Any], locale: str, source: Article, people: dict[str, Person], where: str
) -> Article:
    """A translation of `source` as the seed file has it: its own text and review; the
    topics, authors, citations and lead image are the source's."""
    slug = entry["slug"]
    seo = entry.get("seo") or {}
    approvals = entry.get("reviews") or []
    article = Article(
        id=uuid.uuid4(),
        slug=slug,
        locale=locale,
        source_id=source.id,
        # Made from what readers of the source read now, corrections included.
        source_revision=source.live_revision or source.revision_number,
        title=entry["title"],
        summary=entry.get("summary") or "",
        status="approved" if approvals else "draft",
        disclaimer=entry.get("disclaimer"),
        call_to_actions=entry.get("call_to_actions") or [],
        meta_title=seo.get("meta_title"),
        meta_description=seo.get("meta_description"),
        canonical_url=seo.get("canonical_url"),
        review_interval_months=int(
            entry.get("review_interval_months") or source.review_interval_months
        ),
        # A funder or a conflict of interest is as true in every language; a translation
        # file may word them in its own.
        disclosures=entry.get("disclosures") or dict(source.disclosures or {}),
        published_at=as_datetime(entry.get("published_at")),
        lead_image_id=source.lead_image_id,
    )
    article.all_sections = sections(entry.get("sections") or [], article)
    article.citations = [
        Citation(**{column: getattr(citation, column) for column in _CITATION_COLUMNS})
        for citation in source.citations
    ]
    article.authorships = [
        ArticleAuthor(person_id=link.person_id, position=link.position)
        for link in source.authorships
    ]
    article.topic_links = [
        ArticleTopic(topic_id=link.topic_id, position=link.position) for link in source.topic_links
    ]
    article.reviews = reviews(approvals, people, f"{where}/{slug}")
    for review in article.reviews:
        if not reviews_in(review.reviewer.review_locales, locale):
            raise SeedError(f"{where}/{slug}: {review.reviewer.slug} does not review in {locale}")
    article._seed_corrections = corrections(entry, article, people)  # type: ignore[attr-defined]
    if approvals:
        article.last_reviewed_at = max(as_date(review["reviewed_at"]) for review in approvals)
    article_faqs(entry.get("faqs") or [], article)
    return article


def reviews_in(review_locales: list[str], locale: str) -> bool:
    """Whether a reviewer limited to `review_locales` (none: any) may approve `locale`
    content: the same tag, or a bare language that is the content's language."""
    if not review_locales:
        return True
    return any(
        tag == locale or ("-" not in tag and tag == locales.language(locale))
        for tag in (locales.normalized(entry) or entry for entry in review_locales)
    )
