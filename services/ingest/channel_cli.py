"""`anshin channel ...`: the keys of the sales channels and catalog writers that post to ingest.

Keys are made here, in ingest's schema directly (as agencies' keys are in advisory's): a key
is printed once and only its hash is kept, so no HTTP answer ever carries one.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from services.ingest import access, store
from services.ingest.cli import _pool
from shared.config import Settings
from shared.db import unit_of_work
from shared.errors import Conflict, NotFound
from shared.tables import as_json, table


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin channel create|rotate|list`."""
    channel = commands.add_parser(
        "channel",
        help="keys of the sales channels and catalog writers",
        description=(
            "Every write to ingest needs a key: a channel's key writes the orders,"
            " cancellations and returns of that channel only; a catalog key writes the"
            " catalog only. Keys are printed once; only a hash is kept."
        ),
    )
    sub = channel.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create a channel and print its key once")
    create.add_argument("name", help="the channel's name, as orders name it (web, app, grocery)")
    create.add_argument(
        "--catalog",
        action="store_true",
        help="a catalog key instead: it writes the catalog (PUT /v1/catalog) and no orders",
    )
    create.add_argument("--json", action="store_true", help="print {name, kind, key} as JSON")
    create.set_defaults(run=create_channel)
    rotate = sub.add_parser(
        "rotate", help="give a channel a new key, printed once; the old one stops working"
    )
    rotate.add_argument("name", help="the channel's name")
    rotate.add_argument("--json", action="store_true", help="print {name, kind, key} as JSON")
    rotate.set_defaults(run=rotate_channel)
    listing = sub.add_parser(
        "list",
        help="list the channels and catalog keys (never a key)",
        description=(
            "Every channel and catalog key: name, kind, the key's public id, when it was"
            " created and rotated, and when it was last used (to the minute)."
        ),
    )
    listing.add_argument("--json", action="store_true", help="print the channels as JSON")
    listing.set_defaults(run=list_channels)


async def issue(settings: Settings, name: str, *, catalog: bool = False) -> str:
    """Create a channel (or catalog key) and return its key (Conflict if the name is taken)."""
    key, key_id = access.new_key()
    pool = await _pool(settings)
    try:
        kind = "catalog" if catalog else "channel"
        name = access.check_name(name)
        async with unit_of_work(pool) as conn:
            created = await store.create_key(conn, name, kind, key_id, access.hash_key(key))
    finally:
        await pool.close()
    if not created:
        raise Conflict(
            f"{name!r} exists already: `anshin channel rotate {name}` gives it a new key"
        )
    return key


async def reissue(settings: Settings, name: str) -> tuple[str, str]:
    """Give a channel a new key; return it and the channel's kind (NotFound if none)."""
    key, key_id = access.new_key()
    pool = await _pool(settings)
    try:
        async with unit_of_work(pool) as conn:
            kind = await store.rotate_key(conn, name, key_id, access.hash_key(key))
    finally:
        await pool.close()
    if kind is None:
        raise NotFound(f"no channel {name!r}: `anshin channel list` shows them")
    return key, kind


def _shown(name: str, kind: str, key: str, json: bool) -> None:
    if json:
        print(as_json({"name": name, "kind": kind, "key": key}))
        return
    print(f"channel: {name}" if kind == "channel" else f"catalog: {name}")
    print(f"key:     {key}")
    print("Keep the key safe: it is shown only this once (Authorization: Bearer KEY).")


async def create_channel(args: argparse.Namespace, settings: Settings) -> int:
    """Create a channel or a catalog key; print its key once."""
    key = await issue(settings, args.name, catalog=args.catalog)
    _shown(args.name, "catalog" if args.catalog else "channel", key, args.json)
    return 0


async def rotate_channel(args: argparse.Namespace, settings: Settings) -> int:
    """Give a channel a new key and print it once."""
    key, kind = await reissue(settings, args.name)
    _shown(args.name, kind, key, args.json)
    if not args.json:
        print("The channel's earlier key no longer works.")
    return 0


async def channels(settings: Settings) -> list[dict[str, Any]]:
    """Every channel and catalog key, oldest first; never a key or its hash."""
    pool = await _pool(settings)
    try:
        async with unit_of_work(pool, transaction=False) as conn:
            return [dict(r) for r in await store.list_keys(conn)]
    finally:
        await pool.close()


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else "-"


async def list_channels(args: argparse.Namespace, settings: Settings) -> int:
    """Print every channel and catalog key; keys are never shown."""
    rows = await channels(settings)
    if args.json:
        print(as_json([{**r, "key_id": f"{access.PREFIX}{r['key_id']}"} for r in rows]))
        return 0
    if not rows:
        print("No channels yet: create one with `anshin channel create NAME`.")
        return 0
    header = ("name", "kind", "key id", "created", "rotated", "last used")
    body: list[tuple[str, ...]] = [
        (
            str(r["name"]),
            str(r["kind"]),
            f"{access.PREFIX}{r['key_id']}",
            _when(r["created_at"]),
            _when(r["rotated_at"]),
            _when(r["last_used_at"]),
        )
        for r in rows
    ]
    print(table(header, body))
    return 0
