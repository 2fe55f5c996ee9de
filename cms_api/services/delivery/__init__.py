"""Delivery: reads of published documents, the change feed and readiness."""
