"""An article's parts in the studio: citations, FAQs, related links, topics and images."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
from flask import Response, current_app, redirect, request, url_for
from werkzeug.exceptions import Forbidden

from cms_api.domain.errors import (
    DomainError,
    NotFound,
    UnreadableImage,
    UnsupportedImage,
    ValidationFailed,
)
from cms_api.models import Article
from cms_api.models.article import LINK_RELATIONS
from cms_api.schemas.admin.articles import CitationIn
from cms_api.schemas.admin.faqs import AdminFaqCreate, AdminFaqPatch
from cms_api.schemas.admin.images import AdminImagePatch, AdminImageUpload
from cms_api.schemas.admin.links import AdminLinkCreate, AdminLinkPatch
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import faqs, link_suggestions, links, topics
from cms_api.services.media import images
from cms_api.studio import actions, pages, security
from cms_api.studio.blueprint import bp

# (endpoint suffix, label): the sub-pages, in the order their tabs show.
TABS = (
    ("citations", "Citations"),
    ("faqs", "FAQs"),
    ("links", "Related links"),
    ("topics", "Topics"),
    ("images", "Images"),
)
CITATION_FIELDS = ("title", "authors", "publisher", "periodical", "year", "doi", "pmid", "url")
LISTED = 200  # more than an article has parts; the page shows them all
STALE = (
    "Someone changed this since you opened the page, so your change was not saved. "
    "The page now shows the current state: check it and make your change again."
)


# -- reading ------------------------------------------------------------------------------------


def _article(article_id: uuid.UUID) -> Article:
    return editorial.get_article(article_id, include_trashed=True)


def _citations(article: Article) -> list[dict[str, Any]]:
    return [{name: getattr(item, name) for name in CITATION_FIELDS} for item in article.citations]


def _article_faqs(article: Article) -> list[Any]:
    found = faqs.list_faqs(faqs.FaqFilters(article_id=article.id), limit=LISTED, cursor=None)
    return sorted(found.items, key=lambda faq: (faq.position, faq.created_at))


def _article_links(article: Article) -> list[Any]:
    found = links.list_links(article, relation=None, trashed=False, limit=LISTED, cursor=None)
    return list(found.items)


def _link_targets(article: Article, query: str) -> list[Article]:
    """Articles this one may link to: originals in its locale, itself left out."""
    chosen = editorial.ArticleFilters(locale=article.locale, q=query or None)
    found = editorial.list_articles(chosen, limit=LISTED, cursor=None)
    return sorted(
        (item for item in found.items if item.id != article.id and item.source_id is None),
        key=lambda item: item.title.casefold(),
    )


def _all_topics() -> list[Any]:
    found, cursor = [], None
    while True:
        page = topics.list_topics(topics.TopicFilters(), limit=LISTED, cursor=cursor)
        found.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            return sorted(found, key=lambda topic: topic.name.casefold())


def _local(url: str) -> str:
    """A media URL as a path on this server (the pages allow images only from 'self')."""
    return urlsplit(url).path


def _image_view(image: Any) -> dict[str, Any]:
    shown = images.present(image)
    small = [f for f in shown["files"] if f["ratio"] == "1:1" and f["format"] == "jpeg"]
    thumbnail = min(small, key=lambda f: f["width"]) if small else {"url": shown["url"]}
    return {**shown, "thumbnail": _local(thumbnail["url"])}


def _context(article: Article, tab: str) -> dict[str, Any]:
    """What each sub-page lists besides its header."""
    if tab == "citations":
        return {"citations": _citations(article)}
    if tab == "faqs":
        return {"faqs": _article_faqs(article)}
    if tab == "links":
        query = request.args.get("q", "").strip()[:200]
        suggestions: list[Any] = []
        if article.deleted_at is None and article.source_id is None:
            suggestions, _total = link_suggestions.suggest(article, limit=10)
        return {
            "links": _article_links(article),
            "targets": _link_targets(article, query),
            "query": query,
            "suggestions": suggestions,
            "relations": LINK_RELATIONS,
        }
    if tab == "topics":
        chosen = [link.topic.slug for link in article.topic_links]
        return {"topics": _all_topics(), "chosen": chosen}
    hero = None
    if article.lead_image_id is not None:
        hero = _image_view(images.get_image(article.lead_image_id, include_trashed=True))
    library = images.list_images(images.ImageFilters(), limit=24, cursor=None).items
    return {"hero": hero, "library": [_image_view(image) for image in library]}


def _page(
    article_id: uuid.UUID,
    tab: str,
    *,
    status: int = 200,
    form: pages.Form | None = None,
    active: str | None = None,
    conflict: str | None = None,
) -> Response:
    article = _article(article_id)
    return pages.render_page(
        f"studio/parts/{tab}.html",
        status=status,
        article=article,
        tab=tab,
        tab_label=dict(TABS)[tab],
        tabs=TABS,
        form=form or pages.Form(),
        active=active,
        conflict=conflict,
        **_context(article, tab),
    )


# -- writing ------------------------------------------------------------------------------------


def _load(schema: ma.Schema, data: dict[str, Any]) -> dict[str, Any]:
    """The form's values through the admin API's own schema, its messages as a 422."""
    try:
        return schema.load(data)
    except ma.ValidationError as error:
        messages = error.normalized_messages()
        raise ValidationFailed(
            "Some values need fixing; see the messages by the fields.",
            errors={"json": messages},
        ) from error


def _filled(names: tuple[str, ...]) -> dict[str, Any]:
    """The named form fields; an empty one is left unset (null), as the API has it."""
    return {name: (request.form.get(name) or "").strip() or None for name in names}


def _fresh(entity: Any) -> None:
    """The If-Match rule of the admin API: a write made from an old version is refused."""
    if request.form.get("version", "") != str(entity.version):
        raise DomainError(STALE, status=412, kind="precondition-failed")


def _locked_article(article_id: uuid.UUID) -> Article:
    return editorial.get_article(article_id, for_update=True)


def _done(
    article_id: uuid.UUID,
    tab: str,
    call: Callable[[Actor], Any],
    *,
    success: str,
    active: str,
) -> Response:
    """Run the write; then back to the sub-page, or the page again with the refusal."""
    form = pages.Form.from_request(request.form)
    done = actions.perform(call)
    if done.ok:
        pages.notice(success, category="success")
        return redirect(url_for(f"studio.article_{tab}", article_id=article_id), code=303)
    error = done.error
    assert error is not None
    if error.status in (412, 428):
        return _page(article_id, tab, status=409, conflict=error.detail)
    return _page(
        article_id,
        tab,
        status=422 if error.status in (400, 422) else error.status,
        form=form.refuse_with(error),
        active=active,
    )


def _moved(items: list[Any], index: int, direction: str) -> list[Any]:
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= index < len(items) or not 0 <= other < len(items):
        raise ValidationFailed("This item cannot move that way.")
    items = list(items)
    items[index], items[other] = items[other], items[index]
    return items


def _renumber(ordered: list[Any], update: Callable[[Any, dict[str, Any]], Any]) -> None:
    """Positions 0..n-1 in the order given, writing only the items that move."""
    for position, item in enumerate(ordered):
        if item.position != position:
            update(item, {"position": position})


# -- citations ----------------------------------------------------------------------------------


@bp.get("/articles/<uuid:article_id>/citations")
@security.requires("content:read")
def article_citations(article_id: uuid.UUID) -> Response:
    return _page(article_id, "citations")


def _edit_citations(
    article_id: uuid.UUID, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
) -> Callable[[Actor], Any]:
    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        _fresh(article)
        return editorial.update_article(article, {"citations": change(_citations(article))}, actor)

    return call


def _citation_from_form() -> dict[str, Any]:
    sent = _filled(CITATION_FIELDS)
    if sent["year"] is not None and sent["year"].isdigit():
        sent["year"] = int(sent["year"])  # the schema takes a number, as JSON has it
    return _load(CitationIn(), sent)


@bp.post("/articles/<uuid:article_id>/citations")
@security.requires("content:write")
def add_citation(article_id: uuid.UUID) -> Response:
    def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*current, _citation_from_form()]

    call = _edit_citations(article_id, change)
    return _done(article_id, "citations", call, success="Citation added.", active="add")


@bp.post("/articles/<uuid:article_id>/citations/<int:index>")
@security.requires("content:write")
def edit_citation(article_id: uuid.UUID, index: int) -> Response:
    def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if index >= len(current):
            raise DomainError(STALE, status=412)
        current[index] = _citation_from_form()
        return current

    call = _edit_citations(article_id, change)
    return _done(article_id, "citations", call, success="Citation saved.", active=f"c{index}")


@bp.post("/articles/<uuid:article_id>/citations/<int:index>/move")
@security.requires("content:write")
def move_citation(article_id: uuid.UUID, index: int) -> Response:
    direction = request.form.get("direction", "")
    call = _edit_citations(article_id, lambda current: _moved(current, index, direction))
    return _done(article_id, "citations", call, success="Citation moved.", active="list")


@bp.post("/articles/<uuid:article_id>/citations/<int:index>/remove")
@security.requires("content:write")
def remove_citation(article_id: uuid.UUID, index: int) -> Response:
    def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if index >= len(current):
            raise DomainError(STALE, status=412)
        return current[:index] + current[index + 1 :]

    call = _edit_citations(article_id, change)
    return _done(article_id, "citations", call, success="Citation removed.", active="list")


# -- FAQs ---------------------------------------------------------------------------------------


@bp.get("/articles/<uuid:article_id>/faqs")
@security.requires("content:read")
def article_faqs(article_id: uuid.UUID) -> Response:
    return _page(article_id, "faqs")


def _faq_of(article: Article, faq_id: uuid.UUID) -> Any:
    faq = faqs.get_faq(faq_id, for_update=True)
    if faq.article_id != article.id:
        raise NotFound("This FAQ is not one of this article's.")
    return faq


@bp.post("/articles/<uuid:article_id>/faqs")
@security.requires("content:write")
def add_faq(article_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        sent = _filled(("question", "answer"))
        data = _load(AdminFaqCreate(), {k: v for k, v in sent.items() if v is not None})
        last = max((faq.position for faq in _article_faqs(article)), default=-1)
        # Published: in the article's next revision, as the article's other FAQs are.
        status = "draft" if request.form.get("draft") else "published"
        return faqs.create_faq(
            {**data, "article_id": article.id, "position": last + 1, "status": status}, actor
        )

    return _done(article_id, "faqs", call, success="FAQ added.", active="add")


@bp.post("/articles/<uuid:article_id>/faqs/<uuid:faq_id>")
@security.requires("content:write")
def edit_faq(article_id: uuid.UUID, faq_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        faq = _faq_of(article, faq_id)
        _fresh(faq)
        sent = _filled(("question", "answer"))
        data = _load(AdminFaqPatch(), {k: v for k, v in sent.items() if v is not None})
        data["status"] = "draft" if request.form.get("draft") else "published"
        return faqs.update_faq(faq, data, actor)

    return _done(article_id, "faqs", call, success="FAQ saved.", active=f"f{faq_id}")


@bp.post("/articles/<uuid:article_id>/faqs/<uuid:faq_id>/move")
@security.requires("content:write")
def move_faq(article_id: uuid.UUID, faq_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        faq = _faq_of(article, faq_id)
        _fresh(faq)
        current = _article_faqs(article)
        ordered = _moved(current, current.index(faq), request.form.get("direction", ""))
        _renumber(ordered, lambda item, data: faqs.update_faq(item, data, actor))

    return _done(article_id, "faqs", call, success="FAQ moved.", active="list")


@bp.post("/articles/<uuid:article_id>/faqs/<uuid:faq_id>/remove")
@security.requires("content:write")
def remove_faq(article_id: uuid.UUID, faq_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        faq = _faq_of(_locked_article(article_id), faq_id)
        _fresh(faq)
        faqs.trash_faq(faq, actor)

    return _done(article_id, "faqs", call, success="FAQ moved to the trash.", active="list")


# -- related links ------------------------------------------------------------------------------


@bp.get("/articles/<uuid:article_id>/links")
@security.requires("content:read")
def article_links(article_id: uuid.UUID) -> Response:
    return _page(article_id, "links")


def _link_of(article: Article, link_id: uuid.UUID) -> Any:
    link = links.get_link(link_id, for_update=True, include_trashed=False)
    if link.source_id != article.id:
        raise NotFound("This link does not start from this article.")
    return link


@bp.post("/articles/<uuid:article_id>/links")
@security.requires("content:assign")
def add_link(article_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        sent = _filled(("target_id", "relation", "weight", "anchor_text"))
        if sent["target_id"] is None:
            raise ValidationFailed(
                "Choose the article to link to.",
                errors={"json": {"target_id": ["Choose an article."]}},
            )
        data = _load(AdminLinkCreate(), {k: v for k, v in sent.items() if v is not None})
        return links.create_link(article, data, actor)

    return _done(article_id, "links", call, success="Related link added.", active="add")


@bp.post("/articles/<uuid:article_id>/links/<uuid:link_id>")
@security.requires("content:assign")
def edit_link(article_id: uuid.UUID, link_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        link = _link_of(_locked_article(article_id), link_id)
        _fresh(link)
        sent = _filled(("relation", "weight", "anchor_text"))
        data = _load(AdminLinkPatch(), {k: v for k, v in sent.items() if v is not None})
        data.setdefault("anchor_text", None)
        return links.update_link(link, data, actor)

    return _done(article_id, "links", call, success="Related link saved.", active=f"l{link_id}")


@bp.post("/articles/<uuid:article_id>/links/<uuid:link_id>/move")
@security.requires("content:assign")
def move_link(article_id: uuid.UUID, link_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        link = _link_of(article, link_id)
        _fresh(link)
        current = _article_links(article)
        ordered = _moved(current, current.index(link), request.form.get("direction", ""))
        _renumber(ordered, lambda item, data: links.update_link(item, data, actor))

    return _done(article_id, "links", call, success="Related link moved.", active="list")


@bp.post("/articles/<uuid:article_id>/links/<uuid:link_id>/remove")
@security.requires("content:assign")
def remove_link(article_id: uuid.UUID, link_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        link = _link_of(_locked_article(article_id), link_id)
        _fresh(link)
        links.trash_link(link, actor)

    return _done(article_id, "links", call, success="Related link removed.", active="list")


@bp.post("/articles/<uuid:article_id>/links/suggestions/<uuid:target_id>/accept")
@security.requires("content:assign")
def accept_suggestion(article_id: uuid.UUID, target_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        return link_suggestions.accept(article, target_id, {}, actor)

    return _done(
        article_id, "links", call, success="Suggestion accepted: link added.", active="list"
    )


# -- topics -------------------------------------------------------------------------------------


@bp.get("/articles/<uuid:article_id>/topics")
@security.requires("content:read")
def article_topics(article_id: uuid.UUID) -> Response:
    return _page(article_id, "topics")


@bp.post("/articles/<uuid:article_id>/topics")
@security.requires("content:write")
def set_topics(article_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        _fresh(article)
        chosen = request.form.getlist("topics")
        # The order topics were chosen in stays; newly chosen ones come after.
        current = [link.topic.slug for link in article.topic_links]
        ordered = [slug for slug in current if slug in chosen]
        ordered += [slug for slug in chosen if slug not in ordered]
        return editorial.update_article(article, {"topics": ordered}, actor)

    return _done(article_id, "topics", call, success="Topics saved.", active="topics")


# -- images -------------------------------------------------------------------------------------


@bp.get("/articles/<uuid:article_id>/images")
@security.requires("media:read")
def article_images(article_id: uuid.UUID) -> Response:
    return _page(article_id, "images")


def _set_hero(article: Article, image_id: uuid.UUID | None, actor: Actor) -> Article:
    return editorial.update_article(article, {"lead_image_id": image_id}, actor)


@bp.post("/articles/<uuid:article_id>/images")
@security.requires("media:write")
def upload_image(article_id: uuid.UUID) -> Response:
    # An upload may be larger than other forms: up to the media library's own limit.
    request.max_content_length = current_app.config["CMS_SETTINGS"].media_max_bytes + 65536
    hero = bool(request.form.get("hero"))
    if hero and not security.may("content:write"):
        raise Forbidden("Your role may upload images but not choose an article's.")

    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        if hero:
            _fresh(article)
        file = request.files.get("file")
        if file is None or not file.filename:
            raise ValidationFailed(
                "Choose an image file to upload.", errors={"json": {"file": ["Choose a file."]}}
            )
        sent = _filled(("alt_text",))
        sent["decorative"] = "true" if request.form.get("decorative") else "false"
        data = _load(AdminImageUpload(), {**sent, "file": file})
        data.pop("file")
        try:
            image = images.create(file.read(), {"filename": file.filename, **data}, actor)
        except (UnsupportedImage, UnreadableImage) as error:
            raise ValidationFailed(
                error.detail, errors={"json": {"file": [error.detail]}}
            ) from error
        if hero:
            _set_hero(article, image.id, actor)
        return image

    return _done(article_id, "images", call, success="Image uploaded.", active="upload")


@bp.post("/articles/<uuid:article_id>/images/hero")
@security.requires("content:write")
def choose_hero(article_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = _locked_article(article_id)
        _fresh(article)
        chosen = request.form.get("image_id") or None
        try:
            image_id = uuid.UUID(chosen) if chosen else None
        except ValueError as error:
            raise ValidationFailed(
                "Choose an image from the library.",
                errors={"json": {"image_id": ["Not an image of the library."]}},
            ) from error
        return _set_hero(article, image_id, actor)

    return _done(article_id, "images", call, success="Hero image saved.", active="hero")


@bp.post("/articles/<uuid:article_id>/images/<uuid:image_id>")
@security.requires("media:write")
def describe_image(article_id: uuid.UUID, image_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        _article(article_id)
        image = images.get_image(image_id, for_update=True)
        _fresh(image)
        sent = _filled(("alt_text",))
        sent["decorative"] = bool(request.form.get("decorative"))
        return images.update_image(image, _load(AdminImagePatch(), sent), actor)

    return _done(article_id, "images", call, success="Image description saved.", active="alt")
