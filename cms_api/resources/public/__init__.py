"""Delivery resources: published content for frontends, SEO tools and the symptom checker."""
