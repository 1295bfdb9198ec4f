"""Who may write to ingest: a channel its own orders, a catalog key the catalog, nobody else."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec

from services.ingest.app import build
from shared import bus
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_cli import anshin, cli_env
from tests.service.test_ingest_orders import NDJSON, _closing, grocery_order, stored
from tests.support.advisory import operator
from tests.support.fixtures import running
from tests.support.keys import bearer, channel_header
from tests.support.shop import expect, order

CATALOG = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]


async def _rows(settings: Settings, sql: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return [dict(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_without_a_key_nothing_is_written(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.ingest_port) as ingest:
        url = f"{ingest}/v1/orders"
        for method, target, body in [
            ("POST", url, order("A-1", clock.now())),
            ("POST", f"{url}?format=grocery", grocery_order()),
            ("POST", f"{url}/web/A-1/cancel", None),
            ("POST", f"{url}/web/A-1/return", None),
            ("PUT", f"{ingest}/v1/catalog", CATALOG),
        ]:
            for headers in ({}, bearer("ck_00000000_guessed"), {"Authorization": "Basic eDp5"}):
                reply = await http.request(method, target, json=body, headers=headers)
                answer = await expect(reply, 401)
                assert answer["error"] and answer["details"][0]["field"] == "Authorization"
    assert await _rows(settings, "SELECT * FROM ingest.orders") == []
    assert await _rows(settings, "SELECT * FROM ingest.catalog") == []


async def test_a_channel_key_writes_its_own_channel_only(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    web, grocery = await channel_header(settings), await channel_header(settings, "grocery")
    async with running(build, settings, clock, settings.ingest_port) as ingest:
        url = f"{ingest}/v1/orders"
        # One record of the key's channel, one naming none, one of another: refused whole.
        mine = order("A-1", clock.now())
        unnamed = {k: v for k, v in order("A-2", clock.now()).items() if k != "channel"}
        theirs = {**order("A-3", clock.now()), "channel": "grocery"}
        body = b"".join(msgspec.json.encode(r) + b"\n" for r in (mine, unnamed, theirs))
        refused = await expect(await http.post(url, data=body, headers=NDJSON | web), 403)
        assert refused["error"].startswith("this key writes the orders of channel 'web' only")
        assert refused["details"] == [
            {
                "index": 2,
                "field": "channel",
                "problem": "'grocery' is not this key's channel ('web')",
            }
        ]
        assert await _rows(settings, "SELECT * FROM ingest.orders") == []
        assert await _rows(settings, "SELECT * FROM ingest.outbox") == []

        # Without the foreign record, the unnamed one is the key's channel's.
        answer = await expect(await http.post(url, json=[mine, unnamed], headers=web), 202)
        assert answer == {"accepted": 2, "duplicates": 0, "rejected": [], "unlocated": []}
        # The grocery format names no channel: its records are the posting key's.
        answer = await expect(
            await http.post(f"{url}?format=grocery", json=grocery_order(), headers=grocery), 202
        )
        assert answer["accepted"] == 1
        stored_orders = await _rows(settings, "SELECT channel, order_id FROM ingest.orders")
        assert sorted((r["channel"], r["order_id"]) for r in stored_orders) == [
            ("grocery", "G-778"),
            ("web", "A-1"),
            ("web", "A-2"),
        ]
        # A key may not read the stored orders (operators only), nor write the catalog.
        await expect(await http.get(f"{url}/web/A-1", headers=web), 403)
        denied = await expect(
            await http.put(f"{ingest}/v1/catalog", json=CATALOG, headers=web), 403
        )
        assert "catalog key" in denied["error"]


async def test_a_channel_key_cannot_cancel_or_return_another_channels_order(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    web, grocery = await channel_header(settings), await channel_header(settings, "grocery")
    async with running(build, settings, clock, settings.ingest_port) as ingest:
        url = f"{ingest}/v1/orders"
        await expect(await http.post(url, json=order("A-1", clock.now()), headers=web), 202)
        for event in ("cancel", "return"):
            refused = await expect(
                await http.post(f"{url}/web/A-1/{event}", json={}, headers=grocery), 403
            )
            assert refused["details"] == [
                {"field": "channel", "problem": "'web' is not this key's channel ('grocery')"}
            ]
        # Nor as a row of a batch, whatever channel the body names.
        row = {"event": "cancelled", "channel": "web", "order_id": "A-1"}
        await expect(await http.post(url, json=[row], headers=grocery), 403)
        audit = await expect(await http.get(f"{url}/web/A-1", headers=operator(settings)), 200)
        assert audit["events"] == []  # the order is still active
        assert await _rows(settings, "SELECT * FROM ingest.order_events") == []
        # Its own channel's key cancels it; so may an operator, naming the channel.
        await expect(await http.post(f"{url}/web/A-1/cancel", headers=web), 202)
        answer = await expect(
            await http.post(f"{url}/web/A-1/return", headers=operator(settings)), 202
        )
        assert answer["accepted"] == 1


async def test_only_catalog_and_operator_keys_write_the_catalog(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    web = await channel_header(settings)
    products = await channel_header(settings, "pim", catalog=True)
    async with running(build, settings, clock, settings.ingest_port) as ingest:
        catalog = f"{ingest}/v1/catalog"
        await expect(await http.put(catalog, json=CATALOG), 401)
        await expect(await http.put(catalog, json=CATALOG, headers=web), 403)
        assert await _rows(settings, "SELECT * FROM ingest.catalog") == []
        written = await expect(
            await http.put(catalog, json=CATALOG, headers=operator(settings)), 200
        )
        assert written == {"written": 1, "rejected": []}
        heater = [{"sku": "PB-1", "title": "Heater", "categories": ["electric_heater"]}]
        await expect(await http.put(catalog, json=heater, headers=products), 200)
        [entry] = await _rows(settings, "SELECT title, categories FROM ingest.catalog")
        assert entry == {"title": "Heater", "categories": ["electric_heater"]}
        # A catalog key writes the catalog only.
        url = f"{ingest}/v1/orders"
        await expect(await http.post(url, json=order("A-1", clock.now()), headers=products), 403)
        await expect(await http.post(f"{url}/web/A-1/cancel", headers=products), 403)


async def test_a_stranger_cannot_take_over_a_customers_mail(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    """An order under an existing customer id with another address, posted without a key."""
    web = await channel_header(settings)
    nc = await bus.connect(settings.nats_url, "test")
    async with running(build, settings, clock, settings.ingest_port) as ingest, _closing(nc):
        url = f"{ingest}/v1/orders"
        bought = order("A-1", clock.now() - timedelta(hours=1), email="hanako@example.jp")
        await expect(await http.post(url, json=bought, headers=web), 202)
        [(_, contact)] = await stored(nc, "CUSTOMERS", 1)
        before = await _rows(settings, "SELECT * FROM ingest.customers")

        # Newer than the customer's own order: without keys, its contact data would win.
        hijack = order("EVIL-1", clock.now(), email="stranger@evil.example")
        for headers in ({}, bearer("ck_deadbeef_" + "x" * 43), bearer(settings.secret_key)):
            await expect(await http.post(url, json=hijack, headers=headers), 401)
        assert await _rows(settings, "SELECT * FROM ingest.customers") == before
        assert len(await stored(nc, "CUSTOMERS", 1)) == 1
    assert contact.email == "hanako@example.jp"


async def test_channel_create_prints_the_key_once_and_keeps_only_its_hash(
    settings: Settings, clock: Clock, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    env = cli_env(settings, tmp_path)
    empty = await anshin(env, "channel", "list")
    assert empty.code == 0 and "No channels yet" in empty.out
    created = await anshin(env, "channel", "create", "web")
    assert created.code == 0, created.err
    [key] = re.findall(r"^key:\s+(\S+)", created.out, re.M)
    assert re.fullmatch(r"ck_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", key)
    catalog = await anshin(env, "channel", "create", "pim", "--catalog")
    [catalog_key] = re.findall(r"^key:\s+(\S+)", catalog.out, re.M)
    again = await anshin(env, "channel", "create", "web")
    assert again.code == 1 and "exists already" in again.err and "ck_" not in again.err
    bad = await anshin(env, "channel", "create", "web shop")
    assert bad.code == 1 and "cannot name a channel" in bad.err
    scripted = json.loads((await anshin(env, "channel", "create", "app", "--json")).out)
    assert scripted["name"] == "app" and scripted["kind"] == "channel"
    assert re.fullmatch(r"ck_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", scripted["key"])
    listed = json.loads((await anshin(env, "channel", "list", "--json")).out)
    assert [c["name"] for c in listed] == ["web", "pim", "app"]
    assert listed[2]["key_id"] == scripted["key"][:11] and scripted["key"] not in str(listed)

    rows = await _rows(settings, "SELECT * FROM ingest.channel_keys ORDER BY name")
    assert [(r["name"], r["kind"]) for r in rows] == [
        ("app", "channel"),
        ("pim", "catalog"),
        ("web", "channel"),
    ]
    assert rows[2]["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert rows[2]["key_id"] == key[3:11]
    assert key not in str(rows) and catalog_key not in str(rows)

    rotated = await anshin(env, "channel", "rotate", "web")
    [new_key] = re.findall(r"^key:\s+(\S+)", rotated.out, re.M)
    assert new_key != key and "no longer works" in rotated.out
    async with running(build, settings, clock, settings.ingest_port) as ingest:
        url = f"{ingest}/v1/orders"
        await expect(await http.post(url, json=order("A-2", clock.now()), headers=bearer(key)), 401)
        reply = await http.post(url, json=order("A-2", clock.now()), headers=bearer(new_key))
        assert reply.status == 202
    missing = await anshin(env, "channel", "rotate", "nope")
    assert missing.code == 1 and "no channel 'nope'" in missing.err


async def test_channel_list_never_prints_a_key(
    settings: Settings, clock: Clock, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    env = cli_env(settings, tmp_path)
    [key] = re.findall(r"^key:\s+(\S+)", (await anshin(env, "channel", "create", "web")).out, re.M)
    created = await anshin(env, "channel", "create", "pim", "--catalog")
    [catalog_key] = re.findall(r"^key:\s+(\S+)", created.out, re.M)
    [row] = await _rows(settings, "SELECT * FROM ingest.channel_keys WHERE name = 'web'")
    async with running(build, settings, clock, settings.ingest_port) as ingest:
        bought = order("A-1", clock.now())
        reply = await http.post(f"{ingest}/v1/orders", json=bought, headers=bearer(key))
        assert reply.status == 202
    listed = await anshin(env, "channel", "list")
    assert listed.code == 0
    assert key not in listed.out and catalog_key not in listed.out
    assert key[len("ck_") + 8 :] not in listed.out and row["key_hash"] not in listed.out
    web_line = next(line for line in listed.out.splitlines() if line.startswith("web "))
    assert key[:11] in web_line and "channel" in web_line
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d\s*$", web_line), "its last use is shown"
