"""The editors' link report: orphans, dead ends and the links to unpublished or trashed articles."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from cms_api.http.admin import AdminBlueprint
from cms_api.http.arguments import no_query_args
from cms_api.schemas.admin.graph import AdminGraphReportOut
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
    @no_query_args(blp)
    @blp.response(200, AdminGraphReportOut)
    def get(self) -> Any:
        """Report orphans, dead ends and broken links

        The public report (`GET /v1/graph/report`) plus `broken_links`: live links from a
        published article to one readers cannot see (trashed, or not published), with the
        reason and the target's workflow status, in source then target slug order.
        """
        return editorial_report()
