"""Draft preview tokens: what one looks like and how long one may live."""

from __future__ import annotations

from datetime import timedelta

# Distinct from admin tokens (`cms_`), so neither is mistaken for the other in a config
# file or a leak report.
TOKEN_PREFIX = "cmspv_"
MAX_TOKEN_LENGTH = 200
DEFAULT_LIFETIME = timedelta(hours=1)
MIN_LIFETIME = timedelta(minutes=1)
# Long enough for a review meeting or a day's edits, short enough that a forwarded link
# stops showing an unreviewed medical draft by the next day.
MAX_LIFETIME = timedelta(hours=24)
