"""Flask-free building blocks every layer shares: errors, the clock, ETags, keyset paging."""
