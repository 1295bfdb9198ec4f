"""The desks of people at work: the operators' console and the agencies' portal.

`ROUTES` are their pages; `operator_connection` opens the console's NATS connection as the
user `operator`. The two desks share only `web` (headers, CSRF, templates) and the charts.
"""

from services.advisory.desk import console, portal
from services.advisory.desk.console.bus import operator_connection

ROUTES = (*console.ROUTES, *portal.ROUTES)

__all__ = ["ROUTES", "operator_connection"]
