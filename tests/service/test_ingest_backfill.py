"""`anshin orders load` and `anshin catalog load` against real servers."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

import asyncpg
import msgspec
import pytest

from services.ingest import cli
from shared import bus, exits
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_ingest_orders import MARKETPLACE_CSV, _closing, stored
from tests.support.shop import order


def _args(file: Path, **extra: object) -> argparse.Namespace:
    defaults = {"format": None, "channel": None, "batch": 40, "rejects": None, "quiet": True}
    return argparse.Namespace(file=str(file), **{**defaults, **extra})


async def test_backfill_streams_a_file_through_the_same_intake(
    settings: Settings, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.ndjson"
    catalog.write_text(
        '{"sku": "DIA-M", "title": "Diapers", "categories": ["baby_products"]}\n'
        '{"sku": "HNY-1", "title": "Honey", "categories": ["hunny"]}\n'
    )
    assert await cli.load_catalog(_args(catalog), settings) == exits.REJECTED  # one entry
    rejected = msgspec.json.decode(capsys.readouterr().err.splitlines()[-1])
    assert rejected["index"] == 1
    assert rejected["errors"][0]["field"] == "categories[0]"
    assert "did you mean 'honey'" in rejected["errors"][0]["problem"]

    years_ago = clock.now() - timedelta(days=3650)
    records = [
        order(f"H-{n}", years_ago + timedelta(hours=n), customer=f"c-{n % 30}") for n in range(150)
    ]
    records[7]["lines"] = [{"sku": "TEE", "title": "T-shirt"}]  # in no category: published too
    lines = [msgspec.json.encode(r) for r in records]
    # No channel key names the channel of a backfill: a canonical record must name its own.
    nameless = {k: v for k, v in order("broken", years_ago).items() if k != "channel"}
    lines.insert(100, msgspec.json.encode(nameless))
    lines.append(lines[3])  # sent twice
    path = tmp_path / "orders.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rejects = tmp_path / "rejects.ndjson"

    assert await cli.load_orders(_args(path, rejects=str(rejects)), settings) == exits.REJECTED
    assert "150 accepted, 1 duplicates, 1 rejected" in capsys.readouterr().out
    [rejected] = [msgspec.json.decode(line) for line in rejects.read_bytes().splitlines()]
    assert rejected["index"] == 100 and rejected["errors"][0]["field"] == "channel"
    assert "must name its channel" in rejected["errors"][0]["problem"]

    nc = await bus.connect(settings.nats_url, "test")
    async with _closing(nc):
        first = await stored(nc, "ORDERS", 150)
        assert len(first) == 150
        [tee] = [msg for _, msg in first if msg.order_id == "H-7"]
        assert [(line.sku, line.categories) for line in tee.lines] == [("TEE", [])]
        assert len(await stored(nc, "CUSTOMERS", 30)) == 30  # one per customer, not per order

        # A second run finds everything known: nothing new is stored or published.
        # A person's command line (no --quiet), but no terminal: no progress bar either.
        quietly = _args(path, quiet=False, rejects=str(tmp_path / "again.ndjson"))
        assert await cli.load_orders(quietly, settings) == exits.REJECTED
        again = capsys.readouterr()
        assert "0 accepted, 151 duplicates" in again.out
        assert again.err == "", again.err
        csv = tmp_path / "marketplace.csv"
        csv.write_text(MARKETPLACE_CSV)
        assert await cli.load_orders(_args(csv), settings) == 0
        placed = await stored(nc, "ORDERS", 151)
        assert placed[-1][1].lines[0].categories == ["baby_products"]  # from the catalog
        assert len(placed) == 151

    conn = await asyncpg.connect(settings.database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM ingest.orders") == 151
        assert await conn.fetchval("SELECT count(*) FROM ingest.outbox") == 0
    finally:
        await conn.close()


async def test_an_order_whose_csv_rows_are_apart_is_refused_not_lost(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, first_row, second_row = MARKETPLACE_CSV.splitlines()
    others = [first_row.replace("M-1,", f"M-{n},").replace("DIA-M", "LAD-3") for n in (6, 7, 8)]
    # M-1's second row comes after other orders: in chunks of two rows it arrives alone.
    csv = tmp_path / "apart.csv"
    csv.write_text("\n".join([header, first_row, *others, second_row]) + "\n")
    rejects = tmp_path / "rejects.ndjson"
    assert (
        await cli.load_orders(_args(csv, batch=2, rejects=str(rejects)), settings) == exits.REJECTED
    )
    assert "4 accepted, 0 duplicates, 1 rejected" in capsys.readouterr().out
    [rejected] = [msgspec.json.decode(line) for line in rejects.read_bytes().splitlines()]
    # Chunks are stored two at a time: whichever part of M-1 is stored second is refused,
    # the first row (index 0) or the one that came apart (index 4), never both, never none.
    assert rejected["index"] in (0, 4) and rejected["errors"][0]["field"] == "order_id"
    assert "keep the rows of one order together" in rejected["errors"][0]["problem"]
