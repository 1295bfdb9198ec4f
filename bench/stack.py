"""The whole stack as `make up` runs it (`python -m deploy.local up`: embedded NATS and
PostgreSQL, the local mailbox as the sink), on free ports in a temporary data directory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from deploy.local_env import SERVICES, free_ports
from services.cli import stack_settings
from shared.clock import FileClock
from shared.config import Settings


class Stack:
    """A launched stack: its settings (as the CLI finds them), its clock and its Maildir."""

    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.data, self.env = data, env
        self.settings: Settings = stack_settings(env)
        self.clock = FileClock(Path(env["ANSHIN_CLOCK_FILE"]))
        self.maildir = data / "mail"

    def url(self, service: str) -> str:
        """The base URL of a service."""
        return f"http://127.0.0.1:{getattr(self.settings, f'{service}_port')}"

    def pids(self) -> dict[int, str]:
        """Each process of this stack by pid, named: the launcher's children by the names of
        their pid files, then whatever names this stack's data directory on its command line
        (NATS, PostgreSQL) and every descendant of those, by program name."""
        named = {}
        for path in (self.data / "pids").glob("*.pid"):
            with contextlib.suppress(ValueError, OSError):
                named[int(path.read_text())] = path.stem
        parents, programs = {}, {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                pid = int(entry.name)
                programs[pid] = stat[stat.index("(") + 1 : stat.rindex(")")]
                parents[pid] = int(stat[stat.rindex(")") + 2 :].split()[1])
                if str(self.data).encode() in (entry / "cmdline").read_bytes():
                    named.setdefault(pid, programs[pid])
        grown = True
        while grown:
            children = {p: programs[p] for p, up in parents.items() if up in named}
            grown = bool(children.keys() - named.keys())
            named = children | named
        return named


def environment(data: Path, **settings: str) -> dict[str, str]:
    """The launcher's environment: free ports, send rates and quiet hours off; then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSHIN_", "NATS_", "DATA"))}
    env.update(
        {
            "ANSHIN_DATA_DIR": str(data),
            "ANSHIN_CLOCK_FILE": str(data / "clock"),
            "ANSHIN_QUIET_HOURS": "off",
            "ANSHIN_SEND_RATE_PER_SECOND": "0",
            "ANSHIN_SEND_RATE_PER_DOMAIN": "0",
            **free_ports(SERVICES),
        }
    )
    env.update(settings)
    return env


@contextlib.asynccontextmanager
async def launched(at: datetime, **settings: str) -> AsyncIterator[Stack]:
    """A stack whose clock reads `at` when it starts; stopped (SIGTERM) on exit.

    Its start and stop are waited for in a thread: the event loop keeps serving what the
    stack calls meanwhile (the bench's feed).
    """
    with tempfile.TemporaryDirectory(prefix="anshin-bench-stack-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        env = environment(data, **settings)
        FileClock(Path(env["ANSHIN_CLOCK_FILE"])).advance(at - datetime.now(UTC))
        process = await asyncio.to_thread(_start, data, env)
        try:
            yield Stack(data, env)
        finally:
            await asyncio.to_thread(_stop, process)


def _start(data: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(data / "launcher.out", "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "deploy.local", "up"], env=env, stdout=out, stderr=out
        )
    try:
        _wait_running(data / "launcher.out", process)
    except BaseException:
        _stop(process)
        raise
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_running(log: Path, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "Anshin is running." in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"the stack did not start:\n{log.read_text(errors='replace')[-3000:]}")
