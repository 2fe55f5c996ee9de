"""Bulk actions on the article list: submit, publish, trash or restore the chosen articles."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, redirect, request, url_for
from werkzeug.exceptions import BadRequest, Forbidden

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.models import Article
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import workflow
from cms_api.studio import actions, pages, security
from cms_api.studio.blueprint import bp

MAX_CHOSEN = 100  # more than a list page shows; a bigger form is no person's choice
# Past this, what is left is reported rather than started: each article may wait up to
# render_lock.WAIT_SECONDS for its turn, and the worker's timeout is 30 s.
TIME_BUDGET_SECONDS = 15.0


@dataclass(frozen=True)
class BulkAction:
    label: str  # as the list's menu offers it
    done: str  # "Submitted 3 articles for review."
    action: str  # the permission it needs, as the admin API's
    call: Callable[[Article, Actor], Any]
    trashed: bool = False  # it acts on articles in the trash


BULK_ACTIONS = {
    "submit": BulkAction(
        "Submit for review",
        "Submitted {n} for medical review.",
        "workflow:submit",
        workflow.submit,
    ),
    "publish": BulkAction(
        "Publish now (approved ones)",
        "Published {n}.",
        "workflow:publish",
        lambda article, actor: workflow.publish(article, actor, publish_at=None),
    ),
    "trash": BulkAction(
        "Move to the trash",
        "Moved {n} to the trash.",
        "content:write",
        editorial.trash_article,
    ),
    "restore": BulkAction(
        "Restore from the trash",
        "Restored {n}.",
        "content:write",
        editorial.restore_article,
        trashed=True,
    ),
}


def offered(trashed: bool) -> list[tuple[str, str]]:
    """(value, label) of the actions this user may take on the list shown."""
    return [
        (name, bulk.label)
        for name, bulk in BULK_ACTIONS.items()
        if bulk.trashed == trashed and security.may(bulk.action)
    ]


def _chosen(values: list[str]) -> list[tuple[uuid.UUID, int]]:
    """Each box ticked: the article and the version the list showed (`id@version`)."""
    chosen = []
    for value in dict.fromkeys(values):
        article_id, _, version = value.partition("@")
        try:
            chosen.append((uuid.UUID(article_id), int(version)))
        except ValueError as error:
            raise BadRequest("The list's form is damaged; reload the page.") from error
    return chosen


def _article_count(n: int) -> str:
    return f"{n} article" + ("" if n == 1 else "s")


@bp.post("/articles/bulk")
@security.requires("content:read")
def bulk_articles() -> Response:
    """Each chosen article in a transaction of its own, as one API call each would be:
    the others are done when one is refused, and the message says which and why."""
    back = request.form.get("back", "")
    if not back.startswith(url_for("studio.articles")):
        back = url_for("studio.articles")
    bulk = BULK_ACTIONS.get(request.form.get("action", ""))
    if bulk is None:
        raise BadRequest("Choose what to do with the chosen articles.")
    if not security.may(bulk.action):
        raise Forbidden("Your role may not do this.")
    chosen = _chosen(request.form.getlist("chosen"))
    if not chosen:
        pages.notice("Tick the articles to act on first.", category="error")
        return redirect(back, 303)
    if len(chosen) > MAX_CHOSEN:
        raise BadRequest(f"Choose at most {MAX_CHOSEN} articles at once.")

    done, refused, left = 0, [], 0
    titles: dict[uuid.UUID, str] = {}
    # Well inside the worker's timeout: what is left past it is said to be left, rather
    # than half-done by a killed worker.
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    for position, (article_id, version) in enumerate(chosen):
        if time.monotonic() > deadline:
            left = len(chosen) - position
            break

        def act(actor: Actor, article_id: uuid.UUID = article_id, version: int = version) -> Any:
            article = editorial.get_article(
                article_id, for_update=True, include_trashed=bulk.trashed
            )
            titles[article_id] = article.title
            if article.version != version:
                raise DomainError(
                    "it changed since the list was loaded; open it to check.", status=412
                )
            return bulk.call(article, actor)

        try:
            outcome = actions.perform(act)
        except DomainError as error:  # not found, busy: said for this article, not all
            db.session.rollback()
            if error.status == 503:  # other writes hold the content, and will a while
                left = len(chosen) - position
                break
            outcome = actions.Done(error=error)
        if outcome.ok:
            done += 1
        else:
            assert outcome.error is not None
            name = titles.get(article_id)
            refused.append(f"“{name}”: {outcome.error.detail}" if name else outcome.error.detail)
    if done:
        pages.notice(bulk.done.format(n=_article_count(done)), category="success")
    if left:
        refused.append(f"{_article_count(left)} left undone, as the content is busy: try again.")
    if refused:
        pages.notice(
            f"Not done for {_article_count(len(refused) - bool(left) + left)}: "
            + " ".join(refused),
            category="error",
        )
    return redirect(back, 303)
