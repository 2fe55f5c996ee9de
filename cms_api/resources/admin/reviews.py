"""Articles whose periodic medical review is overdue or soon due."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from cms_api.domain.clock import utcnow
from cms_api.http.admin import AdminBlueprint
from cms_api.schemas.admin.reviews import ReviewsDueArgs, ReviewsDueList
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import workflow

blp = AdminBlueprint(
    "admin_reviews",
    __name__,
    url_prefix="/v1/admin/reviews",
    description="The medical-review calendar.",
)


@blp.route("/due")
class ReviewsDue(MethodView):
    @blp.authorize("content:read")
    @blp.query_args(ReviewsDueArgs)
    @blp.response(200, ReviewsDueList)
    def get(self, args: dict[str, Any]) -> Any:
        """List published articles due for medical review

        Overdue ones first, then those due within `within_days` (default 30), in every
        locale (each says its own); each with flags such as a reviewer's expired
        credential.
        """
        today = utcnow().date()
        return {
            "items": [
                {
                    "id": article.id,
                    "slug": article.slug,
                    "locale": article.locale,
                    "title": article.title,
                    "next_review_due": article.next_review_due,
                    "last_reviewed_at": article.last_reviewed_at,
                    "overdue": article.next_review_due < today,
                    "review_flags": editorial.review_flags(article, today),
                }
                for article in workflow.reviews_due(args["within_days"], today)
            ]
        }
