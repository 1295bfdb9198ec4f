"""Real faults for the reliability runs: a counting SMTP server that can defer, a NATS cluster.

`CountingSink` is an aiosmtpd server in the test's own process that counts every Message-ID
it accepts (so a duplicate is seen at the server, whatever the mailer's ledger says) and can
answer 451 to a share of the messages for a while. `NatsCluster` is three `nats-server`
processes on loopback with routes between them and JetStream clustered, one of which a
test can SIGKILL.
"""

from __future__ import annotations

import collections
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from deploy.servers import free_port, nats_server_binary, wait_for_http, wait_for_port
from tests.support.smtp import LoopbackSmtp

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class CountingSink(LoopbackSmtp):
    """Accepts mail and counts it by Message-ID and recipient; may defer a share with 451."""

    def __init__(self, seed: int = 8, keep: bool = False) -> None:
        super().__init__()
        self.by_id: collections.Counter[str] = collections.Counter()
        self.recipients: dict[str, set[str]] = collections.defaultdict(set)  # id -> addresses
        self.data_attempts = 0
        self.deferred = 0
        self.defer_share = 0.0
        self.keep = keep
        self.kept: list[tuple[float, bytes]] = []  # (wall time, raw) of each accepted mail
        self._random = random.Random(seed)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept every recipient."""
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Count the message, or defer it when the dice say so."""
        raw = envelope.original_content or b""
        self.data_attempts += 1
        if self.defer_share and self._random.random() < self.defer_share:
            self.deferred += 1
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        found = _MESSAGE_ID.search(raw.split(b"\r\n\r\n", 1)[0])
        message_id = found.group(1).decode() if found else f"<none-{self.data_attempts}>"
        self.by_id[message_id] += 1
        self.recipients[message_id].update(envelope.rcpt_tos)
        if self.keep:
            self.kept.append((time.time(), raw))
        return "250 Message accepted"

    def of_advisory(self, advisory_id: str) -> dict[str, int]:
        """Message-ID -> times accepted, for the mails of one advisory."""
        prefix = f"<{advisory_id}."
        return {mid: n for mid, n in self.by_id.items() if mid.startswith(prefix)}

    def addresses_of(self, advisory_id: str) -> collections.Counter[str]:
        """Address -> distinct mails of the advisory it received."""
        seen: collections.Counter[str] = collections.Counter()
        for mid in self.of_advisory(advisory_id):
            seen.update(self.recipients[mid])
        return seen


class NatsNode:
    """One member of a cluster: client, route and monitoring ports, its own store."""

    def __init__(self, root: Path, name: str) -> None:
        self.name, self.store = name, root / name
        self.port, self.route_port, self.monitor_port = free_port(), free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None


class NatsCluster:
    """Three nats-server processes on loopback, routed to each other, JetStream clustered."""

    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        self.nodes = [NatsNode(root, f"n{i + 1}") for i in range(size)]

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated, as NATS_URL takes them."""
        return ",".join(f"nats://127.0.0.1:{n.port}" for n in self.nodes)

    def start(self) -> NatsCluster:
        """Start every node, then wait until each reports JetStream healthy."""
        for node in self.nodes:
            self.start_node(node)
        for node in self.nodes:
            self.wait_healthy(node)
        return self

    def start_node(self, node: NatsNode) -> None:
        """Start (or restart) one node on its ports and store."""
        node.store.mkdir(parents=True, exist_ok=True)
        routes = ",".join(f"nats://127.0.0.1:{n.route_port}" for n in self.nodes if n is not node)
        log = open(self.root / f"{node.name}.log", "ab")  # noqa: SIM115
        node.process = subprocess.Popen(
            [
                nats_server_binary(),
                *("-a", "127.0.0.1", "-p", str(node.port), "-m", str(node.monitor_port)),
                *("-js", "-sd", str(node.store), "--server_name", node.name),
                *("--cluster_name", "anshin", "--cluster", f"nats://127.0.0.1:{node.route_port}"),
                *("--routes", routes),
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        wait_for_port(node.port)

    def wait_healthy(self, node: NatsNode, timeout: float = 60.0) -> None:
        """Block until the node's /healthz says JetStream is current."""
        wait_for_http(f"http://127.0.0.1:{node.monitor_port}/healthz", timeout)

    def kill(self, node: NatsNode) -> None:
        """SIGKILL one node: no lame duck, no goodbye."""
        if node.process is not None and node.process.poll() is None:
            os.kill(node.process.pid, signal.SIGKILL)
            node.process.wait()

    def stop(self) -> None:
        """Stop every node that still runs."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()
