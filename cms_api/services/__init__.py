"""The domain: publishing, delivery queries and seeding; views call these, never the models."""
