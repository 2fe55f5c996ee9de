"""Article documents: publish, unpublish and re-render articles and what embeds them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, inspect, select, true, union
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from cms_api.database import db, none_of, one_of
from cms_api.domain.clock import add_months, utcnow
from cms_api.domain.errors import Conflict
from cms_api.models import (
    Article,
    ArticleSlug,
    MedicalReview,
    Person,
    PersonTranslation,
    PublishedDocument,
    RelatedLink,
    Topic,
    TopicTranslation,
)
from cms_api.services import runtime
from cms_api.services.publishing import (
    collecting,
    counts,
    images,
    revisions,
    search_index,
    site,
    store,
)
from cms_api.services.publishing import render as rendering
from cms_api.services.publishing import reviews as review_record
from cms_api.services.publishing.faqs import (
    article_faq_row,
    date_live_faqs,
    public_faqs,
    shown_faqs,
    store_article_faqs,
)
from cms_api.services.publishing.people import refresh_people
from cms_api.services.publishing.render_lock import hold_render_lock
from cms_api.services.publishing.topics import refresh_topics

# How many articles one batch loads and renders at once. In bulk the search index of one
# batch runs while the next renders: smaller batches start it sooner and leave less of it
# to wait for at the end (250 publishes 2,000 articles in 32-34 s, 500 in 34-36 s, 125 in
# 36-38 s: each batch also costs its own queries).
RENDER_BATCH = 250

# What rendering needs beyond the live revision's snapshot.
_ARTICLE_GRAPH = (
    selectinload(Article.reviews)
    .selectinload(MedicalReview.reviewer)
    .selectinload(Person.credentials),
    selectinload(Article.outgoing_links),
)
# What a snapshot of the working copy needs, and the reviews going live.
_REVISION_GRAPH = (*revisions.SNAPSHOT_GRAPH, selectinload(Article.reviews))


def is_public(article: Article) -> bool:
    """Readers see an article while it has a live revision and is not in the trash."""
    return article.live_revision is not None and article.deleted_at is None


def publish_article(article_id: uuid.UUID, *, at: datetime | None = None) -> None:
    """Make an article's current revision public and render everything that shows it."""
    publish_articles([article_id], at=at)


def publish_articles(article_ids: list[uuid.UUID], *, at: datetime | None = None) -> None:
    """Publish the current revision of several articles, rendering each document once.

    Any number at once: they are made live batch by batch, then rendered together, so
    profiles and topic pages are rendered once at the end, not once per batch. Nothing
    holds on to a batch once it is live: a call with 100,000 articles would otherwise
    keep every one of them loaded, with all they were loaded with, to the end.
    """
    when = at or utcnow()
    ids = list(dict.fromkeys(article_ids))
    if len(ids) > RENDER_BATCH:
        # Every one is known before the first batch changes anything.
        found = set(db.session.scalars(select(Article.id).where(one_of(Article.id, ids))))
        if len(found) != len(ids):
            raise LookupError(set(ids) - found)
    with collecting.by_batch() if len(ids) > 1 else nullcontext():
        for start in range(0, len(ids), RENDER_BATCH):
            _go_live(ids[start : start + RENDER_BATCH], when)
            collecting.batch_done()
        refresh_articles(article_ids)


def _go_live(article_ids: list[uuid.UUID], when: datetime) -> None:
    articles = db.session.scalars(
        select(Article).where(one_of(Article.id, article_ids)).options(*_REVISION_GRAPH)
    ).all()
    if len(articles) != len(article_ids):
        raise LookupError(set(article_ids) - {article.id for article in articles})
    # Their FAQs and links read in two queries for all, not two per article.
    recorded = revisions.record_many(
        [article for article in articles if not article.revision_number], reason="publish"
    )
    for article in articles:
        if article.live_revision != article.revision_number:
            # New content goes live: that is the last substantive change readers see.
            article.content_updated_at = when if article.published_at else None
            article.live_revision = article.revision_number
        article.status = "published"
        article.published_at = article.published_at or when
        article.content_updated_at = article.content_updated_at or article.published_at
        article.publish_at = None
        article.publish_at_revision = None
        _record_reviews_going_live(article, when)
    db.session.flush()
    # The revisions just recorded went live: their snapshots need no reading back.
    date_live_faqs(
        articles, when, {revision.article_id: revision.snapshot for revision in recorded}
    )


def _record_reviews_going_live(article: Article, when: datetime) -> None:
    """The approvals of the revision going live reach readers now; the review date and
    cycle follow the clinical review of record (a correction leaves them alone)."""
    for review in article.reviews:
        if (
            review.revision_number == article.live_revision
            and review.withdrawn_at is None
            and review.published_at is None
        ):
            review.published_at = when
    record = review_record.of_record(article)
    if record is not None:
        article.last_reviewed_at = record.reviewed_at
        article.next_review_due = add_months(record.reviewed_at, article.review_interval_months)


def unpublish_article(article_id: uuid.UUID, *, status: str = "draft") -> None:
    """Withdraw an article from readers; its document and its FAQs' documents go."""
    article = db.session.get(Article, article_id)
    if article is None:
        raise LookupError(article_id)
    article.status = status
    article.live_revision = None
    db.session.flush()
    refresh_articles([article.id])


def refresh_articles(article_ids: Iterable[uuid.UUID]) -> None:
    """Re-render the given articles and every document that embeds them.

    An article that is no longer public loses its document (and its FAQs theirs), so
    delivery can only ever serve published content.
    """
    hold_render_lock()
    ids = list(dict.fromkeys(article_ids))
    # In bulk, garbage is collected batch by batch, from the first summaries taken to the
    # last page rendered.
    with collecting.by_batch() if len(ids) > 1 else nullcontext():
        _refresh(ids)


def _refresh(ids: list[uuid.UUID]) -> None:
    fresh: _FreshSummaries | None = None
    bulk = len(ids) > RENDER_BATCH
    if bulk:
        # A document embeds the summaries of the articles it links to. Batch by batch,
        # each batch would re-render every article linking into it (five or six times
        # each in an import); with every summary taken first, each article and each
        # article outside the set that links into it (or that translates the same
        # work) is rendered once.
        fresh = _fresh_summaries(ids)
        ids = list(dict.fromkeys(ids + _linking_into(ids) + _translations_of(ids)))
    people: set[uuid.UUID] = set()
    topics: set[uuid.UUID] = set()
    locales: set[str] = set()
    # In bulk, while PostgreSQL indexes one batch for search, the next one is rendered;
    # the counts of topics and hub pages are added up once, not batch by batch.
    with (
        counts.added_up_at_end() if bulk else nullcontext(),
        search_index.alongside() if len(ids) > 1 else nullcontext(),
    ):
        for start in range(0, len(ids), RENDER_BATCH):
            batch = _refresh_batch(ids[start : start + RENDER_BATCH], fresh)
            collecting.batch_done()
            if start == 0 and bulk:
                # The later batches' inserts are planned with what the first one wrote.
                search_index.analyze_written(len(ids))
            people |= batch.people
            topics |= batch.topics
            locales |= batch.locales
        if bulk:
            counts.add_up()  # the pages below show how many articles each lists
        # Profiles and topic pages list the newest articles: render each once, at the end,
        # in the locales of the articles rendered (the last batch's index starts once
        # they have read what they render).
        refresh_people(people, locales=locales)
        refresh_topics(topics, with_ancestors=True, locales=locales)


@dataclass(frozen=True)
class _FreshSummaries:
    """The summaries of the articles a refresh renders, taken before any document is."""

    ids: set[uuid.UUID]  # every article the refresh was asked for
    summaries: dict[uuid.UUID, dict[str, Any]]  # of those that are public


def _fresh_summaries(ids: list[uuid.UUID]) -> _FreshSummaries:
    summaries: dict[uuid.UUID, dict[str, Any]] = {}
    for start in range(0, len(ids), RENDER_BATCH):
        articles = db.session.scalars(
            select(Article)
            .where(one_of(Article.id, ids[start : start + RENDER_BATCH]))
            .options(selectinload(Article.reviews))
        ).all()
        # A summary names no other article of its work.
        live = _live_articles([article for article in articles if is_public(article)], Works([]))
        summaries |= {
            article_id: rendering.article_summary(item) for article_id, item in live.items()
        }
        collecting.batch_done()
    return _FreshSummaries(ids=set(ids), summaries=summaries)


def _linking_into(ids: list[uuid.UUID], *, outside: bool = True) -> list[uuid.UUID]:
    """Public articles whose related links show one of `ids` (with `outside`, not among them).

    Links are made between originals and shared by their translations, and each article
    shows, of a link's target work, its article in the same locale: so an article of
    `ids` is shown by the articles in its locale of the works linking to its work.
    """
    changed = aliased(Article)
    works = (
        select(
            func.coalesce(changed.source_id, changed.id).label("work"),
            changed.locale.label("locale"),
        )
        .where(one_of(changed.id, ids))
        .distinct()
        .cte("works")
    )
    members = union(
        select(Article.id.label("id"), works.c.locale).join(works, Article.id == works.c.work),
        select(Article.id.label("id"), works.c.locale).join(
            works, Article.source_id == works.c.work
        ),
    ).cte("members")
    linking = (
        select(RelatedLink.source_id.label("owner"), members.c.locale)
        .join(members, RelatedLink.target_id == members.c.id)
        .where(RelatedLink.deleted_at.is_(None))
        .distinct()
        .cte("linking")
    )
    # The linking originals themselves, and their translations: each through its index.
    found = union(
        *(
            select(Article.id.label("id"))
            .join(linking, and_(column == linking.c.owner, Article.locale == linking.c.locale))
            .where(
                Article.live_revision.is_not(None),
                Article.deleted_at.is_(None),
                none_of(Article.id, ids) if outside else true(),
            )
            for column in (Article.id, Article.source_id)
        )
    ).subquery()
    return list(db.session.scalars(select(found.c.id).order_by(found.c.id)))


def _work_members(ids: Iterable[uuid.UUID], *columns: Any) -> Any:
    """`columns` of every article of the works of these articles (their originals and all
    the originals' translations), read through the primary key and the translations'
    (source_id, locale) index."""
    roots = (
        select(func.coalesce(Article.source_id, Article.id).label("work"))
        .where(one_of(Article.id, ids))
        .cte("roots")
    )
    return union(
        select(*columns).join(roots, Article.id == roots.c.work),
        select(*columns).join(roots, Article.source_id == roots.c.work),
    ).subquery()


def _translations_of(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The other public articles of the works of `ids`: each lists the others (and a
    translation says whether its source moved on), so a change to one re-renders them."""
    members = _work_members(ids, Article.id, Article.live_revision, Article.deleted_at)
    return list(
        db.session.scalars(
            select(members.c.id)
            .where(
                none_of(members.c.id, ids),
                members.c.live_revision.is_not(None),
                members.c.deleted_at.is_(None),
            )
            .order_by(members.c.id)
        )
    )


class Works:
    """The articles of some works (originals and their translations), as publishing has
    them now: which of them are public, in which locale, translated from what."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self._rows = {row.id: row for row in rows}
        self._members: dict[uuid.UUID, list[Any]] = {}
        for row in self._rows.values():
            self._members.setdefault(row.source_id or row.id, []).append(row)

    @classmethod
    def of_articles(cls, ids: Iterable[uuid.UUID]) -> Works:
        """Every article of the works of these articles, read in one query."""
        wanted = set(ids)
        if not wanted:
            return cls([])
        members = _work_members(
            wanted,
            Article.id,
            Article.source_id,
            Article.locale,
            Article.slug,
            Article.live_revision,
            Article.deleted_at,
        )
        return cls(db.session.execute(select(members)).all())

    def _public_members(self, article_id: uuid.UUID, source_id: uuid.UUID | None) -> list[Any]:
        members = self._members.get(source_id or article_id, [])
        return [row for row in members if row.live_revision is not None and row.deleted_at is None]

    def shown_in(self, article_id: uuid.UUID, locale: str) -> uuid.UUID | None:
        """The public article of this article's work in `locale` (itself, when it is in
        that locale), if there is one."""
        row = self._rows.get(article_id)
        if row is None:
            return None
        for member in self._public_members(row.id, row.source_id):
            if member.locale == locale:
                return member.id
        return None

    def work(self, article: Article, content: dict[str, Any] | None = None) -> rendering.Work:
        """What the article's document says of its work. A translation's source revision
        is the one its `content` records (the live revision's, for readers); revisions
        saved before snapshots recorded it fall back to the article's own."""
        others = [
            {
                "locale": row.locale,
                "slug": row.slug,
                "url": site.page_url("article", row.slug, row.locale),
            }
            for row in self._public_members(article.id, article.source_id)
            if row.id != article.id
        ]
        source = self._rows.get(article.source_id) if article.source_id else None
        if source is None:
            return rendering.Work(translations=sorted(others, key=lambda item: item["locale"]))
        made_from = (content or {}).get("source_revision", article.source_revision)
        return rendering.Work(
            translations=sorted(others, key=lambda item: item["locale"]),
            translation_of={"locale": source.locale, "slug": source.slug, "revision": made_from},
            outdated=source.live_revision is not None
            and source.deleted_at is None
            and made_from is not None
            and source.live_revision > made_from,
        )


@dataclass(frozen=True)
class _Rendered:
    """What a rendered batch shows: the people and topics whose pages list its articles,
    and the locales those pages are in."""

    people: set[uuid.UUID]
    topics: set[uuid.UUID]
    locales: set[str]


def _refresh_batch(ids: list[uuid.UUID], fresh: _FreshSummaries | None) -> _Rendered:
    """Render one batch of articles; return the people and topics whose pages show them.

    Without `fresh` summaries, the articles that link into the batch embed its summaries
    and the other articles of its works list them, so they are rendered with it; with
    them, the caller has put those articles in a batch.
    """
    others = _linking_into(ids, outside=False) + _translations_of(ids) if fresh is None else []
    articles = db.session.scalars(
        select(Article).where(one_of(Article.id, set(ids) | set(others))).options(*_ARTICLE_GRAPH)
    ).all()
    public = [article for article in articles if is_public(article)]
    # Translations show their original's links: those originals not in the batch too.
    owners = {article.id: article for article in public if article.source_id is None}
    wanted = {article.source_id for article in public if article.source_id} - owners.keys()
    if wanted:
        owners |= {
            article.id: article
            for article in db.session.scalars(
                select(Article)
                .where(Article.id.in_(wanted))
                .options(selectinload(Article.outgoing_links))
            )
        }
    links = {
        article.id: owners[article.source_id or article.id].outgoing_links
        if (article.source_id or article.id) in owners
        else []
        for article in public
    }
    works = Works.of_articles(
        {article.id for article in public}
        | {link.target_id for shown in links.values() for link in shown}
    )
    live = _live_articles(public, works)

    # Profiles and topic pages list these articles: those named before and after re-render.
    people, topics = _named_in_documents([article.id for article in articles])
    for item in live.values():
        people.update(person.id for person in item.authors)
        topics.update(topic.id for topic in item.topics)
    for article in articles:
        people.update(review.reviewer_id for review in article.reviews)

    # Each link shows its target work's article in the linking article's locale.
    shown = {
        article.id: [
            (link, works.shown_in(link.target_id, article.locale)) for link in links[article.id]
        ]
        for article in public
    }
    # In bulk each summary was rendered before the first batch; nothing has changed it since.
    taken = fresh.summaries if fresh is not None else {}
    summaries = {
        article_id: taken[article_id] if article_id in taken else rendering.article_summary(item)
        for article_id, item in live.items()
    }
    targets = {target for pairs in shown.values() for _, target in pairs if target is not None}
    targets -= summaries.keys()
    if fresh is not None:
        # What the refresh found public, not what delivery stored before it.
        summaries |= {item: fresh.summaries[item] for item in targets if item in fresh.summaries}
        targets -= fresh.ids
    summaries.update(store.stored_summaries("article", targets))
    faqs_by_article = public_faqs(live)
    faqs = shown_faqs(live, faqs_by_article)

    # All this batch reads is read: the index thread may have the connection meanwhile.
    search_index.start_queued()
    rows = []
    for article in public:
        related = [
            (link, summaries[target]) for link, target in shown[article.id] if target in summaries
        ]
        document = rendering.article_document(
            live[article.id], faqs_by_article.get(article.id, []), related, summaries[article.id]
        )
        rows.append(_article_row(live[article.id], document, summaries[article.id]))
    faq_rows = [article_faq_row(*shown_faq) for shown_faq in faqs]
    # The writes go first: the index thread finishes its current statement and waits.
    search_index.hold_queued()

    gone = [article.id for article in articles if not is_public(article)]
    if gone:
        store.withdraw("article", PublishedDocument.entity_id.in_(gone))
    store.upsert(rows)
    store_article_faqs(articles, faq_rows)
    return _Rendered(people, topics, {article.locale for article in articles})


def _live_articles(
    articles: list[Article], works: Works | None = None
) -> dict[uuid.UUID, rendering.LiveArticle]:
    """Each public article with the content of its live revision."""
    contents = revisions.snapshots(
        [(article.id, article.live_revision) for article in articles if article.live_revision]
    )
    missing = [article.slug for article in articles if article.id not in contents]
    if missing:
        raise LookupError(f"no live revision stored for {missing}")
    return live_articles([(article, contents[article.id]) for article in articles], works)


def live_articles(
    pairs: list[tuple[Article, dict[str, Any]]],
    works: Works | None = None,
) -> dict[uuid.UUID, rendering.LiveArticle]:
    """Each article with the given content, the people and topics that content names
    (with their labels in the article's locale) and its work: a few queries whatever the
    batch size; trashed people and topics are left out. `works` holds the articles' works
    when the caller has read them."""
    person_ids = {uuid.UUID(pid) for _, content in pairs for pid in content["authors"]}
    topic_ids = {uuid.UUID(tid) for _, content in pairs for tid in content["topics"]}
    people = {
        person.id: person
        for person in db.session.scalars(
            select(Person)
            .where(Person.id.in_(person_ids))
            .options(selectinload(Person.credentials))
        )
    }
    topics = {
        topic.id: topic
        for topic in db.session.scalars(
            select(Topic).where(Topic.id.in_(topic_ids)).options(selectinload(Topic.codes))
        )
    }
    _load_ancestors(topics.values())
    # Every image the batch shows (lead and section images, its people's), in one query.
    images.preload(
        [key for _, content in pairs for key in images.content_image_ids(content)],
        person_ids=person_ids
        | {review.reviewer_id for article, _ in pairs for review in article.reviews},
    )

    labels = _labels(
        {article.locale for article, _ in pairs},
        person_ids | {review.reviewer_id for article, _ in pairs for review in article.reviews},
    )
    if works is None:
        works = Works.of_articles(article.id for article, _ in pairs)

    def named(ids: list[str], found: dict[uuid.UUID, Any]) -> list[Any]:
        keys = [uuid.UUID(item) for item in ids]
        return [found[key] for key in keys if key in found and found[key].deleted_at is None]

    return {
        article.id: rendering.LiveArticle(
            article=article,
            content=content,
            authors=named(content["authors"], people),
            topics=named(content["topics"], topics),
            labels=labels[article.locale],
            work=works.work(article, content),
        )
        for article, content in pairs
    }


def _load_ancestors(topics: Iterable[Topic]) -> None:
    """Load every ancestor of these topics into their `parent`, a query per generation:
    rendering walks up to them (breadcrumbs, tags, specialties), and a lazy load there
    would wait for the connection while the search index has it."""
    pending = list(topics)
    known = {topic.id: topic for topic in pending}
    while pending:
        wanted = {topic.parent_id for topic in pending} - known.keys() - {None}
        if wanted:
            known |= {
                topic.id: topic
                # Only their names, slugs and specialties are shown: no codes.
                for topic in db.session.scalars(select(Topic).where(Topic.id.in_(wanted)))
            }
        for topic in pending:
            if topic.parent_id is not None and "parent" in inspect(topic).unloaded:
                # The session holds objects weakly: the child holds its parent.
                set_committed_value(topic, "parent", known.get(topic.parent_id))
        pending = [known[item] for item in wanted if item in known]


def _labels(locales: set[str], person_ids: set[uuid.UUID]) -> dict[str, rendering.Labels]:
    """By locale, the labels of every topic (topics are few, and breadcrumbs name their
    ancestors) and of these people: two queries for all the locales outside the default."""
    default = runtime.settings().default_locale
    others = sorted(locales - {default})
    topics: dict[str, dict[str, TopicTranslation]] = {locale: {} for locale in others}
    people: dict[str, dict[str, PersonTranslation]] = {locale: {} for locale in others}
    if others:
        for translation, slug in db.session.execute(
            select(TopicTranslation, Topic.slug)
            .join(Topic, Topic.id == TopicTranslation.topic_id)
            .where(TopicTranslation.locale.in_(others))
        ):
            topics[translation.locale][slug] = translation
        if person_ids:
            for translation, slug in db.session.execute(
                select(PersonTranslation, Person.slug)
                .join(Person, Person.id == PersonTranslation.person_id)
                .where(
                    PersonTranslation.locale.in_(others),
                    PersonTranslation.person_id.in_(person_ids),
                )
            ):
                people[translation.locale][slug] = translation
    return {
        locale: rendering.Labels(locale, topics.get(locale, {}), people.get(locale, {}))
        for locale in locales
    }


def _named_in_documents(article_ids: list[uuid.UUID]) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """The people and topics the current documents of these articles are tagged with."""
    tags = db.session.scalars(
        select(func.unnest(PublishedDocument.tags)).where(
            PublishedDocument.kind == "article", one_of(PublishedDocument.entity_id, article_ids)
        )
    ).all()
    slugs: dict[str, set[str]] = {"author": set(), "reviewer": set(), "topic": set()}
    for tag in tags:
        kind, _, slug = tag.partition(":")
        if kind in slugs:
            slugs[kind].add(slug)
    people = set(
        db.session.scalars(
            select(Person.id).where(Person.slug.in_(slugs["author"] | slugs["reviewer"]))
        )
    )
    topics = set(db.session.scalars(select(Topic.id).where(Topic.slug.in_(slugs["topic"]))))
    return people, topics


def _article_row(
    live: rendering.LiveArticle, document: dict[str, Any], summary: dict[str, Any]
) -> dict[str, Any]:
    article = live.article
    tags = {f"author:{person.slug}" for person in live.authors}
    tags |= {f"reviewer:{review['slug']}" for review in document["reviewers"]}
    for topic in live.topics:
        tags |= {f"code:{item.system}:{item.code.upper()}" for item in topic.codes}
        ancestor: Topic | None = topic
        while ancestor is not None:
            tags.add(f"topic:{ancestor.slug}")
            ancestor = ancestor.parent
    if site.canonical_elsewhere(
        document["seo"]["canonical_url"], "article", article.slug, article.locale
    ):
        tags.add(site.CANONICAL_ELSEWHERE)
    published_at = article.published_at or utcnow()
    return store.row(
        "article",
        article.id,
        slug=article.slug,
        document=document,
        summary=summary,
        tags=tags,
        published_at=published_at,
        updated_at=article.content_updated_at or published_at,
        title=live.content["title"],
        topic_slugs=[topic.slug for topic in live.topics],
        reviewed_on=_reviewed_on(article) or published_at.date(),
        locale=article.locale,
    )


def _reviewed_on(article: Article) -> date | None:
    record = review_record.of_record(article)
    return record.reviewed_at if record is not None else None


def change_slug(article_id: uuid.UUID, new_slug: str) -> None:
    """Give an article a new slug; the old one keeps answering with a redirect."""
    article = db.session.get(Article, article_id)
    if article is None:
        raise LookupError(article_id)
    if article.slug == new_slug:
        return
    # Slugs are unique per locale: another locale's article may hold the same one.
    taken = db.session.scalar(
        select(Article.id).where(Article.locale == article.locale, Article.slug == new_slug)
    )
    former = db.session.get(ArticleSlug, (article.locale, new_slug))
    if taken is not None or (former is not None and former.article_id != article.id):
        raise Conflict(f"The slug {new_slug!r} is already in use.")
    if former is not None:
        db.session.delete(former)  # moving back to a former slug
    db.session.add(ArticleSlug(locale=article.locale, slug=article.slug, article_id=article.id))
    article.slug = new_slug
    db.session.flush()
    refresh_articles([article.id])
