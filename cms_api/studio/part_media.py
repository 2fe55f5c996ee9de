"""An article's topics and images in the studio: what it is about, and what it shows."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, request
from werkzeug.exceptions import Forbidden

from cms_api.domain.errors import UnreadableImage, UnsupportedImage, ValidationFailed
from cms_api.models import Article
from cms_api.schemas.admin.images import AdminImagePatch, AdminImageUpload
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import topics
from cms_api.services.media import images
from cms_api.studio import article_parts as parts
from cms_api.studio import security
from cms_api.studio.blueprint import bp


def _all_topics() -> list[Any]:
    found, cursor = [], None
    while True:
        page = topics.list_topics(topics.TopicFilters(), limit=parts.LISTED, cursor=cursor)
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


def _images_context(article: Article) -> dict[str, Any]:
    hero = None
    if article.lead_image_id is not None:
        hero = _image_view(images.get_image(article.lead_image_id, include_trashed=True))
    library = images.list_images(images.ImageFilters(), limit=24, cursor=None).items
    return {"hero": hero, "library": [_image_view(image) for image in library]}


parts.register(
    "topics",
    "Topics",
    lambda article: {
        "topics": _all_topics(),
        "chosen": [link.topic.slug for link in article.topic_links],
    },
)
parts.register("images", "Images", _images_context, action="media:read")


@bp.post("/articles/<uuid:article_id>/topics")
@security.requires("content:write")
def set_topics(article_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        parts.fresh(article)
        current = [link.topic.slug for link in article.topic_links]
        ordered = parts.chosen_in_order(current, request.form.getlist("topics"))
        return editorial.update_article(article, {"topics": ordered}, actor)

    return parts.done(article_id, "topics", call, success="Topics saved.", active="topics")


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
        article = parts.locked_article(article_id)
        if hero:
            parts.fresh(article)
        file = request.files.get("file")
        if file is None or not file.filename:
            raise ValidationFailed(
                "Choose an image file to upload.", errors={"json": {"file": ["Choose a file."]}}
            )
        sent = parts.filled(("alt_text",))
        sent["decorative"] = "true" if request.form.get("decorative") else "false"
        data = parts.load(AdminImageUpload(), {**sent, "file": file})
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

    return parts.done(article_id, "images", call, success="Image uploaded.", active="upload")


@bp.post("/articles/<uuid:article_id>/images/hero")
@security.requires("content:write")
def choose_hero(article_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        parts.fresh(article)
        chosen = request.form.get("image_id") or None
        try:
            image_id = uuid.UUID(chosen) if chosen else None
        except ValueError as error:
            raise ValidationFailed(
                "Choose an image from the library.",
                errors={"json": {"image_id": ["Not an image of the library."]}},
            ) from error
        return _set_hero(article, image_id, actor)

    return parts.done(article_id, "images", call, success="Hero image saved.", active="hero")


@bp.post("/articles/<uuid:article_id>/images/<uuid:image_id>")
@security.requires("media:write")
def describe_image(article_id: uuid.UUID, image_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        parts.article_of(article_id)
        image = images.get_image(image_id, for_update=True)
        parts.fresh(image)
        sent = parts.filled(("alt_text",))
        sent["decorative"] = bool(request.form.get("decorative"))
        return images.update_image(image, parts.load(AdminImagePatch(), sent), actor)

    return parts.done(article_id, "images", call, success="Image description saved.", active="alt")
