"""Advisory commands of the `anshin` CLI: agencies."""

from __future__ import annotations

import argparse

from services.advisory import auth, store
from services.advisory.app import SCHEMA
from shared import db
from shared.config import Settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin agency ...` to the CLI."""
    agency = commands.add_parser("agency", help="partner agencies")
    sub = agency.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create an agency and print its key once")
    create.add_argument("name", help="the agency's name as customers will read it")
    create.set_defaults(run=create_agency)


async def create_agency(args: argparse.Namespace, settings: Settings) -> int:
    """Create an agency; its key is printed once and stored only as a hash."""
    pool = await db.create_pool(settings.database_url, SCHEMA, min_size=1, max_size=2)
    try:
        await db.migrate(pool, SCHEMA, "services.advisory")
        key = auth.new_key()
        agency_id = await store.create_agency(pool, args.name, auth.hash_key(key))
    finally:
        await pool.close()
    print(f"agency: {agency_id}")
    print(f"name:   {args.name}")
    print(f"key:    {key}")
    print("Keep the key safe: it is shown only this once.")
    return 0
