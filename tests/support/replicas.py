"""A service as its own process on the test's servers, as production runs it: a replica to kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import msgspec

from deploy.servers import free_port
from shared.config import Settings, env_name


class Replica:
    """`python -m services.NAME` with the test's settings on a port of its own."""

    def __init__(self, name: str, settings: Settings, log: Path) -> None:
        self.name, self.port = name, free_port()
        values = msgspec.structs.asdict(settings) | {f"{name}_port": self.port}
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
        env |= {env_name(k): str(v) for k, v in values.items()}
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until the replica answers /readyz with 200."""
        url = f"http://127.0.0.1:{self.port}/readyz"
        async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
            while True:
                assert self.process.poll() is None, f"{self.name} exited"
                try:
                    async with http.get(url) as reply:
                        if reply.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no drain, no goodbye."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
