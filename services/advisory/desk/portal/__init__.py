"""/portal: the agencies' pages: sign-in, the form, one advisory with its preview, its
amendment."""

from services.advisory.desk.portal import amend, pages

ROUTES = (pages.routes, amend.routes)

__all__ = ["ROUTES"]
