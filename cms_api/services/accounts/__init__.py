"""Accounts: users, bearer tokens, the permission matrix and the audit log."""
