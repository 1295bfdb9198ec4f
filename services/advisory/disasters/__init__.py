"""Disaster events from feeds (CAP, USGS, plain JSON), declared once, activating playbooks."""
