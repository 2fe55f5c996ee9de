"""How the medical coding systems that topics are filed under write their codes."""

from __future__ import annotations

import re

# How each system's codes are written; a code that is not is a 400, not an empty answer.
CODE_FORMATS: dict[str, re.Pattern[str]] = {
    # A category (letter, digit, letter or digit), then up to four characters after a dot.
    "icd10cm": re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$"),
    # A SNOMED CT identifier: 6 to 18 digits, no leading zero.
    "snomed": re.compile(r"^[1-9][0-9]{5,17}$"),
    # A MeSH unique identifier: a letter (D descriptor, C supplementary, ...) and digits.
    "mesh": re.compile(r"^[A-Z][0-9]{6,9}$"),
}
