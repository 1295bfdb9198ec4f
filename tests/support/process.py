"""One service as a process of its own, on the test's servers, for a test to SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from deploy.servers import wait_for_http
from shared.config import Settings, env_name


def environment(settings: Settings) -> dict[str, str]:
    """The environment that gives a service process exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    for field in Settings.__struct_fields__:
        env[env_name(field)] = str(getattr(settings, field))
    return env


class ServiceProcess:
    """`python -m services.NAME` with the test's settings; its output goes to a log file."""

    def __init__(self, name: str, settings: Settings, logs: Path) -> None:
        self.name, self.settings, self.logs = name, settings, logs
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0

    async def start(self) -> None:
        """Start a process and wait until it answers /readyz."""
        await asyncio.to_thread(self._spawn)

    def _spawn(self) -> None:
        self.started += 1
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{self.name}.{self.started}.log", "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                env=environment(self.settings),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        port = getattr(self.settings, f"{self.name}_port")
        wait_for_http(f"http://127.0.0.1:{port}/readyz", 60.0)

    def kill(self) -> None:
        """SIGKILL: no goodbye, nothing recorded, connections cut."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM, and wait for a graceful end."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        """Everything the processes printed, for a failing assertion."""
        return "".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))
