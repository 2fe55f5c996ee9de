"""Nesting depth of a JSON text, counted without parsing it."""

from __future__ import annotations

from cms_api.domain.json_depth import json_depth


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth('{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth('"\\"[[[["') == 0
    assert json_depth("[]") == 1
