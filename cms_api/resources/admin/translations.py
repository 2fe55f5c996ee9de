"""A topic's or a person's text in other locales, below the object: list, read, save, delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask.views import MethodView

from cms_api.database import db
from cms_api.http.admin import ETAG_HEADER, actor
from cms_api.http.admin_resource import JSON_BODY, AdminResource
from cms_api.services.editorial.texts import TranslatedText

LOCALE = {
    "in": "path",
    "name": "locale",
    "description": "A BCP 47 tag of one of the site's locales (CMS_LOCALES) other than the "
    "default locale, whose text is the object's own: another tag is a 422, a segment that "
    "is not a tag a 404.",
    "example": "es",
}


@dataclass(frozen=True)
class TranslationDocs:
    """The operations' docstrings (summary line, blank line, description)."""

    list: str
    get: str
    put: str
    delete: str


@dataclass(frozen=True)
class TranslationSchemas:
    body: type  # what a PUT sends
    out: type  # one translation
    listing: type  # {"items": [...]}
    example: dict[str, Any]  # a PUT body


def register_translation_views(
    resource: AdminResource[Any],
    texts: TranslatedText[Any, Any],
    schemas: TranslationSchemas,
    docs: TranslationDocs,
) -> None:
    """Add `.../<id>/translations` and `.../<id>/translations/<locale>` to the resource.

    Translations are part of their object: reads answer with the object's ETag, and a
    write needs it in `If-Match` and bumps it, as any edit of the object does.
    """
    blp, kind, id_parameter = resource.blp, resource.kind, resource.id_parameter
    item_endpoint = f"{kind}_translation"
    location = {"description": "The translation's address.", "schema": {"type": "string"}}

    @blp.authorize("content:read")
    @blp.response(200, schemas.listing, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @_documented(docs.list)
    def list_translations(view: MethodView, **kwargs: Any) -> Any:
        owner = resource.fetch(kwargs[id_parameter], include_trashed=True)
        items = [texts.present(row) for row in owner.translations]
        return {"items": items}, 200, {"ETag": resource.etag(owner)}

    @blp.authorize("content:read")
    @blp.response(200, schemas.out, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @_documented(docs.get)
    def get(view: MethodView, locale: str, **kwargs: Any) -> Any:
        owner = resource.fetch(kwargs[id_parameter], include_trashed=True)
        return texts.present(texts.find(owner, locale)), 200, {"ETag": resource.etag(owner)}

    @blp.authorize("content:write")
    @blp.arguments(schemas.body, **JSON_BODY, example=schemas.example)
    @blp.response(200, schemas.out, headers=ETAG_HEADER)
    @blp.alt_response(
        201,
        schema=schemas.out,
        description="Created: the object had no translation into this locale.",
        headers={**ETAG_HEADER, "Location": location},
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @resource.locked
    @_documented(docs.put)
    def put(view: MethodView, data: dict[str, Any], owner: Any, locale: str) -> Any:
        row, created = texts.save(owner, locale, data, actor())
        db.session.commit()
        headers = {"ETag": resource.etag(owner)}
        if created:
            address = {id_parameter: owner.id, "locale": row.locale}
            headers["Location"] = url_for(f"{blp.name}.{item_endpoint}", **address)
        return texts.present(row), 201 if created else 200, headers

    @blp.authorize("content:write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @resource.locked
    @_documented(docs.delete)
    def delete(view: MethodView, owner: Any, locale: str) -> Any:
        texts.remove(owner, locale, actor())
        db.session.commit()
        return "", 204

    title = kind.title()
    path = f"/<uuid:{id_parameter}>/translations"
    blp.route(path, endpoint=f"{kind}_translations")(
        type(f"{title}Translations", (MethodView,), {"get": list_translations})
    )
    blp.route(f"{path}/<locale:locale>", endpoint=item_endpoint, parameters=[LOCALE])(
        type(f"{title}Translation", (MethodView,), {"get": get, "put": put, "delete": delete})
    )


def _documented(doc: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a view the docstring flask-smorest reads its summary and description from."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view.__doc__ = doc
        return view

    return decorator
