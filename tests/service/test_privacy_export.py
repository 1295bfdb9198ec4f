"""A customer's export, gathered over the bus, compared with what was put in; and the CLI."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path

import aiohttp

from shared.clock import Clock
from shared.config import Settings
from tests.service.test_cli import anshin, cli_env
from tests.support.advisory import operator
from tests.support.fixtures import run_services
from tests.support.privacy import erasure_status, shop_with_mail
from tests.support.shop import expect, order

HANAKO = "hanako@example.jp"
PEOPLE = [("A-1", "c-42", HANAKO), ("A-2", "c-43", HANAKO), ("A-3", "c-7", "jeanne@example.fr")]


async def test_the_export_holds_what_was_put_in_and_what_was_mailed(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, op = urls["ingest"], operator(settings)
        advisory_id, web = await shop_with_mail(http, settings, clock, urls, PEOPLE)
        # A later order of two units, half of it returned.
        later = order("A-4", clock.now() - timedelta(days=1), customer="c-42")
        later["lines"][0]["quantity"] = 2
        await expect(await http.post(f"{ingest}/v1/orders", json=later, headers=web), 202)
        returned = {"lines": [{"line_no": 1, "quantity": 1}]}
        await expect(
            await http.post(f"{ingest}/v1/orders/web/A-4/return", json=returned, headers=web), 202
        )

        refused = await http.get(f"{ingest}/v1/customers/c-42/export")
        assert refused.status == 401
        url = f"{ingest}/v1/customers/c-42/export"
        document = await expect(await http.get(url, headers=op), 200)

        assert document["customer_ids"] == ["c-42", "c-43"]
        assert [(c["customer_id"], c["email"], c["locale"], c["timezone"], c["name"])
                for c in document["contact"]] == [
            ("c-42", HANAKO, "ja-JP", "Asia/Tokyo", "Hanako"),
            ("c-43", HANAKO, "ja-JP", "Asia/Tokyo", "Hanako"),
        ]  # fmt: skip
        orders = {o["order_id"]: o for o in document["orders"]}
        assert sorted(orders) == ["A-1", "A-2", "A-4"]
        for o in orders.values():
            assert (o["country"], o["region"], o["postal_code"]) == ("JP", "JP-17", "927-1214")
            [line] = o["lines"]
            assert (line["sku"], line["categories"]) == ("PB-1", ["power_bank"])
        assert orders["A-4"]["lines"][0]["quantity"] == 2
        assert [(e["event"], e["line_nos"], e["quantities"]) for e in orders["A-4"]["events"]] == [
            ("returned", [1], [1])
        ]
        assert document["categories"] == ["power_bank"]
        assert {(p["order_id"], p["category"]) for p in document["purchases"]} >= {
            ("A-1", "power_bank"),
            ("A-2", "power_bank"),
        }
        # Hanako's address was mailed the advisory once, under one of her two ids.
        mails = document["mails"]
        assert {m["advisory_id"] for m in mails} == {advisory_id}
        sent = [m for m in mails if m["state"] == "sent"]
        assert len(sent) == 1 and sent[0]["sent_at"] and sent[0]["agency_name"] == "製品安全研究所"
        assert sent[0]["title"]["en"] == "Using your power bank safely"
        assert "jeanne" not in json.dumps(document)

        # Through the CLI: the same document; then an erasure, after which the export is empty.
        env = cli_env(settings, tmp_path, ANSHIN_INGEST_PORT=str(settings.ingest_port))
        ran = await anshin(env, "customer", "export", "c-42")
        assert json.loads(ran.out)["orders"] == json.loads(json.dumps(document["orders"]))
        ran = await anshin(env, "customer", "erase", "c-42", "--wait", "30")
        assert ran.code == 0 and "state: done" in ran.out, ran.out
        request_id = ran.out.split("erasure requested: ")[1].split()[0]
        report = await erasure_status(http, ingest, op, "c-42", request_id)
        assert report["state"] == "done"
        empty = await expect(await http.get(url, headers=op), 200)
        for section in ("contact", "orders", "categories", "purchases", "mails"):
            assert empty[section] == [], section


async def test_an_export_without_a_service_holding_data_is_refused(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "mailer")
        reply = await http.get(
            f"{urls['ingest']}/v1/customers/c-1/export", headers=operator(settings)
        )
        body = await expect(reply, 503)
        assert body["details"][0]["field"] == "matcher"
