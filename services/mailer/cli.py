"""`anshin suppression list|remove`: addresses never mailed again, and lifting one.

The mailer owns suppressions, so the CLI reads and writes its schema directly (as `anshin
channel` does ingest's); the console asks the running mailer over NATS instead.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import asyncpg

from services.mailer import store, suppressions
from services.mailer.app import SCHEMA
from shared import db
from shared.config import Settings
from shared.tables import table


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin suppression list` and `anshin suppression remove ADDRESS`."""
    suppression = commands.add_parser(
        "suppression",
        help="addresses never mailed again: list them, lift one",
        description=(
            "An address is suppressed when its customer unsubscribes, when the relay says"
            " its mailbox does not exist or is disabled (a bounce), or on a complaint. A"
            " relay's or a provider's refusal never suppresses: it pauses that path."
        ),
    )
    sub = suppression.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="the latest suppressions, newest first, with reasons")
    listing.add_argument("--limit", type=int, default=50, help="how many to show (default 50)")
    listing.add_argument("--address", default="", help="show only this address")
    listing.set_defaults(run=list_suppressions)
    remove = sub.add_parser(
        "remove",
        help="lift one suppression: the address may be mailed again",
        description=(
            "Lift the suppression of ADDRESS. A bounce may be lifted; an unsubscribe or a"
            " complaint only with --force, when the customer asked for mail again. The lift"
            " is logged and audited without the address."
        ),
    )
    remove.add_argument("address", help="the suppressed address")
    remove.add_argument(
        "--resend",
        action="store_true",
        help="queue again what the suppression stopped (advisories neither withdrawn nor"
        " expired), under the usual cap and quiet hours",
    )
    remove.add_argument(
        "--force", action="store_true", help="lift an unsubscribe or a complaint as well"
    )
    remove.set_defaults(run=remove_suppression)


async def _pool(settings: Settings) -> asyncpg.Pool:
    """A pool on the mailer's schema, migrated, as the service would have it."""
    pool = await db.create_pool(settings.database_url, SCHEMA, min_size=1, max_size=2)
    await db.migrate(pool, SCHEMA, "services.mailer")
    return pool


async def list_suppressions(args: argparse.Namespace, settings: Settings) -> int:
    """Print the latest suppressions: address, reason, since when, the relay's reply."""
    address = suppressions.address(args.address) if args.address else ""
    pool = await _pool(settings)
    try:
        async with db.unit_of_work(pool, transaction=False) as conn:
            total, rows = await store.list_suppressions(conn, max(1, args.limit), address)
    finally:
        await pool.close()
    if not rows:
        print("No suppressions." if not address else "This address is not suppressed.")
        return 0
    header = ("address", "reason", "since", "detail")
    body: list[tuple[str, ...]] = [
        (r["email"], r["reason"], f"{r['at']:%Y-%m-%d %H:%M}", r["detail"][:60]) for r in rows
    ]
    print(table(header, body))
    print(f"{len(rows)} of {total} suppressions shown.")
    return 0


async def remove_suppression(args: argparse.Namespace, settings: Settings) -> int:
    """Lift one suppression and say what it was."""
    pool = await _pool(settings)
    try:
        lifted = await suppressions.lift(
            pool, args.address, datetime.now(UTC), by="cli", force=args.force, resend=args.resend
        )
    finally:
        await pool.close()
    print(f"lifted: {suppressions.address(args.address)} (was: {lifted.reason})")
    if args.resend:
        print(f"{lifted.requeued} deliveries queued again")
    return 0
