"""The search index: published articles and FAQs into search entries and the lexicon."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from cms_api.database import db
from cms_api.domain import locales, search_text
from cms_api.domain.formats import dumps
from cms_api.services import embedding, vectors
from cms_api.services.delivery import remembered
from cms_api.services.publishing import passages

log = logging.getLogger(__name__)


def configuration_of(locale: str) -> str:
    """SQL: the text search configuration (a regconfig) of the locale tag the expression
    `locale` holds, as `locales.search_configuration` names it. A statement indexing
    documents of several languages picks each one's configuration row by row."""
    cases = "".join(
        f" WHEN '{language}' THEN '{name}'::regconfig"
        for language, name in locales.SEARCH_CONFIGURATIONS.items()
    )
    fallback = locales.FALLBACK_SEARCH_CONFIGURATION
    return f"CASE lower(split_part({locale}, '-', 1)){cases} ELSE '{fallback}'::regconfig END"


# Documents → search entries, in two statements whatever their number: the entries (and
# the answer passages of `passages.CUT`, from the same parsed text), then the words of
# their text into the lexicon. `{wanted}` yields (kind, entity_id) pairs. Each document is
# stemmed in its own locale's language (`configuration`): one statement for a batch of
# documents in any mix of locales. cms_search_squash, cms_search_plain (text, and the text
# of sanitized HTML) and cms_search_concat (|| as an aggregate) come from migration 0003,
# whose backfill runs these statements over everything. Here `{wanted}` also yields each
# document's `known` texts: a JSON object of the search text of the HTML publishing has
# stripped in Python already (`search_text.plain_texts`, the same text), or null;
# cms_search_plain strips the rest.
_INDEX_ENTRIES = """
WITH docs AS (
    SELECT
        d.kind, d.entity_id, d.etag, d.slug, d.published_at, d.tags, d.locale, wanted.known,
        {configuration} AS configuration, parsed.body,
        NOT EXISTS (
            SELECT FROM answer_passages AS cut_before
            WHERE cut_before.kind = d.kind AND cut_before.entity_id = d.entity_id
                AND cut_before.etag = d.etag
        ) AS uncut
    FROM published_documents AS d
    JOIN ({wanted}) AS wanted USING (kind, entity_id)
    -- Parsed once per document (an inlined `d.body::jsonb` is parsed at every use).
    CROSS JOIN LATERAL (SELECT d.body::jsonb AS body OFFSET 0) AS parsed
    WHERE d.kind IN ('article', 'faq')
),
-- Every section (and subsection) of the articles: its text and vectors are made once, for
-- the search entry and for the section's answer passage (`passages.CUT`) both.
sections AS MATERIALIZED (
    SELECT
        docs.kind, docs.entity_id, found.n, found.item ? 'body_html' AS has_body,
        found.item->>'key' AS anchor, found.item->>'body_html' AS html,
        text.heading, text.text,
        to_tsvector(docs.configuration, text.heading) AS heading_vector,
        to_tsvector(docs.configuration, text.text) AS text_vector
    FROM docs
    CROSS JOIN LATERAL jsonb_path_query(docs.body, 'strict $.sections.** ? (@.type() == "object")')
        WITH ORDINALITY AS found(item, n)
    CROSS JOIN LATERAL (
        SELECT
            cms_search_squash(found.item->>'heading') AS heading,
            coalesce(
                docs.known->>(found.item->>'body_html'),
                cms_search_plain(found.item->>'body_html')
            ) AS text
        OFFSET 0
    ) AS text
    WHERE docs.kind = 'article'
),
{cut},
section_texts AS (
    SELECT
        section.kind, section.entity_id,
        array_agg(
            concat_ws(': ', nullif(section.heading, ''), nullif(section.text, ''))
            ORDER BY section.n
        ) AS passages,
        array_agg(strip(section.vector) ORDER BY section.n) AS vectors,
        cms_search_concat(section.vector ORDER BY section.n) AS vector
    FROM (
        SELECT
            sections.*,
            setweight(sections.heading_vector, 'C')
                || setweight(sections.text_vector, 'D') AS vector
        FROM sections
    ) AS section
    GROUP BY section.kind, section.entity_id
),
parts AS (
    SELECT
        docs.kind, docs.entity_id, docs.etag, docs.slug, docs.published_at, docs.locale,
        head.title,
        head.summary,
        setweight(to_tsvector(docs.configuration, head.title), 'A') AS title_vector,
        setweight(to_tsvector(docs.configuration, head.summary), 'B') AS summary_vector,
        coalesce(sections.passages, '{}') AS section_passages,
        coalesce(sections.vectors, '{}') AS section_vectors,
        coalesce(sections.vector, '') AS sections_vector,
        CASE docs.kind
            WHEN 'article' THEN ARRAY(
                SELECT topic->>'slug' FROM jsonb_array_elements(docs.body->'topics') AS topic
            )
            ELSE ARRAY(
                SELECT substr(tag, 7) FROM unnest(docs.tags) AS tag WHERE starts_with(tag, 'topic:')
            )
        END AS topics
    FROM docs
    CROSS JOIN LATERAL (
        SELECT
            cms_search_squash(coalesce(docs.body->>'title', docs.body->>'question', '')) AS title,
            coalesce(
                cms_search_squash(docs.body->>'summary'),
                docs.known->>(docs.body->>'answer_html'),
                cms_search_plain(docs.body->>'answer_html'),
                ''
            ) AS summary
        OFFSET 0  -- computed once, however often used
    ) AS head
    LEFT JOIN section_texts AS sections USING (kind, entity_id)
)
INSERT INTO search_entries AS entry (
    kind, entity_id, etag, locale, slug, title, passages, passage_vectors, topics,
    published_at, vector, title_vector
)
SELECT
    kind, entity_id, etag, locale, slug, title,
    ARRAY[summary] || section_passages,
    ARRAY[strip(summary_vector)] || section_vectors,
    topics, published_at,
    title_vector || summary_vector || sections_vector,
    title_vector
FROM parts
ON CONFLICT (kind, entity_id) DO UPDATE SET
    etag = excluded.etag,
    locale = excluded.locale,
    slug = excluded.slug,
    title = excluded.title,
    passages = excluded.passages,
    passage_vectors = excluded.passage_vectors,
    topics = excluded.topics,
    published_at = excluded.published_at,
    vector = excluded.vector,
    title_vector = excluded.title_vector
-- Re-publishing an unchanged document rewrites nothing.
WHERE (entry.etag, entry.locale, entry.slug, entry.topics, entry.published_at)
    IS DISTINCT FROM
    (excluded.etag, excluded.locale, excluded.slug, excluded.topics, excluded.published_at)
""".replace("{configuration}", configuration_of("d.locale"))
# With the pgvector column, and without it.
_INDEX_ENTRIES_FOR = {
    pgvector: _INDEX_ENTRIES.replace("{cut}", passages.cut(pgvector=pgvector))
    for pgvector in (False, True)
}
# Words as typed (unaccented, lower case), each with its stem in its locale's language, in
# that locale's lexicon (typo correction suggests words of the query's locale only); stop
# words are left out.
# `{texts}` yields (locale, text) rows: the whole text of each entry (`_INDEX_WORDS`), or in
# bulk the chunks of texts that may hold new words (`_INDEX_GIVEN_WORDS`, from
# `_Lexicon.to_parse`): parsed, they give the same words (`search_text.chunks_with`).
_LEXICON_FROM = """
WITH found AS MATERIALIZED (  -- each distinct word once: unaccenting and stemming are per word
    SELECT DISTINCT texts.locale, word
    FROM ({texts}) AS texts
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple', texts.text))) AS word
),
plain AS (
    SELECT DISTINCT locale, unaccent(word) AS word
    FROM found WHERE unaccent(word) ~ '^[[:alpha:]]{3,40}$'
),
new AS (  -- stemmed only when not in the lexicon yet: most words of a bulk publish are
    SELECT plain.locale, plain.word FROM plain
    WHERE NOT EXISTS (
        SELECT FROM search_words AS known
        WHERE known.locale = plain.locale AND known.word = plain.word
    )
)
INSERT INTO search_words (locale, word, lexeme)
SELECT new.locale, new.word, stem.lexeme
FROM new
CROSS JOIN LATERAL (
    SELECT array_to_string(
        tsvector_to_array(to_tsvector({configuration}, new.word)), ' '
    ) AS lexeme
) AS stem
WHERE stem.lexeme <> ''
-- In one order within a statement: two publishers adding the same new words in one
-- statement each wait, not deadlock (across a publish's several statements they may, and
-- PostgreSQL then fails one of them).
ORDER BY new.locale, new.word
ON CONFLICT (locale, word) DO NOTHING
""".replace("{configuration}", configuration_of("new.locale"))
_ENTRY_TEXTS = """
SELECT entry.locale, entry.title || ' ' || array_to_string(entry.passages, ' ') AS text
FROM search_entries AS entry
JOIN ({wanted}) AS wanted USING (kind, entity_id)
"""
_INDEX_WORDS = _LEXICON_FROM.replace("{texts}", _ENTRY_TEXTS)
_INDEX_GIVEN_WORDS = _LEXICON_FROM.replace(
    "{texts}", "SELECT * FROM unnest(%(locales)s::text[], %(texts)s::text[]) AS given(locale, text)"
)
# What the lexicon statement would do with single words, as it does it: whether each is
# in its locale's lexicon already, whether stemming leaves nothing of it (a stop word) and
# whether unaccenting leaves it as it is.
_WORDS_SEEN = """
SELECT
    given.locale, given.word,
    EXISTS (
        SELECT FROM search_words AS known
        WHERE known.locale = given.locale AND known.word = given.word
    ) AS known,
    array_to_string(tsvector_to_array(to_tsvector({configuration}, given.word)), ' ') = ''
        AS stop,
    unaccent(given.word) = given.word AS unaccented
FROM unnest(%(locales)s::text[], %(words)s::text[]) AS given(locale, word)
""".replace("{configuration}", configuration_of("given.locale"))
# Whether this server words ASCII text as `search_text.lexicon_candidates` assumes: the
# `simple` configuration lower-cases ASCII letters as Python does, and unaccenting leaves
# them alone. (A server whose locale lower-cases "I" otherwise fails it.)
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_WORDS_AS_PYTHON = f"""
SELECT tsvector_to_array(to_tsvector('simple', '{_ALPHABET.upper()} {_ALPHABET}'))
    = ARRAY['{_ALPHABET}'] AND unaccent('{_ALPHABET}') = '{_ALPHABET}'
"""


@dataclass(frozen=True)
class _ToParse:
    """What of a piece's documents the lexicon statements read (`_Lexicon.to_parse`)."""

    entries: list[int]  # the positions of those whose stored entry text is parsed whole
    chunks: list[tuple[str, str]]  # (locale, text): chunks of the others' texts to parse


@dataclass
class _Lexicon:
    """The words one bulk publish has found in the lexicon, or found to be stop words, by
    locale. A document whose every word may be among them adds none, and is not parsed
    for the lexicon; of the others only the chunks of text holding the rest are, and the
    chunks beyond ASCII, whose words Python cannot tell, each once (a chunk parsed again
    would add nothing). Words only ever join the lexicon (in the publish's transaction,
    or in another that committed), so a word found there stays there."""

    known: dict[str, set[str]] = field(default_factory=dict)
    stop: dict[str, set[str]] = field(default_factory=dict)
    parsed: set[tuple[str, str]] = field(default_factory=set)  # (locale, chunk) sent
    usable: bool | None = None  # `_WORDS_AS_PYTHON`, asked once

    def to_parse(self, connection: Any, texts: list[SearchTexts | None]) -> _ToParse:
        """What the lexicon statements must read of these documents (their `texts`, in
        order) to add every word of theirs the lexicon lacks: the whole entry text of each
        document whose text Python cannot tell, and of the others the chunks in which a
        candidate (`SearchTexts.words`) is neither in the lexicon nor a stop word and the
        chunks beyond ASCII (`SearchTexts.foreign`), those not sent before."""
        if self.usable is None:
            self.usable = bool(
                connection.exec_driver_sql(_WORDS_AS_PYTHON, None).fetchmany(1)[0][0]
            )
        if not self.usable:
            return _ToParse(list(range(len(texts))), [])
        # Each document's words not sorted out yet (None: its words are not known).
        unseen = [
            None if item is None or item.words is None else self._unseen(item.locale, item.words)
            for item in texts
        ]
        asked = {
            (item.locale, word)
            for item, words in zip(texts, unseen, strict=True)
            if item is not None and words
            for word in words
        }
        if asked:
            rows = connection.exec_driver_sql(
                _WORDS_SEEN,
                {"locales": [locale for locale, _ in asked], "words": [word for _, word in asked]},
            ).fetchmany(len(asked))
            for locale, word, known, stop, unaccented in rows:
                # A word unaccenting changes is compared with the lexicon as changed: the
                # statement decides it.
                if unaccented and known:
                    self.known.setdefault(locale, set()).add(word)
                elif unaccented and stop:
                    self.stop.setdefault(locale, set()).add(word)
        entries: list[int] = []
        chunks: dict[tuple[str, str], None] = {}
        for n, (item, words) in enumerate(zip(texts, unseen, strict=True)):
            if item is None or item.text is None or words is None:
                entries.append(n)
                continue
            if words and (new := self._unseen(item.locale, words)):
                chunks |= dict.fromkeys(
                    (item.locale, chunk) for chunk in search_text.chunks_with(item.text, new)
                )
            chunks |= dict.fromkeys((item.locale, chunk) for chunk in item.foreign)
        sent = [chunk for chunk in chunks if chunk not in self.parsed]
        self.parsed.update(sent)
        return _ToParse(entries, sent)

    def _unseen(self, locale: str, words: frozenset[str] | set[str]) -> set[str]:
        return words - self.known.get(locale, set()) - self.stop.get(locale, set())


_GIVEN = (
    "SELECT DISTINCT kind, entity_id "
    "FROM unnest(%(kinds)s::text[], %(ids)s::uuid[]) AS given(kind, entity_id)"
)
# The same documents (given once each), with their `known` texts, for `_INDEX_ENTRIES`. The
# texts go in binary: as text, every quote of the HTML in them would be escaped, and
# parsed back, at about as much cost as stripping the HTML in SQL.
_GIVEN_KNOWN = (
    "SELECT kind, entity_id, known::jsonb AS known "
    "FROM unnest(%(kinds)s::text[], %(ids)s::uuid[], %(known)b::text[]) "
    "AS given(kind, entity_id, known)"
)
_ALL = "SELECT kind, entity_id FROM published_documents WHERE kind IN ('article', 'faq')"
_ALL_KNOWN = f"SELECT kind, entity_id, NULL::jsonb AS known FROM ({_ALL}) AS every"


# The kinds of document searched and quoted; the others are ignored by `index_documents`.
INDEXED_KINDS = ("article", "faq")


@dataclass(frozen=True)
class SearchTexts:
    """What publishing knows of a document it rendered that the index would otherwise
    work out again in SQL (`search_texts`)."""

    known: str  # a JSON object of each HTML value and its text (`search_text.plain_texts`)
    locale: str  # the document's locale, whose lexicon its words go to
    # The text the lexicon statement parses for its entry, or None
    # (`search_text.lexicon_text`), and every word the lexicon could take from it
    # (`search_text.lexicon_candidates`): in bulk, only the chunks of it that may hold a
    # word new to the lexicon are parsed for it.
    text: str | None
    words: frozenset[str] | None
    # The embedding texts (`embedding.passage_text`) of the answer passages the index will
    # cut from it (`search_text.passage_parts`): they are embedded before it does.
    passages: tuple[str, ...] = ()
    # The chunks of `text` beyond ASCII (`search_text.foreign_chunks`), whose words Python
    # cannot tell: in bulk each is parsed for the lexicon (once a publish).
    foreign: tuple[str, ...] = ()


# Which of `search_text.LOCALE_SPACES` the server's `\s` takes for spaces: it follows the
# database's locale. Asked once a database, so that text holding them (a no-break space
# before French punctuation, say) is stripped and squashed in Python as SQL would.
_SPACES_ASKED = """
SELECT coalesce(string_agg(given.candidate, '' ORDER BY given.n), '')
FROM unnest(%(characters)s::text[]) WITH ORDINALITY AS given(candidate, n)
WHERE given.candidate ~ '\\s'
"""
_SERVER_SPACES: dict[Any, str] = {}


def server_spaces(connection: Connection) -> str:
    """The characters of `search_text.LOCALE_SPACES` this connection's database takes
    for spaces in a regular expression's `\\s`, as `search_text` takes them."""
    database = remembered.database(connection)
    spaces = _SERVER_SPACES.get(database)
    if spaces is None:
        characters = list(search_text.LOCALE_SPACES)
        spaces = _SERVER_SPACES[database] = connection.exec_driver_sql(
            _SPACES_ASKED, {"characters": characters}
        ).scalar()
    return spaces


def search_texts(kind: str, document: dict[str, Any], locale: str) -> SearchTexts:
    """What `index_documents` takes of a rendered document of this kind in `locale`."""
    spaces = server_spaces(db.session.connection())
    plain = search_text.plain_texts([document], spaces)
    text = search_text.lexicon_text(kind, document, plain, spaces)
    words = None if text is None else search_text.lexicon_candidates(text)
    cut = tuple(
        embedding.passage_text(title or "", heading, body)
        for title, heading, body in search_text.passage_parts(kind, document, plain, spaces)
    )
    foreign = () if text is None else tuple(search_text.foreign_chunks(text))
    return SearchTexts(dumps(plain), locale, text, words, cut, foreign)


def _passage_texts(texts: Iterable[SearchTexts | None]) -> list[str]:
    """The embedding texts of the passages expected of documents with these texts."""
    return [passage for item in texts if item is not None for passage in item.passages]


def index_documents(
    keys: Iterable[tuple[str, uuid.UUID]],
    texts: Mapping[tuple[str, uuid.UUID], SearchTexts | None] | None = None,
) -> None:
    """(Re)index these published documents; kinds other than article and FAQ are ignored.

    Called by publishing after it writes documents, in the same transaction, with the
    `texts` of those it rendered (`search_texts`): their HTML, stripped in Python already,
    is not stripped again in SQL. Documents that are withdrawn leave the index
    by themselves (the foreign key cascades). Inside `alongside()` the work is queued for
    its thread (see `start_queued`), and is done when that block ends.
    """
    pairs = [(kind, entity_id) for kind, entity_id in keys if kind in INDEXED_KINDS]
    if not pairs:
        return
    pairs = list(dict.fromkeys(pairs))
    given = [texts.get(pair) for pair in pairs] if texts else [None] * len(pairs)
    worker = db.session.info.get(_WORKER)
    if worker is not None:
        # In pieces of a few statements each, so that no statement a publisher's write may
        # wait for is long.
        for start in range(0, len(pairs), INDEX_PIECE):
            worker.submit(pairs[start : start + INDEX_PIECE], given[start : start + INDEX_PIECE])
        return
    connection = db.session.connection()
    _index(connection, pairs, given, vectors.has_pgvector_column(connection))


def _index(
    connection: Any,
    pairs: list[tuple[str, uuid.UUID]],
    texts: list[SearchTexts | None],
    pgvector: bool,
    later: Callable[..., None] | None = None,
    lexicon: _Lexicon | None = None,
    embedded: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """Index these distinct documents, with each one's `search_texts` (or None); with a
    `lexicon`, only what may hold words new to it is parsed for them. Their passages'
    expected embeddings are made here, or by `embedded` (`passages.given_embeddings`'s
    result, made ahead on another thread)."""
    given = (
        embedded()
        if embedded is not None
        else passages.given_embeddings(_passage_texts(texts), pgvector=pgvector)
    )
    params = _pairs_params(pairs)
    chunks: list[tuple[str, str]] = []
    if lexicon is not None:
        parsed = lexicon.to_parse(connection, texts)
        lexicon_params = (
            _pairs_params([pairs[n] for n in parsed.entries]) if parsed.entries else None
        )
        chunks = parsed.chunks
    else:
        lexicon_params = params
    _run(
        connection,
        _GIVEN,
        params,
        wanted_known=_GIVEN_KNOWN,
        known_params={**params, "known": [item.known if item else None for item in texts]},
        pgvector=pgvector,
        later=later,
        lexicon_params=lexicon_params,
        given_embeddings=given,
    )
    if chunks:
        connection.exec_driver_sql(
            _INDEX_GIVEN_WORDS,
            {"locales": [locale for locale, _ in chunks], "texts": [chunk for _, chunk in chunks]},
        )


def _pairs_params(pairs: list[tuple[str, uuid.UUID]]) -> dict[str, Any]:
    """The parameters of `_GIVEN` for these (kind, entity_id) pairs."""
    return {"kinds": [kind for kind, _ in pairs], "ids": [entity_id for _, entity_id in pairs]}


def _run(
    connection: Any,
    wanted: str,
    params: dict[str, Any],
    *,
    wanted_known: str,
    known_params: dict[str, Any],
    pgvector: bool,
    lexicon_params: dict[str, Any] | None,
    later: Callable[..., None] | None = None,
    given_embeddings: dict[str, Any] = passages.NO_EMBEDDINGS,
) -> None:
    # Instant answers quote the same documents, cut into passages: the stale ones go, the
    # entries statement cuts the new ones, then they are embedded (by `later`, if given).
    # `wanted_known` (with `known_params`) is `wanted` with each document's known texts.
    # The lexicon reads the documents `wanted` yields with `lexicon_params` (with None, none).
    # Passages cut with one of the `given_embeddings` are stored with it, and need no more.
    passages.drop_stale(connection, wanted, params)
    connection.exec_driver_sql(
        _INDEX_ENTRIES_FOR[pgvector].replace("{wanted}", wanted_known),
        {**known_params, **given_embeddings},
    )
    if lexicon_params is not None:
        connection.exec_driver_sql(_INDEX_WORDS.replace("{wanted}", wanted), lexicon_params)
    passages.embed_passages(connection, wanted, params, pgvector=pgvector, later=later)


_WORKER = "search_index_worker"
# Documents indexed by one statement of the thread beside rendering: a few hundred
# milliseconds of PostgreSQL's work at most, which a statement of the publisher's may wait for.
INDEX_PIECE = 50

# The pieces of work each of the two threads may have waiting: for the index thread, up to
# INDEX_PIECE documents and their texts each; for the embedding thread, the passages one
# index statement cut unexpected (at most passages.EMBED_BATCH). Past it, whoever hands work
# over waits for the thread: a publisher far ahead of PostgreSQL (a slow server, an import
# of 100,000 articles) keeps a few batches of texts in memory, not every one it has
# rendered. A batch of 250 articles (articles.RENDER_BATCH) with four FAQs each is 25
# pieces. The embeddings made ahead of each piece's statement (about 1 KB a passage, 4 KB
# with pgvector's text form) are held as long as the piece: those of the pieces waiting
# here and of the batch queued before `start_queued`.
PENDING_PIECES = 64

# The tables a publish fills, with the rows that foreign keys check on each insert.
_WRITTEN = (
    "published_documents",
    "listed_articles",
    "search_entries",
    "search_entry_topics",
    "answer_passages",
)
# How many rows the planner's statistics of each count (-1: never analyzed).
_COUNTED = (
    "SELECT relname::text, reltuples FROM pg_class WHERE oid = ANY(CAST(%(tables)s AS regclass[]))"
)


def start_queued() -> None:
    """Inside `alongside()`, let the thread start on the work queued so far.

    A publisher calls it when it is about to do work that needs no connection (rendering,
    its reads for it done): the thread's statements then run while Python renders, instead
    of holding the connection the publisher's next reads wait for. Outside the block it
    does nothing.
    """
    worker = db.session.info.get(_WORKER)
    if worker is not None:
        worker.start_queued()


def hold_queued() -> None:
    """Inside `alongside()`, let the thread start no more work until `start_queued`.

    A publisher calls it when it is about to write what it rendered: its statements then
    wait only for those the index and embedding threads have already started (one each
    at most), not for every one queued. Outside the block it does nothing.
    """
    worker = db.session.info.get(_WORKER)
    if worker is not None:
        worker.hold()


def analyze_written(articles: int) -> None:
    """Give the planner statistics of the tables publishing writes whose statistics count
    fewer rows than a publish of this many `articles`, counting this transaction's own
    rows; inside `alongside()`, after the indexing submitted so far.

    A bulk publish calls it after its first batch. Statistics from before it (an empty
    database's, on a first import, or any taken while a table was empty) plan the foreign
    key checks of the rows each later batch inserts as scans of tables believed empty, so
    every batch would cost more than the last; autovacuum cannot help a transaction that
    has not committed. What matters is that a table's statistics are not those of an
    empty or near-empty table: the planner scales the count they hold to the pages the
    table has grown to. So a table whose statistics count at least as many rows as the
    publish has articles (it writes several rows an article to each) is left as it is:
    analyzing it again would cost the publish's one connection up to a second, each
    chunk of an import.
    ANALYZE samples at most 30,000 rows a table, and a role that does not own a table gets
    a warning, not an error.
    """
    connection = db.session.connection()
    counted = dict(connection.exec_driver_sql(_COUNTED, {"tables": list(_WRITTEN)}).all())
    small = [table for table in _WRITTEN if counted.get(table, -1) < articles]
    if not small:
        return
    statement = "ANALYZE " + ", ".join(small)
    worker = db.session.info.get(_WORKER)
    if worker is not None:
        worker.submit_statement(statement)
        return
    connection.exec_driver_sql(statement)


@contextmanager
def alongside() -> Iterator[None]:
    """Index what is published inside this block on a thread of its own, while the block
    goes on (rendering the next batch); the block ends when the index is done.

    The index is mostly PostgreSQL's work (text search vectors, passages) and the
    rendering Python's, so on two cores the one hides much of the other. The thread uses
    the session's own connection, in its transaction: psycopg serializes the statements
    of the two threads, and the thread runs its batches in order. So that its statements
    do not hold the connection while the block's own reads and writes wait, its work
    waits in a queue until the block calls `start_queued` (before rendering), and it
    starts nothing new after `hold_queued` (before writing) until then; at the block's
    end it does what is left. Nothing read
    inside the block depends on the index; a document changed or withdrawn by a later
    batch before its turn comes is indexed as it is then, which is what indexing it at
    once and again later would leave.
    """
    if db.session.info.get(_WORKER) is not None:
        yield  # the outer block waits for everything
        return
    connection = db.session.connection()
    worker = _Worker(
        connection.connection.driver_connection, vectors.has_pgvector_column(connection)
    )
    db.session.info[_WORKER] = worker
    try:
        yield
    except BaseException:
        # Never leave it working on the connection. When it failed first, the block's own
        # error is only the aborted transaction's echo: the cause is the thread's.
        failed = worker.finish(raise_error=False)
        if failed is not None:
            log.error("indexing beside rendering failed", exc_info=failed)
        raise
    else:
        worker.finish(raise_error=True)
    finally:
        db.session.info.pop(_WORKER, None)


class _Worker:
    """One thread indexing batches in the order given, on the driver's connection; work
    is queued until `start_queued`. A second thread embeds the passages each batch is
    expected to cut as soon as the batch is handed over (Python's work, mostly outside the
    GIL), and after its statement any it cut unexpected, while the first goes on with the
    next batch's statements. After `hold`, neither thread starts a statement until
    `start_queued` again."""

    def __init__(self, driver_connection: Any, pgvector: bool) -> None:
        self.allowed = threading.Event()  # the threads may start their next statement
        self.connection = _DriverConnection(driver_connection, self.allowed)
        self.pgvector = pgvector
        self.lexicon = _Lexicon()  # used by the index thread alone
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-index")
        self.embedder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-embed")
        # Room for pending work on each thread: taken when work is handed over, given
        # back when it is done.
        self.index_room = threading.BoundedSemaphore(PENDING_PIECES)
        self.embed_room = threading.BoundedSemaphore(PENDING_PIECES)
        self.queued: list[tuple[Any, ...]] = []
        self.errors: list[BaseException] = []  # in the order they happened

    def submit(self, pairs: list[tuple[str, uuid.UUID]], texts: list[SearchTexts | None]) -> None:
        # The passages expected are embedded at once, on the embedding thread: their index
        # statement, queued, will store them with their embeddings.
        embedded = self.embedder.submit(self._embed_ahead, _passage_texts(texts))
        self.queued.append(
            (_index, pairs, texts, self.pgvector, self._embed_later, self.lexicon, embedded.result)
        )

    def submit_statement(self, statement: str) -> None:
        """Run a statement without parameters after the work submitted so far."""
        self.queued.append((_statement, statement))

    def start_queued(self) -> None:
        queued, self.queued = self.queued, []
        # First: waiting for room, the publisher waits for statements to run.
        self.allowed.set()
        for work in queued:
            self.index_room.acquire()
            self.pool.submit(self._run, self.index_room, *work)

    def hold(self) -> None:
        self.allowed.clear()

    def _embed_ahead(self, texts: list[str]) -> dict[str, Any]:
        if self.errors or self.connection.abandoned:
            # The statement will not run: a failed publish ends without waiting for these.
            return passages.NO_EMBEDDINGS
        return passages.given_embeddings(texts, pgvector=self.pgvector)

    def _embed_later(self, work: Any, *args: Any) -> None:
        self.embed_room.acquire()
        self.embedder.submit(self._run, self.embed_room, work, *args)

    def _run(self, room: threading.BoundedSemaphore, work: Any, *args: Any) -> None:
        try:
            # The transaction is aborted, or the block failed first: the first error is
            # the one to tell, and embeddings made now would be thrown away.
            if self.errors or self.connection.abandoned:
                return
            work(self.connection, *args)
        except _Abandoned:
            pass  # the block failed first: its error is the one to tell
        except BaseException as error:
            self.errors.append(error)
        finally:
            room.release()

    def finish(self, *, raise_error: bool) -> BaseException | None:
        """Wait for the threads; their first error, raised (with `raise_error`) or
        returned. A driver error is raised as SQLAlchemy's, as the session's own
        statements raise it, so that the app answers it as any database error (a 503 on
        a lost connection). Work still queued is done first when all went well, and
        dropped otherwise (the transaction is rolled back)."""
        try:
            if raise_error:
                self.start_queued()  # may wait for room, and be interrupted there
            else:
                # The transaction is rolled back: no statement held back by `hold` starts.
                self.connection.abandoned = True
        except BaseException:
            self.connection.abandoned = True  # the caller rolls back: the rest is not run
            raise
        finally:
            self.queued = []
            self.allowed.set()  # what the threads were held from, they do (or give up) now
            self.pool.shutdown(wait=True)  # its last batch hands the embedder its last work
            self.embedder.shutdown(wait=True)
        if not self.errors:
            return None
        first = self.errors[0]
        if raise_error:
            if isinstance(first, psycopg.Error):
                raise DBAPIError.instance(None, None, first, psycopg.Error) from first
            raise first
        return first


def _statement(connection: Any, statement: str) -> None:
    connection.exec_driver_sql(statement, None)


class _Abandoned(Exception):
    """The block using the threads failed: their statements would run on a transaction
    that is rolled back."""


class _DriverConnection:
    """SQLAlchemy's `exec_driver_sql`, as the index uses it, on a psycopg connection; each
    statement waits until `allowed` is set (the publisher's own have gone first), and is
    not run once the work is `abandoned`."""

    def __init__(self, connection: Any, allowed: threading.Event) -> None:
        self.connection = connection
        self.allowed = allowed
        self.abandoned = False

    def exec_driver_sql(self, statement: str, params: dict[str, Any] | None) -> _Rows:
        self.allowed.wait()
        if self.abandoned:
            raise _Abandoned
        with self.connection.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(statement, params)
            return _Rows(cursor.fetchall() if cursor.description else [])


class _Rows:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def fetchmany(self, size: int) -> list[Any]:
        taken, self.rows = self.rows[:size], self.rows[size:]
        return taken


def reindex_all(connection: Connection | None = None) -> None:
    """Index every published article and FAQ (after a bulk load, or to rebuild)."""
    connection = connection or db.session.connection()
    _run(
        connection,
        _ALL,
        {},
        wanted_known=_ALL_KNOWN,
        known_params={},
        pgvector=vectors.has_pgvector_column(connection),
        lexicon_params={},
    )


def embed_missing(connection: Connection | None = None) -> int:
    """Embed every answer passage that has no embedding yet (the passages stored before
    embeddings came in: `cms-api render` does it once); how many."""
    connection = connection or db.session.connection()
    return passages.embed_passages(
        connection, _ALL, {}, pgvector=vectors.has_pgvector_column(connection)
    )
