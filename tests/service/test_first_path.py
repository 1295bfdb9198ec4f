"""The first path through all four services, in-process, with a clock the test moves."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import asyncpg

from services.advisory.agencies import auth
from services.advisory.agencies import store as advisory_store
from shared import db
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.mailer import eventually
from tests.support.parts import part_text
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink


async def _agency(settings: Settings) -> str:
    pool = await db.create_pool(settings.database_url, "advisory", min_size=1)
    try:
        key = auth.new_key()
        await advisory_store.create_agency(pool, "製品安全研究所", auth.hash_key(key))
        return key
    finally:
        await pool.close()


def _fan_advisory(embargo_until: datetime) -> dict[str, Any]:
    """An advisory of a product nobody in the test buys: published, it mails no one."""
    return {**power_bank_advisory(embargo_until), "categories": ["electric_fan"]}


async def _rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query over the services' schemas."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_embargoed_advice_reaches_the_buyer_once(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, advisory = urls["ingest"], urls["advisory"]
        key = await _agency(settings)
        headers = {"Authorization": f"Bearer {key}"}
        shop = await channel_header(settings, "shop-catalog", catalog=True)
        web = await channel_header(settings, "web")

        catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
        await expect(await http.put(f"{ingest}/v1/catalog", json=catalog, headers=shop), 200)
        created = await expect(
            await http.post(
                f"{advisory}/v1/advisories",
                json=power_bank_advisory(clock.now() + timedelta(hours=2)),
                headers=headers,
            ),
            201,
        )
        assert created["state"] == "embargoed"
        # The control: an advisory whose embargo ends an hour earlier.
        control = await expect(
            await http.post(
                f"{advisory}/v1/advisories",
                json=_fan_advisory(clock.now() + timedelta(hours=1)),
                headers=headers,
            ),
            201,
        )
        the_order = order("A-1001", clock.now() - timedelta(days=2))
        answer = await expect(
            await http.post(f"{ingest}/v1/orders", json=the_order, headers=web), 202
        )
        assert answer == {"accepted": 1, "duplicates": 0, "rejected": [], "unlocated": []}

        # Before the embargo: the control is published, so the embargo keeper has looked
        # since the hour passed; the advice is still embargoed. The matcher has the order and
        # matched no one, the mailer's ledger is empty, and so is the mailbox.
        clock.advance(timedelta(hours=1, seconds=1))

        async def state(advisory_id: str) -> str:
            url = f"{advisory}/v1/advisories/{advisory_id}"
            found: str = (await expect(await http.get(url, headers=headers), 200))["state"]
            return found

        await eventually(lambda: _is(state(control["id"]), "published"))
        assert await state(created["id"]) == "embargoed"
        purchases = "SELECT DISTINCT order_id FROM matcher.purchases"
        await eventually(lambda: _is(_rows(settings, purchases), [("A-1001",)]))
        assert await _rows(settings, "SELECT customer_id FROM matcher.matches") == []
        assert await _rows(settings, "SELECT customer_id FROM mailer.deliveries") == []
        assert smtp_sink.messages == []

        clock.advance(timedelta(hours=1))
        [mail] = await smtp_sink.wait_for(1)
        assert mail["To"].addresses[0].addr_spec == "hanako@example.jp"
        assert mail["Subject"] == "モバイルバッテリーの安全な使い方"
        assert "製品安全研究所" in part_text(mail, "plain")

        # The same order again is a duplicate, and nothing more is sent.
        again = await expect(
            await http.post(f"{ingest}/v1/orders", json=the_order, headers=web), 202
        )
        assert again == {"accepted": 0, "duplicates": 1, "rejected": [], "unlocated": []}
        # A new power-bank buyer after publication is told at once.
        newcomer = order(
            "A-1002", clock.now(), customer="c-7", locale="fr-FR", email="jeanne@example.fr"
        )
        await expect(await http.post(f"{ingest}/v1/orders", json=newcomer, headers=web), 202)
        mails = await smtp_sink.wait_for(2)
        # Nothing more is on its way: the two customers matched are the two whose deliveries
        # the ledger holds, both sent.
        matched = "SELECT customer_id FROM matcher.matches ORDER BY 1"
        assert await _rows(settings, matched) == [("c-42",), ("c-7",)]
        ledger = "SELECT customer_id, state FROM mailer.deliveries ORDER BY 1"
        await eventually(lambda: _is(_rows(settings, ledger), [("c-42", "sent"), ("c-7", "sent")]))
        assert len(smtp_sink.messages) == 2
        assert mails[1]["Subject"] == "Utiliser votre batterie externe en sécurité"

        # Each step is counted where operators look: /metrics.
        metrics = await (await http.get(f"{urls['mailer']}/metrics")).text()
        for counted in (
            'anshin_ingest_records_total{outcome="accepted"}',
            'anshin_ingest_records_total{outcome="duplicate"}',
            "anshin_advisories_published_total",
            'anshin_smtp_outcomes_total{outcome="sent"}',
            'anshin_mailer_deliveries_total{state="sent"}',
        ):
            assert _value(metrics, counted) >= 1, counted


async def test_bad_input_gets_json_errors_naming_the_field(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory")
        ingest, advisory = urls["ingest"], urls["advisory"]
        web = await channel_header(settings)
        body = await expect(await http.post(f"{ingest}/v1/orders", data=b"{nope", headers=web), 400)
        assert body["error"] and body["details"][0]["field"] == "$"
        mixed = [order("A-1", clock.now()), {"order_id": "A-2"}]
        body = await expect(await http.post(f"{ingest}/v1/orders", json=mixed, headers=web), 202)
        assert body["accepted"] == 1
        assert body["rejected"][0]["index"] == 1
        assert body["rejected"][0]["errors"][0]["problem"].startswith("Object missing")
        assert body["rejected"][0]["errors"][0]["field"] in ("channel", "placed_at", "customer")
        body = await expect(
            await http.post(f"{ingest}/v1/orders?format=telex", json=[], headers=web), 400
        )
        assert body["details"] == [{"field": "format", "problem": "'telex' is not a known format"}]
        body = await expect(await http.post(f"{advisory}/v1/advisories", json={}), 401)
        assert "key" in body["error"]
        headers = {"Authorization": f"Bearer {settings.operator_key}"}
        late = power_bank_advisory(clock.now() - timedelta(minutes=1))
        body = await expect(
            await http.post(f"{advisory}/v1/advisories?agency_id=x", json=late, headers=headers),
            400,
        )
        assert [d["field"] for d in body["details"]] == ["embargo_until"]
        body = await expect(await http.get(f"{ingest}/no/such/page"), 404)
        assert body["error"] == "Not Found"


async def _is(found: Awaitable[Any], expected: object) -> bool:
    """Whether what an awaitable gives equals `expected`."""
    return bool(await found == expected)


def _value(metrics: str, series: str) -> float:
    """The value of one series in a Prometheus text page (0 where it is absent)."""
    for line in metrics.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0
