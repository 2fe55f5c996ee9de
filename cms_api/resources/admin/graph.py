"""The editors' link report: orphans, dead ends and the links to unpublished or trashed articles."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from cms_api.http.admin import AdminBlueprint
from cms_api.http.arguments import query_args
from cms_api.schemas.admin.graph import AdminGraphReportOut, AdminGraphReportQueryArgs
from cms_api.services.discovery.graph.report import editorial_report

blp = AdminBlueprint(
    "admin_graph",
    __name__,
    url_prefix="/v1/admin/graph",
    description="The link report with what readers cannot see: links to drafts and the trash.",
)


@blp.route("/report")
class AdminGraphReport(MethodView):
    @blp.authorize("content:read")
    @query_args(blp, AdminGraphReportQueryArgs)
    @blp.response(200, AdminGraphReportOut)
    def get(self, args: dict[str, Any]) -> Any:
        """Report orphans, dead ends and broken links

        The public report (`GET /v1/graph/report`) of a locale (`locale`, default the
        site's) plus `broken_links`: live links from a published article of the locale
        to one readers cannot see (trashed, or not published), with the reason and the
        target's workflow status, in source then target slug order. A translation's links
        are its original's: one is broken when the target original is trashed or not
        published and has no published translation in the locale either (a target that
        is published but not translated is not broken: the translation's page leaves it
        out).
        """
        return editorial_report(args["locale"])
