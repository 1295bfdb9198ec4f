"""The `anshin` CLI on a `make up` stack, from a shell that knows only its data directory."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import aiohttp

from tests.support.launcher import launched, python
from tests.support.pg import postgres_home
from tests.support.shop import expect, order, power_bank_advisory


async def test_the_cli_finds_the_embedded_servers_and_keys_by_itself(
    http: aiohttp.ClientSession,
) -> None:
    with postgres_home() as home, launched(home / "data") as stack:
        # What an operator's shell has: the data directory and the ports, nothing else.
        env = stack.env
        assert not {"DATABASE_URL", "NATS_URL", "ANSHIN_OPERATOR_KEY"} & env.keys()

        async def anshin(*argv: str) -> str:
            ran = await python(env, "services.cli", *argv, timeout=60)
            assert ran.code == 0, ran.err
            return ran.out

        key = re.findall(r"^key:\s+(\S+)", await anshin("agency", "create", "CSI"), re.M)[0]
        assert "CSI" in await anshin("agency", "list")

        catalog = home / "catalog.ndjson"
        catalog.write_text(json.dumps({"sku": "PB-1", "title": "Power bank",
                                       "categories": ["power_bank"]}) + "\n")  # fmt: skip
        assert "1 catalog entries written" in await anshin("catalog", "load", str(catalog))
        orders = home / "orders.ndjson"
        orders.write_text(json.dumps(order("A-1", datetime.now(UTC) - timedelta(days=1))) + "\n")
        loaded = await anshin("orders", "load", str(orders), "--quiet")
        assert loaded.startswith("1 accepted, 0 duplicates, 0 rejected,"), loaded
        # A channel's key, made from the same shell, writes over HTTP.
        web = re.findall(r"^key:\s+(\S+)", await anshin("channel", "create", "web"), re.M)[0]
        cancel = f"{stack.url('ingest')}/v1/orders/web/A-1/cancel"
        await expect(await http.post(cancel, headers={"Authorization": f"Bearer {web}"}), 202)
        listed = await anshin("channel", "list")
        assert listed.splitlines()[2].startswith("web ") and web not in listed

        advisory = power_bank_advisory(datetime.now(UTC) + timedelta(hours=1))
        reply = await http.post(
            f"{stack.url('advisory')}/v1/advisories",
            json=advisory,
            headers={"Authorization": f"Bearer {key}"},
        )
        advisory_id = (await expect(reply, 201))["id"]
        report = await anshin("advisory", "report", advisory_id)
        assert report.startswith(f"{advisory_id}  short_term  embargoed  CSI")

        event = home / "flood.json"
        event.write_text(json.dumps({
            "hazard": "flood", "title": "Arakawa", "time": datetime.now(UTC).isoformat(),
            "area": {"type": "regions", "codes": ["JP-13"]}}))  # fmt: skip
        assert (await anshin("event", "declare", str(event))).startswith("declared: dis_")
        # As the NATS user `operator`, whose password `make up` keeps in the data directory.
        assert (await anshin("dead", "list")).strip() == "No dead letters."
        # A customer's export and erasure, each service as its own NATS user (docs/privacy.md).
        exported = json.loads(await anshin("customer", "export", "c-42"))
        assert [o["order_id"] for o in exported["orders"]] == ["A-1"]
        assert exported["contact"][0]["email"] == "hanako@example.jp"
        erased = await anshin("customer", "erase", "c-42", "--wait", "60")
        assert "state: done" in erased, erased
        assert json.loads(await anshin("customer", "export", "c-42"))["orders"] == []
        log = (home / "data" / "logs" / "nats.log").read_text()
        assert "Violation" not in log, "the CLI or a service was refused on the bus"
