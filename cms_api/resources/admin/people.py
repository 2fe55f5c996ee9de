"""Admin people: authors' and reviewers' profiles and credentials, with a trash."""

from __future__ import annotations

from cms_api.http.admin import AdminBlueprint
from cms_api.http.admin_resource import (
    AdminResource,
    StandardViews,
    ViewDocs,
    ViewNames,
    ViewSchemas,
)
from cms_api.schemas.admin.people import (
    AdminPersonCreate,
    AdminPersonList,
    AdminPersonOut,
    AdminPersonPatch,
    AdminPersonQueryArgs,
)
from cms_api.services.editorial.people import PEOPLE

blp = AdminBlueprint(
    "admin_people",
    __name__,
    url_prefix="/v1/admin/people",
    description="Write the profiles and credentials of authors and medical reviewers.",
)
RESOURCE = AdminResource.of(blp, PEOPLE, id_parameter="person_id")

StandardViews(
    RESOURCE,
    PEOPLE,
    schemas=ViewSchemas(
        query=AdminPersonQueryArgs,
        page=AdminPersonList,
        out=AdminPersonOut,
        create=AdminPersonCreate,
        patch=AdminPersonPatch,
    ),
    names=ViewNames("PersonCollection", "PersonById", "PersonRestore"),
    conflicts=frozenset({"patch", "create", "restore"}),
    docs=ViewDocs(
        list="""List people

        Everyone, with or without published work, most recently changed first. Filters:
        `q` (text in the name or slug), `specialty`; `trashed=true` lists the trash.
        """,
        create="""Create a person

        Slugs are unique (a 409 otherwise, trashed people included). A credential's
        `valid_until` may not be before its `valid_from` (422). The profile is public
        once the person is named on a published article.
        """,
        created_location="The new person's address.",
        get="""Get a person

        With the Markdown bio and every credential; people in the trash too.
        """,
        patch="""Edit a person (JSON merge patch)

        Only the fields sent change; lists (`credentials`, `profile_links`,
        `specialties`) are replaced whole. The profile and every published article
        showing the person are re-rendered at once.
        """,
        delete="""Move a person to the trash

        The profile leaves delivery and articles stop listing the person as an author;
        nothing is deleted and `POST .../restore` brings them back.
        """,
        restore="""Restore a person from the trash

        The profile and the articles naming the person re-render; 409 when the person
        is not in the trash.
        """,
    ),
).register(collection=True)
