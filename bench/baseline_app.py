"""Baseline: a minimal Flask app serving one constant JSON body of BENCH_BODY_BYTES bytes."""

from __future__ import annotations

import json
import os

from flask import Flask, Response


def constant_body(size: int) -> bytes:
    """A JSON object whose encoding is exactly `size` bytes (at least 13)."""
    filler = max(0, size - len(b'{"filler":""}'))
    return json.dumps({"filler": "x" * filler}, separators=(",", ":")).encode()


def create_app(size: int | None = None) -> Flask:
    """The baseline app; gunicorn runs it as ``baseline_app:create_app()`` from bench/."""
    app = Flask(__name__)
    body = constant_body(size if size is not None else int(os.environ["BENCH_BODY_BYTES"]))

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', content_type="application/json")

    @app.get("/constant")
    def constant() -> Response:
        return Response(body, content_type="application/json")

    return app
