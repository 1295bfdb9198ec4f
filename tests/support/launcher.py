"""`make up` as the e2e tests run it: `python -m deploy.local up` in a child process."""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from deploy.local_env import free_ports


class Ran(NamedTuple):
    """How a command ended: its exit status and what it printed."""

    code: int
    out: str
    err: str


async def python(env: dict[str, str], *argv: str, stdin: bytes = b"", timeout: float = 180) -> Ran:
    """Run `python -m ARGV...` with `env` without blocking the event loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *argv,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


class Launcher:
    """`python -m deploy.local up` in a child process, on free ports and a data dir of ours."""

    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.data = data
        self.env = env
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.local", "up"],
            env=self.env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 90
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            lines.append(line)
            if "Anshin is running." in line or not line:
                break
        assert "Anshin is running." in "".join(lines), "".join(lines)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def pid_of(self, service: str) -> int:
        return int((self.data / "pids" / f"{service}.pid").read_text())

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.env[f'ANSHIN_{service.upper()}_PORT']}"

    def mails(self) -> list[mailbox.MaildirMessage]:
        return list(mailbox.Maildir(str(self.data / "mail"), create=False))


def launch_env(data: Path, **servers: str) -> dict[str, str]:
    """The environment of a launcher on free ports; NATS_URL/DATABASE_URL only where given."""
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    env.update(servers)
    ports = {name: port for name, port in free_ports().items() if name not in servers}
    env.update({"ANSHIN_DATA_DIR": str(data), "ANSHIN_QUIET_HOURS": "off", **ports})
    env.pop("ANSHIN_SMTP_HOST", None)
    return env


@contextlib.contextmanager
def launched(data: Path, **servers: str) -> Iterator[Launcher]:
    """A running stack on free ports with its data in `data`; stopped on exit."""
    stack = Launcher(data, launch_env(data, **servers))
    try:
        stack.start()  # inside: a stack that fails to start is stopped and its pipe closed
        yield stack
    finally:
        stack.stop()
