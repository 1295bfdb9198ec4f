"""Building blocks for tests that walk a path through the services over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp


def order(
    order_id: str,
    placed_at: datetime,
    *,
    customer: str = "c-42",
    sku: str = "PB-1",
    locale: str = "ja-JP",
    email: str = "hanako@example.jp",
) -> dict[str, Any]:
    """A canonical order of one line."""
    return {
        "order_id": order_id,
        "channel": "web",
        "placed_at": placed_at.isoformat(),
        "customer": {
            "id": customer,
            "email": email,
            "locale": locale,
            "timezone": "Asia/Tokyo",
            "name": "Hanako",
        },
        "ship_to": {
            "country": "JP",
            "region": "JP-17",
            "postal_code": "927-1214",
            "lat": 37.39,
            "lon": 136.90,
        },
        "lines": [{"sku": sku, "title": "モバイルバッテリー 10000mAh", "quantity": 1}],
    }


def power_bank_advisory(embargo_until: datetime) -> dict[str, Any]:
    """A short-term power-bank advisory in Japanese, English and French."""
    return {
        "kind": "short_term",
        "categories": ["power_bank"],
        "window_days": 30,
        "title": {
            "ja": "モバイルバッテリーの安全な使い方",
            "en": "Using your power bank safely",
            "fr": "Utiliser votre batterie externe en sécurité",
        },
        "body": {
            "ja": "充電中は目を離さないでください。",
            "en": "Never charge it unattended.",
            "fr": "Ne la chargez jamais sans surveillance.",
        },
        "embargo_until": embargo_until.isoformat(),
        "source_url": "https://agency.example/power-banks",
    }


async def expect(reply: aiohttp.ClientResponse, status: int) -> Any:
    """Return the JSON body of a reply after checking its status."""
    body = await reply.json()
    assert reply.status == status, body
    return body


def in_seconds(now: datetime, seconds: float) -> datetime:
    """A time `seconds` after `now`."""
    return now + timedelta(seconds=seconds)


async def power_bank_shop(
    http: aiohttp.ClientSession,
    urls: dict[str, str],
    agency: dict[str, str],
    shop: dict[str, str],
    at: datetime,
) -> list[dict[str, Any]]:
    """A catalog with one power bank, and two power-bank advisories of `agency` due one and
    two hours after `at`; the advisories as the API answered them."""
    catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
    await expect(await http.put(f"{urls['ingest']}/v1/catalog", json=catalog, headers=shop), 200)
    return [
        await expect(
            await http.post(
                f"{urls['advisory']}/v1/advisories",
                json=power_bank_advisory(at + timedelta(hours=hours)),
                headers=agency,
            ),
            201,
        )
        for hours in (1, 2)
    ]
