"""The audit log: every admin write, filterable by actor, target and time."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from cms_api.http.admin import AdminBlueprint
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.schemas.admin.audit import AuditList, AuditQueryArgs
from cms_api.services.accounts import audit

blp = AdminBlueprint(
    "admin_audit", __name__, url_prefix="/v1/admin/audit", description="Who changed what, and when."
)


@blp.route("")
class AuditLog(MethodView):
    @blp.authorize("audit:read")
    @blp.query_args(AuditQueryArgs)
    @blp.response(200, AuditList, headers=LINK_HEADER)
    def get(self, args: dict[str, Any]) -> Any:
        """List audit events, newest first

        Filter by `actor` (user id), `target_type` and `target_id`, and a time window
        (`since` inclusive, `until` exclusive). Each event has the changed fields' values
        before and after, long text shortened.

        Events about users and tokens are listed only for roles that may manage accounts,
        and events about webhooks only for roles that may manage webhooks (admins): they
        carry e-mail addresses, roles, token prefixes and webhook URLs.
        """
        filters = audit.AuditFilters(
            actor_id=args.get("actor"),
            target_type=args.get("target_type"),
            target_id=args.get("target_id"),
            since=args.get("since"),
            until=args.get("until"),
        )
        page = audit.search(
            filters, reader_role=g.user.role, cursor=args.get("cursor"), limit=args["limit"]
        )
        return page_answer(page, page.items)
