"""/portal: the agencies' pages: sign-in, the form, one advisory with its preview."""

from services.advisory.desk.portal import pages

ROUTES = (pages.routes,)

__all__ = ["ROUTES"]
