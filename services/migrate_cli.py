"""`anshin migrate`: every service's schema brought up to date ahead of a rollout.

Each service migrates its own schema at start-up. A migration that rewrites a large table
(ingest's 004 turns every order's lines from jsonb into json: about 8 s a million orders)
can outlast a start-up probe; run this first, once, and the services find nothing to do.
"""

from __future__ import annotations

import argparse

from shared import db
from shared.config import Settings
from shared.outbox import DDL as OUTBOX_DDL

# (schema, package of its migrations, whether it has an outbox), as each service's app.py.
SERVICES = (
    ("ingest", "services.ingest", True),
    ("advisory", "services.advisory", True),
    ("matcher", "services.matcher", True),
    ("mailer", "services.mailer", False),
)


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin migrate`."""
    command = commands.add_parser(
        "migrate",
        help="apply every service's pending schema migrations (ahead of a rollout)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.set_defaults(run=migrate_all)


async def migrate_all(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate each schema under its lock, printing what was applied."""
    for schema, package, outbox in SERVICES:
        pool = await db.create_pool(settings.database_url, schema, min_size=1, max_size=1)
        try:
            prelude = [OUTBOX_DDL] if outbox else []
            applied = await db.migrate(
                pool,
                schema,
                package,
                prelude=prelude,
                lock_timeout_s=settings.migration_lock_timeout_s,
            )
        finally:
            await pool.close()
        print(f"{schema}: {', '.join(applied) if applied else 'up to date'}", flush=True)
    return 0
