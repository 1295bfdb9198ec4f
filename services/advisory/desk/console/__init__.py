"""/console: the operators' pages; `deadletters` lists and replays (the CLI's too)."""

from services.advisory.desk.console import drill, overview, pages, providers, suppressions

ROUTES = (overview.routes, pages.routes, drill.routes, suppressions.routes, providers.routes)

__all__ = ["ROUTES"]
