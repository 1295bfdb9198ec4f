"""The whole stack as `make up` runs it: processes, the CLI, HTTP, and the Maildir."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import cast

import aiohttp
import pytest

from services.advisory.evidence.keys import WELL_KNOWN
from shared import bus
from tests.support.keys import bearer, created_key
from tests.support.launcher import Launcher, launch_env
from tests.support.pg import postgres_home
from tests.support.shop import expect, order, power_bank_advisory


def _refused_on_the_bus(data: Path) -> list[str]:
    """What the embedded NATS server refused a client: a service denied what it needs."""
    log = (data / "logs" / "nats.log").read_text()
    return [line for line in log.splitlines() if "Violation" in line]


async def _wait_ready(http: aiohttp.ClientSession, url: str, old_pid: int, pid: object) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                if pid() != old_pid:  # type: ignore[operator]
                    async with http.get(f"{url}/readyz") as reply:
                        if reply.status == 200:
                            return
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.2)


@pytest.fixture
def at_night_in_tokyo(tmp_path: Path, database_url: str) -> Iterator[tuple[Launcher, timedelta]]:
    """`make up` as the README runs it (quiet hours as it sets them), at 23:30 in Tokyo."""
    now = datetime.now(UTC)
    offset = now.replace(hour=14, minute=30, second=0, microsecond=0) - now
    clock = tmp_path / "clock"
    clock.write_text(str(offset.total_seconds()))
    env = launch_env(tmp_path / "data", DATABASE_URL=database_url, ANSHIN_CLOCK_FILE=str(clock))
    del env["ANSHIN_QUIET_HOURS"]
    stack = Launcher(tmp_path / "data", env)
    try:
        stack.start()
        yield stack, offset
    finally:
        stack.stop()


async def test_first_path_through_the_running_stack(
    at_night_in_tokyo: tuple[Launcher, timedelta], http: aiohttp.ClientSession
) -> None:
    # A newcomer tries the README at night in Tokyo, where its customer lives: the mail shows.
    launcher, offset = at_night_in_tokyo
    key = created_key(launcher.env, "agency", "create", "Consumer Safety Institute")
    shop = bearer(created_key(launcher.env, "channel", "create", "shop-catalog", "--catalog"))
    web = bearer(created_key(launcher.env, "channel", "create", "web"))
    ingest, advisory = launcher.url("ingest"), launcher.url("advisory")
    catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
    await expect(await http.put(f"{ingest}/v1/catalog", json=catalog, headers=shop), 200)
    now = datetime.now(UTC) + offset
    embargo = now + timedelta(seconds=6)
    await expect(
        await http.post(
            f"{advisory}/v1/advisories",
            json=power_bank_advisory(embargo),
            headers={"Authorization": f"Bearer {key}"},
        ),
        201,
    )
    the_order = order("A-1001", now - timedelta(days=1), locale="en-GB", email="sam@example.org")
    await expect(await http.post(f"{ingest}/v1/orders", json=the_order, headers=web), 202)

    while datetime.now(UTC) + offset < embargo - timedelta(seconds=1):
        assert launcher.mails() == [], "nothing may arrive before the embargo"
        await asyncio.sleep(0.3)

    async with asyncio.timeout(30):
        while not launcher.mails():
            await asyncio.sleep(0.2)
    [mail] = launcher.mails()
    assert mail["To"] == "Hanako <sam@example.org>"
    assert mail["Subject"] == "Using your power bank safely"
    plain = cast(list[Message], mail.get_payload())[0]
    assert "Consumer Safety Institute" in cast(bytes, plain.get_payload(decode=True)).decode()

    # Posting the same order again, or killing any service (the launcher restarts it),
    # sends nothing more.
    await expect(await http.post(f"{ingest}/v1/orders", json=the_order, headers=web), 202)
    for service in ("matcher", "mailer", "advisory", "ingest"):
        old = launcher.pid_of(service)
        os.kill(old, signal.SIGKILL)
        await _wait_ready(http, launcher.url(service), old, lambda s=service: launcher.pid_of(s))
    # And so does stopping the whole stack and starting it again on the same data.
    launcher.stop()
    launcher.start()
    await asyncio.sleep(3)
    assert len(launcher.mails()) == 1
    assert _refused_on_the_bus(launcher.data) == []


async def test_make_up_starts_embedded_servers_and_keeps_their_data() -> None:
    # No pooled connections: the services on the same ports are new processes after a restart.
    connector = aiohttp.TCPConnector(force_close=True)
    # Closed however the test ends: an unclosed session fails the next test with a warning.
    async with aiohttp.ClientSession(connector=connector) as http:
        with postgres_home() as home:
            await _first_and_second_make_up(home / "data", http)


async def _first_and_second_make_up(data: Path, http: aiohttp.ClientSession) -> None:
    stack = Launcher(data, launch_env(data))
    the_order = order("A-7", datetime.now(UTC))
    stack.start()
    try:
        web = bearer(created_key(stack.env, "channel", "create", "web"))
        answer = await expect(
            await http.post(f"{stack.url('ingest')}/v1/orders", json=the_order, headers=web), 202
        )
        assert answer["accepted"] == 1
        assert (data / "pg" / "PG_VERSION").exists() and (data / "nats" / "jetstream").exists()
        # The evidence key, generated into the data directory, is published.
        assert (data / "evidence_key").exists()
        pem = await (await http.get(f"{stack.url('advisory')}{WELL_KNOWN}")).read()
        assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    finally:
        stack.stop()
    stack.start()  # a second `make up` on the same data: the channel's key too
    try:
        again = await expect(
            await http.post(f"{stack.url('ingest')}/v1/orders", json=the_order, headers=web), 202
        )
        assert again == {"accepted": 0, "duplicates": 1, "rejected": [], "unlocated": []}
        # Exports signed before the restart still verify: the same key.
        assert await (await http.get(f"{stack.url('advisory')}{WELL_KNOWN}")).read() == pem
        url = f"nats://127.0.0.1:{stack.env['ANSHIN_EMBEDDED_NATS_PORT']}"
        password = (data / "nats-users" / "operator").read_text()
        nc = await bus.connect(url, "t", user="operator", password=password)
        try:
            # ORDERS keeps its facts (CUSTOMERS forgets each once the mailer has it).
            stored = await nc.jetstream().stream_info("ORDERS")
        finally:
            await nc.close()
        assert stored.state.messages == 1, "the event published before the restart is kept"
        # The embedded server takes no client without a user of its own.
        reader, writer = await asyncio.open_connection("127.0.0.1", int(url.rsplit(":", 1)[1]))
        await reader.readline()  # INFO
        writer.write(b'CONNECT {"verbose":false}\r\nPING\r\n')
        answer = await reader.readline()
        writer.close()
        await writer.wait_closed()
        assert answer.strip() == b"-ERR 'Authorization Violation'"
    finally:
        stack.stop()
    assert not (data / "anshin.pid").exists()
