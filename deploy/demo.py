"""`make demo`: a realistic shop on the running stack, advice from an agency, and the
2024 Noto Peninsula earthquake replayed.

Start the stack with `make up` first; the demo finds it as the CLI does (ports, data
directory, operator key). Everything goes through the services' own interfaces: the catalog
on PUT /v1/catalog with the operator key, each channel's orders as NDJSON batches on
POST /v1/orders with that channel's own key, advisories and the quake on the advisory API
with the operator key. A second run adds nothing: the orders are duplicates, the
advisories are found by their source URL, the quake by its USGS id.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import msgspec

from deploy import demo_advice, demo_shop
from deploy.demo_stack import Stack, settle
from deploy.demo_summary import summary
from services.advisory import cli as advisory_cli
from services.cli import describe, stack_settings
from services.ingest import channel_cli
from shared.errors import AnshinError, Conflict

NDJSON = {"Content-Type": "application/x-ndjson"}


def _ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"".join(msgspec.json.encode(r) + b"\n" for r in records)


async def load_shop(stack: Stack, people: int, batch: int) -> None:
    """The catalog, then every order, through ingest's HTTP API."""
    ingest = stack.url("ingest")
    await stack.call("PUT", f"{ingest}/v1/catalog", json=demo_shop.catalog())
    print(f"Catalog: {len(demo_shop.CATALOG)} products written (PUT {ingest}/v1/catalog)")
    customers = demo_shop.customers(people)
    orders = demo_shop.purchases(customers, datetime.now(UTC))
    where = Counter(c.place.country for c in customers)
    langs = Counter(c.locale for c in customers)
    first = min(o.placed_at for o in orders)
    print(
        f"Shop: {people:,} customers ({where['JP']:,} in Japan, {where['US']:,} in the US;"
        f" {', '.join(f'{k} {v:,}' for k, v in sorted(langs.items()))}),"
        f" {len(orders):,} orders on web, app and grocery since {first:%Y-%m-%d}"
    )
    totals: Counter[str] = Counter()
    for channel in demo_shop.CHANNELS:
        grocery = channel == "grocery"
        fmt, render = (
            ("grocery", demo_shop.grocery) if grocery else ("canonical", demo_shop.canonical)
        )
        headers = NDJSON | {"Authorization": f"Bearer {await channel_key(stack, channel)}"}
        records = [render(o) for o in orders if o.channel == channel]
        for start in range(0, len(records), batch):
            answer = await stack.call(
                "POST",
                f"{ingest}/v1/orders?format={fmt}",
                ok=(202,),
                data=_ndjson(records[start : start + batch]),
                headers=headers,
            )
            totals.update(accepted=answer["accepted"], duplicates=answer["duplicates"])
            totals.update(rejected=len(answer["rejected"]))
            for rejection in answer["rejected"][:3]:
                print(f"  rejected ({channel}, batch from {start}): {rejection}", file=sys.stderr)
    print(
        f"  ingest: {totals['accepted']:,} accepted, {totals['duplicates']:,} duplicates,"
        f" {totals['rejected']:,} rejected (NDJSON batches of {batch})"
    )
    if totals["rejected"]:
        raise AnshinError("ingest rejected orders of the demo shop: see above")


async def channel_key(stack: Stack, name: str) -> str:
    """A key of the demo's channel: made on the first run, a new one on the next.

    Only a hash of a key is kept, so a later run cannot find the earlier key: it gives the
    channel a new one, and the earlier one stops working.
    """
    try:
        key = await channel_cli.issue(stack.settings, name)
        print(f"  channel {name}: created; its key, shown once: {key}")
    except Conflict:
        key, _ = await channel_cli.reissue(stack.settings, name)
        print(f"  channel {name}: a new key, shown once (the earlier one no longer works): {key}")
    return key


async def agency(stack: Stack, name: str) -> str:
    """The demo agency's id: created on the first run, found on the next."""
    try:
        agency_id, key = await advisory_cli.new_agency(stack.settings, name)
    except Conflict:
        found = [a for a in await advisory_cli.agencies(stack.settings) if a["name"] == name]
        print(f"Agency: {name} ({found[0]['id']}) exists already")
        return str(found[0]["id"])
    print(f"Agency: {name} ({agency_id}) created; its key, shown once: {key}")
    return agency_id


async def publish(stack: Stack, agency_id: str, lead: float) -> dict[str, dict[str, Any]]:
    """Submit each advisory not submitted before, embargoed `lead` seconds; await publication."""
    advisory = stack.url("advisory")
    listed = await stack.call("GET", f"{advisory}/v1/advisories")
    mine = {
        a["source_url"]: a
        for a in listed["advisories"]
        if a["agency_id"] == agency_id and a["state"] != "withdrawn"
    }
    embargo = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
    ids = {}
    for name, body in demo_advice.advisories().items():
        if body["source_url"] in mine:
            ids[name] = mine[body["source_url"]]["id"]
            continue
        created = await stack.call(
            "POST",
            f"{advisory}/v1/advisories",
            ok=(201,),
            params={"agency_id": agency_id},
            json={**body, "embargo_until": embargo.isoformat()},
        )
        ids[name] = created["id"]
        print(f"  submitted {created['id']} {name}: {body['kind']}, embargoed until {embargo:%T}Z")
    if len(mine) == len(ids):
        print(f"Advisories: all {len(ids)} were submitted by an earlier run")

    async def states() -> dict[str, dict[str, Any]] | None:
        found = {
            n: await stack.call("GET", f"{advisory}/v1/advisories/{i}") for n, i in ids.items()
        }
        return found if all(a["state"] != "embargoed" for a in found.values()) else None

    for _ in range(int((lead + 60) / 0.5)):
        if published := await states():
            break
        await asyncio.sleep(0.5)
    else:
        raise AnshinError("the advisories were not published within a minute of their embargo")
    print(f"Advisories: {len(published)} published ({', '.join(published)})")
    return published


async def replay_quake(stack: Stack) -> dict[str, Any]:
    """Declare the Noto earthquake now, as USGS reported it but for its time."""
    quake = demo_advice.noto_quake()
    lon, lat, depth = quake["geometry"]["coordinates"]
    struck = datetime.fromtimestamp(quake["properties"]["time"] / 1000, UTC)
    now = datetime.now(UTC).replace(microsecond=0)
    print(
        f"Earthquake: USGS {quake['id']}, {quake['properties']['title']}:"
        f" M{quake['properties']['mag']}, {lat} N {lon} E, depth {depth:g} km, {struck:%F %T} UTC"
    )
    print(f"  replays: {demo_advice.NOTO_USGS}, USGS's GeoJSON Feature as published")
    print(f"  {demo_advice.NO_JMA}")
    print(
        f"  replayed with its time shifted to now ({now:%F %T} UTC): the advisory service"
        " declares no event older than 7 days and has no override for a replay"
    )
    answer: dict[str, Any] = await stack.call(
        "POST",
        f"{stack.url('advisory')}/v1/events",
        ok=(200, 201, 202),
        data=msgspec.json.encode(demo_advice.replayed(quake, now)),
        headers={"Content-Type": "application/geo+json"},
    )
    print("  " + advisory_cli.describe_event(answer).replace("\n", "\n  "))
    return answer


async def reports(stack: Stack, published: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each advisory's reach, by name."""
    base = f"{stack.url('advisory')}/v1/advisories"
    return {n: await stack.call("GET", f"{base}/{a['id']}/report") for n, a in published.items()}


async def run(args: argparse.Namespace) -> int:
    """The whole demo; a second run adds nothing."""
    settings = stack_settings()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        stack = Stack(settings, http)
        await stack.check()
        before = stack.mails()
        print(f"Anshin demo on the stack of {stack.url('advisory')} (data in {settings.data_dir})")
        await load_shop(stack, args.customers, args.batch)
        print("  waiting for the matcher and the mailer to take every order...")
        if not await settle(stack.bus_idle, quiet=2, timeout=args.wait):
            print("  (the bus is still busy; going on)")
        agency_id = await agency(stack, args.agency)
        published = await publish(stack, agency_id, args.lead)
        quake = await replay_quake(stack)
        print("  waiting for the mail to settle...")

        async def progress() -> object:
            idle = await stack.bus_idle()
            return (await reports(stack, published), stack.mails()) if idle else None

        settled = await settle(progress, quiet=3, timeout=args.wait)
        reach = await reports(stack, published)
        summary(stack, published, reach, before, settled, quake["id"])
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m deploy.demo [--customers N]`."""
    parser = argparse.ArgumentParser(prog="python -m deploy.demo", description=__doc__)
    parser.add_argument("--customers", type=int, default=3000, help="size of the shop")
    parser.add_argument("--batch", type=int, default=2000, help="orders per NDJSON request")
    parser.add_argument("--agency", default=demo_advice.AGENCY, help="the advising agency")
    parser.add_argument("--lead", type=float, default=5.0, help="embargo, seconds ahead")
    parser.add_argument("--wait", type=float, default=180.0, help="longest wait for the mail")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.batch < 1:
        parser.error("--customers and --batch must be at least 1")
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, as the CLI does
        print(f"demo: {describe(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
