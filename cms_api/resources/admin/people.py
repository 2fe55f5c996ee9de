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
from cms_api.resources.admin.translations import (
    TranslationDocs,
    TranslationSchemas,
    register_translation_views,
)
from cms_api.schemas.admin.people import (
    AdminPersonCreate,
    AdminPersonList,
    AdminPersonOut,
    AdminPersonPatch,
    AdminPersonQueryArgs,
    AdminPersonTranslationIn,
    AdminPersonTranslationList,
    AdminPersonTranslationOut,
)
from cms_api.services.editorial.people import PEOPLE, PERSON_TEXTS

blp = AdminBlueprint(
    "admin_people",
    __name__,
    url_prefix="/v1/admin/people",
    description="Write the profiles and credentials of authors and medical reviewers, the "
    "locales each reviewer reviews in, and each profile's job title and bio in the site's "
    "other locales.",
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
        `specialties`, `review_locales`) are replaced whole. The profile and every
        published article showing the person are re-rendered at once (not for a change
        of `review_locales` alone, which readers never see). A `review_locales` entry
        that is neither one of the site's locales nor the language of one is a 422.
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

register_translation_views(
    RESOURCE,
    PERSON_TEXTS,
    TranslationSchemas(
        body=AdminPersonTranslationIn,
        out=AdminPersonTranslationOut,
        listing=AdminPersonTranslationList,
        example={
            "job_title": "Neuróloga",
            "bio": "La Dra. Castellanos-Reed atiende a personas con dolor de cabeza.",
        },
    ),
    TranslationDocs(
        list="""List a person's translations

        Their job title and bio in each of the site's other locales that has them, by
        locale; the person holds the default locale's. Name, slug, honorifics,
        credentials, picture and profile links are shared by every locale. Answers with
        the person's ETag, which a translation's `PUT` and `DELETE` need in `If-Match`.
        """,
        get="""Get a person's translation into one locale

        404 when the person has none in that locale; 422 for a locale that is not one of
        the site's, or is the default locale (the person's own text).
        """,
        put="""Save a person's translation into one locale

        Creates it (201) or replaces it whole (200): a field left out is emptied, and one
        of `job_title` and `bio` is needed (422 otherwise). The person's version (and
        ETag) moves, and the profile and every published article showing the person are
        rendered again, as for an edit of the person. 422 for a locale that is not one of
        the site's, or is the default locale: its text is the person's own, edited with
        `PATCH`.
        """,
        delete="""Delete a person's translation into one locale

        Readers of that locale no longer get the person's text in it; the person's
        version moves and what shows the person is rendered again. 404 when there is
        none; 422 for a locale that is not one of the site's, or is the default locale.
        """,
    ),
)
