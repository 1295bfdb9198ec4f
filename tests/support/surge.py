"""A surge through the real stack: a shop of many customers, one recall, every mail counted.

Orders go in through ingest's NDJSON API (retried as a shop's channel would, when ingest is
down), the recall through the advisory API with an embargo a few seconds ahead; the
verdict compares what the SMTP server accepted with what the mailer's ledger says.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import msgspec

from tests.support.faults import CountingSink
from tests.support.stack import LaunchedStack


class Verdict(msgspec.Struct, kw_only=True):
    """What became of a surge's mails."""

    expected: int
    delivered: int  # addresses that received the advisory at least once
    lost: int
    duplicates: int  # extra copies accepted by the SMTP server
    ledger: dict[str, int]
    ledger_agrees: bool  # every row sent, and its Message-ID the one the server accepted
    # extra copies of mails whose ledger row was claimed again after a crash: the window the
    # mailer documents (SMTP accepted, the process died before the ledger recorded it)
    explained: int
    seconds: float
    leaks: list[str] = []  # log lines and metrics holding a customer's personal data


def email_of(prefix: str, i: int) -> str:
    """The address of customer `i` of a surge (twenty domains)."""
    return f"{prefix}-{i}@shop{i % 20}.example"


def orders(prefix: str, sku: str, count: int, placed_at: datetime) -> list[dict[str, Any]]:
    """One order per customer, each of one line of `sku`."""
    return [
        {
            "order_id": f"{prefix}-o{i}",
            "channel": "web",
            "placed_at": placed_at.isoformat(),
            "customer": {
                "id": f"{prefix}-c{i}",
                "email": email_of(prefix, i),
                "locale": ("ja-JP", "en-US", "fr-FR")[i % 3],
                "timezone": "Asia/Tokyo",
                "name": f"Sakuraba{prefix}{i}",
            },
            "ship_to": {"country": "JP", "region": "JP-13", "street": f"{i}-7 Hoshimi Avenue"},
            "lines": [{"sku": sku, "title": "Heater model Z", "quantity": 1}],
        }
        for i in range(count)
    ]


async def post_until_accepted(
    http: aiohttp.ClientSession, url: str, data: bytes, headers: dict[str, str], tries: int = 120
) -> dict[str, Any]:
    """POST, retrying while the service is down or restarting (as a shop's channel does)."""
    for _ in range(tries):
        try:
            async with http.post(url, data=data, headers=headers) as reply:
                if reply.status < 500:
                    body: dict[str, Any] = await reply.json()
                    assert reply.status in (200, 201, 202), body
                    return body
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"{url} never accepted the request")


async def load_shop(
    http: aiohttp.ClientSession, stack: LaunchedStack, prefix: str, sku: str, count: int
) -> int:
    """Put the SKU in the catalog and post `count` orders of it as NDJSON; return accepted."""
    ingest = stack.url("ingest")
    catalog = json.dumps(
        [{"sku": sku, "title": "Heater model Z", "categories": ["electric_heater"]}]
    )
    await post_until_accepted_put(http, f"{ingest}/v1/catalog", catalog.encode(), stack.operator())
    accepted = 0
    placed = datetime.now(UTC) - timedelta(days=3)
    every = orders(prefix, sku, count, placed)
    headers = {"Content-Type": "application/x-ndjson"} | await stack.channel("web")
    for start in range(0, count, 1000):
        lines = "\n".join(json.dumps(o) for o in every[start : start + 1000]).encode()
        answer = await post_until_accepted(http, f"{ingest}/v1/orders", lines, headers)
        assert answer["rejected"] == [], answer["rejected"][:3]
        accepted += answer["accepted"] + answer["duplicates"]
    return accepted


async def post_until_accepted_put(
    http: aiohttp.ClientSession, url: str, data: bytes, headers: dict[str, str]
) -> None:
    """PUT, retrying while the service is down."""
    for _ in range(120):
        try:
            async with http.put(url, data=data, headers=headers) as reply:
                if reply.status < 500:
                    assert reply.status == 200, await reply.text()
                    return
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"{url} never accepted the catalog")


def recall(sku: str, embargo_until: datetime) -> dict[str, Any]:
    """A recall of one SKU in three languages."""
    return {
        "kind": "recall",
        "skus": [sku],
        "title": {"en": f"Recall of heater {sku}", "ja": f"ヒーター {sku} のリコール",
                  "fr": f"Rappel du radiateur {sku}"},
        "body": {"en": "Stop using it and unplug it.", "ja": "使用を中止してください。",
                 "fr": "Cessez de l'utiliser."},
        "embargo_until": embargo_until.isoformat(),
        "source_url": "https://agency.example/recalls",
    }  # fmt: skip


async def post_recall(
    http: aiohttp.ClientSession, stack: LaunchedStack, key: str, sku: str, embargo: datetime
) -> str:
    """Submit the recall; return its id."""
    body = json.dumps(recall(sku, embargo)).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    created = await post_until_accepted(
        http, f"{stack.url('advisory')}/v1/advisories", body, headers
    )
    advisory_id: str = created["id"]
    return advisory_id


async def ledger(database_url: str, advisory_id: str) -> list[asyncpg.Record]:
    """The mailer's ledger rows of one advisory."""
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(
            "SELECT customer_id, state, message_id, attempts FROM mailer.deliveries"
            " WHERE advisory_id = $1",
            advisory_id,
        )
    finally:
        await conn.close()


async def wait_delivered(
    sink: CountingSink, advisory_id: str, expected: int, database_url: str, timeout: float
) -> None:
    """Wait until every expected address got the mail and the ledger shows all sent."""
    async with asyncio.timeout(timeout):
        while True:
            if len(sink.addresses_of(advisory_id)) >= expected:
                try:
                    rows = await ledger(database_url, advisory_id)
                except (OSError, asyncpg.PostgresError):
                    rows = []
                if len(rows) >= expected and all(r["state"] == "sent" for r in rows):
                    return
            await asyncio.sleep(0.5)


async def verdict(
    sink: CountingSink,
    advisory_id: str,
    expected_addresses: set[str],
    database_url: str,
    started: float,
) -> Verdict:
    """Compare the SMTP server's count with the expected addresses and the ledger."""
    seconds = time.monotonic() - started
    accepted = sink.of_advisory(advisory_id)
    got = sink.addresses_of(advisory_id)
    rows = await ledger(database_url, advisory_id)
    states: dict[str, int] = {}
    for row in rows:
        states[row["state"]] = states.get(row["state"], 0) + 1
    extra = sum(n - 1 for n in accepted.values()) + sum(n - 1 for n in got.values())
    resent = {r["message_id"] for r in rows if r["attempts"] > 1}
    return Verdict(
        expected=len(expected_addresses),
        delivered=len(expected_addresses & set(got)),
        lost=len(expected_addresses - set(got)),
        duplicates=extra,
        ledger=states,
        ledger_agrees=(
            states == {"sent": len(expected_addresses)}
            and {r["message_id"] for r in rows} == set(accepted)
        ),
        explained=sum(n - 1 for mid, n in accepted.items() if n > 1 and mid in resent),
        seconds=seconds,
    )
