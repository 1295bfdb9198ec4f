"""Product notices and public pages: published advice only, cacheable, in the reader's language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import msgspec

from services.advisory.app import build
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import contract, eventually, new_agency, responder
from tests.support.fixtures import running
from tests.support.shop import power_bank_advisory

NOTICES = "/v1/products/{sku}/notices"
CATALOG = {
    "PB-1": m.CatalogEntry(sku="PB-1", categories=["power_bank"], found=True),
    "HT-9": m.CatalogEntry(sku="HT-9", gtin="4901234567894", categories=["heater"], found=True),
}


async def lookup(data: bytes) -> bytes:
    """Ingest's catalog, as a test stands in for it."""
    sku = msgspec.json.decode(data, type=m.CatalogLookup).sku
    return m.encode(CATALOG.get(sku, m.CatalogEntry(sku=sku)))


def recall(embargo: Any) -> dict[str, Any]:
    return power_bank_advisory(embargo) | {
        "kind": "recall",
        "categories": [],
        "gtins": ["4901234567894"],
        "title": {"en": "Recall: heater HT-9", "ja": "ヒーター HT-9 のリコール"},
        "body": {"en": "Stop using it. **Call us**.", "ja": "使用を中止してください。"},
    }


async def test_notices_and_pages_show_only_published_advice(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        key = await new_agency(settings, "NITE")
        soon = clock.now() + timedelta(minutes=1)
        ids = []
        for body in [
            power_bank_advisory(soon) | {"expires_at": (soon + timedelta(days=30)).isoformat()},
            recall(soon),
            power_bank_advisory(soon + timedelta(days=1))
            | {"title": {"en": "SECRET until Friday"}, "body": {"en": "x"}},
        ]:
            ids.append(
                (await (await http.post(f"{base}/v1/advisories", json=body, headers=key)).json())[
                    "id"
                ]
            )
        power_bank, heater, secret = ids

        async def notices(
            sku: str, query: str = "", status: int = 200, partial: bool = False, **headers: str
        ) -> Any:
            # On a loaded machine a catalog lookup may time out; such an answer is partial.
            for _ in range(5):
                reply = await http.get(f"{base}/v1/products/{sku}/notices{query}", headers=headers)
                if status == 304:
                    assert reply.status == 304
                    return reply
                body = await api.check(reply, NOTICES, status)
                if partial or status != 200 or body["complete"]:
                    return reply, body
            raise AssertionError("the catalog never answered")

        async with responder(settings.nats_url, "ingest.catalog.lookup", lookup):
            _, before = await notices("PB-1", "?lang=ja")
            assert before["notices"] == [] and before["complete"]
            assert (await http.get(f"{base}/safety/{power_bank}")).status == 404
            clock.advance(timedelta(minutes=1, seconds=1))

            async def shown() -> Any:
                return (await notices("PB-1", "?lang=ja"))[1]["notices"]

            [notice] = await eventually(shown)
            assert notice["id"] == power_bank and notice["lang"] == "ja"
            assert (
                notice["title"] == "モバイルバッテリーの安全な使い方" and notice["agency"] == "NITE"
            )
            reply, _ = await notices("PB-1", "?lang=ja")
            assert reply.headers["Cache-Control"] == "public, max-age=60"
            etag: dict[str, Any] = {"If-None-Match": reply.headers["ETag"]}
            await notices("PB-1", "?lang=ja", 304, **etag)
            language: dict[str, Any] = {"Accept-Language": "fr-FR,fr;q=0.9"}
            _, french = await notices("PB-1", "", **language)
            assert french["notices"][0]["title"].startswith("Utiliser")
            # Without ?lang= the header decides, so a shared cache must vary on it.
            assert (await notices("PB-1"))[0].headers["Vary"] == "Accept-Language"
            assert "Vary" not in reply.headers

            # A recall reaches the page by the product's GTIN; HTML in bodies is safe.
            _, recalled = await notices("HT-9", "?lang=en")
            assert [n["id"] for n in recalled["notices"]] == [heater]
            assert (
                recalled["notices"][0]["body_html"]
                == "<p>Stop using it. <strong>Call us</strong>.</p>\n"
            )
            _, unknown = await notices("ZZ-0")
            assert unknown["notices"] == []
            await api.check(
                await http.get(f"{base}/v1/products/PB-1/notices?lang=%3Cx%3E"), NOTICES, 400
            )

            page = await (await http.get(f"{base}/safety?lang=fr")).text()
            assert '<html lang="fr">' in page and 'name="viewport"' in page
            assert "Utiliser votre batterie externe en sécurité" in page
            assert ">Batterie externe</h2>" in page  # the category's own French name
            one = await http.get(f"{base}/safety/{heater}", headers={"Accept-Language": "ja"})
            assert one.status == 200 and "ヒーター HT-9 のリコール" in await one.text()
            assert (await http.get(f"{base}/safety/{secret}")).status == 404
            for url in ("/safety", "/safety?lang=ja", "/v1/products/PB-1/notices"):
                assert "SECRET" not in await (await http.get(base + url)).text()

            withdrawn = await http.post(f"{base}/v1/advisories/{power_bank}/withdraw", headers=key)
            assert withdrawn.status == 200
            _, after = await notices("PB-1")
            assert after["notices"] == []
            gone = await http.get(f"{base}/safety/{power_bank}")
            assert gone.status == 410 and "withdrawn" in await gone.text()

        # Without the catalog a recall by SKU still shows; the answer says it is partial.
        clock.advance(timedelta(days=2))
        sku_recall = recall(clock.now() + timedelta(minutes=1)) | {
            "gtins": [],
            "skus": ["GEN-7"],
            "expires_at": (clock.now() + timedelta(days=1)).isoformat(),
        }
        await http.post(f"{base}/v1/advisories", json=sku_recall, headers=key)
        clock.advance(timedelta(minutes=2))

        async def partial() -> Any:
            body = (await notices("GEN-7", partial=True))[1]
            return body if body["notices"] else None

        body = await eventually(partial)
        assert not body["complete"] and body["notices"][0]["kind"] == "recall"
        # Once it expires, the notice leaves the page and the public page says it is gone.
        clock.advance(timedelta(days=1))
        assert (await notices("GEN-7", partial=True))[1]["notices"] == []
        assert (await http.get(f"{base}/safety/{body['notices'][0]['id']}")).status == 410
