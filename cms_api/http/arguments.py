"""Query-string arguments: parsed by their schema, anything unknown or malformed a 400 problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from cms_api.schemas.common import StrictSchema


class NoQueryArgs(StrictSchema):
    """An operation without query parameters: any query parameter is an error."""


def query_args(blp: Blueprint, schema: type) -> Callable[..., Any]:
    """Query-string arguments: unknown or malformed ones are a 400 problem."""
    return blp.arguments(
        schema, location="query", error_status_code=400, unknown=ma.RAISE, as_kwargs=False
    )


def no_query_args(blp: Blueprint) -> Callable[..., Any]:
    """For an operation without query parameters: any query parameter is a 400 problem."""
    # As keyword arguments, the (always empty) result leaves the view's signature alone.
    return blp.arguments(
        NoQueryArgs, location="query", error_status_code=400, unknown=ma.RAISE, as_kwargs=True
    )
