"""The whole stack as `make up` runs it (`python -m deploy.local up`), for the reliability runs.

The launcher restarts a service that dies, as in production; a test kills services with
real signals and waits for the new process to be ready. NATS, PostgreSQL and SMTP are the
test's own, passed in the environment, so a test can restart or break them too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from deploy.local_env import SERVICES, free_ports
from deploy.servers import free_port
from services.cli import stack_settings
from tests.support.keys import bearer, channel_header


def launch_env(data: Path, **settings: str) -> dict[str, str]:
    """The launcher's environment: free ports, no quiet hours, no send rate; then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSHIN_", "NATS_", "DATA"))}
    env.update(
        {
            "ANSHIN_DATA_DIR": str(data),
            "ANSHIN_QUIET_HOURS": "off",
            "ANSHIN_SEND_RATE_PER_SECOND": "0",
            "ANSHIN_SEND_RATE_PER_DOMAIN": "0",
            "ANSHIN_SMTP_HOST": "127.0.0.1",
            **free_ports(SERVICES),
        }
    )
    env.update(settings)
    return env


class LaunchedStack:
    """`python -m deploy.local up` in a child process, on the test's servers."""

    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.data, self.env = data, env
        self.process: subprocess.Popen[bytes] | None = None
        self.kills: dict[str, int] = dict.fromkeys(SERVICES, 0)
        self.channels: dict[str, dict[str, str]] = {}

    def start(self, timeout: float = 120.0, tries: int = 3) -> None:
        """Start the launcher and wait until it says the stack is running.

        A port that was free when chosen can be taken by then (an outgoing connection's
        ephemeral port): then the services get other ports and the launch is tried again.
        """
        for attempt in range(1, tries + 1):
            try:
                self._start(timeout)
                return
            except RuntimeError:
                taken = any("address already in use" in p.read_text() for p in self.log_files())
                if attempt == tries or not taken:
                    raise
                self.stop()
                for log in self.log_files():
                    log.rename(log.with_suffix(f".try{attempt}"))
                self.env.update({f"ANSHIN_{s.upper()}_PORT": str(free_port()) for s in SERVICES})

    def _start(self, timeout: float) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        out = open(self.data / "launcher.out", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.local", "up"],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Anshin is running." in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"the stack did not start:\n{self.output()[-4000:]}")

    def output(self) -> str:
        """What the launcher printed so far."""
        path = self.data / "launcher.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the launcher; it stops the services gracefully."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def url(self, service: str) -> str:
        """Base URL of a service."""
        return f"http://127.0.0.1:{self.env[f'ANSHIN_{service.upper()}_PORT']}"

    async def channel(self, name: str = "web") -> dict[str, str]:
        """The Authorization header of channel `name`'s key, made on first use."""
        if name not in self.channels:
            self.channels[name] = await channel_header(stack_settings(self.env), name)
        return self.channels[name]

    def operator(self) -> dict[str, str]:
        """The operators' Authorization header (the key `make up` keeps in the data dir)."""
        return bearer(stack_settings(self.env).operator_key)

    def pid_of(self, service: str) -> int:
        """The pid of the service's current process, as the launcher wrote it."""
        return int((self.data / "pids" / f"{service}.pid").read_text())

    def log_files(self) -> list[Path]:
        """Every log the launcher's processes wrote."""
        return sorted((self.data / "logs").glob("*.log"))

    async def kill(self, service: str, http: aiohttp.ClientSession, timeout: float = 90) -> float:
        """SIGKILL a service, wait until its successor is ready; return the seconds it took."""
        started = time.monotonic()
        old = self.pid_of(service)
        os.kill(old, signal.SIGKILL)
        self.kills[service] += 1
        await self.wait_ready(service, http, timeout, not_pid=old)
        return time.monotonic() - started

    async def wait_ready(
        self, service: str, http: aiohttp.ClientSession, timeout: float = 90, not_pid: int = 0
    ) -> None:
        """Wait until the service (a process other than `not_pid`) answers /readyz with 200."""
        async with asyncio.timeout(timeout):
            while True:
                try:
                    if self.pid_of(service) != not_pid:
                        async with http.get(f"{self.url(service)}/readyz") as reply:
                            if reply.status == 200:
                                return
                except (aiohttp.ClientError, OSError, ValueError):
                    pass
                await asyncio.sleep(0.2)

    async def wait_all_ready(self, http: aiohttp.ClientSession, timeout: float = 120) -> None:
        """Wait until every service answers /readyz with 200."""
        for service in SERVICES:
            await self.wait_ready(service, http, timeout)


async def create_agency(env: dict[str, str], name: str) -> str:
    """`python -m services.cli agency create NAME`; return the key it prints once."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "agency",
        "create",
        name,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return next(line.split()[1] for line in out.decode().splitlines() if line.startswith("key:"))


async def fresh_database(admin_url: str) -> str:
    """Create an empty database on the server of `admin_url`; return its DSN."""
    import secrets

    import asyncpg

    name = f"r_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    head, _, rest = admin_url.partition("://")
    authority, _, tail = rest.partition("/")
    query = tail.partition("?")[2]
    return f"{head}://{authority}/{name}" + (f"?{query}" if query else "")
