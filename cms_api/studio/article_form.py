"""The article edit form: its values from an article, as sent, and the PATCH they stand for."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import MultiDict

from cms_api.domain.etags import version_etag
from cms_api.models import Article
from cms_api.services.editorial import articles as editorial

# The scalar fields of the edit form, as the admin PATCH names them; a blank optional one
# is sent as null (no value), as an API client would.
TEXT_FIELDS = ("title", "summary", "slug")
NULLABLE_FIELDS = ("meta_title", "meta_description", "canonical_url", "disclaimer", "lead_image_id")
SECTION_FIELD = re.compile(r"^sections-(\d+)-(key|heading|body)$")
SUBSECTION_FIELD = re.compile(r"^sections-(\d+)-subsections-(\d+)-(key|heading|body)$")
# Sent with each section: its sub-sections are the ones sent, none if none is. Without it
# (a page loaded before sub-sections were edited here) they are left as saved.
SUBSECTIONS_SENT = re.compile(r"^sections-(\d+)-subsections-present$")
# How such an older page sent them: the section's sub-sections as JSON, unchanged.
SUBSECTIONS_JSON = re.compile(r"^sections-(\d+)-subsections$")
PART_FIELDS = ("key", "heading", "body")
FIELD_LABELS = {
    "title": "Title",
    "slug": "Slug",
    "summary": "Summary",
    "meta_title": "Meta title",
    "meta_description": "Meta description",
    "canonical_url": "Canonical URL",
    "disclaimer": "Disclaimer",
    "lead_image_id": "Lead image id",
    "review_interval_months": "Review interval (months)",
    "sections": "Sections",
}


def etag_of(article: Article) -> str:
    return version_etag("article", article.id, article.version)


def comparable(value: Any) -> Any:
    """A field's value as the conflict screen compares two versions: blank is none."""
    if isinstance(value, list):
        return [
            {
                **_part(section),
                "subsections": [_part(child) for child in section.get("subsections") or []],
            }
            for section in value
        ]
    return value if value not in (None, "") else ""


def shown_text(value: Any) -> str:
    """A field's value as the conflict screen shows it: sections as Markdown headings."""
    if isinstance(value, list):
        return "\n\n".join(
            f"## {s.get('heading', '')}\n{s.get('body', '')}"
            + "".join(
                f"\n\n### {c.get('heading', '')}\n{c.get('body', '')}"
                for c in s.get("subsections") or []
            )
            for s in value
        )
    return "" if value is None else str(value)


def values_of(article: Article) -> dict[str, Any]:
    """The edit form's values for the article as saved."""
    shown = editorial.present(article)
    values: dict[str, Any] = {name: shown.get(name) for name in (*TEXT_FIELDS, *NULLABLE_FIELDS)}
    values["lead_image_id"] = str(shown["lead_image_id"] or "") or None
    values["review_interval_months"] = str(shown["review_interval_months"])
    values["sections"] = [
        {
            **_part(section),
            "subsections": [_part(child) for child in section.get("subsections") or []],
        }
        for section in shown["sections"]
    ]
    values["etag"] = etag_of(article)
    return values


def _part(section: dict[str, Any]) -> dict[str, str]:
    return {name: section.get(name) or "" for name in PART_FIELDS}


def form_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The edit form as sent: its fields, and its sections and their sub-sections in their
    order. Fields are named as the schema's messages are (`sections-0-subsections-1-body`),
    so each message shows by its field."""
    values: dict[str, Any] = {
        name: form[name]
        for name in (*TEXT_FIELDS, *NULLABLE_FIELDS, "review_interval_months", "etag")
        if name in form
    }
    sections: dict[int, dict[str, Any]] = {}
    children: dict[int, dict[int, dict[str, str]]] = {}
    sent: dict[int, Any] = {}
    for name, value in form.items():
        if found := SECTION_FIELD.match(name):
            sections.setdefault(int(found.group(1)), {})[found.group(2)] = value
        elif found := SUBSECTION_FIELD.match(name):
            parent, index, field = int(found.group(1)), int(found.group(2)), found.group(3)
            children.setdefault(parent, {}).setdefault(index, {})[field] = value
        elif found := SUBSECTIONS_SENT.match(name):
            sent.setdefault(int(found.group(1)), [])
        elif found := SUBSECTIONS_JSON.match(name):
            sent[int(found.group(1))] = _from_json(value)
    for index, section in sections.items():
        if index in children:
            section["subsections"] = [child for _, child in sorted(children[index].items())]
        elif index in sent:
            section["subsections"] = sent[index]
    if sections or "sections-present" in form:
        values["sections"] = [sections[index] for index in sorted(sections)]
    return values


def _from_json(raw: str) -> Any:
    try:
        return json.loads(raw or "[]")
    except ValueError:
        return "damaged"  # the schema refuses it, with a message by the field


def keep_saved_subsections(
    values: dict[str, Any], saved_article: Callable[[], Article]
) -> dict[str, Any]:
    """Sections sent without word of their sub-sections keep the ones saved (by key)."""
    sections = values.get("sections")
    if not sections or all("subsections" in section for section in sections):
        return values
    saved = {
        section["key"]: section.get("subsections") or []
        for section in editorial.present(saved_article())["sections"]
    }
    kept = [
        section
        if "subsections" in section
        else {**section, "subsections": saved.get((section.get("key") or "").strip(), [])}
        for section in sections
    ]
    return {**values, "sections": kept}


def apply_operation(values: dict[str, Any], operation: str) -> tuple[dict[str, Any], str]:
    """A section button's change to the form: add, move up or down, remove a section
    (`up:2`), or one of a section's sub-sections (`sub-up:2:0`, `sub-add:2`)."""
    sections = [
        {**section, "subsections": list(section.get("subsections") or [])}
        for section in values.get("sections") or []
    ]
    verb, *where = operation.split(":")
    at = [int(number) if number.isdigit() else -1 for number in where]
    # A new key must be unique in the whole article, sub-sections included.
    keys = {section.get("key") for section in sections} | {
        child.get("key") for section in sections for child in section["subsections"]
    }
    if verb.startswith("sub-") and at and 0 <= at[0] < len(sections):
        subsections = sections[at[0]]["subsections"]
        if not _changed(subsections, verb[4:], at[1:], "Sub-section", keys):
            return values, "save"
    elif not _changed(sections, verb, at, "Section", keys):
        return values, "save"
    return {**values, "sections": sections}, verb


def _changed(
    items: list[dict[str, Any]], verb: str, at: list[int], noun: str, keys: set[Any]
) -> bool:
    """Add to `items` (a key not in `keys`), or move or remove its item at `at[0]`, in
    place; False if the operation is none of these (the Save button) or names no item."""
    if verb == "add":
        stem = noun.lower()  # "section-3", "sub-section-2": keys the schema accepts
        number = len(items) + 1
        while f"{stem}-{number}" in keys:
            number += 1
        added = {"key": f"{stem}-{number}", "heading": f"New {stem}", "body": ""}
        items.append(added | ({"subsections": []} if noun == "Section" else {}))
        return True
    index = at[0] if at else -1
    if verb not in ("up", "down", "remove") or not 0 <= index < len(items):
        return False
    if verb == "remove":
        items.pop(index)
        return True
    other = index - 1 if verb == "up" else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    return True


def patch_of(values: dict[str, Any]) -> dict[str, Any]:
    """The merge patch the form stands for, in the admin API's shape."""
    patch: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name in values:
            patch[name] = values[name].strip() if name != "summary" else values[name]
    for name in NULLABLE_FIELDS:
        if name in values:
            patch[name] = values[name].strip() or None if values[name] is not None else None
    if "review_interval_months" in values:
        # A form sends text; the schema, like JSON, wants a number (text it refuses).
        months = str(values["review_interval_months"]).strip()
        patch["review_interval_months"] = int(months) if months.isdigit() else months
    if "sections" in values:
        patch["sections"] = [
            {**_patched(section), "subsections": _patched_children(section.get("subsections"))}
            for section in values["sections"]
        ]
    return patch


def _patched_children(children: Any) -> Any:
    if isinstance(children, str):  # as an older page's conflict screen sent them
        children = _from_json(children)
    if not isinstance(children, list):
        return children  # the schema refuses it, with a message by the field
    return [_patched(child) if isinstance(child, dict) else child for child in children]


def _patched(part: dict[str, Any]) -> dict[str, str]:
    return {
        "key": (part.get("key") or "").strip(),
        "heading": (part.get("heading") or "").strip(),
        "body": part.get("body") or "",
    }
