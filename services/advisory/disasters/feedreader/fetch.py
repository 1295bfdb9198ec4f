"""HTTP GETs of feeds and their documents: conditional (ETag, If-Modified-Since), bounded in
size and time."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import aiohttp
import msgspec

from services.advisory.disasters.feedreader.store import Validators


class FetchError(Exception):
    """A fetch that failed for now (network, timeout, a status other than 200 or 304)."""


class TooLarge(FetchError):
    """A document larger than its limit: refused whatever the server would send next."""


class Gone(FetchError):
    """A document the server no longer has (404, 410): JMA keeps its documents a few days."""


class Fetched(msgspec.Struct, frozen=True):
    """A document and its validators; `body` None when the server said 304 Not Modified."""

    body: bytes | None
    validators: Validators
    served: datetime | None = None  # the answer's Date, on the server's clock
    modified: datetime | None = None  # its Last-Modified (a 304's own, else the one kept)


def http_date(text: str | None) -> datetime | None:
    """An HTTP date header's time; None when missing or not a date with a zone."""
    try:
        when = parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError, IndexError):
        return None
    return when if when is not None and when.tzinfo is not None else None


async def get(
    session: aiohttp.ClientSession,
    url: str,
    limit: int,
    since: Validators | None = None,
    accept: str = "*/*",
) -> Fetched:
    """GET a URL, conditionally when validators are given; at most `limit` bytes read."""
    headers = {"Accept": accept}
    if since is not None and since.etag:
        headers["If-None-Match"] = since.etag
    if since is not None and since.last_modified:
        headers["If-Modified-Since"] = since.last_modified
    try:
        async with session.get(url, headers=headers) as reply:
            served = http_date(reply.headers.get("Date"))
            modified = http_date(reply.headers.get("Last-Modified"))
            if reply.status == 304 and since is not None:
                return Fetched(None, since, served, modified or http_date(since.last_modified))
            if reply.status in (404, 410):
                raise Gone(f"{url} answered {reply.status}")
            if reply.status != 200:
                raise FetchError(f"{url} answered {reply.status}")
            if (reply.content_length or 0) > limit:
                raise TooLarge(f"{url} is {reply.content_length} bytes, over {limit}")
            body = bytearray()
            # Read in chunks, so that a server that lies about or omits its length (or a
            # compressed body that swells) is cut off at the limit.
            async for chunk in reply.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise TooLarge(f"{url} is over {limit} bytes")
            kept = Validators(reply.headers.get("ETag"), reply.headers.get("Last-Modified"))
            return Fetched(bytes(body), kept, served, modified)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FetchError(f"{url}: {type(exc).__name__} {str(exc)[:200]}") from exc
