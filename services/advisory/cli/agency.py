"""`anshin agency create|list`: agencies, in advisory's schema directly.

Creating one prints its key once, which no HTTP answer ever carries; only its hash is kept.
"""

from __future__ import annotations

import argparse
from typing import Any

from services.advisory.agencies import auth, store
from services.advisory.agencies.names import agency_name
from services.advisory.cli.pool import advisory_pool
from shared.config import Settings
from shared.dates import is_zone
from shared.tables import as_json, table


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin agency create` and `anshin agency list`."""
    agency = commands.add_parser(
        "agency", help="partner agencies", description="Partner agencies and their keys."
    )
    sub = agency.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create an agency and print its key once")
    create.add_argument("name", help="the agency's name as customers will read it")
    create.add_argument(
        "--timezone",
        type=timezone,
        default="UTC",
        metavar="ZONE",
        help="the agency's IANA time zone (Asia/Tokyo): the portal shows and reads its times"
        " in it, with UTC beside them (default UTC)",
    )
    create.add_argument(
        "--json", action="store_true", help="print {id, name, timezone, key} as JSON"
    )
    create.set_defaults(run=create_agency)
    listing = sub.add_parser(
        "list",
        help="list the agencies and how many advisories each has, by state",
        description="List every agency: id, name, creation time and its advisories by state.",
    )
    listing.add_argument("--json", action="store_true", help="print the agencies as JSON")
    listing.set_defaults(run=list_agencies)


def timezone(name: str) -> str:
    """An IANA time zone, or the command line's error naming it."""
    if not is_zone(name):
        raise argparse.ArgumentTypeError(f"{name!r} is not an IANA time zone such as Asia/Tokyo")
    return name


async def create_agency(args: argparse.Namespace, settings: Settings) -> int:
    """Create an agency; its key is printed once and stored only as a hash."""
    agency_id, key = await new_agency(settings, args.name, args.timezone)
    if args.json:
        created = {"id": agency_id, "name": args.name, "timezone": args.timezone, "key": key}
        print(as_json(created))
        return 0
    print(f"agency:   {agency_id}")
    print(f"name:     {args.name}")
    print(f"timezone: {args.timezone}")
    print(f"key:      {key}")
    print("Keep the key safe: it is shown only this once.")
    return 0


async def new_agency(settings: Settings, name: str, timezone: str = "UTC") -> tuple[str, str]:
    """Create an agency; return its id and its key (Conflict if the name is taken)."""
    name = agency_name(name)
    async with advisory_pool(settings) as pool:
        key = auth.new_key()
        agency_id = await store.create_agency(pool, name, auth.hash_key(key), timezone)
    return agency_id, key


async def agencies(settings: Settings) -> list[dict[str, Any]]:
    """Every agency with its advisories by state, oldest first."""
    async with advisory_pool(settings, max_size=1) as pool:
        return await store.with_counts(pool)


async def list_agencies(args: argparse.Namespace, settings: Settings) -> int:
    """Print every agency with its advisories by state; keys are never shown."""
    rows = await agencies(settings)
    if args.json:
        print(as_json(rows))
        return 0
    if not rows:
        print("No agencies yet: create one with `anshin agency create NAME`.")
        return 0
    header = ("id", "name", "timezone", "created", "embargoed", "published", "withdrawn")
    body = [
        (
            r["id"], r["name"], r["timezone"], f"{r['created_at']:%Y-%m-%d %H:%M}",
            *(str(r[k]) for k in header[4:]),
        )
        for r in rows
    ]  # fmt: skip
    print(table(header, body, right=range(4, 7)))
    return 0
