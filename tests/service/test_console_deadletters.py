"""Dead letters on the console: listed with their reason, replayed once, behind a CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import unquote_plus

import aiohttp
import nats
import pytest
from nats.aio.client import Client

from services.advisory.app import build
from shared import bus, db
from shared.clock import Clock
from shared.config import Settings
from shared.outbox import OutboxRelay, install_outbox
from tests.service.test_console import basic, page, section
from tests.support.advisory import eventually
from tests.support.fixtures import running

ORDER = b'{"type": "order.placed", "order_id": "A-1", "v": 1}'


@pytest.fixture
async def nc(settings: Settings) -> AsyncIterator[Client]:
    client = await nats.connect(settings.nats_url)
    yield client
    await client.drain()


async def dead_letter(nc: Client) -> None:
    """An order that the real consumer loop gives up on: it lands in DEAD."""

    async def refuse(_: object) -> None:
        raise bus.PermanentError("customer c-404 is unknown")

    consumer = bus.Consumer(nc, "matcher-orders", dict, refuse)
    js = nc.jetstream()
    await js.publish("orders.placed", ORDER, headers={"Nats-Msg-Id": "order:web:A-1:placed"})
    consumer.start()
    try:
        await eventually(lambda: _count(nc, "DEAD", 1))
    finally:
        await consumer.stop()


async def _count(nc: Client, stream: str, n: int) -> bool:
    return bool((await nc.jetstream().stream_info(stream)).state.messages >= n)


async def test_a_dead_letter_is_listed_and_replayed_once(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, nc: Client
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        await dead_letter(nc)
        html = await page(http, f"{base}/console", basic(settings))
        dead = section(html, "dead-letters")
        assert "Dead letters (1)" in dead and "<code>matcher-orders</code>" in dead
        assert (
            "<code>orders.placed</code>" in dead and "permanent: customer c-404 is unknown" in dead
        )
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', dead).group(1)  # type: ignore[union-attr]
        [seq] = re.findall(r'action="/console/dead-letters/(\d+)/replay"', dead)
        replay_url = f"{base}/console/dead-letters/{seq}/replay"
        ops = basic(settings)

        # Without the page's token, or from another site: refused, nothing published.
        for data, extra in (
            ({}, {}),
            ({"csrf": "0" * 64}, {}),
            ({"csrf": token}, {"Origin": "http://evil.example"}),
        ):
            refused = await http.post(
                replay_url, data=data, headers=ops | extra, allow_redirects=False
            )
            assert refused.status == 403
        anyone = await http.post(replay_url, data={"csrf": token}, allow_redirects=False)
        assert anyone.status == 401
        js = nc.jetstream()
        assert (await js.stream_info("ORDERS")).state.messages == 1

        done = await http.post(
            replay_url, data={"csrf": token}, headers=ops | {"Origin": base}, allow_redirects=False
        )
        assert done.status == 303
        assert (
            unquote_plus(done.headers["Location"]) == f"/console?replayed=replay:{seq}#dead-letters"
        )
        replayed = await js.get_msg("ORDERS", 2)
        assert replayed.subject == "orders.placed" and replayed.data == ORDER
        assert replayed.headers["Nats-Msg-Id"] == f"replay:{seq}"
        assert not any(h.startswith("Anshin-Dead") for h in replayed.headers)

        # A second click (another operator, a reload) replays nothing.
        again = await http.post(
            replay_url, data={"csrf": token}, headers=ops, allow_redirects=False
        )
        assert again.status == 303 and "replayed already" in unquote_plus(again.headers["Location"])
        assert (await js.stream_info("ORDERS")).state.last_seq == 2

        html = await page(http, f"{base}/console?replayed=replay:{seq}", basic(settings))
        assert f"Replayed as <code>replay:{seq}</code>" in html
        dead = section(html, "dead-letters")
        assert "replayed <time" in dead and "/replay" not in dead
        # The replay waits for the stopped consumer: its lag shows it.
        row = re.search(r"<code>matcher-orders</code></td>\s*<td class=\"n\">(\d+)<", html)
        assert row is not None and row.group(1) == "1"
        unknown = await http.post(
            f"{base}/console/dead-letters/999/replay", data={"csrf": token}, headers=ops,
            allow_redirects=False,
        )  # fmt: skip
        assert unknown.status == 303 and "no dead letter 999" in unquote_plus(
            unknown.headers["Location"]
        )


async def test_an_outbox_row_the_bus_refused_is_shown_where_it_is_kept(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, nc: Client
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        pool = await db.create_pool(settings.database_url, "matcher", min_size=1, max_size=2)
        try:
            await install_outbox(pool)
            async with pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO outbox (subject, msg_id, payload) VALUES ($1, $2, $3)",
                    "deliveries.requested",
                    "deliveries:adv-1::c-1:500",
                    b"x" * (nc.max_payload + 1),
                )
            await OutboxRelay(pool, nc, "matcher").relay_once()
            await eventually(lambda: _count(nc, "DEAD", 1))
        finally:
            await pool.close()
        await dead_letter(nc)  # and a consumer's, beside it
        html = await page(http, f"{base}/console", basic(settings))
        dead = section(html, "dead-letters")
        assert "Dead letters (2)" in dead
        assert "<code>outbox:matcher</code>" in dead and "<code>deliveries.requested</code>" in dead
        assert f"over max_payload {nc.max_payload}" in dead
        assert f'<td class="n">{nc.max_payload + 1}</td>' in dead
        assert "kept in <code>matcher.outbox_dead</code>" in dead
        # Only the consumer's letter can be replayed: the notice is not the message.
        assert re.findall(r'action="/console/dead-letters/(\d+)/replay"', dead) == ["2"]
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', dead)
        assert token is not None
        tried = await http.post(
            f"{base}/console/dead-letters/1/replay",
            data={"csrf": token.group(1)},
            headers=basic(settings) | {"Origin": base},
            allow_redirects=False,
        )
        assert tried.status == 303
        assert "kept in matcher.outbox_dead" in unquote_plus(tried.headers["Location"])
        assert (await nc.jetstream().stream_info("DELIVERIES")).state.messages == 0
