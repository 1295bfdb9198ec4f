"""`anshin dead list|replay`: the dead-letter stream, as the console shows it."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from services.advisory.cli.pool import advisory_pool
from services.advisory.desk.console import deadletters
from shared import bus
from shared.config import Settings
from shared.tables import as_json, table


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin dead list` and `anshin dead replay SEQ`."""
    dead = commands.add_parser(
        "dead",
        help="dead letters: bus messages no consumer could handle",
        description=(
            "Bus messages that could not be decoded, or that failed every delivery attempt,"
            " are copied to the DEAD stream. List them, and replay one to its original subject"
            " once the cause is fixed. An outbox row that the bus refused (consumer"
            " outbox:<schema>) is listed too; its payload stays in <schema>.outbox_dead."
        ),
    )
    sub = dead.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="the latest dead letters, newest first")
    listing.add_argument("--limit", type=int, default=50, help="how many to show (default 50)")
    listing.add_argument("--json", action="store_true", help="print {total, letters} as JSON")
    listing.set_defaults(run=list_dead)
    again = sub.add_parser(
        "replay",
        help="republish one dead letter to its original subject (once)",
        description="Republish dead letter SEQ to its original subject; a second replay of"
        " the same letter is refused.",
    )
    again.add_argument("seq", type=int, help="the dead letter's sequence number (see `list`)")
    again.set_defaults(run=replay_dead)


async def list_dead(args: argparse.Namespace, settings: Settings) -> int:
    """Print the latest dead letters: sequence, consumer, subject, reason, replayed."""
    nc = await bus.connect_as(settings, "anshin-cli")
    try:
        async with advisory_pool(settings) as pool:
            total, letters = await deadletters.recent(nc, pool, max(1, args.limit))
    finally:
        await nc.close()
    if args.json:
        print(as_json({"total": total, "letters": letters}))
        return 0
    if not letters:
        print("No dead letters.")
        return 0
    header = ("seq", "when", "consumer", "subject", "bytes", "reason", "replayed")
    rows: list[tuple[str, ...]] = [
        (
            str(d.seq),
            f"{d.time:%Y-%m-%d %H:%M}" if d.time else "",
            d.consumer,
            d.subject,
            str(d.size),
            d.reason[:60],
            f"{d.replayed_at:%Y-%m-%d %H:%M}" if d.replayed_at else "",
        )
        for d in letters
    ]
    print(table(header, rows, right=[0, 4]))
    print(f"{len(letters)} of {total} dead letters shown.")
    return 0


async def replay_dead(args: argparse.Namespace, settings: Settings) -> int:
    """Replay one dead letter and print the id it was republished with."""
    nc = await bus.connect_as(settings, "anshin-cli")
    try:
        async with advisory_pool(settings) as pool:
            replay_id = await deadletters.replay(nc, pool, args.seq, datetime.now(UTC))
    finally:
        await nc.close()
    print(f"dead letter {args.seq} republished as {replay_id}")
    return 0
