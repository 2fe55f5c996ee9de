"""Integrations: webhooks, NDJSON transfer, draft previews and the sample seeds."""
