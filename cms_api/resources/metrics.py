"""Prometheus metrics for the operator's scraper."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.http.arguments import no_query_args
from cms_api.observability import metrics_response

blp = Blueprint("metrics", __name__, description="Operational metrics.")

EXAMPLE = (
    "# HELP cms_http_requests_total HTTP requests answered.\n"
    "# TYPE cms_http_requests_total counter\n"
    'cms_http_requests_total{method="GET",route="/v1/articles/<slug>",status="200"} 1027.0\n'
)


@blp.route("/metrics")
class Metrics(MethodView):
    @no_query_args(blp)
    @blp.doc(
        responses={
            "200": {
                "description": "Metrics in the Prometheus text format.",
                "content": {
                    "text/plain": {
                        "schema": {"type": "string"},
                        "example": EXAMPLE,
                    }
                },
            }
        }
    )
    def get(self) -> Response:
        """Read the metrics

        Request counts by method, route and status (`cms_http_requests_total`), latency
        histograms by route (`cms_http_request_duration_seconds`), and database pool use
        (`cms_db_pool_connections_in_use`, `cms_db_pool_capacity`), summed over every
        gunicorn worker. Meant for a scraper on the private network: keep it off the
        public internet at the load balancer.
        """
        return metrics_response()
