"""Flask-free building blocks every layer shares: errors, clock, ETags, paging, vocabularies."""
