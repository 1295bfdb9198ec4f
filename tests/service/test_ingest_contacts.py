"""Who may change a customer's contact: the channels that ordered for them, the operator."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.ingest import cli
from services.ingest.app import build
from shared import bus, exits
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_first_path import _agency, _value
from tests.service.test_ingest_backfill import _args
from tests.service.test_ingest_orders import _closing, _decoder
from tests.support.advisory import operator
from tests.support.fixtures import run_services, running
from tests.support.keys import channel_header
from tests.support.mailer import eventually
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink

CATALOG = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
KEPT = (
    "customer c-42's contact is kept: only a channel with orders of this customer,"
    " or the operator, may change it"
)


def _on(channel: str, body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "channel": channel}


async def _mailer_contacts(settings: Settings) -> dict[str, str]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch("SELECT customer_id, email FROM mailer.contacts")
        return {r["customer_id"]: r["email"] for r in rows}
    finally:
        await conn.close()


async def test_another_channels_key_cannot_redirect_a_customers_safety_mail(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, smtp_sink: SmtpSink
) -> None:
    """A partner's key names the web shop's customer c-42 with its own address: the order
    counts, the contact does not change, and the advice still goes to c-42's address."""
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        orders = f"{urls['ingest']}/v1/orders"
        shop = await channel_header(settings, "shop-catalog", catalog=True)
        web, partner = await channel_header(settings), await channel_header(settings, "partner")
        await expect(
            await http.put(f"{urls['ingest']}/v1/catalog", json=CATALOG, headers=shop), 200
        )
        bought = order("A-1", clock.now() - timedelta(days=2))
        await expect(await http.post(orders, json=bought, headers=web), 202)

        # Newer than c-42's own order, and a second try after the first was accepted as an
        # order of c-42 on the partner channel; a new customer of the partner's after them.
        stranger = {"email": "stranger@evil.example", "locale": "en-US"}
        hijacks = [
            order(f"P-{n}", clock.now() - timedelta(days=1, hours=-n), **stranger) for n in (1, 2)
        ]
        newcomer = order("P-3", clock.now() - timedelta(days=1), customer="c-7",
                         email="jeanne@example.fr")  # fmt: skip
        answers = [
            await expect(await http.post(orders, json=_on("partner", o), headers=partner), 202)
            for o in (*hijacks, newcomer)
        ]
        accepted = {"accepted": 1, "duplicates": 0, "rejected": [], "unlocated": []}
        kept = [{"index": 0, "field": "customer.email", "problem": KEPT}]
        assert answers == [accepted | {"contacts_kept": kept}] * 2 + [accepted]
        # The newcomer's contact follows the hijacks' on the bus: once the mailer has it, it
        # would have had theirs.
        await eventually(lambda: _has(_mailer_contacts(settings), "c-7"))
        assert (await _mailer_contacts(settings))["c-42"] == "hanako@example.jp"

        created = await expect(
            await http.post(
                f"{urls['advisory']}/v1/advisories",
                json=power_bank_advisory(clock.now() + timedelta(hours=1)),
                headers={"Authorization": f"Bearer {await _agency(settings)}"},
            ),
            201,
        )
        assert created["state"] == "embargoed"
        clock.advance(timedelta(hours=1, seconds=1))
        mails = await smtp_sink.wait_for(2)
        assert sorted(m["To"].addresses[0].addr_spec for m in mails) == [
            "hanako@example.jp",
            "jeanne@example.fr",
        ]
        metrics = await (await http.get(f"{urls['ingest']}/metrics")).text()
        assert _value(metrics, 'anshin_ingest_contacts_kept_total{channel="partner"}') == 2


async def _has(found: Any, customer_id: str) -> bool:
    return customer_id in await found


async def _addresses(nc: Client) -> list[str]:
    """Every address ingest publishes from now on, in order (the stream keeps only the
    last of each customer)."""
    published: list[str] = []

    async def heard(msg: Msg) -> None:
        fact = _decoder.decode(msg.data)
        assert isinstance(fact, m.CustomerUpserted)
        published.append(fact.email)

    await nc.subscribe(f"{Subjects.CUSTOMERS_UPSERTED}.>", cb=heard)
    await nc.flush()
    return published


async def test_the_customers_own_channel_and_the_operator_change_the_contact(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    """The web shop's new address for c-42 is taken, the operator's too; a partner's is not
    until it has ordered for c-42 with the contact as it is."""
    web, partner = await channel_header(settings), await channel_header(settings, "partner")
    at = clock.now() - timedelta(days=10)
    nc = await bus.connect(settings.nats_url, "test")
    async with running(build, settings, clock, settings.ingest_port) as ingest, _closing(nc):
        published = await _addresses(nc)
        orders = f"{ingest}/v1/orders"

        async def post(body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
            answer: dict[str, Any] = await expect(
                await http.post(orders, json=body, headers=headers), 202
            )
            assert answer["accepted"] == 1
            return answer

        await post(order("A-1", at), web)
        moved_away = order("P-1", at + timedelta(days=1), email="moved@example.jp")
        moved = await post(_on("partner", moved_away), partner)
        assert moved["contacts_kept"][0]["field"] == "customer.email"
        assert "contacts_kept" not in await post(
            order("A-2", at + timedelta(days=2), email="hanako@new.example"), web
        )
        assert "contacts_kept" not in await post(
            # An order taken by telephone: the operator writes it.
            _on("phone", order("X-1", at + timedelta(days=3), email="hanako@operator.example")),
            operator(settings),
        )
        # The partner's order with the contact exactly as ingest holds it changes nothing
        # and makes c-42 one of its customers: its next new address is taken.
        same = order("P-2", at + timedelta(days=4), email="hanako@operator.example")
        assert "contacts_kept" not in await post(_on("partner", same), partner)
        renamed = order("P-3", at + timedelta(days=5), email="hanako@partner.example")
        assert "contacts_kept" not in await post(_on("partner", renamed), partner)
        await eventually(lambda: len(published) >= 4)
    assert published == [
        "hanako@example.jp",
        "hanako@new.example",
        "hanako@operator.example",
        "hanako@partner.example",
    ]


async def test_the_backfill_changes_any_contact_and_its_channels_join(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """The shop's own history, loaded by its operator, is trusted: its new address for the
    web customer c-42 is taken, and its channel may change c-42's contact from then on."""
    web, app = await channel_header(settings), await channel_header(settings, "app")
    at = clock.now() - timedelta(days=10)
    nc = await bus.connect(settings.nats_url, "test")
    async with running(build, settings, clock, settings.ingest_port) as ingest, _closing(nc):
        published = await _addresses(nc)
        orders = f"{ingest}/v1/orders"
        await expect(await http.post(orders, json=order("A-1", at), headers=web), 202)
        history = _on("app", order("H-1", at + timedelta(days=1), email="hanako@app.example"))
        path = tmp_path / "orders.ndjson"
        path.write_bytes(msgspec.json.encode(history) + b"\n")
        assert await cli.load_orders(_args(path), settings) == exits.OK
        assert await _channels(settings) == ["app", "web"]
        newer = _on("app", order("P-1", at + timedelta(days=2), email="hanako@new.example"))
        answer = await expect(await http.post(orders, json=newer, headers=app), 202)
        assert "contacts_kept" not in answer
        await eventually(lambda: len(published) >= 3)
    assert published == ["hanako@example.jp", "hanako@app.example", "hanako@new.example"]


async def _channels(settings: Settings) -> list[str]:
    """The channels that may change c-42's contact."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        found = await conn.fetchval(
            "SELECT channels FROM ingest.customers WHERE customer_id = 'c-42'"
        )
    finally:
        await conn.close()
    return list(found)
