"""Discovery: search, symptom lookup, the link graph, JSON-LD and sitemaps."""
