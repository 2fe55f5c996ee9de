"""The related-article graph: published articles, their links, SEO metrics, and exports."""
