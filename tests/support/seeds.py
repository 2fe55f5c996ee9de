"""Every text of the seeded site, for tests that run text-handling code over all of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def seed_texts() -> list[str]:
    """Each distinct string of the seed files (bodies, answers, bios, disclaimers, titles...)."""
    texts: set[str] = set()
    for path in sorted(SEEDS.rglob("*.yaml")):
        texts.update(_strings(yaml.safe_load(path.read_text())))
    return sorted(texts)
