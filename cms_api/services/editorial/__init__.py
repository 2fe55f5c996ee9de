"""Editorial: writing articles, FAQs, people, topics and links, revisions and review."""
