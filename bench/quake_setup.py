"""The quake benches' setup on a launched stack, through its own interfaces as `make demo`
does: the catalog and the orders through ingest, the generator playbook through the advisory
API; then a wait until the matcher and the mailer have taken every order."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import msgspec

from bench.quake_shop import CATALOG
from bench.stack import Stack
from deploy import demo_advice
from deploy.demo_stack import Stack as Client
from deploy.demo_stack import settle
from services.advisory.cli.agency import new_agency
from services.ingest import channel_cli

PLAYBOOK = "generators-after-earthquakes"
BATCH = 2_000


async def load(stack: Stack, client: Client, orders: list[dict[str, Any]]) -> float:
    """Post the catalog and the orders; wait until the bus is idle; return the seconds."""
    started = time.perf_counter()
    ingest = stack.url("ingest")
    await client.call("PUT", f"{ingest}/v1/catalog", json=CATALOG)
    key = await channel_cli.issue(stack.settings, "web")
    headers = {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {key}"}
    for start in range(0, len(orders), BATCH):
        body = b"".join(msgspec.json.encode(o) + b"\n" for o in orders[start : start + BATCH])
        answer = await client.call(
            "POST", f"{ingest}/v1/orders", ok=(202,), data=body, headers=headers
        )
        if answer["rejected"] or answer["accepted"] != len(orders[start : start + BATCH]):
            raise RuntimeError(f"ingest did not take every order: {str(answer)[:500]}")
    if not await settle(client.bus_idle, quiet=2, timeout=600):
        raise RuntimeError("the matcher and the mailer did not take the orders in 10 minutes")
    return time.perf_counter() - started


async def playbook(stack: Stack, client: Client) -> str:
    """Submit the demo's generator playbook (published at once); return its id."""
    agency_id, _ = await new_agency(stack.settings, demo_advice.AGENCY)
    body = demo_advice.advisories()[PLAYBOOK]
    embargo = (stack.clock.now() + timedelta(seconds=2)).isoformat()
    created = await client.call(
        "POST",
        f"{stack.url('advisory')}/v1/advisories",
        ok=(201,),
        params={"agency_id": agency_id},
        json={**body, "embargo_until": embargo},
    )
    url = f"{stack.url('advisory')}/v1/advisories/{created['id']}"
    for _ in range(120):
        if (await client.call("GET", url))["state"] == "published":
            advisory_id: str = created["id"]
            return advisory_id
        await asyncio.sleep(0.5)
    raise RuntimeError("the playbook was not published within a minute")
