"""Disaster events from feeds (CAP 1.2, USGS GeoJSON, plain JSON), declared once each, and
the published playbooks each one activates.

`ROUTES` are its routes; others use `events.DisasterOut`, `feeds` (Disaster, PlainEvent),
`cap.parse` and `store` (Declared, recent, one).
"""

from services.advisory.disasters import events

ROUTES = (events.routes,)

__all__ = ["ROUTES"]
