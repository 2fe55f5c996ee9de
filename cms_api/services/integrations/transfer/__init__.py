"""Move all content between databases as NDJSON: a streamed export, and an all-or-nothing import."""
