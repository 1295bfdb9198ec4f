"""The catalog: written over HTTP, asked over NATS by the advisory service's product pages."""

from __future__ import annotations

import aiohttp
import nats.errors
import pytest

from services.ingest.app import build
from shared import bus
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_ingest_orders import _closing
from tests.support.advisory import operator
from tests.support.fixtures import running
from tests.support.shop import expect

_entry = m.decoder(m.CatalogEntry)


async def test_catalog_lookup_answers_over_nats(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    nc = await bus.connect(settings.nats_url, "test")
    async with running(build, settings, clock, settings.ingest_port) as ingest, _closing(nc):
        entries = [
            {
                "sku": "STR-1",
                "gtin": "4900000000009",
                "title": "Stroller",
                "categories": ["stroller"],
            },
            {"sku": "X-1", "title": "Mystery", "categories": ["unicorns"]},
            {"sku": "H-1", "title": "Heater", "categories": ["stroller", "heater"]},
        ]
        headers = operator(settings)
        written = await expect(
            await http.put(f"{ingest}/v1/catalog", json=entries, headers=headers), 200
        )
        assert written["written"] == 1
        assert written["rejected"][0] == {
            "index": 1,
            "errors": [{"field": "categories[0]", "problem": "unknown category 'unicorns'"}],
        }
        # A near miss names the real codes, as the advisory service does for agencies.
        [heater] = written["rejected"][1]["errors"]
        assert heater["field"] == "categories[1]"
        assert "did you mean 'electric_heater'" in heater["problem"]

        async def ask(data: bytes) -> m.CatalogEntry:
            reply = await nc.request(Subjects.INGEST_CATALOG_LOOKUP, data, timeout=5)
            entry: m.CatalogEntry = _entry.decode(reply.data)
            return entry

        found = await ask(m.encode(m.CatalogLookup(sku="STR-1")))
        assert found.found and found.gtin == "04900000000009"  # kept as GTIN-14
        assert found.categories == ["stroller", "baby_products"]  # implied categories included
        assert await ask(m.encode(m.CatalogLookup(sku="NONE"))) == m.CatalogEntry(sku="NONE")
        # A question that cannot be read gets no answer (the asker's timeout says nobody
        # knows); the responder keeps answering the next one.
        with pytest.raises(nats.errors.TimeoutError):
            await nc.request(Subjects.INGEST_CATALOG_LOOKUP, b"not json", timeout=0.5)
        assert (await ask(m.encode(m.CatalogLookup(sku="STR-1")))).found

        listed = await expect(await http.get(f"{ingest}/v1/categories"), 200)
        by_code = {c["code"]: c for c in listed}
        assert len(by_code) >= 50
        assert by_code["honey"]["google_taxonomy_id"] == 4947
        assert by_code["co_alarm"]["names"]["fr"] == "Détecteur de monoxyde de carbone"
