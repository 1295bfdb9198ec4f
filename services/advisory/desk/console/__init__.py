"""/console: the operators' pages; `deadletters` lists and replays (the CLI's too)."""

from services.advisory.desk.console import overview, pages, suppressions

ROUTES = (overview.routes, pages.routes, suppressions.routes)

__all__ = ["ROUTES"]
