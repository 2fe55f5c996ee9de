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
from cms_api.schemas.admin.topics import (
    AdminTopicCreate,
    AdminTopicList,
    AdminTopicOut,
    AdminTopicPatch,
    AdminTopicQueryArgs,
)
from cms_api.services.editorial.topics import TOPICS

blp = AdminBlueprint(
    "admin_topics",
    __name__,
    url_prefix="/v1/admin/topics",
    description="Write the topic tree and the ICD-10-CM, SNOMED CT and MeSH codes of each topic.",
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
