"""Bad input: each bad record named by index with field and problem; 413, 400; never 500."""

from __future__ import annotations

import random
from datetime import timedelta

import aiohttp
import msgspec

from services.ingest.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_ingest_orders import MARKETPLACE_CSV, NDJSON, grocery_order
from tests.support.fixtures import running
from tests.support.keys import channel_header
from tests.support.shop import expect, order


async def test_bad_records_are_named_and_good_ones_accepted(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(settings, max_body_bytes=64 * 1024)
    web, grocery = await channel_header(settings), await channel_header(settings, "grocery")
    mall = await channel_header(settings, "marketplace")
    async with running(build, settings, clock, settings.ingest_port) as ingest:
        url = f"{ingest}/v1/orders"
        records = [order(f"A-{n}", clock.now()) for n in range(6)]
        # A channel's clock a few hours ahead is accepted; a date years ahead is a typo.
        records.append(order("A-6", clock.now() + timedelta(hours=3)))
        records.append(order("A-7", clock.now() + timedelta(days=3 * 365)))
        records[1]["ship_to"]["region"] = "Narnia"
        records[2]["ship_to"]["postal_code"] = "12"
        records[3]["customer"]["timezone"] = "Asia/Tokio"
        records[4]["lines"][0]["title"] = "nul \x00 inside"
        body = b"".join(msgspec.json.encode(r) + b"\n" for r in records) + b"{not json\n"
        answer = await expect(await http.post(url, data=body, headers=NDJSON | web), 202)
        assert answer["accepted"] == 3
        assert [(r["index"], r["errors"][0]["field"]) for r in answer["rejected"]] == [
            (1, "ship_to.region"),
            (2, "ship_to.postal_code"),
            (3, "customer.timezone"),
            (4, "$"),
            (7, "placed_at"),
            (8, "$"),
        ]
        assert "more than a day after our clock" in answer["rejected"][4]["errors"][0]["problem"]

        nameless = grocery_order()
        del nameless["member"]["memberId"]
        answer = await expect(
            await http.post(f"{url}?format=grocery", json=[nameless], headers=grocery), 202
        )
        assert answer["rejected"][0]["errors"][0]["field"] == "member.memberId"

        # One bad row rejects its whole order, on every row, naming the bad one.
        csv = MARKETPLACE_CSV.replace(",2,JP,", ",two,JP,")
        answer = await expect(
            await http.post(f"{url}?format=marketplace", data=csv, headers=mall), 202
        )
        assert answer["accepted"] == 0
        assert answer["rejected"] == [
            {
                "index": 0,
                "errors": [{"field": "quantity-purchased", "problem": "Expected `int`, got `str`"}],
            },
            {
                "index": 1,
                "errors": [{"field": "order-id", "problem": "order rejected with its row 0"}],
            },
        ]
        headless = await expect(
            await http.post(f"{url}?format=marketplace", data="a,b\n1,2\n", headers=mall), 400
        )
        assert {d["field"] for d in headless["details"]} >= {"order-id", "buyer-email"}

        too_big = await http.post(url, data=b"[" + b" " * (70 * 1024) + b"]", headers=web)
        assert too_big.status == 413
        assert (await too_big.json())["error"]

        # Whatever arrives, the answer is a judgement of the input, never a 500.
        rnd = random.Random(7)
        noise = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))) for _ in range(30)]
        noise += [b"[1, 2]", b'{"order_id": []}', b"\xff\xfe", b"", b"[{}]", b"null"]
        for fmt in ("canonical", "grocery", "marketplace"):
            for data in noise:
                for kind in (NDJSON, {"Content-Type": "application/json"}):
                    reply = await http.post(f"{url}?format={fmt}", data=data, headers=kind | web)
                    assert reply.status in (202, 400), (fmt, data, await reply.text())
                    assert "error" in await reply.json() or reply.status == 202
