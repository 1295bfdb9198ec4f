"""The unattended feed reader: JMA's Atom feeds, USGS's and NWS's GeoJSON, polled by one
replica and declared through the code of POST /v1/events (docs/advisory.md, "Feeds").

`feed_reader` is the cleanup context app.py runs.
"""

from services.advisory.disasters.feedreader.reader import feed_reader

__all__ = ["feed_reader"]
