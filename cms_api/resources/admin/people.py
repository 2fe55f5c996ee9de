"""Admin people: authors' and reviewers' profiles and credentials, with a trash."""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for
from flask.views import MethodView

from cms_api.database import db
from cms_api.http.admin import ETAG_HEADER, Versioned, actor, admin_blueprint, authorize, if_match
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.resources.delivery import query_args
from cms_api.schemas.admin_content import (
    AdminPersonCreate,
    AdminPersonList,
    AdminPersonOut,
    AdminPersonPatch,
    AdminPersonQueryArgs,
)
from cms_api.services.editorial import people as people_admin
from cms_api.services.editorial.people import PersonFilters

blp = admin_blueprint(
    "admin_people",
    __name__,
    url_prefix="/v1/admin/people",
    description="Write the profiles and credentials of authors and medical reviewers.",
)
JSON_BODY = {"content_type": "application/json"}


VERSIONED = Versioned(
    "person",
    people_admin.present,
    lambda person_id: people_admin.get_person(person_id, for_update=True),
)
_etag, _respond, _locked = VERSIONED.etag, VERSIONED.respond, VERSIONED.locked


@blp.route("")
class PersonCollection(MethodView):
    @authorize(blp, "content:read")
    @query_args(blp, AdminPersonQueryArgs)
    @blp.response(200, AdminPersonList, headers=LINK_HEADER)
    def get(self, args: dict[str, Any]) -> Any:
        """List people

        Everyone, with or without published work, most recently changed first. Filters:
        `q` (text in the name or slug), `specialty`; `trashed=true` lists the trash.
        """
        filters = PersonFilters(**{k: args[k] for k in ("q", "specialty", "trashed") if k in args})
        page = people_admin.list_people(filters, limit=args["limit"], cursor=args.get("cursor"))
        return page_answer(page, [people_admin.present(row) for row in page.items])

    @authorize(blp, "content:write")
    @blp.arguments(AdminPersonCreate, **JSON_BODY)
    @blp.response(
        201,
        AdminPersonOut,
        headers={
            **ETAG_HEADER,
            "Location": {"description": "The new person's address.", "schema": {"type": "string"}},
        },
    )
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a person

        Slugs are unique (a 409 otherwise, trashed people included). A credential's
        `valid_until` may not be before its `valid_from` (422). The profile is public
        once the person is named on a published article.
        """
        person = people_admin.create_person(data, actor())
        location = url_for("admin_people.PersonById", person_id=person.id)
        return _respond(person, 201, Location=location)


@blp.route("/<uuid:person_id>")
class PersonById(MethodView):
    @authorize(blp, "content:read")
    @blp.response(200, AdminPersonOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, person_id: uuid.UUID) -> Any:
        """Get a person

        With the Markdown bio and every credential; people in the trash too.
        """
        person = people_admin.get_person(person_id, include_trashed=True)
        return people_admin.present(person), 200, {"ETag": _etag(person)}

    @authorize(blp, "content:write")
    @if_match(blp)
    @blp.arguments(AdminPersonPatch, **JSON_BODY)
    @blp.response(200, AdminPersonOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data: dict[str, Any], person_id: uuid.UUID) -> Any:
        """Edit a person (JSON merge patch)

        Only the fields sent change; lists (`credentials`, `profile_links`,
        `specialties`) are replaced whole. The profile and every published article
        showing the person are re-rendered at once.
        """
        person = _locked(person_id)
        return _respond(people_admin.update_person(person, data, actor()))

    @authorize(blp, "content:write")
    @if_match(blp)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, person_id: uuid.UUID) -> Any:
        """Move a person to the trash

        The profile leaves delivery and articles stop listing the person as an author;
        nothing is deleted and `POST .../restore` brings them back.
        """
        people_admin.trash_person(_locked(person_id), actor())
        db.session.commit()
        return "", 204


@blp.route("/<uuid:person_id>/restore")
class PersonRestore(MethodView):
    @authorize(blp, "content:write")
    @blp.response(200, AdminPersonOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, person_id: uuid.UUID) -> Any:
        """Restore a person from the trash

        The profile and the articles naming the person re-render; 409 when the person
        is not in the trash.
        """
        person = people_admin.get_person(person_id, for_update=True, include_trashed=True)
        return _respond(people_admin.restore_person(person, actor()))
