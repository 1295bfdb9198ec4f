"""A disaster feed publisher for the feed reader's tests: serves documents on a free port
with ETag and Last-Modified, answers 304 to a matching conditional GET, logs every request,
and fails on demand. Like JMA's, it may rewrite its feeds on a cycle: what is served then
appears at the next rewrite, and Last-Modified is the time of the last rewrite."""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

ATOM_TYPE = "application/atom+xml"
LAST_MODIFIED = "Sat, 14 Jun 2008 00:00:00 GMT"


@dataclass
class Request:
    """One request the server heard, and its answer's status."""

    path: str
    headers: dict[str, str]
    status: int
    at: float


@dataclass
class FeedServer:
    """What the server serves (path → body, content type) and what it heard."""

    base: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    heard: list[Request] = field(default_factory=list)
    # Paths answered 500 while their count lasts.
    failing: dict[str, int] = field(default_factory=dict)
    # The headers Date and Last-Modified say, when set (HTTP dates).
    dates: tuple[str, str] | None = None
    # Seconds between rewrites (wall-clock multiples); 0: what is served shows at once.
    cycle: float = 0.0
    waiting: dict[str, tuple[float, bytes, str]] = field(default_factory=dict)

    def serve(
        self, path: str, body: bytes, content_type: str = "application/xml", *, now: bool = False
    ) -> str:
        """Serve a body at a path (on a cycle, from the next rewrite unless `now`); return its
        URL."""
        if self.cycle and not now:
            self.waiting[path] = (self.next_rewrite(), body, content_type)
        else:
            self.files[path] = (body, content_type)
        return self.base + path

    def next_rewrite(self) -> float:
        """The wall-clock time of the next rewrite."""
        return math.floor(time.time() / self.cycle + 1) * self.cycle

    def requests(self, path: str, status: int | None = None) -> list[Request]:
        """The requests heard for a path (with that answer)."""
        return [r for r in self.heard if r.path == path and status in (None, r.status)]

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path
        status, response = self._answer(request)
        self.heard.append(Request(path, dict(request.headers), status, time.monotonic()))
        return response

    def _answer(self, request: web.Request) -> tuple[int, web.Response]:
        if self.failing.get(request.path, 0) > 0:
            self.failing[request.path] -= 1
            return 500, web.Response(status=500, text="overloaded")
        waiting = self.waiting.get(request.path)
        if waiting is not None and waiting[0] <= time.time():
            self.files[request.path] = waiting[1:]
            del self.waiting[request.path]
        if request.path not in self.files:
            return 404, web.Response(status=404)
        body, content_type = self.files[request.path]
        etag = etag_of(body)
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if self.cycle:
            rewritten = self.next_rewrite() - self.cycle
            headers["Last-Modified"] = formatdate(rewritten, usegmt=True)
        if self.dates is not None:
            headers["Date"], headers["Last-Modified"] = self.dates
            if not self.dates[1]:
                del headers["Last-Modified"]
        if request.headers.get("If-None-Match") == etag:
            return 304, web.Response(status=304, headers=headers)
        return 200, web.Response(body=body, content_type=content_type, headers=headers)


def etag_of(body: bytes) -> str:
    """The strong ETag the server gives a body."""
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


@contextlib.asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    """A FeedServer listening on a free port of 127.0.0.1."""
    server = FeedServer()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


def jma_atom(server: FeedServer, documents: list[tuple[Path, str]], updated: str) -> bytes:
    """An Atom feed in the form JMA publishes (tests/fixtures/feeds/SOURCES.md) listing
    documents, each (file, time listed), newest first; each document is served beside it."""
    entries = []
    for path, listed in sorted(documents, key=lambda d: d[1], reverse=True):
        # A document is there before the feed lists it.
        url = server.serve(f"/developer/xml/data/{path.name}", path.read_bytes(), now=True)
        entries.append(
            "<entry>\n"
            f"    <title>{escape(_title(path.name))}</title>\n"
            f"    <id>{escape(url)}</id>\n"
            f"    <updated>{listed}</updated>\n"
            "    <author>\n        <name>気象庁</name>\n    </author>\n"
            f'    <link type="application/xml" href="{escape(url)}"/>\n'
            f'    <content type="text">【{escape(_title(path.name))}】</content>\n'
            "</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" lang="ja">\n'
        "<title>高頻度（地震火山）</title>\n<subtitle>JMAXML publishing feed</subtitle>\n"
        f"<updated>{updated}</updated>\n"
        f"<id>{server.base}/developer/xml/feed/eqvol.xml#short_{abs(hash(updated))}</id>\n"
        f'<link rel="self" href="{server.base}/developer/xml/feed/eqvol.xml"/>\n'
        + "\n".join(entries)
        + "\n</feed>\n"
    ).encode()


def _title(name: str) -> str:
    return {"VXSE53": "震源・震度に関する情報", "VXSE51": "震度速報"}.get(
        name.removesuffix(".xml").rsplit("_", 1)[-1], "気象警報・注意報（Ｈ２７）"
    )
