"""The bus is not a back door: each role's NATS user does its own work and nothing else.

A real nats-server with the users of production (the authorization block generated from
shared/bus/topology.py, as `make up` starts it), and the services run with their own
credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import msgspec
import pytest

from deploy.local_env import secured_nats
from deploy.servers import NatsServer
from shared import bus, db
from shared.bus import Subjects
from shared.bus.roles import ROLES
from shared.clock import Clock
from shared.config import Settings
from shared.outbox import OutboxRelay, install_outbox
from tests.support.advisory import new_agency, operator
from tests.support.bus_attacks import (
    ingest_reads_deliveries,
    matcher_publishes_advisories,
)
from tests.support.fixtures import running
from tests.support.keys import channel_header
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink

Secured = tuple[NatsServer, dict[str, str]]


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Secured]:
    """A NATS server with a user per role, and their passwords."""
    server, passwords = secured_nats(tmp_path / "data", log_file=tmp_path / "nats.log")
    server.start()
    try:
        yield server, passwords
    finally:
        server.stop()


async def _hello(server: NatsServer, **credentials: str) -> str:
    """What the server answers a client's CONNECT and PING, in NATS's own protocol."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        await reader.readline()  # INFO
        connect = {"verbose": False, "pedantic": False, **credentials}
        writer.write(b"CONNECT " + json.dumps(connect).encode() + b"\r\nPING\r\n")
        await writer.drain()
        return (await reader.readline()).decode().strip()
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_client_without_credentials_or_with_a_wrong_password_is_refused(
    secured: Secured,
) -> None:
    server, passwords = secured
    assert await _hello(server) == "-ERR 'Authorization Violation'"
    wrong = await _hello(server, user="matcher", **{"pass": passwords["ingest"]})
    assert wrong == "-ERR 'Authorization Violation'"
    assert await _hello(server, user="matcher", **{"pass": passwords["matcher"]}) == "PONG"


async def test_the_matchers_credentials_cannot_publish_an_advisory(secured: Secured) -> None:
    server, passwords = secured
    found = await matcher_publishes_advisories(server.url, passwords)
    assert len(found.tried) == 6
    assert found.succeeded == []
    refused = 'permissions violation for publish to "advisories.published"'
    assert any(refused in e for e in found.refusals), found.refusals


async def test_ingests_credentials_cannot_read_delivery_requests(secured: Secured) -> None:
    server, passwords = secured
    found = await ingest_reads_deliveries(server.url, passwords)
    assert len(found.tried) == 9
    assert found.succeeded == []
    refused = 'permissions violation for subscription to "deliveries.>"'
    assert any(refused in e for e in found.refusals), found.refusals


async def test_every_role_declares_its_part_even_before_the_publishers(secured: Secured) -> None:
    """Consumers first, on an empty server: they create the streams they need, not more."""
    server, passwords = secured
    for role in ("mailer", "matcher", "advisory", "ingest", "operator"):
        nc = await bus.connect(server.url, role, user=role, password=passwords[role])
        try:
            await bus.declare(nc, role=role)
        finally:
            await nc.close()
    nc = await bus.connect(server.url, "t", user="operator", password=passwords["operator"])
    try:
        js = nc.jetstream()
        for spec in bus.CONSUMERS.values():
            assert (await js.consumer_info(spec.stream, spec.durable)).name == spec.durable
    finally:
        await nc.close()
    assert set(ROLES) == {"ingest", "advisory", "matcher", "mailer", "operator"}


def _as(settings: Settings, role: str, passwords: dict[str, str]) -> Settings:
    """The settings of one service: its own NATS user, and the console's for advisory."""
    console = passwords["operator"] if role == "advisory" else ""
    return msgspec.structs.replace(
        settings, nats_user=role, nats_password=passwords[role], nats_operator_password=console
    )


async def test_each_service_does_its_work_with_its_own_credentials(
    secured: Secured,
    settings: Settings,
    clock: Clock,
    smtp_sink: SmtpSink,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    """The first path, every service as its own NATS user: catalog lookups, an audience
    estimate, the embargo, the match, the mail, the console's bus views."""
    server, passwords = secured
    settings = msgspec.structs.replace(settings, nats_url=server.url)
    async with contextlib.AsyncExitStack() as stack:
        urls = {}
        for name in ("mailer", "matcher", "advisory", "ingest"):  # consumers first
            build = importlib.import_module(f"services.{name}.app").build
            port = getattr(settings, f"{name}_port")
            urls[name] = await stack.enter_async_context(
                running(build, _as(settings, name, passwords), clock, port)
            )
        ingest, advisory = urls["ingest"], urls["advisory"]
        for url in urls.values():
            await expect(await http.get(f"{url}/readyz"), 200)
        agency = await new_agency(settings, "Consumer Safety Institute")
        shop = await channel_header(settings, "shop-catalog", catalog=True)
        web = await channel_header(settings)
        catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
        await expect(await http.put(f"{ingest}/v1/catalog", json=catalog, headers=shop), 200)
        created = await expect(
            await http.post(
                f"{advisory}/v1/advisories",
                json=power_bank_advisory(clock.now() + timedelta(hours=1)),
                headers=agency,
            ),
            201,
        )
        bought = order("A-1", clock.now() - timedelta(days=1))
        await expect(await http.post(f"{ingest}/v1/orders", json=bought, headers=web), 202)
        # advisory asks the matcher (an estimate) and ingest (a product page's catalog entry)
        estimate = f"{advisory}/v1/advisories/{created['id']}/audience"
        async with asyncio.timeout(20):
            while (await expect(await http.get(estimate, headers=agency), 200))["customers"] < 1:
                await asyncio.sleep(0.2)
        notices = await expect(await http.get(f"{advisory}/v1/products/PB-1/notices"), 200)
        assert notices["complete"] is True, "ingest answered the catalog lookup"
        clock.advance(timedelta(hours=1, seconds=1))
        [mail] = await smtp_sink.wait_for(1)
        assert mail["To"].addresses[0].addr_spec == "hanako@example.jp"
        # advisory asks the mailer for the reach; the console reads the bus as `operator`
        report = f"{advisory}/v1/advisories/{created['id']}/report"
        async with asyncio.timeout(20):
            while (await expect(await http.get(report, headers=agency), 200))["counts"]["sent"] < 1:
                await asyncio.sleep(0.2)
        console = await http.get(f"{advisory}/console", headers=operator(settings))
        page = await console.text()
        assert console.status == 200 and "mailer-deliveries" in page
        assert "not created yet" not in page and "TimeoutError" not in page
    log = (tmp_path / "nats.log").read_text()
    assert "Permissions Violation" not in log, "a service was refused something it needs"


async def test_the_attacks_get_through_a_server_without_users(nats_url: str) -> None:
    """The attacks are not blind: where the bus takes anyone, as before, they succeed."""
    anyone = dict.fromkeys(ROLES, "")
    published = await matcher_publishes_advisories(nats_url, anyone)
    assert "JetStream publish advisories.published" in published.succeeded
    assert "reconfigure the ADVISORIES stream" in published.succeeded
    read = await ingest_reads_deliveries(nats_url, anyone)
    assert {"subscribe deliveries.>", "a consumer of its own on DELIVERIES"} <= set(read.succeeded)


async def test_each_relay_sets_a_row_aside_and_announces_it_with_its_own_credentials(
    secured: Secured, database_url: str, tmp_path: Path
) -> None:
    server, passwords = secured
    relays = [
        ("ingest", "ingest", Subjects.ORDERS_PLACED),
        ("advisory", "advisory", Subjects.ADVISORIES_WITHDRAWN),
        ("matcher", "matcher", Subjects.DELIVERIES_REQUESTED),
        ("operator", "ingest", Subjects.ORDERS_BATCH),  # `anshin orders load`
    ]
    for n, (role, schema, subject) in enumerate(relays, 1):
        nc = await bus.connect(server.url, role, user=role, password=passwords[role])
        pool = await db.create_pool(database_url, schema, min_size=1, max_size=2)
        try:
            await bus.declare(nc, role=role)
            await install_outbox(pool)
            async with pool.acquire() as conn:
                await conn.executemany(
                    "INSERT INTO outbox (subject, msg_id, payload) VALUES ($1, $2, $3)",
                    [
                        (subject, f"{role}:fits", b"{}"),
                        (subject, f"{role}:huge", b"x" * (nc.max_payload + 1)),
                    ],
                )
            relay = OutboxRelay(pool, nc, schema)
            # Acks through the role's own inbox, the notice to the dead letters.
            assert await relay.relay_once() == 1
            assert (await nc.jetstream().stream_info("DEAD")).state.messages == n
        finally:
            await pool.close()
            await nc.close()
    nc = await bus.connect(server.url, "t", user="operator", password=passwords["operator"])
    try:
        n = (await nc.jetstream().stream_info("DEAD")).state.messages
        assert n == len(relays)
        letters = [await nc.jetstream().get_msg("DEAD", seq) for seq in range(1, n + 1)]
        consumers = {(letter.headers or {}).get("Anshin-Dead-Consumer") for letter in letters}
        assert consumers == {"outbox:ingest", "outbox:advisory", "outbox:matcher"}
    finally:
        await nc.close()
    log = (tmp_path / "nats.log").read_text()
    assert "Permissions Violation" not in log, "a relay was refused something it needs"
