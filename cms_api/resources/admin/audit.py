"""The audit log: every admin write, filterable by actor, target and time."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from cms_api.http import decode_cursor, encode_cursor
from cms_api.resources.admin.common import admin_blueprint, authorize
from cms_api.resources.delivery import query_args
from cms_api.schemas.admin_misc import AuditList, AuditQueryArgs
from cms_api.services import audit

blp = admin_blueprint(
    "admin_audit", __name__, url_prefix="/v1/admin/audit", description="Who changed what, and when."
)


@blp.route("")
class AuditLog(MethodView):
    @authorize(blp, "audit:read")
    @query_args(blp, AuditQueryArgs)
    @blp.response(200, AuditList)
    def get(self, args: dict[str, Any]) -> Any:
        """List audit events, newest first

        Filter by `actor` (user id), `target_type` and `target_id`, and a time window
        (`since` inclusive, `until` exclusive). Each event has the changed fields' values
        before and after, long text shortened.
        """
        before_id = None
        if "cursor" in args:
            (raw,) = decode_cursor(args["cursor"], "audit", 1)
            before_id = int(raw) if isinstance(raw, int) else None
        filters = audit.AuditFilters(
            actor_id=args.get("actor"),
            target_type=args.get("target_type"),
            target_id=args.get("target_id"),
            since=args.get("since"),
            until=args.get("until"),
        )
        events, total = audit.search(filters, before_id=before_id, limit=args["limit"] + 1)
        next_cursor = None
        if len(events) > args["limit"]:
            events = events[: args["limit"]]
            next_cursor = encode_cursor("audit", [events[-1].id])
        return {
            "items": events,
            "page": {"limit": args["limit"], "next_cursor": next_cursor, "total": total},
        }
