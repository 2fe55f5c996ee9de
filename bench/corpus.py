"""Deterministic synthetic corpus: bulk-inserted drafts, published through the real service."""

from __future__ import annotations

import gc
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    Citation,
    Credential,
    Faq,
    MedicalCode,
    MedicalReview,
    Person,
    RelatedLink,
    Section,
    Topic,
)
from cms_api.models.article import LINK_RELATIONS

SECTION_KEYS = (
    ("overview", "Overview"),
    ("symptoms", "Symptoms"),
    ("causes", "Causes"),
    ("diagnosis", "How it is diagnosed"),
    ("treatment", "Treatment"),
    ("when-to-see-a-doctor", "When to see a doctor"),
)
FAQS_PER_ARTICLE = 4
TOPICS_PER_ARTICLE = 3
LINKS_PER_ARTICLE = 5
CITATIONS_PER_ARTICLE = 3
# With older_links, article i links to articles published before it (the first
# LINK_WINDOW link among themselves), so publishing oldest first never re-renders an
# article already published; chunks must then be at least LINK_WINDOW long.
LINK_WINDOW = 50
INSERT_BATCH = 2_000
BASE_TIME = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _vocabulary(words: str) -> tuple[str, ...]:
    return tuple(words.split())


_STEMS = _vocabulary(
    "head ache migraine pain ear nose throat skin rash swelling fever cough sleep stress "
    "muscle joint nerve blood pressure heart liver kidney lung allergy sinus tooth jaw "
    "neck back eye vision dizziness nausea fatigue injection filler infection diet "
    "hydration caffeine medicine dose symptom trigger pattern relief rest exercise "
    "posture screen light sound weather hormone cycle pregnancy child adult older"
)
_WORDS = _vocabulary(
    "the a of to and in that is for it as with be on not this are can or by from your "
    "may most some many people often usually because when which if more than other "
    "doctor clinic treatment symptoms condition common rare mild severe early late "
    "days weeks hours morning evening sudden gradual persistent recurrent cause help "
    "ease reduce avoid notice track record describe check test scan examine measure "
    "pressure swelling tenderness stiffness warmth redness numbness tingling weakness "
    "rest fluids sleep posture stretching heat cold massage medicine pharmacist dose "
    "guidance advice support recovery follow-up review reassurance warning sign"
)
_FIRST = _vocabulary(
    "Ana Ben Chloe Daniel Elif Farid Grace Hugo Ines Jonas Keiko Liam Maya Nikhil Olga "
    "Pedro Quinn Rosa Samir Tara Uma Victor Wen Ximena Yusuf Zara"
)
_LAST = _vocabulary(
    "Okafor Ruiz Lindqvist Tanaka Moreau Haddad Novak Costa Brennan Ibrahim Kowalski "
    "Nakamura Osei Petrov Quintero Rahman Schmidt Turner Ueda Varga Walsh Yilmaz Zhou"
)


@dataclass
class LoadReport:
    """Counts and timings of one corpus load."""

    counts: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0
    insert_seconds: float = 0.0
    publish_seconds: float = 0.0
    chunk_seconds: list[float] = field(default_factory=list)
    article_ids: list[uuid.UUID] = field(default_factory=list)


class _Text:
    """Markdown prose built from a fixed vocabulary, reproducible from a seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def words(self, count: int) -> str:
        return " ".join(self.rng.choices(_WORDS, k=count))

    def sentence(self, words: int | None = None) -> str:
        text = self.words(words or self.rng.randint(8, 18))
        return text[0].upper() + text[1:] + "."

    def paragraph(self, words: int) -> str:
        parts: list[str] = []
        while words > 0:
            length = self.rng.randint(8, 18)
            parts.append(self.sentence(length))
            words -= length
        if self.rng.random() < 0.4:
            parts[0] = f"**{parts[0]}**"
        return _wrap(" ".join(parts))

    def bullets(self, items: int) -> str:
        return "\n".join(f"- **{self.words(2)}**: {self.sentence()}" for _ in range(items))

    def body(self, words: int) -> str:
        """A section body: paragraphs, sometimes a list, about `words` words long."""
        blocks: list[str] = []
        total = 0
        while total < words:
            if blocks and self.rng.random() < 0.25:
                block = self.bullets(self.rng.randint(3, 5))
            else:
                block = self.paragraph(self.rng.randint(50, 90))
            blocks.append(block)
            total += len(block.split())
        return "\n\n".join(blocks) + "\n"


def _wrap(text: str, width: int = 78) -> str:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return "\n".join(lines)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _slugify(*parts: str) -> str:
    return "-".join(part.lower() for part in parts)


def _bulk(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(insert(table), rows[start : start + INSERT_BATCH])


def _people(rng: random.Random, text: _Text, count: int) -> Iterator[tuple[dict, list[dict]]]:
    for index in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        slug = _slugify(first, last, str(index))
        person_id = _uuid(rng)
        person = {
            "id": person_id,
            "slug": slug,
            "name": f"{first} {last}",
            "honorific_prefix": "Dr." if index % 3 else None,
            "honorific_suffix": rng.choice(("MD", "PhD", "MD, PhD", "RN", "PharmD")),
            "job_title": rng.choice(("Neurologist", "General practitioner", "Dermatologist")),
            "bio": text.paragraph(80) + "\n\n" + text.paragraph(60),
            "photo_url": f"https://images.example.org/people/{slug}.jpg",
            "profile_links": [
                {"kind": "orcid", "url": f"https://orcid.org/0000-0002-{index:04d}-000X"},
                {"kind": "website", "url": f"https://www.example-health.org/people/{slug}"},
            ],
            "specialties": rng.sample(("Neurology", "Dermatology", "ENT", "Family medicine"), 2),
        }
        credentials = [
            {
                "id": _uuid(rng),
                "person_id": person_id,
                "position": position,
                "kind": kind,
                "name": name,
                "issuer": f"{rng.choice(_LAST)} University",
                "jurisdiction": None if kind == "degree" else "State of Example",
                "number": None if kind == "degree" else f"X-{rng.randint(10_000, 99_999)}",
                "valid_from": date(2005 + position, 5, 20),
                "valid_until": None if kind == "degree" else date(2028, 5, 31),
                "verified_at": BASE_TIME - timedelta(days=30 * position),
            }
            for position, (kind, name) in enumerate(
                (
                    ("degree", "Doctor of Medicine (MD)"),
                    ("license", "Medical licence"),
                    ("board_certification", "Board certification"),
                )
            )
        ]
        yield person, credentials


def _topics(rng: random.Random, text: _Text, count: int) -> tuple[list[dict], list[dict]]:
    """A tree: a dozen roots, every other topic under an earlier one, at most three deep."""
    topics: list[dict] = []
    depth: dict[uuid.UUID, int] = {}
    codes: list[dict] = []
    for index in range(count):
        topic_id = _uuid(rng)
        candidates = [topic for topic in topics if depth[topic["id"]] < 2]
        parent = rng.choice(candidates) if index >= 12 else None
        depth[topic_id] = depth[parent["id"]] + 1 if parent else 0
        stem = rng.choice(_STEMS)
        topics.append(
            {
                "id": topic_id,
                "slug": _slugify(stem, "topic", str(index)),
                "name": f"{stem.capitalize()} topic {index}",
                "description": text.sentence(),
                "parent_id": parent["id"] if parent else None,
                "position": index,
            }
        )
        systems = rng.sample(("icd10cm", "snomed", "mesh"), rng.randint(1, 3))
        for system in systems:
            value = {
                "icd10cm": f"R{rng.randint(10, 99)}.{rng.randint(0, 9)}",
                "snomed": str(rng.randint(10_000_000, 999_999_999)),
                "mesh": f"D{rng.randint(0, 999_999):06d}",
            }[system]
            codes.append(
                {
                    "id": _uuid(rng),
                    "topic_id": topic_id,
                    "system": system,
                    "code": value,
                    "display": f"{stem.capitalize()} ({system})",
                }
            )
    return topics, codes


def load_corpus(
    session: Session,
    publish: Callable[[list[uuid.UUID]], Any],
    *,
    articles: int = 10_000,
    people: int = 200,
    topics: int = 300,
    seed: int = 20_260_601,
    publish_chunk: int = 500,
    section_words: int = 250,
    older_links: bool = True,
    analyze: bool = True,
    progress: Callable[[str], None] = print,
) -> LoadReport:
    """Insert the drafts in bulk, then publish them chunk by chunk, committing each chunk.

    With `older_links` (the default) every article links only to older ones, as a site
    that grows does; otherwise links go anywhere, and publishing a chunk re-renders each
    published article that links into it. With `analyze` (the default) the tables are
    analyzed after the bulk insert and after each chunk, standing in
    for autovacuum, which may be off (as on this machine's test server).
    """
    if older_links and publish_chunk < LINK_WINDOW:
        raise ValueError(f"publish_chunk must be at least {LINK_WINDOW} with older_links")
    rng = random.Random(seed)
    text = _Text(rng)
    report = LoadReport()
    started = time.perf_counter()

    person_rows, credential_rows = [], []
    for person, credentials in _people(rng, text, people):
        person_rows.append(person)
        credential_rows += credentials
    topic_rows, code_rows = _topics(rng, text, topics)
    authors = [row["id"] for row in person_rows[: people * 3 // 5]]
    reviewers = [row["id"] for row in person_rows[people * 3 // 5 :]]
    topic_ids = [row["id"] for row in topic_rows]

    article_ids = [_uuid(rng) for _ in range(articles)]
    tables: dict[str, list[dict[str, Any]]] = {
        "articles": [],
        "sections": [],
        "faqs": [],
        "citations": [],
        "article_authors": [],
        "medical_reviews": [],
        "article_topics": [],
        "related_links": [],
    }
    disclaimer = _wrap(
        "This article is for general education only and does not replace advice from a "
        "health professional. Check with a pharmacist or doctor before starting a new medicine."
    )
    for index, article_id in enumerate(article_ids):
        stem_a, stem_b = rng.sample(_STEMS, 2)
        slug = _slugify(stem_a, stem_b, str(index))
        title = f"{stem_a.capitalize()} and {stem_b}: causes, relief and when to worry ({index})"
        # Oldest first: the order of publishing, as if the site had grown one article an hour.
        published_at = BASE_TIME - timedelta(hours=articles - index, minutes=rng.randint(0, 59))
        reviewed_at = (published_at - timedelta(days=rng.randint(1, 30))).date()
        tables["articles"].append(
            {
                "id": article_id,
                "slug": slug,
                "title": title,
                "summary": text.sentence() + " " + text.sentence(),
                "status": "draft",
                "disclaimer": disclaimer,
                "call_to_actions": [
                    {
                        "key": "newsletter",
                        "kind": "newsletter",
                        "title": "Get practical health tips",
                        "body": "Sign up for **short**, practical updates.",
                        "button_label": "Subscribe",
                        "url": "https://www.example-health.org/newsletter",
                    }
                ],
                "meta_title": title[:120],
                "meta_description": text.sentence()[:320],
                "canonical_url": f"https://www.example-health.org/articles/{slug}",
                "review_interval_months": 12,
                "published_at": published_at,
                "last_reviewed_at": reviewed_at,
                "version": 1,
            }
        )
        for position, (key, heading) in enumerate(SECTION_KEYS):
            tables["sections"].append(
                {
                    "id": _uuid(rng),
                    "article_id": article_id,
                    "parent_id": None,
                    "key": key,
                    "heading": heading,
                    "body": text.body(section_words),
                    "position": position,
                }
            )
        for position in range(FAQS_PER_ARTICLE):
            tables["faqs"].append(
                {
                    "id": _uuid(rng),
                    "article_id": article_id,
                    "topic_id": None,
                    "question": f"Can {text.words(6)}?",
                    "answer": text.paragraph(rng.randint(40, 80)),
                    "position": position,
                    "status": "published",
                }
            )
        for position in range(CITATIONS_PER_ARTICLE):
            tables["citations"].append(
                {
                    "id": _uuid(rng),
                    "article_id": article_id,
                    "position": position,
                    "title": text.sentence(),
                    "authors": f"{rng.choice(_LAST)} A, {rng.choice(_LAST)} B, et al.",
                    "publisher": "Journal of Examples",
                    "year": rng.randint(1995, 2025),
                    "doi": f"10.5555/example.{index}.{position}",
                    "pmid": str(rng.randint(10_000_000, 39_999_999)),
                    "url": f"https://doi.org/10.5555/example.{index}.{position}",
                }
            )
        tables["article_authors"].append(
            {"article_id": article_id, "person_id": rng.choice(authors), "position": 0}
        )
        tables["medical_reviews"].append(
            {
                "id": _uuid(rng),
                "article_id": article_id,
                "reviewer_id": rng.choice(reviewers),
                "reviewed_at": reviewed_at,
                "notes": text.sentence(),
                # A clinical approval of the revision published, so the published
                # documents carry a review of record as real ones do (and instant
                # answers may quote them).
                "kind": "clinical",
                "revision_number": 0,
            }
        )
        for position, topic_id in enumerate(rng.sample(topic_ids, TOPICS_PER_ARTICLE)):
            tables["article_topics"].append(
                {"article_id": article_id, "topic_id": topic_id, "position": position}
            )
        targets: list[uuid.UUID] = []
        pool = min(articles, max(index, LINK_WINDOW)) if older_links else articles
        while len(targets) < LINKS_PER_ARTICLE:
            target = article_ids[rng.randrange(pool)]
            if target != article_id and target not in targets:
                targets.append(target)
        for position, target in enumerate(targets):
            tables["related_links"].append(
                {
                    "id": _uuid(rng),
                    "source_id": article_id,
                    "target_id": target,
                    "relation": rng.choice(LINK_RELATIONS),
                    "weight": round(rng.uniform(0.1, 1.0), 2),
                    "anchor_text": text.words(3),
                    "position": position,
                }
            )
    generated = time.perf_counter()
    report.generate_seconds = generated - started
    progress(f"generated the corpus in {report.generate_seconds:.1f}s; inserting")

    ordered: list[tuple[Table, list[dict[str, Any]]]] = [
        (Person.__table__, person_rows),
        (Credential.__table__, credential_rows),
        (Topic.__table__, topic_rows),
        (MedicalCode.__table__, code_rows),
        (Article.__table__, tables["articles"]),
        (Section.__table__, tables["sections"]),
        (Faq.__table__, tables["faqs"]),
        (Citation.__table__, tables["citations"]),
        (ArticleAuthor.__table__, tables["article_authors"]),
        (MedicalReview.__table__, tables["medical_reviews"]),
        (ArticleTopic.__table__, tables["article_topics"]),
        (RelatedLink.__table__, tables["related_links"]),
    ]
    for table, rows in ordered:
        _bulk(session, table, rows)
        report.counts[table.name] = len(rows)
    session.commit()
    # What autovacuum would do (it may be off, as on a test server): without statistics
    # the planner misjudges the publishing queries over freshly loaded tables.
    session.execute(sql("ANALYZE"))
    session.commit()
    report.insert_seconds = time.perf_counter() - generated
    progress(f"inserted {report.counts} in {report.insert_seconds:.1f}s; publishing")
    # The rows are in the database now. Held through the publishing, they would be scanned
    # by every full garbage collection it makes (2.7 GB of them at 100,000 articles), which
    # an import (it streams its file into staging tables) or an editor's publish never
    # pays.
    del ordered, rows, tables, person_rows, credential_rows, topic_rows, code_rows
    gc.collect()

    publish_started = time.perf_counter()
    for start in range(0, articles, publish_chunk):
        chunk_started = time.perf_counter()
        publish(article_ids[start : start + publish_chunk])
        session.commit()
        if analyze:
            # Every table publishing writes (documents, search entries, passages, the
            # trigger-kept rows): with statistics from before the load, the foreign key
            # checks of those kept by triggers are planned as scans of a table believed
            # empty, which makes each chunk slower than the last.
            session.execute(sql("ANALYZE"))
            session.commit()
        report.chunk_seconds.append(time.perf_counter() - chunk_started)
        done = min(start + publish_chunk, articles)
        progress(
            f"published {done}/{articles} (chunk {report.chunk_seconds[-1]:.1f}s, "
            f"total {time.perf_counter() - publish_started:.1f}s)"
        )
    report.publish_seconds = time.perf_counter() - publish_started
    report.article_ids = article_ids
    return report
