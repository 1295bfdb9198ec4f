"""A matcher replica as its own process, as production runs it, with its peak memory."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from deploy.servers import free_port


class Replica:
    """`python -m services.matcher` against the benchmark's servers."""

    def __init__(self, nats_url: str, database_url: str) -> None:
        self.port = free_port()
        env = os.environ | {
            "NATS_URL": nats_url,
            "DATABASE_URL": database_url,
            "ANSHIN_MATCHER_PORT": str(self.port),
            "ANSHIN_LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.matcher"], env=env, start_new_session=True
        )
        self.peak_mb = 0.0

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until the replica answers /readyz."""
        async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/readyz") as reply:
                        if reply.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                self.peak_mb = int(line.split()[1]) / 1024
        return self.peak_mb

    def stop(self) -> float:
        """Stop the replica gracefully; return its peak memory in MB."""
        peak = self.peak_rss_mb()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return peak
