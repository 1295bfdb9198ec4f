"""A customer's rights over their data in ingest: erasure across the services, and access."""
