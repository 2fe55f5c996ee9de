"""Signed webhooks: endpoints, the delivery worker with its retries, and retention."""
