"""Disaster events from feeds (CAP 1.0-1.2 and JMA XML, USGS and NWS GeoJSON, plain JSON),
declared once each, revised and cancelled as their feeds report, and the published playbooks
each one activates.

`ROUTES` are its routes; others use `events.DisasterOut`, `feeds` (Disaster, PlainEvent),
`cap.parse`, `jma.parse`, `nws.from_nws` and `store` (Declared, recent, one).
"""

from services.advisory.disasters import events

ROUTES = (events.routes,)

__all__ = ["ROUTES"]
