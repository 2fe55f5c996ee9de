"""The review steps (submit, approve, ...) of content reviewed on its own, one POST each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask.views import MethodView

from cms_api.http.admin import ETAG_HEADER
from cms_api.http.admin_resource import JSON_BODY, AdminResource


@dataclass(frozen=True)
class ReviewStep:
    """One step at `POST .../<id>/<name>`: `run(entity, body)` takes it (the body is `{}`
    when the step takes none); `doc` is the operation's docstring (summary line, blank
    line, description); `body` the schema of its optional JSON body."""

    name: str
    permission: str
    doc: str
    run: Callable[[Any, dict[str, Any]], object]
    body: type | None = None


def register_review_steps(resource: AdminResource[Any], out: type, *steps: ReviewStep) -> None:
    """Add each step below the resource's objects, answered with the object (`out`) and its
    new ETag. `If-Match` is optional: a step checks the status it starts from, and a
    stale version is still a 412."""
    for step in steps:
        _register(resource, out, step)


def _register(resource: AdminResource[Any], out: type, step: ReviewStep) -> None:
    blp = resource.blp

    def post(self: MethodView, *args: Any) -> Any:
        body, entity = (args[0], args[1]) if step.body is not None else ({}, args[0])
        step.run(entity, body)
        return resource.answer(entity)

    post.__doc__ = step.doc
    view: Any = resource.locked(post, required=False)
    view = blp.alt_response(409, response="CONFLICT")(view)
    view = blp.alt_response(404, response="NOT_FOUND")(view)
    view = blp.response(200, out, headers=ETAG_HEADER)(view)
    if step.body is not None:
        view = blp.alt_response(422, response="UNPROCESSABLE_ENTITY")(view)
        view = blp.arguments(step.body, required=False, **JSON_BODY)(view)
    view = blp.authorize(step.permission)(view)
    # Endpoint and class names as `faq_request_changes` and `FaqRequestChanges`.
    endpoint = f"{resource.kind}_{step.name.replace('-', '_')}"
    class_name = "".join(part.title() for part in endpoint.split("_"))
    blp.route(f"/<uuid:{resource.id_parameter}>/{step.name}", endpoint=endpoint)(
        type(class_name, (MethodView,), {"post": view})
    )
