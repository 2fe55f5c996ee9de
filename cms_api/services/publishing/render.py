"""Turn model objects into the public JSON documents that delivery serves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cms_api.domain.clock import utcnow
from cms_api.domain.formats import iso_date, iso_datetime
from cms_api.models import (
    Article,
    Credential,
    MedicalCode,
    MedicalReview,
    Person,
    PersonTranslation,
    Topic,
    TopicTranslation,
)
from cms_api.services import runtime
from cms_api.services.publishing import images, jsonld, site
from cms_api.services.publishing import reviews as review_record
from cms_api.services.publishing.credentials import valid_on
from cms_api.services.publishing.markdown import (
    heading_html,
    reading_time_minutes,
    to_html,
    word_count,
)


def article_path(slug: str, locale: str | None = None) -> str:
    """The article's address on this API; outside the default locale, with its `locale`."""
    if locale is None or locale == runtime.settings().default_locale:
        return f"/v1/articles/{slug}"
    return f"/v1/articles/{slug}?locale={locale}"


@dataclass(frozen=True)
class Labels:
    """What a document in `locale` calls the topics and people it names, and where their
    pages are: their translations into that locale (by slug).

    Outside the default locale, a topic's name and a person's job title fall back to the
    default locale's text (they are navigation labels); descriptions and bios never do.
    A topic or person has a page in the locale only when it is translated into it.
    """

    locale: str
    topics: Mapping[str, TopicTranslation] = field(default_factory=dict)
    people: Mapping[str, PersonTranslation] = field(default_factory=dict)

    @property
    def is_default(self) -> bool:
        return self.locale == runtime.settings().default_locale

    def topic_name(self, topic: Topic) -> str:
        translated = self.topics.get(topic.slug)
        return translated.name if translated is not None and not self.is_default else topic.name

    def topic_description(self, topic: Topic) -> str | None:
        if self.is_default:
            return topic.description
        translated = self.topics.get(topic.slug)
        return translated.description if translated is not None else None

    def topic_synonyms(self, topic: Topic) -> list[str]:
        if self.is_default:
            return list(topic.synonyms or [])
        translated = self.topics.get(topic.slug)
        return list(translated.synonyms or []) if translated is not None else []

    def job_title(self, person: Person) -> str | None:
        translated = None if self.is_default else self.people.get(person.slug)
        if translated is not None and translated.job_title:
            return translated.job_title
        return person.job_title

    def bio(self, person: Person) -> str | None:
        if self.is_default:
            return person.bio
        translated = self.people.get(person.slug)
        return translated.bio if translated is not None else None

    def page_url(self, kind: str, slug: str) -> str:
        """A topic's or person's page in this locale if it has one, else the default's."""
        translated = self.topics if kind == "topic" else self.people
        has_page = self.is_default or slug in translated
        return site.page_url(kind, slug, self.locale if has_page else None)


def labels_in(locale: str | None) -> Labels:
    """Untranslated labels: the default locale's text."""
    return Labels(locale=locale or runtime.settings().default_locale)


def display_name(person: Person) -> str:
    name = f"{person.honorific_prefix} {person.name}" if person.honorific_prefix else person.name
    return f"{name}, {person.honorific_suffix}" if person.honorific_suffix else name


def credential(item: Credential, today: date | None = None) -> dict[str, Any]:
    """A credential as published; `valid` is as of the day of rendering, which is why the
    periodic `publish-due` job re-renders people whose published flags a day made wrong."""
    return {
        "kind": item.kind,
        "name": item.name,
        "issuer": item.issuer,
        "jurisdiction": item.jurisdiction,
        "number": item.number,
        "valid_from": iso_date(item.valid_from),
        "valid_until": iso_date(item.valid_until),
        "verified_at": iso_datetime(item.verified_at),
        "valid": valid_on(item, today or utcnow().date()),
    }


def person_summary(person: Person, labels: Labels | None = None) -> dict[str, Any]:
    return {
        "id": str(person.id),
        "slug": person.slug,
        "name": person.name,
        "display_name": display_name(person),
        "honorific_prefix": person.honorific_prefix,
        "honorific_suffix": person.honorific_suffix,
        "job_title": labels.job_title(person) if labels is not None else person.job_title,
        "photo_url": person.photo_url,
        "image": images.document_image(person.image_id),
    }


def person_profile(person: Person, labels: Labels | None = None) -> dict[str, Any]:
    """The person as embedded in an article: enough to show and verify who they are."""
    return {
        **person_summary(person, labels),
        "specialties": list(person.specialties or []),
        "profile_links": [
            {"kind": link.get("kind"), "url": link.get("url")}
            for link in person.profile_links or []
        ],
        "credentials": [credential(item) for item in person.credentials],
    }


def code(item: MedicalCode) -> dict[str, Any]:
    return {"system": item.system, "code": item.code, "display": item.display}


def topic_summary(topic: Topic, labels: Labels | None = None) -> dict[str, Any]:
    return {
        "id": str(topic.id),
        "slug": topic.slug,
        "name": labels.topic_name(topic) if labels is not None else topic.name,
        "codes": [code(item) for item in topic.ordered_codes()],
        # Its own, or inherited from the nearest ancestor that has one.
        "specialty": jsonld.topic_specialty(topic),
    }


def section(item: dict[str, Any], level: int = 2) -> dict[str, Any]:
    """A section (an `<h2>` below the article's title) and its subsections (`<h3>`); keys
    are unique within an article, so each heading's `id` is too."""
    return {
        "key": item["key"],
        "heading": item["heading"],
        "heading_html": heading_html(item["heading"], anchor=item["key"], level=level),
        "body_html": to_html(item.get("body"), images.body_image),
        "subsections": [section(child, level + 1) for child in item.get("subsections") or []],
    }


def faq_entry(faq: dict[str, Any]) -> dict[str, Any]:
    """A reviewed FAQ (`id`, `question`, Markdown `answer`, `position`) as readers see it."""
    return {
        "id": str(faq["id"]),
        "question": faq["question"],
        "answer_html": to_html(faq["answer"]),
        "position": faq["position"],
    }


def anchor_text(link: Any, target: dict[str, Any], content: dict[str, Any]) -> str | None:
    """The words a related link is shown with: its anchor text as the live revision has it.

    Anchor text reads as the article's own words, so it is reviewed with the article; a
    link that is newer than the live revision (or a revision from before anchors were kept)
    is shown with its target's own reviewed title until the next revision goes live.
    """
    reviewed = {item["target_id"]: item["anchor_text"] for item in content.get("links") or []}
    return reviewed.get(str(link.target_id), target["title"])


# What readers are shown beside a call to action marked as advertising, unless it says.
ADVERTISING_LABEL = "Advertisement"


def disclosures(content: dict[str, Any]) -> dict[str, Any]:
    """Who sponsored or funded the article, its authors' conflicts of interest, and whether
    any of its calls to action is advertising. Revisions saved before disclosures existed
    have none."""
    stated = content.get("disclosures") or {}
    return {
        "sponsor": _disclosed(stated.get("sponsor")),
        "funder": _disclosed(stated.get("funder")),
        "conflicts_of_interest": stated.get("conflicts_of_interest"),
        "advertising": any(
            block.get("advertising") for block in content.get("call_to_actions") or []
        ),
    }


def _disclosed(organization: dict[str, Any] | None) -> dict[str, Any] | None:
    if not organization:
        return None
    return {"name": organization["name"], "url": organization.get("url")}


def publisher() -> dict[str, Any]:
    """The publishing organisation, from the settings: a change needs `cms-api render`."""
    settings = runtime.settings()
    return {
        "name": settings.publisher_name,
        "url": f"{site.base_url()}/",
        "editorial_policy_url": settings.editorial_policy_url,
        "logo": images.publisher_logo(),
    }


@dataclass(frozen=True)
class Work:
    """Where an article stands among the translations of one work, as readers see it."""

    # The work's other published articles: [{locale, slug, url}], by locale.
    translations: list[dict[str, str]] = field(default_factory=list)
    # A translation's source ({locale, slug, revision}: the revision it was made from).
    translation_of: dict[str, Any] | None = None
    # The source has published a newer revision than the one translated.
    outdated: bool = False


@dataclass(frozen=True)
class LiveArticle:
    """An article as readers see it: the row, the content of its live revision, the
    people and topics that content names (with their labels in the article's locale),
    and the work it belongs to."""

    article: Article
    content: dict[str, Any]
    authors: list[Person]
    topics: list[Topic]
    labels: Labels | None = None
    work: Work = field(default_factory=Work)

    @property
    def in_locale(self) -> Labels:
        return self.labels if self.labels is not None else labels_in(self.article.locale)


def _section_words(items: list[dict[str, Any]]) -> list[str | None]:
    texts: list[str | None] = []
    for item in items:
        texts += [item.get("heading"), item.get("body")]
        texts += _section_words(item.get("subsections") or [])
    return texts


def article_summary(live: LiveArticle) -> dict[str, Any]:
    article, content, labels = live.article, live.content, live.in_locale
    words = word_count(content["title"], content["summary"], *_section_words(content["sections"]))
    return {
        "id": str(article.id),
        "slug": article.slug,
        "locale": labels.locale,
        "url": article_path(article.slug, labels.locale),
        "title": content["title"],
        "summary": content["summary"],
        "topics": [{"slug": topic.slug, "name": labels.topic_name(topic)} for topic in live.topics],
        "authors": [
            {"slug": person.slug, "display_name": display_name(person)} for person in live.authors
        ],
        "published_at": iso_datetime(article.published_at),
        "updated_at": iso_datetime(article.content_updated_at or article.published_at),
        "last_reviewed_at": iso_date(_reviewed_on(article)),
        "reading_time_minutes": reading_time_minutes(words),
        "lead_image": images.summary_image(content.get("lead_image_id")),
        # What pages linking to it need to link to the page search engines index.
        "seo": {"canonical_url": content.get("canonical_url")},
    }


def _reviewed_on(article: Article) -> date | None:
    record = review_record.of_record(article)
    return record.reviewed_at if record is not None else None


def latest_reviews(article: Article, labels: Labels | None = None) -> list[dict[str, Any]]:
    """The reviewers of the review of record, each with the day they signed it off.

    Only a review of content that went live counts: an approval of a revision readers have
    not seen, or one withdrawn by request-changes, names nobody here."""
    return [
        {**person_profile(review.reviewer, labels), "reviewed_at": iso_date(review.reviewed_at)}
        for review in review_record.record_reviews(article)
    ]


def review_block(
    article: Article, interval_months: int, labels: Labels | None = None
) -> dict[str, Any] | None:
    """What the page's review claim rests on: the clinical review of record."""
    record = review_record.of_record(article)
    if record is None:
        return None
    return {
        "kind": record.kind,
        "revision": record.revision_number,
        "reviewed_on": iso_date(record.reviewed_at),
        "reviewers": [
            person_profile(review.reviewer, labels)
            for review in review_record.record_reviews(article)
        ],
        "next_review_due": iso_date(review_record.next_due(record, interval_months)),
    }


def correction_entry(article: Article, review: MedicalReview) -> dict[str, Any]:
    went_live = review.published_at or article.content_updated_at or article.published_at
    return {
        "date": iso_date(went_live.date()) if went_live else iso_date(review.reviewed_at),
        "note": review.public_note,
        "revision": review.revision_number,
    }


def related_url(target: dict[str, Any]) -> str:
    """Where a related link points on the public site: the related article's canonical
    URL when it has one (a summary stored before summaries carried it has none), else
    its own page in its locale."""
    canonical = (target.get("seo") or {}).get("canonical_url")
    return canonical or site.page_url("article", target["slug"], target.get("locale"))


def article_document(
    live: LiveArticle,
    faqs: list[dict[str, Any]],
    related: list[tuple[Any, dict[str, Any]]],
    summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole public article. `related` pairs each link with its target's summary;
    `summary` is the article's own, when the caller has rendered it already.

    Its schema.org JSON-LD is derived from the rest of it and embedded as `structured_data`,
    so it is rendered once here and served as stored.
    """
    article, content, labels = live.article, live.content, live.in_locale
    interval = content.get("review_interval_months") or article.review_interval_months
    review = review_block(article, interval, labels)
    document: dict[str, Any] = {
        **(summary or article_summary(live)),
        # The whole image here; the summary's small form is for lists and cards.
        "lead_image": images.document_image(content.get("lead_image_id")),
        "sections": [section(item) for item in content["sections"]],
        "faqs": [faq_entry(faq) for faq in faqs],
        "authors": [person_profile(person, labels) for person in live.authors],
        "reviewers": latest_reviews(article, labels),
        "topics": [topic_summary(topic, labels) for topic in live.topics],
        "citations": [
            {
                name: item.get(name)
                for name in (
                    "title",
                    "authors",
                    "publisher",
                    "periodical",
                    "year",
                    "doi",
                    "pmid",
                    "url",
                )
            }
            for item in content["citations"]
        ],
        "related": [
            {
                "relation": link.relation,
                "anchor_text": anchor_text(link, target, content),
                "weight": link.weight,
                "url": related_url(target),
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
                "advertising": bool(block.get("advertising")),
                "label": (block.get("advertising_label") or ADVERTISING_LABEL)
                if block.get("advertising")
                else None,
            }
            for block in content.get("call_to_actions") or []
        ],
        "disclosures": disclosures(content),
        "publisher": publisher(),
        "seo": {
            "meta_title": content.get("meta_title") or content["title"],
            "meta_description": content.get("meta_description") or content["summary"],
            "canonical_url": content.get("canonical_url"),
        },
        "review": review,
        "corrections": [
            correction_entry(article, item) for item in review_record.corrections(article)
        ],
        "next_review_due": review["next_review_due"] if review else None,
        "translation_of": live.work.translation_of,
        "outdated": live.work.outdated,
        "translations": live.work.translations,
    }
    document["structured_data"] = jsonld.article_graph(document, live.topics, labels)
    return document


def faq_document(
    entry: dict[str, Any],
    *,
    article: dict[str, str] | None,
    topic: Topic | None,
    published_at: datetime,
    updated_at: datetime,
    reviewed_by: Person | None = None,
    reviewed_on: date | None = None,
    labels: Labels | None = None,
) -> dict[str, Any]:
    """A reviewed FAQ on its own, in the locale of `labels`. An article's FAQ names the
    article (`slug`, live `title`) and is reviewed with it; a topic's FAQ names its own
    reviewer and review date."""
    labels = labels or labels_in(None)
    return {
        **faq_entry(entry),
        "locale": labels.locale,
        "article": (
            {
                "slug": article["slug"],
                "title": article["title"],
                "url": article_path(article["slug"], labels.locale),
            }
            if article
            else None
        ),
        "topic": {"slug": topic.slug, "name": labels.topic_name(topic)} if topic else None,
        "published_at": iso_datetime(published_at),
        "updated_at": iso_datetime(updated_at),
        "reviewed_by": person_summary(reviewed_by, labels) if reviewed_by else None,
        "reviewed_on": iso_date(reviewed_on),
    }


def person_document(
    person: Person,
    authored: list[dict[str, Any]],
    authored_total: int,
    reviewed: list[dict[str, Any]],
    reviewed_total: int,
    labels: Labels | None = None,
) -> dict[str, Any]:
    """A person's profile in the locale of `labels`, listing their articles in it."""
    labels = labels or labels_in(None)
    return {
        **person_profile(person, labels),
        "locale": labels.locale,
        "bio_html": to_html(labels.bio(person)) or None,
        "roles": [
            role
            for role, total in (("author", authored_total), ("reviewer", reviewed_total))
            if total
        ],
        "articles_authored": {"total": authored_total, "items": authored},
        "articles_reviewed": {"total": reviewed_total, "items": reviewed},
    }


def topic_tree(topic: Topic, labels: Labels | None = None) -> dict[str, Any]:
    """A topic with its descendants nested under `children`."""
    return {
        **topic_summary(topic, labels),
        "children": [
            topic_tree(child, labels) for child in topic.children if child.deleted_at is None
        ],
    }


def topic_document(
    topic: Topic,
    articles: list[dict[str, Any]],
    article_total: int,
    faqs: list[dict[str, Any]],
    labels: Labels | None = None,
) -> dict[str, Any]:
    """A topic's page in the locale of `labels`, listing its articles and FAQs in it."""
    labels = labels or labels_in(None)
    parent = topic.parent if topic.parent and topic.parent.deleted_at is None else None
    return {
        **topic_summary(topic, labels),
        "locale": labels.locale,
        "description": labels.topic_description(topic),
        "synonyms": labels.topic_synonyms(topic),
        "image": images.document_image(topic.image_id),
        "parent": {"slug": parent.slug, "name": labels.topic_name(parent)} if parent else None,
        "children": [
            {"slug": child.slug, "name": labels.topic_name(child)}
            for child in topic.children
            if child.deleted_at is None
        ],
        "articles": {"total": article_total, "items": articles},
        "faqs": [faq_entry(faq) for faq in faqs],
    }
