"""Admin red flags: write, review and publish the urgent guidance shown for emergencies."""

from __future__ import annotations

from flask import g

from cms_api.http.admin import AdminBlueprint, actor
from cms_api.http.admin_resource import (
    AdminResource,
    StandardViews,
    ViewDocs,
    ViewNames,
    ViewSchemas,
)
from cms_api.http.review_steps import ReviewStep, register_review_steps
from cms_api.schemas.admin.red_flags import (
    AdminRedFlagCreate,
    AdminRedFlagList,
    AdminRedFlagOut,
    AdminRedFlagPatch,
    AdminRedFlagQueryArgs,
)
from cms_api.schemas.admin.reviews import ReviewNotesIn
from cms_api.services.editorial import red_flags
from cms_api.services.editorial.red_flags import RED_FLAGS

blp = AdminBlueprint(
    "admin_red_flags",
    __name__,
    url_prefix="/v1/admin/red-flags",
    description="Write the urgent guidance instant answers show when a reader types an "
    "emergency, and the triggers that show it: drafts, medical review by a credentialed "
    "reviewer, publishing, the trash.",
)
RESOURCE = AdminResource.of(blp, RED_FLAGS, id_parameter="red_flag_id")

StandardViews(
    RESOURCE,
    RED_FLAGS,
    schemas=ViewSchemas(
        query=AdminRedFlagQueryArgs,
        page=AdminRedFlagList,
        out=AdminRedFlagOut,
        create=AdminRedFlagCreate,
        patch=AdminRedFlagPatch,
    ),
    names=ViewNames("RedFlagCollection", "RedFlagById", "RedFlagRestore"),
    docs=ViewDocs(
        list="""List red flags (drafts included)

        Most recently changed first. Filters: `status`, `q` (text in the name, title or
        slug); `trashed=true` lists the trash.
        """,
        create="""Create a red flag

        It starts as a `draft` and matches nothing until it is submitted, approved by a
        reviewer with a valid credential and published. A trigger that cannot be read (an
        empty `+` group or `|` alternative) is a 422; a slug in use is a 409.
        """,
        created_location="The new red flag's address.",
        get="""Get a red flag's working copy

        With its Markdown source, its review state and whether guidance is live; red
        flags in the trash too.
        """,
        patch="""Edit a red flag (JSON merge patch)

        Only the fields sent change. A change to one in review, approved or published
        sends it back to `draft`: readers keep the published guidance until the new words
        are approved and published. A slug in use is a 409.
        """,
        delete="""Move a red flag to the trash

        Nothing is deleted and `POST .../restore` brings it back. Its guidance stops
        matching at once.
        """,
        restore="""Restore a red flag from the trash

        It comes back as a `draft`: its guidance is shown again only once reviewed and
        published again. 409 when it is not in the trash.
        """,
    ),
).register(collection=True)


register_review_steps(
    RESOURCE,
    AdminRedFlagOut,
    ReviewStep(
        "submit",
        "workflow:submit",
        """Submit a red flag for medical review

        `draft` → `in_review`. 409 from any other status (`allowed_transitions` says what is
        open); 404 for an unknown or trashed red flag.
        """,
        lambda red_flag, body: red_flags.submit_red_flag(red_flag, actor()),
    ),
    ReviewStep(
        "approve",
        "workflow:review",
        """Approve a red flag

        `in_review` → `approved`, naming the reviewer and the date. Reviewers only,
        reviewing in the red flag's locale (the site's default locale; 403 when the
        person's `review_locales` leave it out, the problem lists them). 409 when the
        reviewer's person is in the trash or holds no credential valid today (`kind`
        `reviewer-not-eligible`, `reasons` says which), or when it is not in review; 404 for
        an unknown or trashed red flag.
        """,
        lambda red_flag, body: red_flags.approve_red_flag(
            red_flag, g.user, actor(), notes=body.get("notes")
        ),
        ReviewNotesIn,
    ),
    ReviewStep(
        "request-changes",
        "workflow:review",
        """Send a red flag back to its editors

        `in_review` or `approved` → `draft`, with the reviewer's `notes` in the audit log;
        published guidance, if any, stays live. Reviewers only. 409 from any other status;
        404 for an unknown or trashed red flag.
        """,
        lambda red_flag, body: red_flags.request_red_flag_changes(
            red_flag, actor(), notes=body.get("notes")
        ),
        ReviewNotesIn,
    ),
    ReviewStep(
        "publish",
        "workflow:publish",
        """Publish a red flag

        `approved` → `published`: its guidance is rendered and stored, listed at
        `/v1/red-flags` and shown to readers whose question matches a trigger, from now.
        409 from any other status; 404 for an unknown or trashed red flag.
        """,
        lambda red_flag, body: red_flags.publish_red_flag(red_flag, actor()),
    ),
    ReviewStep(
        "unpublish",
        "workflow:publish",
        """Unpublish a red flag

        `published` → `approved`: its guidance stops matching and leaves `/v1/red-flags` at
        once; publishing it again needs no new review. 409 from any other status; 404 for an
        unknown or trashed red flag.
        """,
        lambda red_flag, body: red_flags.unpublish_red_flag(red_flag, actor()),
    ),
)
