"""Cancellations and returns, by endpoint and as rows of a batch, recorded once each."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec

from services.ingest.app import build
from shared import bus
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_ingest_orders import NDJSON, _closing, stored
from tests.support.fixtures import running
from tests.support.keys import channel_header
from tests.support.shop import expect, order


def two_lines(order_id: str, clock: Clock) -> dict[str, Any]:
    """An order of honey and diapers."""
    record = order(order_id, clock.now())
    record["lines"] = [
        {"sku": "HNY-500", "title": "国産はちみつ 500g"},
        {"sku": "DIA-M", "title": "紙おむつ Mサイズ"},
    ]
    return record


async def test_cancel_and_return_by_endpoint_and_in_a_batch(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    nc = await bus.connect(settings.nats_url, "test")
    web = await channel_header(settings)
    async with running(build, settings, clock, settings.ingest_port) as ingest, _closing(nc):
        url = f"{ingest}/v1/orders"
        both = [two_lines("A", clock), two_lines("B", clock)]
        await expect(await http.post(url, json=both, headers=web), 202)
        cancel = f"{url}/web/A/cancel"
        answer = await expect(await http.post(cancel, json={"skus": ["DIA-M"]}, headers=web), 202)
        assert answer == {"accepted": 1, "duplicates": 0, "rejected": [], "unlocated": []}
        answer = await expect(await http.post(cancel, json={"line_nos": [2]}, headers=web), 202)
        assert answer == {
            "accepted": 0,
            "duplicates": 1,
            "rejected": [],
            "unlocated": [],
        }  # the same fact
        await expect(await http.post(f"{url}/web/A/return", headers=web), 202)

        missing = await expect(await http.post(f"{url}/web/NOPE/cancel", headers=web), 404)
        assert missing["details"][0]["field"] == "order_id"
        no_line = await expect(await http.post(cancel, json={"line_nos": [7]}, headers=web), 400)
        assert no_line["details"] == [
            {"field": "line_nos", "problem": "line 7 does not exist (the order has 2)"}
        ]
        bad_body = await expect(await http.post(cancel, json={"line_nos": "two"}, headers=web), 400)
        assert bad_body["details"][0]["field"] == "line_nos"

        rows = [
            {"event": "cancelled", "channel": "web", "order_id": "B", "line_nos": [1, 2]},
            {"event": "returned", "channel": "web", "order_id": "ZZZ"},
            {"event": "lost", "channel": "web", "order_id": "B"},
        ]
        body = b"".join(msgspec.json.encode(r) + b"\n" for r in rows)
        answer = await expect(await http.post(url, data=body, headers=NDJSON | web), 202)
        assert answer["accepted"] == 1
        assert [(r["index"], r["errors"][0]["field"]) for r in answer["rejected"]] == [
            (1, "order_id"),
            (2, "event"),
        ]

        facts = await stored(nc, "ORDERS", 5)
        events = {msg_id: msg for msg_id, msg in facts if not isinstance(msg, m.OrderPlaced)}
        assert set(events) == {
            "order:web:A:cancelled:2",
            "order:web:A:returned",
            "order:web:B:cancelled",  # naming every line is the whole order
        }
        partial = events["order:web:A:cancelled:2"]
        assert isinstance(partial, m.OrderCancelled)
        assert (partial.customer_id, partial.line_nos) == ("c-42", [2])
        assert isinstance(events["order:web:A:returned"], m.OrderReturned)

        # Operators can see how the order was understood, and only operators.
        audit_url = f"{url}/web/A"
        await expect(await http.get(audit_url), 401)
        await expect(await http.get(audit_url, headers=web), 403)
        operator = {"Authorization": f"Bearer {settings.operator_key}"}
        audit = await expect(await http.get(audit_url, headers=operator), 200)
        assert [(line["categories"], line["categorized_by"]) for line in audit["lines"]] == [
            (["honey"], "rule"),
            (["baby_products"], "rule"),
        ]
        assert (audit["region"], audit["geo_source"]) == ("JP-17", "order")
        assert sorted((e["event"], e["line_nos"]) for e in audit["events"]) == [
            ("cancelled", [2]),
            ("returned", []),
        ]
        await expect(await http.get(f"{url}/web/NOPE", headers=operator), 404)
