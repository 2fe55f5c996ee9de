"""Liveness and readiness probes for load balancers."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.services.delivery import health

blp = Blueprint("health", __name__, description="Probes for load balancers and orchestrators.")


HEADERS = {
    "Cache-Control": {"description": "`no-store`.", "required": True, "schema": {"type": "string"}}
}


class HealthOut(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})


def _no_store(payload: dict[str, str]) -> Response:
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.response(200, HealthOut, headers=HEADERS)
    def get(self) -> Response:
        """Is the process alive

        Answers without touching the database.
        """
        return _no_store({"status": "ok"})


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthOut, example={"status": "ready"}, headers=HEADERS)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self) -> Response:
        """Can the API serve requests

        Answers 503 (with `Retry-After`) while the database does not answer.
        """
        health.check_database()
        return _no_store({"status": "ready"})
