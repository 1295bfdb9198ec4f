"""Ingest commands of the `anshin` CLI: `anshin orders load FILE`, `anshin catalog load FILE`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO

import asyncpg
import msgspec
from tqdm import tqdm

from services.ingest import access, backfill, catalog, formats, parsing, store
from services.ingest.app import SCHEMA
from services.ingest.intake import Outcome, email_secret
from services.ingest.model import CatalogItem, Rejection
from services.ingest.privacy import cli as privacy_cli
from shared import bus, db, exits
from shared.clock import from_settings
from shared.config import Settings
from shared.db import unit_of_work
from shared.outbox import DDL as OUTBOX_DDL
from shared.service import freeze_heap

_encoder = msgspec.json.Encoder()


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin orders load` and `anshin catalog load` to the CLI."""
    orders = commands.add_parser("orders", help="orders of the shop's channels")
    actions = orders.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", help="stream a file of orders through ingest (backfill)")
    load.add_argument("file", help="NDJSON (canonical or grocery) or CSV (marketplace)")
    load.add_argument(
        "--format", choices=list(formats.FORMATS), help="default: marketplace for .csv files"
    )
    load.add_argument(
        "--channel",
        help="the channel of records that name none (default: grocery and marketplace for"
        " their formats; canonical records name theirs)",
    )
    load.add_argument("--batch", type=int, default=5000, help="records per transaction")
    load.add_argument("--rejects", help="write rejected records here as NDJSON (default: stderr)")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    # It hashes e-mail addresses as ingest does: with the development secret, its hashes
    # would match none of the service's.
    load.set_defaults(run=load_orders, secrets=("secret_key",))
    catalog = commands.add_parser("catalog", help="the product catalog")
    actions = catalog.add_subparsers(dest="action", required=True)
    cload = actions.add_parser("load", help="insert or replace catalog entries from a file")
    cload.add_argument("file", help="NDJSON or a JSON array of {sku, gtin?, title, categories}")
    cload.set_defaults(run=load_catalog)
    privacy_cli.register(commands)


# The CLI runs one task at a time: blocking reads of a local file hold up nothing else.
def _open_read(path: str) -> tuple[IO[bytes], int]:
    return open(path, "rb"), os.path.getsize(path)


def _open_rejects(path: str | None) -> IO[bytes]:
    return open(path, "wb") if path else sys.stderr.buffer


def _write_line(out: IO[bytes], record: dict[str, object]) -> None:
    out.write(_encoder.encode(record) + b"\n")


async def _pool(settings: Settings) -> asyncpg.Pool:
    """A pool on ingest's schema, migrated, as the service would have it."""
    pool = await db.create_pool(settings.database_url, SCHEMA, min_size=2, max_size=4)
    await db.migrate(pool, SCHEMA, "services.ingest", prelude=[OUTBOX_DDL])
    return pool


async def load_orders(args: argparse.Namespace, settings: Settings) -> int:
    """Backfill orders from a file; exit REJECTED (3) where some records were rejected."""
    name = args.format or ("marketplace" if args.file.lower().endswith(".csv") else "canonical")
    fmt = formats.get(name)
    stream, size = _open_read(args.file)
    out = _open_rejects(args.rejects)
    pool = await _pool(settings)
    nc = await bus.connect_as(settings, "anshin-cli")
    await bus.declare(
        nc,
        role=settings.nats_user,
        replicas=settings.stream_replicas,
        max_deliver=settings.max_deliver,
    )
    # A bar only for a person watching: a script's log gets the summary line alone.
    quiet = args.quiet or not sys.stderr.isatty()
    bar = tqdm(total=size, unit="B", unit_scale=True, disable=quiet)
    freeze_heap()

    def progress(records: int, outcome: Outcome) -> None:
        bar.update(stream.tell() - bar.n)

    try:
        with stream:
            totals = await backfill.load(
                pool,
                nc,
                stream,
                fmt,
                schema=SCHEMA,
                secret=email_secret(settings.secret_key),
                clock=from_settings(settings.clock_file),
                batch=args.batch,
                channel=access.check_name(args.channel) if args.channel else "",
                on_chunk=progress,
                rejects=lambda r: _write_line(out, r),
            )
    finally:
        bar.close()
        if out is not sys.stderr.buffer:
            out.close()
        await nc.drain()
        await pool.close()
    rate = (totals.accepted + totals.duplicates) / max(totals.seconds, 1e-9)
    print(
        f"{totals.accepted} accepted, {totals.duplicates} duplicates, {totals.rejected} rejected,"
        f" {totals.unlocated} of the accepted without a municipality or county;"
        f" {totals.published} events published in {totals.seconds:.1f}s ({rate:,.0f} records/s)"
    )
    return exits.REJECTED if totals.rejected else exits.OK


async def load_catalog(args: argparse.Namespace, settings: Settings) -> int:
    """Insert or replace catalog entries; exit REJECTED (3) where some were rejected."""
    decoder = msgspec.json.Decoder(CatalogItem)
    stream, _ = _open_read(args.file)
    with stream:
        body = stream.read()
    ndjson = not body.lstrip().startswith(b"[")
    items, rejected = [], 0
    for index, raw in enumerate(parsing.split(body, "application/x-ndjson" if ndjson else "")):
        item = parsing.decode(raw, decoder)
        if not isinstance(item, Rejection):
            item = catalog.check(item)
        if isinstance(item, Rejection):
            rejected += 1
            _write_line(sys.stderr.buffer, {"index": index, "errors": item.errors})
        else:
            items.append(item)
    pool = await _pool(settings)
    try:
        async with unit_of_work(pool) as conn:
            written = await store.upsert_catalog(conn, items)
    finally:
        await pool.close()
    print(f"{written} catalog entries written, {rejected} rejected")
    return exits.REJECTED if rejected else exits.OK
