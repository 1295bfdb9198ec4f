"""Issue 21's recorded-feed bench: JMA's VXSE53 sample of the 2008 Iwate-Miyagi quake (the
first report, tests/fixtures/jma/) appears in an Atom feed of the form JMA publishes, served
by the feed reader's test server; timed from its appearance to every affected customer's
mail in the local mailbox, at the reader's own poll interval.

Like JMA's, the server rewrites its feed once an interval: the report is listed right after
a poll and appears at the next rewrite, when the reader, which reads just after each
rewrite, next asks. The stack's clock is set to the night of that quake (the service
declares nothing older than seven days)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import arrivals, cpu
from bench.stack import Stack
from tests.support.feedserver import ATOM_TYPE, FeedServer, jma_atom

JMA = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "jma"
DOCUMENT = JMA / "32-35_06_03_240613_VXSE53.xml"
QUAKE_AT = datetime(2008, 6, 13, 23, 43, tzinfo=UTC)
FEED = "/developer/xml/feed/eqvol.xml"
LISTED = "2008-06-13T23:47:00Z"  # when JMA's feed would list the report


def serve_empty(server: FeedServer, interval_s: float) -> str:
    """Serve the feed with no entry yet, rewritten every interval as JMA rewrites its feeds
    once a minute; return the ANSHIN_FEEDS value that polls it."""
    empty = jma_atom(server, [], "2008-06-14T08:44:00+09:00")
    url = server.serve(FEED, empty, ATOM_TYPE, now=True)
    server.cycle = interval_s
    return f"jma_eqvol=jma:{url}"


async def _polled(server: FeedServer, timeout: float = 300) -> None:
    """Return as soon as the reader has asked for the feed once more."""
    before = len(server.requests(FEED))
    for _ in range(int(timeout / 0.01)):
        if len(server.requests(FEED)) > before:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"the reader did not poll the feed in {timeout:.0f} s")


async def run(stack: Stack, server: FeedServer, expected: set[str]) -> dict[str, Any]:
    """List the report right after a poll, to appear at the next rewrite; wait for its mail;
    verdict, poll wait, CPU."""
    await _polled(server)
    before = arrivals.keys(stack.maildir)
    span = cpu.Span()
    span.start()
    listing = jma_atom(server, [(DOCUMENT, LISTED)], "2008-06-14T08:47:00+09:00")
    appeared = server.next_rewrite()
    server.serve(FEED, listing, ATOM_TYPE)
    appeared_mono = time.monotonic() + appeared - time.time()
    await asyncio.sleep(max(0.0, appeared_mono - time.monotonic()))  # nothing comes before
    names = await arrivals.wait(stack.maildir, before, len(expected))
    span.stop(stack.pids(), only_named=True)
    fetched = server.requests(f"/developer/xml/data/{DOCUMENT.name}")
    return {
        "verdict": arrivals.verdict(arrivals.read(stack.maildir, names), expected, appeared),
        "cpu": span,
        "poll_wait_s": fetched[0].at - appeared_mono if fetched else float("nan"),
        "interval_s": stack.settings.feed_poll_s,
    }
