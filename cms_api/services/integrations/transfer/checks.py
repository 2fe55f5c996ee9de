"""Checks of an import that no single line can make: references, uniqueness, ownership, trees."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, text

from cms_api.services import runtime
from cms_api.services.integrations.transfer.kinds import (
    KIND,
    KINDS,
    SHARED_REFERENCES,
    UNIQUE_IN_FILE,
    Kind,
)
from cms_api.services.integrations.transfer.report import MAX_REPORTED, LineErrors


def check(connection: Connection) -> None:
    """Check the staged records against each other and this database; raise TransferInvalid
    naming the lines at fault."""
    errors = LineErrors()
    default_locale = runtime.settings().default_locale
    for sql, name, message in _checks():
        statement = text(sql + f" LIMIT {MAX_REPORTED}")
        if ":default_locale" in sql:
            rows = connection.execute(statement, {"default_locale": default_locale}).all()
        else:
            rows = connection.execute(statement).all()
        for line, *values in rows:
            errors.add(line, name, message.format(*values))
    if errors:
        raise errors.problem("inconsistent with the file or with this database")


def _checks() -> Iterator[tuple[str, str, str]]:
    """(SQL selecting the line and the message's values, the field, the message)."""
    for kind in KINDS:
        yield _duplicates(kind, kind.key, f"The same {kind.name} is on line {{0}}.")
    for name, columns in UNIQUE_IN_FILE:
        kind = KIND[name]
        listed = " and ".join(columns)
        yield _duplicates(kind, columns, f"The {listed} of line {{0}} again.")
    for kind in KINDS:
        if kind.owner:
            column, owner = kind.owner
            yield _missing(kind, column, owner, in_database=False)
    for name, column, target in SHARED_REFERENCES:
        yield _missing(KIND[name], column, target, in_database=True)
    yield from _ownership_checks()
    yield from _slug_checks()
    yield from _structure_checks()
    yield from _locale_checks()


def _duplicates(kind: Kind, columns: tuple[str, ...], message: str) -> tuple[str, str, str]:
    listed = ", ".join(columns)
    return (
        f"SELECT line, first FROM (SELECT line, min(line) OVER (PARTITION BY {listed}) AS first"
        f" FROM {kind.staging}) AS found WHERE line <> first ORDER BY line",
        columns[-1],
        message,
    )


def _missing(kind: Kind, column: str, target: str, *, in_database: bool) -> tuple[str, str, str]:
    parent = KIND[target]
    sql = (
        f"SELECT line, {column} FROM {kind.staging} AS s WHERE {column} IS NOT NULL"
        f" AND NOT EXISTS (SELECT 1 FROM {parent.staging} AS p WHERE p.id = s.{column})"
    )
    if in_database:
        sql += f" AND NOT EXISTS (SELECT 1 FROM {parent.table.name} AS p WHERE p.id = s.{column})"
        where = "neither in the file nor in this database"
    else:
        where = f"not in the file, and a {kind.name} comes with its {target}"
    return sql + " ORDER BY line", column, f"Unknown {target} {{0}}: {where}."


def _ownership_checks() -> Iterator[tuple[str, str, str]]:
    # A row the target has under another owner that the file leaves alone would be taken
    # from it: the file describes one aggregate and would silently change another.
    for kind in KINDS:
        if not kind.owner or kind.owner[0] in kind.key:
            continue
        column, owner = kind.owner
        joined = " AND ".join(f"t.{name} = s.{name}" for name in kind.key)
        yield (
            f"SELECT s.line, t.{column} FROM {kind.staging} AS s"
            f" JOIN {kind.table.name} AS t ON {joined}"
            f" WHERE t.{column} <> s.{column}"
            f" AND NOT EXISTS (SELECT 1 FROM {KIND[owner].staging} AS o WHERE o.id = t.{column})"
            " ORDER BY s.line",
            column,
            f"In this database this {kind.name} belongs to {owner} {{0}}, which the file "
            "does not include.",
        )
    # The same for a pair of articles: one link joins them, whichever file it came from.
    yield (
        "SELECT s.line, t.id FROM pg_temp.transfer_related_links AS s"
        " JOIN related_links AS t ON t.source_id = s.source_id AND t.target_id = s.target_id"
        " WHERE t.id <> s.id"
        " AND NOT EXISTS (SELECT 1 FROM pg_temp.transfer_related_links AS o WHERE o.id = t.id)"
        " ORDER BY s.line",
        "target_id",
        "This database already links these articles, with link {0}.",
    )


def _slug_checks() -> Iterator[tuple[str, str, str]]:
    for name in ("person", "red_flag", "topic", "article"):
        kind, label = KIND[name], name.replace("_", " ")
        # An article's slug is its locale's: a translation may keep the source's slug.
        same_locale = " AND t.locale = s.locale" if name == "article" else ""
        yield (
            f"SELECT s.line, s.slug, t.id FROM {kind.staging} AS s"
            f" JOIN {kind.table.name} AS t ON t.slug = s.slug{same_locale} AND t.id <> s.id"
            f" WHERE NOT EXISTS (SELECT 1 FROM {kind.staging} AS o WHERE o.id = t.id)"
            " ORDER BY s.line",
            "slug",
            f"The slug {{0!r}} belongs to another {label} ({{1}}) in this database.",
        )
    # In a locale, a slug answers for one article: as its current slug, or as a redirect.
    yield (
        "SELECT f.line, f.slug, a.line FROM pg_temp.transfer_article_slugs AS f"
        " JOIN pg_temp.transfer_articles AS a ON a.locale = f.locale AND a.slug = f.slug"
        " ORDER BY f.line",
        "slug",
        "{0!r} is also the current slug of the article on line {1}.",
    )
    yield (
        "SELECT a.line, a.slug, f.article_id FROM pg_temp.transfer_articles AS a"
        " JOIN article_slugs AS f ON f.locale = a.locale AND f.slug = a.slug"
        " WHERE NOT EXISTS"
        " (SELECT 1 FROM pg_temp.transfer_articles AS o WHERE o.id = f.article_id)"
        " ORDER BY a.line",
        "slug",
        "{0!r} redirects to article {1} in this database.",
    )
    yield (
        "SELECT f.line, f.slug, a.id FROM pg_temp.transfer_article_slugs AS f"
        " JOIN articles AS a ON a.locale = f.locale AND a.slug = f.slug"
        " WHERE NOT EXISTS (SELECT 1 FROM pg_temp.transfer_articles AS o WHERE o.id = a.id)"
        " ORDER BY f.line",
        "slug",
        "{0!r} is the current slug of article {1} in this database.",
    )


def _structure_checks() -> Iterator[tuple[str, str, str]]:
    yield (
        "SELECT s.line, s.parent_id FROM pg_temp.transfer_sections AS s"
        " WHERE s.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_temp.transfer_sections"
        " AS p WHERE p.id = s.parent_id AND p.article_id = s.article_id) ORDER BY s.line",
        "parent_id",
        "Unknown section {0}: a subsection's parent is a section of the same article.",
    )
    # Rendering reads the live revision; the working copy is the revision editors edit.
    for column in ("live_revision", "revision_number"):
        yield (
            f"SELECT a.line, a.{column} FROM pg_temp.transfer_articles AS a"
            f" WHERE a.{column} > 0 AND NOT EXISTS (SELECT 1 FROM pg_temp.transfer_revisions"
            f" AS r WHERE r.article_id = a.id AND r.number = a.{column}) ORDER BY a.line",
            column,
            "The file has no revision {0} of this article.",
        )
    # Walking up from each imported topic through the tree the import would leave must
    # end at a root; rendering walks the same way to build breadcrumbs.
    yield (
        _loops(
            "SELECT id, parent_id FROM pg_temp.transfer_topics UNION ALL SELECT id, parent_id"
            " FROM topics AS t WHERE NOT EXISTS"
            " (SELECT 1 FROM pg_temp.transfer_topics AS o WHERE o.id = t.id)",
            "pg_temp.transfer_topics",
        ),
        "parent_id",
        "Its parents lead back to it (through topic {0}).",
    )
    yield (
        _loops("SELECT id, parent_id FROM pg_temp.transfer_sections", "pg_temp.transfer_sections"),
        "parent_id",
        "Its parents lead back to it (through section {0}).",
    )


# Every article as the import would leave it: the file's, and the others this database has.
_ARTICLES_AFTER = (
    "WITH after AS (SELECT id, locale, source_id FROM pg_temp.transfer_articles"
    " UNION ALL SELECT id, locale, source_id FROM articles AS t WHERE NOT EXISTS"
    " (SELECT 1 FROM pg_temp.transfer_articles AS o WHERE o.id = t.id)) "
)


def _locale_checks() -> Iterator[tuple[str, str, str]]:
    # A translation is made from an original, in another locale, and is the only one of
    # that original in its locale (rendering lists a work's translations by locale).
    yield (
        _ARTICLES_AFTER + "SELECT s.line, s.source_id FROM pg_temp.transfer_articles AS s"
        " JOIN after AS source ON source.id = s.source_id"
        " WHERE source.source_id IS NOT NULL ORDER BY s.line",
        "source_id",
        "Article {0} is itself a translation: a translation is made from the original.",
    )
    yield (
        _ARTICLES_AFTER + "SELECT s.line, t.id FROM pg_temp.transfer_articles AS s"
        " JOIN after AS t ON t.source_id = s.id"
        " WHERE s.source_id IS NOT NULL ORDER BY s.line",
        "source_id",
        "Article {0} translates this one, which therefore cannot be a translation itself.",
    )
    yield (
        _ARTICLES_AFTER + "SELECT s.line, source.locale FROM pg_temp.transfer_articles AS s"
        " JOIN after AS source ON source.id = s.source_id"
        " WHERE source.locale = s.locale ORDER BY s.line",
        "locale",
        "The same locale as its source ({0}): a translation is in another one.",
    )
    yield (
        _ARTICLES_AFTER + "SELECT s.line, t.id FROM pg_temp.transfer_articles AS s"
        " JOIN after AS t ON t.source_id = s.id AND t.locale = s.locale ORDER BY s.line",
        "locale",
        "Article {0} translates this one into this same locale.",
    )
    yield (
        _ARTICLES_AFTER + "SELECT s.line, t.id FROM pg_temp.transfer_articles AS s"
        " JOIN after AS t ON t.source_id = s.source_id AND t.locale = s.locale"
        " AND t.id <> s.id WHERE s.source_id IS NOT NULL ORDER BY s.line",
        "locale",
        "Article {0} already translates the same source into this locale.",
    )
    # An article's former slugs and FAQs are in its locale.
    yield (
        "SELECT f.line, a.locale FROM pg_temp.transfer_article_slugs AS f"
        " JOIN pg_temp.transfer_articles AS a ON a.id = f.article_id"
        " WHERE f.locale <> a.locale ORDER BY f.line",
        "locale",
        "Its article is in {0!r}: a former slug is in its article's locale.",
    )
    yield (
        _ARTICLES_AFTER + "SELECT f.line, a.locale FROM pg_temp.transfer_faqs AS f"
        " JOIN after AS a ON a.id = f.article_id WHERE f.locale <> a.locale ORDER BY f.line",
        "locale",
        "Its article is in {0!r}: an article's FAQs are in its locale.",
    )
    yield (
        "SELECT a.line, f.id FROM pg_temp.transfer_articles AS a"
        " JOIN faqs AS f ON f.article_id = a.id AND f.locale <> a.locale"
        " WHERE NOT EXISTS (SELECT 1 FROM pg_temp.transfer_faqs AS o WHERE o.id = f.id)"
        " ORDER BY a.line",
        "locale",
        "FAQ {0} of this article in this database is in another locale.",
    )
    # The default locale's text is the topic's or person's own row.
    for name, parent in (("topic_translation", "topic"), ("person_translation", "person")):
        yield (
            f"SELECT line, locale FROM {KIND[name].staging}"
            " WHERE locale = :default_locale ORDER BY line",
            "locale",
            f"{{0!r}} is this site's default locale, whose text is the {parent}'s own.",
        )


def _loops(tree: str, staged: str) -> str:
    """Lines of staged rows whose chain of parents repeats a row."""
    return (
        f"WITH RECURSIVE tree AS ({tree}),"
        f" walk(start, node, seen, looped) AS ("
        f" SELECT id, parent_id, ARRAY[id], false FROM {staged} WHERE parent_id IS NOT NULL"
        " UNION ALL SELECT walk.start, tree.parent_id, walk.seen || tree.id,"
        " tree.id = ANY(walk.seen) FROM walk JOIN tree ON tree.id = walk.node"
        " WHERE NOT walk.looped)"
        f" SELECT s.line, walk.seen[cardinality(walk.seen)] FROM walk"
        f" JOIN {staged} AS s ON s.id = walk.start"
        " WHERE walk.looped ORDER BY s.line"
    )
