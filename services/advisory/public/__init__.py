"""What anyone may read: product notices, the /safety pages, the OpenAPI document."""
