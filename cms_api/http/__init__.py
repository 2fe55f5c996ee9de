"""The HTTP edge: problem documents, conditional requests, request checks, paging, admin views."""
