"""The admin skeleton: one kind of editable content, its versions, and the views every kind has."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Generic, TypeVar

from flask import request, url_for
from flask.views import MethodView

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.domain.etags import if_match_allows, version_etag
from cms_api.http.admin import ETAG_HEADER, AdminBlueprint, actor
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.services.editorial.common import ContentType

# Modelled on BEMServer's `blp.etag`/`check_etag`: a write view is decorated once with
# `resource.locked`, which documents `If-Match` (with its 412 and 428 answers) and enforces it
# before the view runs, so the two cannot drift apart. `StandardViews` then builds the list,
# create, get, edit, trash and restore operations a content type shares, from its contract
# (`ContentType`), its schemas and its documentation; a resource module says only what is
# particular to it.

Entity = TypeVar("Entity")
JSON_BODY = {"content_type": "application/json"}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "The ETag of the version you edited. Missing: 428; stale: 412.",
    "schema": {"type": "string"},
}


def require_if_match(current_etag: str) -> None:
    """Refuse a write made without, or against an old, version of the resource."""
    header = request.headers.get("If-Match")
    if not header:
        raise DomainError(
            "Send If-Match with the ETag you last read, so no one else's edit is lost.",
            status=428,
            kind="precondition-required",
            current_etag=current_etag,
        )
    if not if_match_allows(header, current_etag):
        raise DomainError(
            "The resource changed since you read it; reload, reapply your edit, retry.",
            status=412,
            kind="precondition-failed",
            current_etag=current_etag,
        )


class AdminResource(Generic[Entity]):
    """One kind of versioned object on the admin API: its ETags, answers and locked writes."""

    def __init__(
        self,
        blp: AdminBlueprint,
        *,
        kind: str,
        id_parameter: str,
        present: Callable[[Entity], dict[str, Any]],
        fetch: Callable[..., Entity],
    ) -> None:
        self.blp = blp
        self.kind = kind
        self.id_parameter = id_parameter
        self.present = present
        # fetch(id, *, for_update, include_trashed): the object, or a NotFound
        self.fetch = fetch

    @classmethod
    def of(
        cls, blp: AdminBlueprint, content: ContentType[Any], *, id_parameter: str
    ) -> AdminResource[Any]:
        return cls(
            blp,
            kind=content.kind,
            id_parameter=id_parameter,
            present=content.present,
            fetch=content.get,
        )

    def etag(self, entity: Entity) -> str:
        return version_etag(self.kind, entity.id, entity.version)  # type: ignore[attr-defined]

    def answer(self, entity: Entity, status: int = 200, **headers: str) -> Any:
        """Commit the write and answer with the object and its new ETag."""
        db.session.commit()
        return self.present(entity), status, {"ETag": self.etag(entity), **headers}

    def show(self, entity: Entity) -> Any:
        """Answer a read with the object and its ETag."""
        return self.present(entity), 200, {"ETag": self.etag(entity)}

    def locked(
        self, view: Callable[..., Any] | None = None, *, required: bool = True
    ) -> Callable[..., Any]:
        """A write on one object: the view gets it locked (`SELECT ... FOR UPDATE`) and
        checked against `If-Match`, in place of its id; the precondition is documented.

        With `required=False` a client may leave `If-Match` out (the operation is safe to
        race, e.g. answering a reader question), but a stale one is still a 412. Put it
        closest to the view, so the body is validated before any row is locked.
        """

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                entity_id = kwargs.pop(self.id_parameter)
                entity = self.fetch(entity_id, for_update=True, include_trashed=False)
                if required or request.headers.get("If-Match"):
                    require_if_match(self.etag(entity))
                return view(*args, entity, **kwargs)

            wrapper = self.blp.alt_response(412, response="PRECONDITION_FAILED")(wrapper)
            if required:
                wrapper = self.blp.alt_response(428, response="PRECONDITION_REQUIRED")(wrapper)
                return self.blp.doc(parameters=[IF_MATCH])(wrapper)
            optional = {
                **IF_MATCH,
                "required": False,
                "description": "The ETag of the version you read. Optional; when sent and "
                "stale: 412.",
            }
            return self.blp.doc(parameters=[optional])(wrapper)

        return decorator(view) if view is not None else decorator


@dataclass(frozen=True)
class ViewSchemas:
    """The marshmallow schemas of a content type's standard operations."""

    out: type
    patch: type
    query: type | None = None
    page: type | None = None
    create: type | None = None


@dataclass(frozen=True)
class ViewDocs:
    """Each standard operation's docstring (summary line, blank line, description)."""

    get: str
    patch: str
    delete: str
    restore: str
    list: str = ""
    create: str = ""
    created_location: str = ""  # how the `Location` header of a 201 is described


@dataclass(frozen=True)
class ViewNames:
    """The view classes' names, which are also their endpoint names (`url_for`)."""

    collection: str
    item: str
    restore: str


@dataclass(frozen=True)
class Permissions:
    read: str = "content:read"
    write: str = "content:write"


def _documented(function: Callable[..., Any], doc: str) -> Callable[..., Any]:
    function.__doc__ = doc
    return function


@dataclass
class StandardViews:
    """Builds and registers the standard operations of one content type."""

    resource: AdminResource[Any]
    content: ContentType[Any]
    schemas: ViewSchemas
    docs: ViewDocs
    names: ViewNames
    permissions: Permissions = field(default_factory=Permissions)
    # Operations that may answer 409 beyond create, edit and restore (e.g. a trash refused).
    conflicts: frozenset[str] = frozenset({"create", "patch", "restore"})

    def register(self, *, collection: bool = True, path: str = "") -> None:
        """Add the views to the blueprint: the collection at `path` (unless the content is
        listed under another object), each object at `path/<id>`, its restore below."""
        blp = self.resource.blp
        id_path = f"{path}/<uuid:{self.resource.id_parameter}>"
        if collection:
            blp.route(path)(self._collection())
        blp.route(id_path)(self._item())
        blp.route(f"{id_path}/restore")(self._restore())

    def _may_conflict(self, operation: str) -> Callable[..., Any]:
        blp = self.resource.blp
        if operation in self.conflicts:
            return blp.alt_response(409, response="CONFLICT")
        return lambda view: view

    def _collection(self) -> type[MethodView]:
        resource, content, schemas, blp = (
            self.resource,
            self.content,
            self.schemas,
            self.resource.blp,
        )
        assert content.list is not None and content.create is not None
        assert content.filters is not None and schemas.query is not None
        list_items, create, filters = content.list, content.create, content.filters
        item_endpoint = f"{blp.name}.{self.names.item}"
        filter_names = set(filters.__dataclass_fields__)  # type: ignore[attr-defined]
        location = {"description": self.docs.created_location, "schema": {"type": "string"}}

        @blp.authorize(self.permissions.read)
        @blp.query_args(schemas.query)
        @blp.response(200, schemas.page, headers=LINK_HEADER)
        @_documented_as(self.docs.list)
        def get(view: MethodView, args: dict[str, Any]) -> Any:
            chosen = filters(**{key: args[key] for key in filter_names if key in args})
            page = list_items(chosen, limit=args["limit"], cursor=args.get("cursor"))
            return page_answer(page, [resource.present(item) for item in page.items])

        @blp.authorize(self.permissions.write)
        @blp.arguments(schemas.create, **JSON_BODY)
        @blp.response(201, schemas.out, headers={**ETAG_HEADER, "Location": location})
        @self._may_conflict("create")
        @_documented_as(self.docs.create)
        def post(view: MethodView, data: dict[str, Any]) -> Any:
            entity = create(data, actor())
            address = url_for(item_endpoint, **{resource.id_parameter: entity.id})
            return resource.answer(entity, 201, Location=address)

        return type(self.names.collection, (MethodView,), {"get": get, "post": post})

    def _item(self) -> type[MethodView]:
        resource, content, schemas, blp = (
            self.resource,
            self.content,
            self.schemas,
            self.resource.blp,
        )
        update, trash = content.update, content.trash

        @blp.authorize(self.permissions.read)
        @blp.response(200, schemas.out, headers=ETAG_HEADER)
        @blp.alt_response(404, response="NOT_FOUND")
        @_documented_as(self.docs.get)
        def get(view: MethodView, **kwargs: uuid.UUID) -> Any:
            entity_id = kwargs[resource.id_parameter]
            return resource.show(resource.fetch(entity_id, include_trashed=True))

        @blp.authorize(self.permissions.write)
        @blp.arguments(schemas.patch, **JSON_BODY)
        @blp.response(200, schemas.out, headers=ETAG_HEADER)
        @blp.alt_response(404, response="NOT_FOUND")
        @self._may_conflict("patch")
        @resource.locked
        @_documented_as(self.docs.patch)
        def patch(view: MethodView, data: dict[str, Any], entity: Any) -> Any:
            return resource.answer(update(entity, data, actor()))

        @blp.authorize(self.permissions.write)
        @blp.response(204)
        @blp.alt_response(404, response="NOT_FOUND")
        @self._may_conflict("delete")
        @resource.locked
        @_documented_as(self.docs.delete)
        def delete(view: MethodView, entity: Any) -> Any:
            trash(entity, actor())
            db.session.commit()
            return "", 204

        return type(self.names.item, (MethodView,), {"get": get, "patch": patch, "delete": delete})

    def _restore(self) -> type[MethodView]:
        resource, content, schemas, blp = (
            self.resource,
            self.content,
            self.schemas,
            self.resource.blp,
        )
        restore = content.restore

        @blp.authorize(self.permissions.write)
        @blp.response(200, schemas.out, headers=ETAG_HEADER)
        @blp.alt_response(404, response="NOT_FOUND")
        @self._may_conflict("restore")
        @_documented_as(self.docs.restore)
        def post(view: MethodView, **kwargs: uuid.UUID) -> Any:
            entity_id = kwargs[resource.id_parameter]
            entity = resource.fetch(entity_id, for_update=True, include_trashed=True)
            return resource.answer(restore(entity, actor()))

        return type(self.names.restore, (MethodView,), {"post": post})


def _documented_as(doc: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a generated view the docstring flask-smorest reads its summary from."""
    return lambda view: _documented(view, doc)
