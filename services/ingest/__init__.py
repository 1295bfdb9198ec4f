"""Ingest: orders from every sales channel, normalized, categorized and published."""
