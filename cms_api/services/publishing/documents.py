"""Publishing is rendering: publish, unpublish and re-render the documents delivery serves."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, event, func, literal_column, select, text, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, selectinload

from cms_api import document_cache
from cms_api.database import db
from cms_api.domain.clock import add_months, utcnow
from cms_api.domain.errors import Conflict
from cms_api.domain.etags import etag_for
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleSlug,
    ArticleTopic,
    Faq,
    MedicalReview,
    Person,
    PublishedDocument,
    RelatedLink,
    Topic,
)
from cms_api.services.delivery import changes
from cms_api.services.discovery import search
from cms_api.services.editorial import revisions
from cms_api.services.publishing import render as rendering

# How many article summaries a person's or topic's document embeds; the rest are a
# filtered /v1/articles query away.
EMBEDDED_ARTICLES = 50
RENDER_BATCH = 500

# What rendering needs beyond the live revision's snapshot.
_ARTICLE_GRAPH = (
    selectinload(Article.reviews)
    .selectinload(MedicalReview.reviewer)
    .selectinload(Person.credentials),
    selectinload(Article.outgoing_links),
)
# What a snapshot of the working copy needs.
_REVISION_GRAPH = (
    selectinload(Article.all_sections),
    selectinload(Article.citations),
    selectinload(Article.authorships),
    selectinload(Article.topic_links),
)


# Any constant will do: it names the lock every writer that re-renders documents takes.
RENDER_LOCK = 0x636D7372


def hold_render_lock() -> None:
    """Take the render lock for the rest of this transaction (again: a no-op).

    Documents embed other rows (an author's credentials, a related article's title), so
    two overlapping writes could each render from what they read before the other
    committed, and the later commit would leave a stale copy for good. Writers that
    render therefore take turns: the lock is held until commit, and everything read
    after it reflects every earlier writer's commit. Admin writes take it before doing
    anything else, so no row lock is ever held while waiting for it; when it is first
    taken here, mid-transaction, what the session read before is reloaded.
    """
    session = db.session()
    transaction = session.get_transaction()
    if transaction is not None and session.info.get("render_lock") is transaction:
        return
    session.flush()
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RENDER_LOCK})
    session.info["render_lock"] = session.get_transaction()
    session.expire_all()


def is_public(article: Article) -> bool:
    """Readers see an article while it has a live revision and is not in the trash."""
    return article.live_revision is not None and article.deleted_at is None


# -- articles ------------------------------------------------------------------------------


def publish_article(article_id: uuid.UUID, *, at: datetime | None = None) -> Article:
    """Make an article's current revision public and render everything that shows it."""
    return publish_articles([article_id], at=at)[0]


def publish_articles(article_ids: list[uuid.UUID], *, at: datetime | None = None) -> list[Article]:
    """Publish the current revision of several articles, rendering each document once."""
    when = at or utcnow()
    articles = db.session.scalars(
        select(Article).where(Article.id.in_(article_ids)).options(*_REVISION_GRAPH)
    ).all()
    if len(articles) != len(set(article_ids)):
        raise LookupError(set(article_ids) - {article.id for article in articles})
    for article in articles:
        if not article.revision_number:
            revisions.record(article, reason="publish")
        if article.live_revision != article.revision_number:
            # New content goes live: that is the last substantive change readers see.
            article.content_updated_at = when if article.published_at else None
            article.live_revision = article.revision_number
        article.status = "published"
        article.published_at = article.published_at or when
        article.content_updated_at = article.content_updated_at or article.published_at
        article.publish_at = None
        if article.last_reviewed_at:
            article.next_review_due = add_months(
                article.last_reviewed_at, article.review_interval_months
            )
    db.session.flush()
    refresh_articles(article_ids)
    return list(articles)


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
    fresh: _FreshSummaries | None = None
    if len(ids) > RENDER_BATCH:
        # A document embeds the summaries of the articles it links to. Batch by batch,
        # each batch would re-render every article linking into it (five or six times
        # each in an import); with every summary taken first, each article and each
        # article outside the set that links into it is rendered once.
        fresh = _fresh_summaries(ids)
        ids += _linking_into(ids)
    people: set[uuid.UUID] = set()
    topics: set[uuid.UUID] = set()
    for start in range(0, len(ids), RENDER_BATCH):
        batch_people, batch_topics = _refresh_batch(ids[start : start + RENDER_BATCH], fresh)
        people |= batch_people
        topics |= batch_topics
    # Profiles and topic pages list the newest articles: render each once, at the end.
    refresh_people(people)
    refresh_topics(topics, with_ancestors=True)


@dataclass(frozen=True)
class _FreshSummaries:
    """The summaries of the articles a refresh renders, taken before any document is."""

    ids: set[uuid.UUID]  # every article the refresh was asked for
    summaries: dict[uuid.UUID, dict[str, Any]]  # of those that are public


def _fresh_summaries(ids: list[uuid.UUID]) -> _FreshSummaries:
    summaries: dict[uuid.UUID, dict[str, Any]] = {}
    for start in range(0, len(ids), RENDER_BATCH):
        articles = db.session.scalars(
            select(Article).where(Article.id.in_(ids[start : start + RENDER_BATCH]))
        ).all()
        live = _live_articles([article for article in articles if is_public(article)])
        summaries |= {
            article_id: rendering.article_summary(item) for article_id, item in live.items()
        }
    return _FreshSummaries(ids=set(ids), summaries=summaries)


def _linking_into(ids: list[uuid.UUID], *, outside: bool = True) -> list[uuid.UUID]:
    """Public articles with a live link to one of `ids` (with `outside`, not among them)."""
    query = (
        select(RelatedLink.source_id)
        .join(Article, Article.id == RelatedLink.source_id)
        .where(
            RelatedLink.target_id.in_(ids),
            RelatedLink.deleted_at.is_(None),
            Article.live_revision.is_not(None),
            Article.deleted_at.is_(None),
        )
        .distinct()
        .order_by(RelatedLink.source_id)
    )
    if outside:
        query = query.where(RelatedLink.source_id.not_in(ids))
    return list(db.session.scalars(query))


def _refresh_batch(
    ids: list[uuid.UUID], fresh: _FreshSummaries | None
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Render one batch of articles; return the people and topics whose pages show them.

    Without `fresh` summaries, the articles that link into the batch embed its summaries
    and are rendered with it; with them, the caller has put those articles in a batch.
    """
    linking = _linking_into(ids, outside=False) if fresh is None else []
    articles = db.session.scalars(
        select(Article).where(Article.id.in_(set(ids) | set(linking))).options(*_ARTICLE_GRAPH)
    ).all()
    public = [article for article in articles if is_public(article)]
    live = _live_articles(public)

    # Profiles and topic pages list these articles: those named before and after re-render.
    people, topics = _named_in_documents([article.id for article in articles])
    for item in live.values():
        people.update(person.id for person in item.authors)
        topics.update(topic.id for topic in item.topics)
    for article in articles:
        people.update(review.reviewer_id for review in article.reviews)

    gone = [article.id for article in articles if not is_public(article)]
    if gone:
        _withdraw("article", PublishedDocument.entity_id.in_(gone))

    summaries = {article_id: rendering.article_summary(item) for article_id, item in live.items()}
    targets = {link.target_id for article in public for link in article.outgoing_links}
    targets -= summaries.keys()
    if fresh is not None:
        # What the refresh found public, not what delivery stored before it.
        summaries |= {item: fresh.summaries[item] for item in targets if item in fresh.summaries}
        targets -= fresh.ids
    summaries.update(_stored_summaries("article", targets))
    faqs_by_article = public_faqs(article.id for article in articles)

    rows = []
    for article in public:
        related = [
            (link, summaries[link.target_id])
            for link in article.outgoing_links
            if link.target_id in summaries
        ]
        faqs = faqs_by_article.get(article.id, [])
        document = rendering.article_document(live[article.id], faqs, related)
        rows.append(_article_row(live[article.id], document, summaries[article.id]))
    _upsert(rows)

    _refresh_faqs_of(live, articles, faqs_by_article)
    return people, topics


def _live_articles(articles: list[Article]) -> dict[uuid.UUID, rendering.LiveArticle]:
    """Each public article with the content of its live revision."""
    contents = revisions.snapshots(
        [(article.id, article.live_revision) for article in articles if article.live_revision]
    )
    missing = [article.slug for article in articles if article.id not in contents]
    if missing:
        raise LookupError(f"no live revision stored for {missing}")
    return live_articles([(article, contents[article.id]) for article in articles])


def live_articles(
    pairs: list[tuple[Article, dict[str, Any]]],
) -> dict[uuid.UUID, rendering.LiveArticle]:
    """Each article with the given content and the people and topics that content names,
    loaded in two queries whatever the batch size; trashed ones are left out."""
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

    def named(ids: list[str], found: dict[uuid.UUID, Any]) -> list[Any]:
        keys = [uuid.UUID(item) for item in ids]
        return [found[key] for key in keys if key in found and found[key].deleted_at is None]

    return {
        article.id: rendering.LiveArticle(
            article=article,
            content=content,
            authors=named(content["authors"], people),
            topics=named(content["topics"], topics),
        )
        for article, content in pairs
    }


def _named_in_documents(article_ids: list[uuid.UUID]) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """The people and topics the current documents of these articles are tagged with."""
    tags = db.session.scalars(
        select(func.unnest(PublishedDocument.tags)).where(
            PublishedDocument.kind == "article", PublishedDocument.entity_id.in_(article_ids)
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
    published_at = article.published_at or utcnow()
    return _row(
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
        reviewed_on=article.last_reviewed_at or published_at.date(),
    )


def public_faqs(article_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Faq]]:
    faqs = db.session.scalars(
        select(Faq)
        .where(
            Faq.article_id.in_(list(article_ids)),
            Faq.status == "published",
            Faq.deleted_at.is_(None),
        )
        .order_by(Faq.article_id, Faq.position, Faq.id)
    ).all()
    grouped: dict[uuid.UUID, list[Faq]] = {}
    for faq in faqs:
        assert faq.article_id is not None
        grouped.setdefault(faq.article_id, []).append(faq)
    return grouped


def _refresh_faqs_of(
    live: dict[uuid.UUID, rendering.LiveArticle],
    articles: Iterable[Article],
    public_faqs: dict[uuid.UUID, list[Faq]],
) -> None:
    """Render the FAQs of public articles; drop the documents of every other FAQ."""
    visible = {
        faq.id for article_id, faqs in public_faqs.items() if article_id in live for faq in faqs
    }
    _withdraw(
        "faq",
        PublishedDocument.entity_id.in_(
            select(Faq.id).where(Faq.article_id.in_([article.id for article in articles]))
        ),
        PublishedDocument.entity_id.not_in(visible) if visible else true(),
    )
    rows = [
        _faq_row(faq, topics=live[article_id].topics, title=live[article_id].content["title"])
        for article_id, faqs in public_faqs.items()
        if article_id in live
        for faq in faqs
    ]
    _upsert(rows)


def _faq_row(faq: Faq, topics: list[Topic], title: str | None = None) -> dict[str, Any]:
    published_at = faq.published_at or (faq.article.published_at if faq.article else None)
    published_at = published_at or utcnow()
    faq.published_at = faq.published_at or published_at
    tags = {f"topic:{topic.slug}" for topic in topics}
    if faq.article:
        tags.add(f"article:{faq.article.slug}")
    document = rendering.faq_document(faq, article_title=title)
    return _row(
        "faq",
        faq.id,
        slug=None,
        document=document,
        summary=document,
        tags=tags,
        published_at=published_at,
        updated_at=faq.updated_at or published_at,
        title=faq.question,
        reviewed_on=published_at.date(),
    )


# -- topic FAQs ----------------------------------------------------------------------------


def publish_topic_faq(faq_id: uuid.UUID, *, at: datetime | None = None) -> None:
    faq = db.session.get(Faq, faq_id)
    if faq is None or faq.topic_id is None:
        raise LookupError(faq_id)
    faq.status = "published"
    faq.published_at = faq.published_at or at or utcnow()
    db.session.flush()
    refresh_topics([faq.topic_id])


# -- people --------------------------------------------------------------------------------


def refresh_people(person_ids: Iterable[uuid.UUID]) -> None:
    """Render the public profile of each person who has published work."""
    ids = list(set(person_ids))
    if not ids:
        return
    hold_render_lock()
    people = db.session.scalars(
        select(Person).where(Person.id.in_(ids)).options(selectinload(Person.credentials))
    ).all()
    rows, hidden = [], []
    for person in people:
        authored, authored_total = _embedded_articles(f"author:{person.slug}")
        reviewed, reviewed_total = _embedded_articles(f"reviewer:{person.slug}")
        if person.deleted_at is not None or not (authored_total or reviewed_total):
            hidden.append(person.id)
            continue
        document = rendering.person_document(
            person, authored, authored_total, reviewed, reviewed_total
        )
        tags = {f"role:{role}" for role in document["roles"]}
        now = utcnow()
        rows.append(
            _row(
                "person",
                person.id,
                slug=person.slug,
                document=document,
                summary={**rendering.person_summary(person), "roles": document["roles"]},
                tags=tags,
                published_at=person.created_at or now,
                updated_at=person.updated_at or now,
                title=person.name,
                reviewed_on=(person.updated_at or now).date(),
            )
        )
    if hidden:
        _withdraw("person", PublishedDocument.entity_id.in_(hidden))
    _upsert(rows)


def _embedded_articles(tag: str) -> tuple[list[dict[str, Any]], int]:
    where = (PublishedDocument.kind == "article", PublishedDocument.tags.contains([tag]))
    summaries = db.session.scalars(
        select(PublishedDocument.summary)
        .where(*where)
        .order_by(PublishedDocument.published_at.desc(), PublishedDocument.entity_id.desc())
        .limit(EMBEDDED_ARTICLES)
    ).all()
    total = len(summaries)
    if total == EMBEDDED_ARTICLES:
        total = db.session.scalar(select(func.count()).where(*where)) or 0
    return [json.loads(summary) for summary in summaries], total


# -- topics --------------------------------------------------------------------------------


def refresh_topics(
    topic_ids: Iterable[uuid.UUID] | None = None, *, with_ancestors: bool = False
) -> None:
    """Render topic documents (all of them when `topic_ids` is None).

    A topic's list entry nests its whole subtree, so ancestors are rendered too when
    asked: their article lists include their descendants' articles.
    """
    hold_render_lock()
    query = select(Topic).options(
        selectinload(Topic.codes),
        selectinload(Topic.children).selectinload(Topic.codes),
    )
    topics = db.session.scalars(query).all()  # topics are few; the tree needs them all
    by_id = {topic.id: topic for topic in topics}
    if topic_ids is None:
        chosen = set(by_id)
    else:
        chosen = {topic_id for topic_id in topic_ids if topic_id in by_id}
        if with_ancestors:
            for topic_id in list(chosen):
                parent_id = by_id[topic_id].parent_id
                while parent_id is not None and parent_id not in chosen:
                    chosen.add(parent_id)
                    parent_id = by_id[parent_id].parent_id
    if not chosen:
        return
    topic_faqs = db.session.scalars(
        select(Faq)
        .where(Faq.topic_id.in_(chosen), Faq.status == "published", Faq.deleted_at.is_(None))
        .order_by(Faq.position, Faq.id)
    ).all()
    faqs_by_topic: dict[uuid.UUID, list[Faq]] = {}
    for faq in topic_faqs:
        assert faq.topic_id is not None
        faqs_by_topic.setdefault(faq.topic_id, []).append(faq)

    rows, faq_rows, hidden = [], [], []
    for topic_id in chosen:
        topic = by_id[topic_id]
        if topic.deleted_at is not None:
            hidden.append(topic.id)
            continue
        articles, total = _embedded_articles(f"topic:{topic.slug}")
        faqs = faqs_by_topic.get(topic.id, [])
        document = rendering.topic_document(topic, articles, total, faqs)
        tags = {f"code:{item.system}:{item.code.upper()}" for item in topic.codes}
        tags.add("root" if topic.parent_id is None else f"parent:{by_id[topic.parent_id].slug}")
        now = utcnow()
        rows.append(
            _row(
                "topic",
                topic.id,
                slug=topic.slug,
                document=document,
                summary=rendering.topic_tree(topic),
                tags=tags,
                published_at=topic.created_at or now,
                updated_at=topic.updated_at or now,
                title=topic.name,
                reviewed_on=(topic.updated_at or now).date(),
            )
        )
        faq_rows += [_faq_row(faq, topics=[topic]) for faq in faqs]
    if hidden:
        _withdraw("topic", PublishedDocument.entity_id.in_(hidden))
    # A topic FAQ that is a draft, trashed, or on a trashed topic loses its document.
    visible = [row["entity_id"] for row in faq_rows]
    _withdraw(
        "faq",
        PublishedDocument.entity_id.in_(select(Faq.id).where(Faq.topic_id.in_(chosen))),
        PublishedDocument.entity_id.not_in(visible) if visible else true(),
    )
    _upsert(rows + faq_rows)


_MODELS: dict[str, Any] = {"article": Article, "faq": Faq, "person": Person, "topic": Topic}

# -- storage -------------------------------------------------------------------------------


def _stored_summaries(kind: str, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    if not ids:
        return {}
    rows = db.session.execute(
        select(PublishedDocument.entity_id, PublishedDocument.summary).where(
            PublishedDocument.kind == kind, PublishedDocument.entity_id.in_(ids)
        )
    ).all()
    return {entity_id: json.loads(summary) for entity_id, summary in rows}


def _row(
    kind: str,
    entity_id: uuid.UUID,
    *,
    slug: str | None,
    document: dict[str, Any],
    summary: dict[str, Any],
    tags: set[str],
    published_at: datetime,
    updated_at: datetime,
    title: str,
    reviewed_on: date,
    topic_slugs: list[str] | None = None,
) -> dict[str, Any]:
    body = rendering.dumps(document)
    return {
        "kind": kind,
        "entity_id": entity_id,
        "slug": slug,
        "body": body,
        "summary": rendering.dumps(summary),
        "etag": etag_for(body),
        "tags": sorted(tags),
        "published_at": published_at,
        "updated_at": updated_at,
        "title": title,
        "sort_title": title.casefold(),
        "topic_slugs": topic_slugs or [],
        "reviewed_on": reviewed_on,
    }


def _upsert(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = insert(PublishedDocument)
    columns = {
        name: statement.excluded[name] for name in rows[0] if name not in ("kind", "entity_id")
    }
    columns["rendered_at"] = func.now()
    # One statement executed for many rows (batched by SQLAlchemy), not a statement the
    # size of the batch compiled anew each time.
    written = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["kind", "entity_id"],
            set_=columns,
            # Rewriting an identical document would only churn rendered_at; skip it.
            where=PublishedDocument.etag.is_distinct_from(statement.excluded.etag)
            | PublishedDocument.tags.is_distinct_from(statement.excluded.tags)
            | PublishedDocument.summary.is_distinct_from(statement.excluded.summary),
        ).returning(
            PublishedDocument.kind,
            PublishedDocument.entity_id,
            PublishedDocument.slug,
            # xmax is 0 on a freshly inserted row version and set on an updated one.
            literal_column("xmax = 0"),
        ),
        rows,
    ).all()
    changes.record(
        (kind, entity_id, slug, "published" if inserted else "updated")
        for kind, entity_id, slug, inserted in written
    )
    search.index_documents((kind, entity_id) for kind, entity_id, _, _ in written)
    if written:
        _announce_change()


def _announce_change() -> None:
    """Tell every worker's document cache, on commit, that published documents changed."""
    db.session.execute(text(f"NOTIFY {document_cache.CHANNEL}"))
    db.session.info["documents_changed"] = True


@event.listens_for(Session, "after_commit")
def _documents_committed(session: Session) -> None:
    if session.info.pop("documents_changed", False):
        document_cache.clear_local()


@event.listens_for(Session, "after_rollback")
def _documents_rolled_back(session: Session) -> None:
    session.info.pop("documents_changed", None)


def _withdraw(kind: str, *criteria: ColumnElement[bool]) -> None:
    """Remove documents of one kind from delivery, and say so in the change feed."""
    removed = db.session.execute(
        delete(PublishedDocument)
        .where(PublishedDocument.kind == kind, *criteria)
        .returning(PublishedDocument.entity_id, PublishedDocument.slug)
    ).all()
    if not removed:
        return
    _announce_change()
    # Trashed content is "deleted" for feed readers; anything else merely left public view.
    model = _MODELS[kind]
    trashed = set(
        db.session.scalars(
            select(model.id).where(
                model.id.in_([entity_id for entity_id, _ in removed]),
                model.deleted_at.is_not(None),
            )
        )
    )
    changes.record(
        (kind, entity_id, slug, "deleted" if entity_id in trashed else "unpublished")
        for entity_id, slug in removed
    )


def rerender_everything() -> int:
    """Render every published document again (after a change of site URL or publisher).

    Returns how many articles were rendered. Unchanged documents are left as they were.
    """
    article_ids = db.session.scalars(
        select(Article.id).where(Article.live_revision.is_not(None), Article.deleted_at.is_(None))
    ).all()
    refresh_articles(article_ids)
    refresh_people(db.session.scalars(select(Person.id)).all())
    refresh_topics()
    return len(article_ids)


# -- changes to what documents embed --------------------------------------------------------


def person_changed(person_id: uuid.UUID) -> None:
    """Re-render every published document that shows this person (profile and articles)."""
    authored = select(ArticleAuthor.article_id).where(ArticleAuthor.person_id == person_id)
    reviewed = select(MedicalReview.article_id).where(MedicalReview.reviewer_id == person_id)
    article_ids = db.session.scalars(
        select(Article.id).where(Article.id.in_(authored.union(reviewed)))
    ).all()
    refresh_articles(article_ids)
    refresh_people([person_id])


def topic_changed(topic_id: uuid.UUID) -> None:
    """Re-render the topic tree and the published articles and FAQs on the topic.

    Articles on its subtopics count too: their breadcrumbs and filter tags name it.
    """
    parents = {
        row.id: row.parent_id for row in db.session.execute(select(Topic.id, Topic.parent_id))
    }
    subtree = {topic_id}
    grown = True
    while grown:
        grown = False
        for child, parent in parents.items():
            if parent in subtree and child not in subtree:
                subtree.add(child)
                grown = True
    article_ids = db.session.scalars(
        select(ArticleTopic.article_id).where(ArticleTopic.topic_id.in_(subtree))
    ).all()
    refresh_articles(article_ids)
    refresh_topics()


def change_slug(article_id: uuid.UUID, new_slug: str) -> None:
    """Give an article a new slug; the old one keeps answering with a redirect."""
    article = db.session.get(Article, article_id)
    if article is None:
        raise LookupError(article_id)
    if article.slug == new_slug:
        return
    taken = db.session.scalar(select(Article.id).where(Article.slug == new_slug))
    former = db.session.get(ArticleSlug, new_slug)
    if taken is not None or (former is not None and former.article_id != article.id):
        raise Conflict(f"The slug {new_slug!r} is already in use.")
    if former is not None:
        db.session.delete(former)  # moving back to a former slug
    db.session.add(ArticleSlug(slug=article.slug, article_id=article.id))
    article.slug = new_slug
    db.session.flush()
    refresh_articles([article.id])
