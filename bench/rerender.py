"""Time a refresh of every article at once, as an import or `cms-api render` runs one.

The corpus (bench/corpus.py) is published through the real service with links to any
article, not only older ones, so that most articles are linked to from other batches.
Then every stored article document is made stale and `refresh_articles` is
timed over all the articles in one call, counting the article documents it renders.
The transaction is rolled back, so the database can be measured again with `--reuse`.

    .venv/bin/python bench/rerender.py --articles 2000
    .venv/bin/python bench/rerender.py --articles 2000 --reuse
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run.py imports its neighbours

from corpus import load_corpus
from run import publish_articles

from cms_api import create_app
from cms_api.config import Settings
from cms_api.database import db, drop_database, ensure_database
from cms_api.models import Article, PublishedDocument
from cms_api.services.publishing import articles as article_documents

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_NAME = "cms_rerender_bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=LOCAL_SERVER, help="the PostgreSQL server")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--reuse", action="store_true", help="measure the kept database again")
    args = parser.parse_args(argv)
    if not args.reuse:
        drop_database(args.database_url, DATABASE_NAME)
    url = ensure_database(args.database_url, DATABASE_NAME)
    app = create_app({"CMS_SETTINGS": Settings(database_url=url), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if not args.reuse:
            upgrade()
            started = time.perf_counter()
            load_corpus(
                db.session,
                publish_articles,
                articles=args.articles,
                older_links=False,
                progress=lambda message: None,
            )
            db.session.commit()
            print(f"corpus of {args.articles:,} published in {time.perf_counter() - started:.0f} s")
        ids = list(db.session.scalars(select(Article.id).order_by(Article.id)))
        rendered = 0
        render = article_documents._article_row

        def counted(*row: Any) -> dict[str, Any]:
            nonlocal rendered
            rendered += 1
            return render(*row)

        article_documents._article_row = counted  # type: ignore[assignment]
        db.session.execute(
            update(PublishedDocument)
            .where(PublishedDocument.kind == "article")
            .values(etag='"stale"')  # so that every document is written again
        )
        started = time.perf_counter()
        article_documents.refresh_articles(ids)
        db.session.flush()
        seconds = time.perf_counter() - started
        db.session.rollback()
        db.engine.dispose()
    print(
        f"refresh_articles of {len(ids):,} articles: {seconds:.1f} s, "
        f"{rendered:,} article documents rendered"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
