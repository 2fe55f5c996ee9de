"""The database layer: URL handling, the embedded server, and migrations that match the models."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text
from sqlalchemy.dialects import postgresql

from cms_api.database import db, libpq_url, none_of, one_of, sqlalchemy_url
from cms_api.models import Article
from cms_api.models.answer import include_object
from cms_api.services.integrations.seeds import load_seeds
from tests.conftest import build_app


def test_urls_select_psycopg_and_refuse_other_databases():
    assert sqlalchemy_url("postgres://u:p@h/d").drivername == "postgresql+psycopg"
    assert sqlalchemy_url("postgresql://u@h:5/d").drivername == "postgresql+psycopg"
    assert libpq_url("postgresql+psycopg://u:p@h/d") == "postgresql://u:p@h/d"
    with pytest.raises(ValueError, match="PostgreSQL only"):
        sqlalchemy_url("sqlite:///cms.db")


def _differences(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        return compare_metadata(context, db.metadata)


def _dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


def test_one_of_selects_what_in_selects_with_one_parameter(app):
    with app.app_context():
        every = list(db.session.scalars(select(Article.id).order_by(Article.id)))
        some = [*every[::2], every[0]]  # a value twice
        assert len(every) > 4
        for values in ([], some, every):
            chosen = select(Article.id).order_by(Article.id)
            assert list(db.session.scalars(chosen.where(one_of(Article.id, values)))) == list(
                db.session.scalars(chosen.where(Article.id.in_(values)))
            )
            assert list(db.session.scalars(chosen.where(~one_of(Article.id, values)))) == list(
                db.session.scalars(chosen.where(Article.id.not_in(values)))
            )
        statement = (
            select(Article.id)
            .where(one_of(Article.id, every))
            .compile(dialect=postgresql.dialect())
        )
        assert len(statement.params) == 1


def test_none_of_selects_what_not_in_selects_and_stays_hashed_when_prepared(app):
    with app.app_context():
        every = list(db.session.scalars(select(Article.id).order_by(Article.id)))
        some = [*every[::2], every[0]]  # a value twice
        for values in (some, every, [uuid.uuid4()]):
            chosen = select(Article.id).order_by(Article.id)
            assert list(db.session.scalars(chosen.where(none_of(Article.id, values)))) == list(
                db.session.scalars(chosen.where(Article.id.not_in(values)))
            )
        # A statement a worker runs often is prepared, and PostgreSQL may plan it once for
        # any array: the values must still be looked up in a hash, not scanned each row.
        compiled = (
            select(func.count())
            .select_from(Article)
            .where(none_of(Article.id, every))
            .compile(dialect=db.engine.dialect)
        )
        assert len(compiled.params) == 1
        connection = db.session.connection()
        connection.exec_driver_sql(
            "PREPARE none_of_check(uuid[]) AS "
            + re.sub(r"%\(\w+\)s", "$1", compiled.string).replace("%%", "%")
        )
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        literal = ", ".join(f"'{value}'" for value in every)  # EXECUTE binds no parameter
        plan = "\n".join(
            row[0]
            for row in connection.exec_driver_sql(
                f"EXPLAIN EXECUTE none_of_check(ARRAY[{literal}]::uuid[])"
            )
        )
        connection.exec_driver_sql("DEALLOCATE none_of_check")
        assert "hashed SubPlan" in plan
        db.session.rollback()


def test_migration_head_matches_the_models(app):
    assert _differences(app) == []


def test_downgrade_to_base_then_upgrade_to_head(make_database):
    app = build_app(make_database("migrations"))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"articles", "people", "topics", "faqs", "published_documents"} <= tables

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}

        upgrade()
        assert set(inspect(db.engine).get_table_names()) == tables
    try:
        assert _differences(app) == []
    finally:
        _dispose(app)


def test_the_title_and_topics_backfill_gives_what_publishing_writes(make_database):
    app = build_app(make_database("backfill"))
    # Red flags (0016) and other locales than the default (0019) do not survive the
    # downgrade this test makes.
    columns = text(
        "SELECT kind, entity_id, title, topic_slugs FROM published_documents "
        "WHERE kind <> 'red_flag' AND locale = 'en' ORDER BY 1, 2"
    )
    try:
        with app.app_context():
            upgrade()
            load_seeds()
            db.session.commit()
            written = db.session.execute(columns).all()
            db.session.remove()
            downgrade(revision="0005")
            upgrade()
            backfilled = db.session.execute(columns).all()
    finally:
        _dispose(app)

    kinds = {kind for kind, *_ in written}
    assert kinds == {"article", "faq", "person", "topic"}
    assert any(topics for kind, _, _, topics in written if kind == "article")
    assert backfilled == written


STARTER = textwrap.dedent(
    """
    import sys, psycopg
    from cms_api.database import embedded_server_url, ensure_database, libpq_url
    url = ensure_database(embedded_server_url(sys.argv[1]), "cms")
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SELECT 1")
    print(url)
    """
)


@pytest.mark.multiprocess
def test_two_processes_start_one_embedded_server_and_the_last_stops_it(tmp_path: Path):
    instance = tmp_path / "instance"
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(instance)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [starter.communicate(timeout=120) for starter in starters]

    assert [starter.returncode for starter in starters] == [0, 0], outputs
    urls = {out.strip() for out, _ in outputs}
    assert len(urls) == 1, "both processes must share one server and one database"
    assert (instance / "pgdata" / "PG_VERSION").exists()
    # The last process to exit stops the server: its pid file goes away.
    deadline = time.monotonic() + 20
    while (instance / "pgdata" / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (instance / "pgdata" / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(libpq_url(urls.pop()), connect_timeout=2).close()
