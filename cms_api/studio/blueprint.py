"""The studio's Flask blueprint, at /studio: every studio module adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

# A plain Flask blueprint, not flask-smorest's: the studio is HTML for people, and stays
# out of the OpenAPI document.
bp = Blueprint(
    "studio",
    __name__,
    url_prefix="/studio",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
