"""What an import reports: the lines that stop it, or the counts of what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cms_api.domain.errors import DomainError

MAX_REPORTED = 100  # invalid lines an error report lists (it says when there were more)


class TransferInvalid(DomainError):
    """The file cannot be imported; `errors.lines` names each offending line."""

    status = 422
    kind = "validation-error"


@dataclass
class LineErrors:
    """Messages by line and field, gathered over the whole file before it is refused."""

    lines: dict[int, dict[str, Any]] = field(default_factory=dict)
    more: bool = False  # lines past MAX_REPORTED were invalid too

    def add(self, line: int, name: str, message: str) -> None:
        self.merge(line, {name: [message]})

    def merge(self, line: int, messages: dict[str, Any]) -> None:
        """Note marshmallow-shaped messages (field → list of messages) against a line."""
        if line not in self.lines:
            if len(self.lines) >= MAX_REPORTED:
                self.more = True
                return
            self.lines[line] = {}
        for name, found in messages.items():
            known = self.lines[line].get(name)
            if isinstance(known, list) and isinstance(found, list):
                known.extend(found)
            else:
                self.lines[line][name] = found

    def __bool__(self) -> bool:
        return bool(self.lines)

    def problem(self, what: str) -> TransferInvalid:
        count = len(self.lines)
        amount = f"{count} lines are" if count != 1 else "1 line is"
        if self.more:
            amount = f"More than {count} lines are"
        listed = f" (the first {count} are listed)" if self.more else ""
        return TransferInvalid(
            f"{amount} {what}{listed}; nothing was imported.",
            errors={"lines": {str(line): self.lines[line] for line in sorted(self.lines)}},
        )


@dataclass
class TypeCounts:
    records: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def unchanged(self) -> int:
        return self.records - self.inserted - self.updated


@dataclass
class ImportReport:
    dry_run: bool
    source_schema: str | None
    target_schema: str | None
    exported_at: str
    types: dict[str, TypeCounts]
    rendered_articles: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(item.inserted or item.updated or item.deleted for item in self.types.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "source_schema": self.source_schema,
            "target_schema": self.target_schema,
            "exported_at": self.exported_at,
            "types": {
                name: {
                    "records": item.records,
                    "inserted": item.inserted,
                    "updated": item.updated,
                    "unchanged": item.unchanged,
                    "deleted": item.deleted,
                }
                for name, item in self.types.items()
            },
            "changed": self.changed,
            "rendered_articles": self.rendered_articles,
            "warnings": self.warnings,
        }
