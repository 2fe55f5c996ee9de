"""The editor's article screens: list, create, edit with autosave and preview, workflow."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import Response, make_response, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from cms_api.domain.clock import utcnow
from cms_api.domain.errors import DomainError
from cms_api.domain.etags import if_match_allows
from cms_api.models import Article
from cms_api.schemas.admin.articles import STATUSES, ArticleCreate, ArticlePatch
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import presence, workflow
from cms_api.services.publishing import markdown
from cms_api.services.runtime import settings
from cms_api.studio import actions, article_bulk, article_form, nav, pages, security
from cms_api.studio.blueprint import bp

nav.add_section(
    nav.Section(
        endpoint="studio.articles",
        label="Articles",
        description="Find, write and edit articles, and move them through review.",
        action="content:write",
    )
)

PAGE_SIZE = 25
# The workflow moves this screen offers, with the permission each needs (the admin API's).
MOVES = {
    "submit": "workflow:submit",
    "publish": "workflow:publish",
    "unpublish": "workflow:publish",
}


def _fragment(template: str, *, status: int = 200, **context: Any) -> Response:
    """A piece of a page for htmx: no layout, and the messages stay for the next page."""
    return make_response(render_template(template, **context), status)


# -- the list ---------------------------------------------------------------------------------


@bp.get("/articles")
@security.requires("content:read")
def articles() -> Response:
    args = request.args
    overdue = {"yes": True, "no": False}.get(args.get("overdue", ""))
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadRequest(f"There is no status {status!r}.")
    filters = editorial.ArticleFilters(
        status=status,
        author=args.get("author") or None,
        topic=args.get("topic") or None,
        overdue=overdue,
        q=args.get("q") or None,
        locale=args.get("locale") or None,
        trashed=args.get("trashed") == "1",
    )
    page = editorial.list_articles(filters, limit=PAGE_SIZE, cursor=args.get("cursor") or None)
    next_url = None
    if page.next_cursor:
        kept = {key: value for key, value in args.items() if key != "cursor" and value}
        next_url = url_for("studio.articles", **kept, cursor=page.next_cursor)
    return pages.render_page(
        "studio/articles/list.html",
        page=page,
        filters=filters,
        chosen=args,
        statuses=STATUSES,
        locales=settings().locales,
        next_url=next_url,
        bulk_actions=article_bulk.offered(filters.trashed),
        here=url_for("studio.articles", **{k: v for k, v in args.items() if v}),
    )


# -- create -----------------------------------------------------------------------------------


@bp.get("/articles/new")
@security.requires("content:write")
def new_article() -> Response:
    form = pages.Form(values={"locale": settings().default_locale})
    return pages.render_page("studio/articles/new.html", form=form, locales=settings().locales)


@bp.post("/articles/new")
@security.requires("content:write")
def create_article() -> Response:
    form = pages.Form.from_request(request.form)
    data = {name: request.form.get(name, "").strip() for name in ("title", "slug", "locale")}
    data["summary"] = request.form.get("summary", "")
    try:
        loaded = ArticleCreate().load(data)
    except ma.ValidationError as error:
        form.refuse("Check the fields marked below.", **pages.field_messages(error.messages))
    else:
        done = actions.perform(lambda actor: editorial.create_article(loaded, actor))
        if done.ok and done.value is not None:
            pages.notice(f"Created “{done.value.title}”.", category="success")
            return redirect(url_for("studio.edit_article", article_id=done.value.id), 303)
        assert done.error is not None
        form.refuse_with(done.error)
    return pages.render_page(
        "studio/articles/new.html", status=422, form=form, locales=settings().locales
    )


# -- edit, save and autosave ------------------------------------------------------------------


@bp.get("/articles/<uuid:article_id>")
@security.requires("content:write")
def edit_article(article_id: uuid.UUID) -> Response:
    article = editorial.get_article(article_id, include_trashed=True)
    return _editor(article, article_form.values_of(article))


@bp.post("/articles/<uuid:article_id>")
@security.requires("content:write")
def save_article(article_id: uuid.UUID) -> Response:
    """The edit form sent whole (its buttons: save, add, move or remove a section)."""
    values, operation = article_form.apply_operation(
        article_form.form_values(request.form), request.form.get("op", "")
    )
    outcome = _save(article_id, values)
    if outcome.conflict is not None:
        return _conflict(outcome.conflict, values)
    if outcome.error is not None:
        return _editor(outcome.article, values, outcome.error, status=422)
    pages.notice(
        f"Saved at {utcnow():%H:%M} UTC." if operation == "save" else "Sections updated and saved.",
        category="success",
    )
    anchor = "#sections" if operation != "save" else ""
    return redirect(url_for("studio.edit_article", article_id=article_id) + anchor, 303)


@bp.post("/articles/<uuid:article_id>/autosave")
@security.requires("content:write")
def autosave_article(article_id: uuid.UUID) -> Response:
    """The edit form sent by htmx as the editor types: the save status, and the new version."""
    values = article_form.form_values(request.form)
    outcome = _save(article_id, values)
    status = 200
    if outcome.error is not None:
        status = 422
    response = _fragment(
        "studio/articles/_save_status.html",
        status=status,
        outcome=outcome,
        article=outcome.article,
        etag=article_form.etag_of(outcome.article),
        saved_at=f"{utcnow():%H:%M}",
    )
    if outcome.conflict is not None:
        response.headers["HX-Trigger"] = "article-conflict"
    return response


@bp.post("/articles/<uuid:article_id>/resolve")
@security.requires("content:write")
def resolve_conflict(article_id: uuid.UUID) -> Response:
    """The conflict screen's choice: per field, keep mine (saved over their version) or
    take theirs (left as it is); "take all theirs" just reloads."""
    if request.form.get("choice") == "theirs":
        pages.notice("Your changes were discarded; this is the saved version.")
        return redirect(url_for("studio.edit_article", article_id=article_id), 303)
    try:
        mine = json.loads(request.form.get("mine") or "{}")
    except ValueError:
        mine = None
    if not isinstance(mine, dict):
        raise BadRequest("The conflict form is damaged; reload the article.")
    keep_all = request.form.get("choice") == "mine"
    kept = {
        name: value
        for name, value in mine.items()
        if keep_all or request.form.get(f"keep-{name}") == "mine"
    }
    values = {**kept, "etag": request.form.get("etag", "")}
    outcome = _save(article_id, values)
    if outcome.conflict is not None:
        return _conflict(outcome.conflict, {**mine, "etag": values["etag"]})
    if outcome.error is not None:
        full = {**article_form.values_of(outcome.article), **kept, "etag": values["etag"]}
        return _editor(outcome.article, full, outcome.error, status=422)
    pages.notice(f"Saved at {utcnow():%H:%M} UTC, with your choices.", category="success")
    return redirect(url_for("studio.edit_article", article_id=article_id), 303)


@dataclass
class Outcome:
    """What a save came to: saved, refused (messages per field) or stale (their version)."""

    article: Article
    error: pages.Form | None = None
    conflict: Article | None = None


def _save(article_id: uuid.UUID, values: dict[str, Any]) -> Outcome:
    """Save the edit form's values through the service, as PATCH with If-Match does."""
    form = pages.Form()
    values = article_form.keep_saved_subsections(
        values, lambda: editorial.get_article(article_id, include_trashed=True)
    )
    try:
        data = ArticlePatch().load(article_form.patch_of(values))
    except ma.ValidationError as error:
        article = editorial.get_article(article_id, include_trashed=True)
        return Outcome(
            article,
            error=form.refuse(
                "Not saved: check the fields marked below.", **pages.field_messages(error.messages)
            ),
        )
    holder: dict[str, Article] = {}

    def call(actor: Any) -> Article:
        article = editorial.get_article(article_id, for_update=True)
        holder["article"] = article
        if not if_match_allows(values.get("etag") or "", article_form.etag_of(article)):
            raise DomainError("Someone else saved this article since you opened it.", status=412)
        return editorial.update_article(article, data, actor)

    done = actions.perform(call)
    if done.ok and done.value is not None:
        return Outcome(done.value)
    assert done.error is not None
    article = editorial.get_article(article_id, include_trashed=True)
    if done.error.status == 412:
        return Outcome(article, conflict=article)
    return Outcome(article, error=form.refuse_with(done.error))


def _conflict(theirs: Article, mine: dict[str, Any]) -> Response:
    """Both versions, per field that differs: the editor chooses."""
    current = article_form.values_of(theirs)
    fields = [
        name
        for name in (
            *article_form.TEXT_FIELDS,
            *article_form.NULLABLE_FIELDS,
            "review_interval_months",
            "sections",
        )
        if name in mine
        and article_form.comparable(mine[name]) != article_form.comparable(current.get(name))
    ]
    return pages.render_page(
        "studio/articles/conflict.html",
        status=409,
        article=theirs,
        etag=article_form.etag_of(theirs),
        fields=fields,
        labels=article_form.FIELD_LABELS,
        mine={name: mine[name] for name in fields},
        theirs={name: current.get(name) for name in fields},
        mine_json=json.dumps({name: mine[name] for name in fields}),
        shown=article_form.shown_text,
    )


def _editor(
    article: Article, values: dict[str, Any], form: pages.Form | None = None, *, status: int = 200
) -> Response:
    user = security.current_user()
    assert user is not None
    return pages.render_page(
        "studio/articles/edit.html",
        status=status,
        article=article,
        values=values,
        form=form or pages.Form(),
        etag=values.get("etag") or article_form.etag_of(article),
        moves=[
            move
            for move in editorial.present(article)["allowed_transitions"]
            if move in MOVES and security.may(MOVES[move])
        ],
        others=presence.others(article.id, user.id),
        preview_of=markdown.to_html,
        locales=settings().locales,
    )


# -- preview and presence ---------------------------------------------------------------------


@bp.post("/articles/preview")
@security.requires("content:read")
def preview() -> Response:
    """A section body rendered as readers will see it (the publishing renderer, sanitized)."""
    field = request.form.get("field", "")
    if not (article_form.SECTION_FIELD.match(field) or article_form.SUBSECTION_FIELD.match(field)):
        raise BadRequest("Say which field to preview.")
    source = request.form.get(field, "")
    return _fragment("studio/articles/_preview.html", html=markdown.to_html(source))


@bp.post("/articles/<uuid:article_id>/presence")
@security.requires("content:read")
def heartbeat(article_id: uuid.UUID) -> Response:
    """I have the article open (every 20 s while the editor is): who else has it open."""
    user = security.current_user()
    assert user is not None
    editorial.get_article(article_id, include_trashed=True)
    actions.perform(
        lambda actor: presence.heartbeat(article_id, actor.user_id, editing=True), writes=False
    )
    return _fragment(
        "studio/articles/_presence.html",
        others=presence.others(article_id, user.id),
    )


# -- the workflow and the trash ---------------------------------------------------------------


def _move(article_id: uuid.UUID, call: Any, done_text: str) -> Response:
    def run(actor: Any) -> Article:
        return call(editorial.get_article(article_id, for_update=True), actor)

    done = actions.perform(run)
    if done.ok:
        pages.notice(done_text, category="success")
    else:
        assert done.error is not None
        pages.notice(done.error.detail, category="error")
    return redirect(url_for("studio.edit_article", article_id=article_id), 303)


@bp.post("/articles/<uuid:article_id>/submit")
@security.requires("workflow:submit")
def submit_article(article_id: uuid.UUID) -> Response:
    return _move(article_id, workflow.submit, "Submitted for medical review.")


@bp.post("/articles/<uuid:article_id>/unpublish")
@security.requires("workflow:publish")
def unpublish_article(article_id: uuid.UUID) -> Response:
    return _move(article_id, workflow.unpublish, "Withdrawn from readers: back to draft.")


@bp.post("/articles/<uuid:article_id>/publish")
@security.requires("workflow:publish")
def publish_article(article_id: uuid.UUID) -> Response:
    """Publish now, or at the date and time given (UTC)."""
    raw = request.form.get("publish_at", "").strip()
    when = None
    if raw:
        try:
            when = datetime.fromisoformat(raw).replace(tzinfo=UTC)
        except ValueError:
            pages.notice(
                "Give the date and time as shown, such as 2030-01-31 09:00.", category="error"
            )
            return redirect(url_for("studio.edit_article", article_id=article_id), 303)
        if when <= utcnow():
            pages.notice("Choose a time in the future to schedule.", category="error")
            return redirect(url_for("studio.edit_article", article_id=article_id), 303)
    text = f"Scheduled for {when:%Y-%m-%d %H:%M} UTC." if when else "Published."
    return _move(
        article_id, lambda article, actor: workflow.publish(article, actor, publish_at=when), text
    )


@bp.post("/articles/<uuid:article_id>/trash")
@security.requires("content:write")
def trash_article(article_id: uuid.UUID) -> Response:
    etag = request.form.get("etag", "")

    def run(actor: Any) -> None:
        article = editorial.get_article(article_id, for_update=True)
        if not if_match_allows(etag, article_form.etag_of(article)):
            raise DomainError(
                "Someone else saved this article since you opened it: reload it and check "
                "before moving it to the trash.",
                status=412,
            )
        editorial.trash_article(article, actor)

    done = actions.perform(run)
    if not done.ok:
        assert done.error is not None
        pages.notice(done.error.detail, category="error")
        return redirect(url_for("studio.edit_article", article_id=article_id), 303)
    pages.notice("Moved to the trash. Restore it from the trash list.", category="success")
    return redirect(url_for("studio.articles", trashed="1"), 303)


@bp.post("/articles/<uuid:article_id>/restore")
@security.requires("content:write")
def restore_article(article_id: uuid.UUID) -> Response:
    def run(actor: Any) -> Article:
        article = editorial.get_article(article_id, for_update=True, include_trashed=True)
        return editorial.restore_article(article, actor)

    done = actions.perform(run)
    if not done.ok:
        assert done.error is not None
        pages.notice(done.error.detail, category="error")
        return redirect(url_for("studio.articles", trashed="1"), 303)
    pages.notice("Restored from the trash.", category="success")
    return redirect(url_for("studio.edit_article", article_id=article_id), 303)
