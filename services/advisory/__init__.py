"""Advisory: agencies, advisories and their embargoes, disasters, product notices.

Its packages, each exposing what others may use in its `__init__` (docs/architecture.md):
lifecycle (the advisory and the embargo rule), agencies, peers (questions to the other
services), api, disasters, public, desk (console and portal), cli.
"""

# The service's own PostgreSQL schema, and the package whose migrations/ make it.
SCHEMA = "advisory"
PACKAGE = "services.advisory"
