"""Topic and hub counts a bulk publish adds up once, not statement by statement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import Connection, exc

from cms_api.database import db

# Migration 0029: while `cms.deferred_counts` is on, the triggers that keep
# `search_topic_counts` and `listed_article_counts` write what they would add to these
# temporary tables.
_TABLES = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS cms_deferred_topic_counts"
    " (topic text, locale varchar(35), kind varchar(16), entries int) ON COMMIT DROP",
    "CREATE TEMPORARY TABLE IF NOT EXISTS cms_deferred_listed_counts"
    " (tag text, locale varchar(35), documents int) ON COMMIT DROP",
)
_SET = "SELECT set_config('cms.deferred_counts', %(value)s, true)"
_IS_SET = "SELECT current_setting('cms.deferred_counts', true) = 'on'"

# Each counts table gets what its triggers would have given it, statement by statement: a
# topic or tag with any addition is added to (its row made if missing), and one with
# removals only is subtracted from where it has a row.
_ADD_UP = """
WITH deferred AS (DELETE FROM pg_temp.{deferred} RETURNING *),
net AS (
    SELECT {key}, sum({value})::int AS {value}, bool_or({value} > 0) AS added
    FROM deferred GROUP BY {key}
),
removed_only AS (
    UPDATE {counts} AS counted SET {value} = counted.{value} + net.{value}
    FROM net
    WHERE NOT net.added AND {same_key}
)
INSERT INTO {counts} AS counted ({key}, {value})
SELECT {key}, {value} FROM net WHERE added
ORDER BY {key}  -- the rows added to locked in one order, as the triggers lock them
ON CONFLICT ({key}) DO UPDATE SET {value} = counted.{value} + excluded.{value}
"""


def _add_up(deferred: str, counts: str, key: tuple[str, ...], value: str) -> str:
    return _ADD_UP.format(
        deferred=deferred,
        counts=counts,
        key=", ".join(key),
        value=value,
        same_key=" AND ".join(f"counted.{column} = net.{column}" for column in key),
    )


_ADD_UP_ALL = (
    _add_up(
        "cms_deferred_topic_counts", "search_topic_counts", ("topic", "locale", "kind"), "entries"
    ),
    _add_up("cms_deferred_listed_counts", "listed_article_counts", ("tag", "locale"), "documents"),
)


@contextmanager
def added_up_at_end() -> Iterator[None]:
    """Inside this block, this transaction's counts of topics' search entries and of hub
    pages' articles are added up once, when it ends (and when `add_up` is called).

    Each update of a counts row leaves a version of it that the transaction's later
    updates of that row step over until it commits: statement by statement, a publish of
    100,000 articles pays for that more with each statement. Added up once, each row is
    updated once. Readers in other transactions see the counts only when the publish
    commits either way; inside the block, read them after `add_up`. When the block fails,
    what it deferred is added up if the transaction can still run it.
    """
    connection = db.session.connection()
    if connection.exec_driver_sql(_IS_SET).scalar():
        yield  # an outer block adds up
        return
    for statement in _TABLES:
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(_SET, {"value": "on"})
    try:
        yield
    except BaseException:
        # Usually the transaction is going back, deferred counts with it, or has failed
        # and can run nothing more (its own error is the one to see). But a caller that
        # goes on with it must find the counts kept.
        with suppress(exc.SQLAlchemyError):
            _stop_deferring(connection)
        raise
    _stop_deferring(connection)


def _stop_deferring(connection: Connection) -> None:
    connection.exec_driver_sql(_SET, {"value": "off"})
    add_up()


def add_up() -> None:
    """Add what this transaction deferred (`added_up_at_end`) to the counts; outside such
    a block, nothing is deferred."""
    connection = db.session.connection()
    if connection.exec_driver_sql(
        "SELECT to_regclass('pg_temp.cms_deferred_topic_counts') IS NULL"
    ).scalar():
        return
    for statement in _ADD_UP_ALL:
        connection.exec_driver_sql(statement)
