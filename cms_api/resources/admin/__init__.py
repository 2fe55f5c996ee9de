"""Admin resources (`/v1/admin`): editors, reviewers and admins, with bearer tokens."""
