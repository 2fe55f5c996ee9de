"""Discovery: search with typo correction, symptom lookup, the link graph and sitemaps."""
