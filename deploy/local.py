"""`make up`: the whole stack on one machine; `make down` stops it.

Where NATS_URL or DATABASE_URL is unset, an embedded NATS server (JetStream) and an
embedded PostgreSQL are started with their data under the data directory; where
ANSHIN_SMTP_HOST is unset, a local mailbox (SMTP into a Maildir, and a page to read it).
The embedded NATS server has the users of production, one per role, each allowed only its
own subjects; their passwords are made on first use and kept in the data directory.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from deploy.local_env import SERVICES, local_env, secured_nats
from deploy.local_summary import summary
from deploy.servers import NatsServer, Postgres, wait_for_http, wait_for_port
from shared import config
from shared.bus.roles import OPERATOR
from shared.config import Settings, env_name


def _port(settings: Settings, service: str) -> int:
    port: int = getattr(settings, f"{service}_port")
    return port


class Stack:
    """The processes of a local stack, started in order and stopped in reverse."""

    def __init__(self, data: Path) -> None:
        self.data = data.resolve()
        self.logs = self.data / "logs"
        self.pids = self.data / "pids"
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.nats: NatsServer | None = None
        self.nats_passwords: dict[str, str] = {}
        self.postgres: Postgres | None = None

    def start(self) -> dict[str, str]:
        """Start everything; return the environment the services run with."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pids.mkdir(parents=True, exist_ok=True)
        env = local_env(dict(os.environ), self.data)
        launch = config.load(env)
        if not os.environ.get("NATS_URL"):
            self.nats, self.nats_passwords = secured_nats(
                self.data, launch.embedded_nats_port, self.logs / "nats.log"
            )
            env["NATS_URL"] = self.nats.start().url
        if not os.environ.get("DATABASE_URL"):
            self.postgres = Postgres(self.data / "pg").start()
            env["DATABASE_URL"] = self.postgres.create_database("anshin")
        settings = config.load(env)
        if not os.environ.get(env_name("smtp_host")):
            self._spawn(
                "mailbox",
                [
                    sys.executable,
                    "-m",
                    "deploy.mailbox",
                    "--maildir",
                    str(self.data / "mail"),
                    "--smtp-port",
                    str(settings.smtp_port),
                    "--web-port",
                    str(settings.mailbox_web_port),
                ],
                env,
            )
            wait_for_port(settings.smtp_port)
        for service in SERVICES:
            argv = [sys.executable, "-m", f"services.{service}"]
            self._spawn(service, argv, self._service_env(env, service))
        for service in SERVICES:
            self._wait_ready(service, _port(settings, service))
        if settings.bounce_smtp_port:  # the mailer's own endpoint for returned mail
            wait_for_port(settings.bounce_smtp_port)
        (self.data / "anshin.pid").write_text(str(os.getpid()))
        return env

    def _wait_ready(self, name: str, port: int, timeout: float = 60.0) -> None:
        """Wait until a child answers its readiness page; fail at once if it exits first."""
        process = dict(self.children)[name]
        try:
            wait_for_http(
                f"http://127.0.0.1:{port}/readyz", timeout, lambda: process.poll() is None
            )
        except ChildProcessError:
            log = self.logs / f"{name}.log"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise RuntimeError(
                f"{name} exited (code {process.returncode}) before it was ready; "
                f"the end of {log}:\n{tail}"
            ) from None

    def _service_env(self, env: dict[str, str], service: str) -> dict[str, str]:
        """A service's environment: its own NATS user on the embedded server."""
        if not self.nats_passwords:
            return env  # a server of the caller's, with the caller's credentials if any
        own = {
            env_name("nats_user"): service,
            env_name("nats_password"): self.nats_passwords[service],
        }
        if service == "advisory":  # the console's bus views: dead letters, replays, lag
            own[env_name("nats_operator_password")] = self.nats_passwords[OPERATOR]
        return env | own

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.children.append((name, self._popen(name, argv, env)))
        self.commands[name] = (argv, env)

    def _popen(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                argv, env=env, stdout=log, stderr=log, start_new_session=True
            )
        (self.pids / f"{name}.pid").write_text(str(process.pid))
        return process

    def revive(self) -> list[str]:
        """Restart every child that exited on its own (a crash or a kill); return their names."""
        revived = []
        for index, (name, process) in enumerate(self.children):
            if process.poll() is not None:
                argv, env = self.commands[name]
                self.children[index] = (name, self._popen(name, argv, env))
                revived.append(f"{name} (exit {process.returncode})")
        return revived

    def stop(self) -> None:
        """Stop the services, then the mailbox, then NATS and PostgreSQL."""
        for _, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        for _, process in reversed(self.children):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.nats is not None:
            self.nats.stop()
        if self.postgres is not None:
            self.postgres.stop()
        (self.data / "anshin.pid").unlink(missing_ok=True)


def up(data: Path) -> int:
    """Start the stack and keep it running until Ctrl-C or `make down`."""
    stack = Stack(data)
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        env = stack.start()
        settings = config.load(env)
        print(summary(settings, env, stack), flush=True)
        while not stopping:
            for revived in stack.revive():
                print(f"restarted {revived}; see {stack.logs}", flush=True)
            time.sleep(0.5)
    finally:
        print("stopping Anshin...", flush=True)
        stack.stop()
    return 0


def down(data: Path) -> int:
    """Ask a running `make up` to stop, and wait for it."""
    pid_file = data / "anshin.pid"
    if not pid_file.exists():
        print("Anshin is not running.")
        return 0
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        print("Anshin was not running (stale pid file removed).")
        return 0
    for _ in range(600):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("Anshin stopped.")
            return 0
        time.sleep(0.1)
    print("Anshin did not stop within a minute.", file=sys.stderr)
    return 1


def main() -> int:
    """`python -m deploy.local [up|down]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["up", "down"], nargs="?", default="up")
    args = parser.parse_args()
    data = Path(config.load().data_dir)
    return up(data) if args.action == "up" else down(data)


if __name__ == "__main__":
    sys.exit(main())
