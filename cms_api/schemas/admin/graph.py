"""The editors' link report: the public one, plus the links to articles readers cannot see."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.models.article import LINK_RELATIONS
from cms_api.schemas.common import nullable_text, slug_field, text
from cms_api.schemas.public.graph import GraphReportOut, GraphReportQueryArgs, ReportCountsOut

R = {"required": True}

# The editors' report reads what the public one does: the locale.
AdminGraphReportQueryArgs = GraphReportQueryArgs


class BrokenLinkOut(ma.Schema):
    source = slug_field(**R, metadata={"description": "The published article that links."})
    target = slug_field(
        **R, metadata={"description": "The article linked to.", "example": "sinus-headache"}
    )
    relation = text("similar_symptom", **R, validate=validate.OneOf(LINK_RELATIONS))
    anchor_text = nullable_text("Sinus headache")
    reason = text(
        "target_not_published",
        **R,
        validate=validate.OneOf(["target_not_published", "target_trashed"]),
        metadata={
            "description": "`target_trashed`: the target is in the trash; "
            "`target_not_published`: it has no published revision (see `target_status`)."
        },
    )
    target_status = text("draft", **R, metadata={"description": "The target's workflow status."})


class AdminReportCountsOut(ReportCountsOut):
    broken_links = ma.fields.Integer(**R, metadata={"example": 0})


class AdminGraphReportOut(GraphReportOut):
    counts = ma.fields.Nested(AdminReportCountsOut, **R)
    broken_links = ma.fields.List(
        ma.fields.Nested(BrokenLinkOut),
        **R,
        metadata={
            "description": "Live links from published articles to articles readers cannot "
            "see; the article pages leave them out."
        },
    )
