"""The end-to-end quake benches on one launched stack and one customer load: the Noto replay
(issue 22, bench/noto.py), then the recorded JMA feed (issue 21, bench/feed.py). Each
event's customers are the other's customers outside the area."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from typing import Any

import aiohttp

from bench import arrivals, feed, noto, quake_setup, quake_shop
from bench.cpu import Span
from bench.stack import launched
from deploy.demo_stack import Stack as Client
from shared.config import Settings
from shared.service import run as serve
from tests.support.feedserver import feed_server

CUSTOMERS = 16_000  # in each area


async def run(count: int = CUSTOMERS, feed_poll_s: str = "") -> dict[str, Any]:
    """Launch, load, replay Noto, send its mails raw, then the feed; every figure.

    `feed_poll_s` (a setting's text) replaces the reader's poll interval, for a quick run.
    """
    polls = {"ANSHIN_FEED_POLL_S": feed_poll_s} if feed_poll_s else {}
    figures: dict[str, Any] = {"count": count, "load_before": os.getloadavg()}
    async with feed_server() as server:
        feeds = feed.serve_empty(server, float(feed_poll_s or Settings().feed_poll_s))
        at = feed.QUAKE_AT + timedelta(minutes=2)
        async with launched(at, ANSHIN_FEEDS=feeds, **polls) as stack:
            timeout = aiohttp.ClientTimeout(total=300)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                client = Client(stack.settings, http)
                await quake_setup.playbook(stack, client)
                near_noto = quake_shop.noto(count)
                tohoku = quake_shop.quake_area(count, feed.DOCUMENT)
                orders = quake_shop.orders(near_noto + tohoku, stack.clock.now())
                figures["load_s"] = await quake_setup.load(stack, client, orders)
                figures["noto"] = await noto.replay(stack, client, {c.email for c in near_noto})
                figures["raw_s"] = await noto.raw_into_mailbox(stack, figures["noto"]["names"])
                figures["feed"] = await feed.run(stack, server, {c.email for c in tohoku})
    figures["load_after"] = os.getloadavg()
    return figures


def _cpu(span: Span, mails: int) -> str:
    """CPU seconds of the stack's busiest processes, and ms a mail."""
    top = sorted(span.seconds.items(), key=lambda item: -item[1])[:6]
    each = ", ".join(f"{name} {s:.1f} ({s / max(mails, 1) * 1000:.2f})" for name, s in top)
    return f"{each}; in all {sum(span.seconds.values()):.1f}"


def _verdict(v: arrivals.Verdict) -> str:
    tenths = " ".join(f"{s:.1f}" for s in v.each_s)
    return (
        f"  mails {v.mails:,}: delivered {v.delivered:,}, wrong {v.wrong},"
        f" missing {v.missing}, duplicates {v.duplicates}\n"
        f"  each tenth of the mail in by (s): {tenths}"
    )


def report(figures: dict[str, Any]) -> None:
    """Print the figures."""
    count, raw = figures["count"], figures["raw_s"]
    v, jma = figures["noto"]["verdict"], figures["feed"]
    f = jma["verdict"]
    before, after = figures["load_before"], figures["load_after"]
    print(
        f"quakes end to end, on `make up`'s stack ({count:,} customers in each area, loaded in"
        f" {figures['load_s']:.0f} s; host load average {before[0]:.1f} before, {after[0]:.1f}"
        f" after, {after[2]:.1f} over 15 min)"
    )
    print("Noto replay (USGS feature POSTed to /v1/events), the local mailbox the sink")
    print(f"  event → first mail                 {v.first_s:8.1f} s")
    print(f"  event → last mail                  {v.last_s:8.1f} s   (goal ≤ 10 s)")
    print(f"  raw: the same mails into the mailbox {raw:6.1f} s   ratio {v.last_s / raw:.2f}")
    print(_verdict(v))
    print(f"  CPU s (ms a mail): {_cpu(figures['noto']['cpu'], v.mails)}")
    every = f"(the feed rewritten every {jma['interval_s']:.0f} s, as JMA's once a minute)"
    fetched_to_last = f.last_s - jma["poll_wait_s"]
    print("recorded JMA feed: a VXSE53 appears in the Atom feed, its customers' mail at the sink")
    print(f"  appeared → fetched                 {jma['poll_wait_s']:8.1f} s   {every}")
    print(f"  appeared → first mail              {f.first_s:8.1f} s")
    print(f"  appeared → last mail               {f.last_s:8.1f} s   (goal ≤ 60 s)")
    print(
        f"  fetched → last mail                {fetched_to_last:8.1f} s   ratio to the"
        f" POSTed Noto event {fetched_to_last / v.last_s:.2f}"
    )
    print(_verdict(f))
    print(f"  CPU s (ms a mail): {_cpu(jma['cpu'], f.mails)}")


async def main(argv: list[str]) -> None:
    """`python -m bench.quakes [COUNT [FEED_POLL_S]]`: run and print."""
    count = int(argv[0]) if argv else CUSTOMERS
    report(await run(count, argv[1] if len(argv) > 1 else ""))


if __name__ == "__main__":
    serve(main(sys.argv[1:]))  # on the services' event loop, as bench/__main__.py runs
