"""Admin topics: the topic tree and its medical codes, with a trash."""

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
from cms_api.schemas.admin.topics import (
    AdminTopicCreate,
    AdminTopicList,
    AdminTopicOut,
    AdminTopicPatch,
    AdminTopicQueryArgs,
    AdminTopicTranslationIn,
    AdminTopicTranslationList,
    AdminTopicTranslationOut,
)
from cms_api.services.editorial.topics import TOPIC_TEXTS, TOPICS

blp = AdminBlueprint(
    "admin_topics",
    __name__,
    url_prefix="/v1/admin/topics",
    description="Write the topic tree, the ICD-10-CM, SNOMED CT and MeSH codes of each topic, "
    "and each topic's name, description and synonyms in the site's other locales.",
)
RESOURCE = AdminResource.of(blp, TOPICS, id_parameter="topic_id")

StandardViews(
    RESOURCE,
    TOPICS,
    schemas=ViewSchemas(
        query=AdminTopicQueryArgs,
        page=AdminTopicList,
        out=AdminTopicOut,
        create=AdminTopicCreate,
        patch=AdminTopicPatch,
    ),
    names=ViewNames("TopicCollection", "TopicById", "TopicRestore"),
    conflicts=frozenset({"restore", "patch", "create", "delete"}),
    docs=ViewDocs(
        list="""List topics

        Most recently changed first. Filters: `parent` (slug), `root`, `q` (text in the
        name or slug); `trashed=true` lists the trash.
        """,
        create="""Create a topic

        Slugs are unique (a 409 otherwise, trashed topics included); `parent` names an
        existing topic (422 otherwise). Topics are public at once, in `/v1/topics`.
        """,
        created_location="The new topic's address.",
        get="""Get a topic

        With its parent, children and codes; topics in the trash too.
        """,
        patch="""Edit a topic (JSON merge patch)

        Only the fields sent change; `codes` are replaced whole. A `parent` that is the
        topic itself or one of its subtopics is a 409 (the tree stays a tree). A
        `specialty` outside schema.org's MedicalSpecialty enumeration is a 422. The topic
        tree and every published article on the topic or its subtopics are re-rendered.
        """,
        delete="""Move a topic to the trash

        The topic and its FAQs leave delivery and articles stop listing it; nothing is
        deleted and `POST .../restore` brings it back. A topic with subtopics outside
        the trash is a 409: move or trash them first.
        """,
        restore="""Restore a topic from the trash

        409 when it is not in the trash, or when its parent still is.
        """,
    ),
).register(collection=True)

register_translation_views(
    RESOURCE,
    TOPIC_TEXTS,
    TranslationSchemas(
        body=AdminTopicTranslationIn,
        out=AdminTopicTranslationOut,
        listing=AdminTopicTranslationList,
        example={
            "name": "Dolor de cabeza",
            "description": "Dolor en cualquier parte de la cabeza.",
            "synonyms": ["cefalea"],
        },
    ),
    TranslationDocs(
        list="""List a topic's translations

        Its name, description and synonyms in each of the site's other locales that has
        them, by locale; the topic itself holds the default locale's. Its slug, place in
        the tree, codes, specialty and image are shared by every locale. Answers with the
        topic's ETag, which a translation's `PUT` and `DELETE` need in `If-Match`.
        """,
        get="""Get a topic's translation into one locale

        404 when the topic has none in that locale; 422 for a locale that is not one of
        the site's, or is the default locale (the topic's own text).
        """,
        put="""Save a topic's translation into one locale

        Creates it (201) or replaces it whole (200): a field left out is emptied. The
        topic's version (and ETag) moves, and the topic tree and the published articles
        on the topic are rendered again, as for an edit of the topic. 422 for a locale
        that is not one of the site's, or is the default locale: its text is the topic's
        own, edited with `PATCH`.
        """,
        delete="""Delete a topic's translation into one locale

        Readers of that locale no longer get the topic's text in it; the topic's version
        moves and what shows the topic is rendered again. 404 when there is none; 422 for
        a locale that is not one of the site's, or is the default locale.
        """,
    ),
)
