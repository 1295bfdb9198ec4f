"""Disaster events from feeds (CAP 1.2, USGS GeoJSON, plain JSON), declared once each, and
the published playbooks each one activates.

Others use `events` (the route, DisasterOut), `feeds` (Disaster, PlainEvent), `cap.parse`
and `store` (Declared, recent, one).
"""
