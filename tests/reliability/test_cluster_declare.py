"""Services starting together against a fresh three-node cluster declare R3 streams quickly."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from shared import bus
from tests.support.faults import NatsCluster


async def test_four_services_declare_replicated_streams_at_once(tmp_path: Path) -> None:
    cluster = await asyncio.to_thread(NatsCluster(tmp_path / "cluster").start)

    async def service(name: str) -> float:
        started = time.monotonic()
        nc = await bus.connect(cluster.url, name)
        try:
            await bus.declare(nc, replicas=3)
            info = await nc.jetstream().stream_info("DELIVERIES")
            assert info.config.num_replicas == 3
        finally:
            await nc.close()
        return time.monotonic() - started

    try:
        # Before the fix, updating streams the others were creating stalled the cluster:
        # 20 s and more, and some service gave up on a JetStream timeout.
        took = await asyncio.gather(
            *(service(s) for s in ("ingest", "advisory", "matcher", "mailer"))
        )
    finally:
        await asyncio.to_thread(cluster.stop)
    assert max(took) < 10, took
