"""Embedded servers for a benchmark run, in a temporary directory."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from deploy.servers import NatsServer, Postgres


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """Yield (nats_url, database_url) of fresh embedded servers, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="anshin-bench-") as tmp:
        nats = NatsServer(Path(tmp) / "nats").start()
        pg = Postgres(Path(tmp) / "pg", durable=False).start()
        try:
            yield nats.url, pg.create_database("bench")
        finally:
            nats.stop()
            pg.stop()
