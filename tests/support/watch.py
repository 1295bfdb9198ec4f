"""Watching for leaks: every message on the bus, every log line, every mail, searched for words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg


class BusTap:
    """A core NATS subscription to `>`: every message any service sends, stored or not."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []  # subject, headers and payload of each message
        self._nc: Client | None = None

    async def start(self, url: str) -> None:
        """Subscribe to everything."""
        servers = [s.strip() for s in url.split(",") if s.strip()]
        self._nc = await nats.connect(servers=servers, max_reconnect_attempts=-1)

        async def keep(msg: Msg) -> None:
            headers = " ".join(f"{k}={v}" for k, v in (msg.headers or {}).items())
            self.seen.append(f"{msg.subject} {msg.reply} {headers} ".encode() + msg.data)

        await self._nc.subscribe(">", cb=keep)
        await self._nc.flush()

    async def flush(self) -> None:
        """Make sure what the server sent so far has been handled."""
        if self._nc is not None:
            await self._nc.flush()

    async def stop(self) -> None:
        """Close the connection."""
        if self._nc is not None:
            await self._nc.close()

    def containing(self, *words: str) -> list[bytes]:
        """The messages that contain any of the words."""
        needles = [w.encode() for w in words]
        return [m for m in self.seen if any(n in m for n in needles)]


def lines_containing(files: Iterable[Path], *words: str) -> list[str]:
    """Lines of the files that contain any of the words (a log line, a metric)."""
    found = []
    for path in files:
        text = path.read_text(errors="replace")
        if any(w in text for w in words):
            found += [line for line in text.splitlines() if any(w in line for w in words)]
    return found


EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def emails_in(text: str, allowed: Iterable[str] = ()) -> set[str]:
    """E-mail addresses in a text, but those allowed (the service's own From:)."""
    return set(EMAIL.findall(text)) - set(allowed)


async def metrics_texts(urls: Iterable[str]) -> dict[str, str]:
    """The /metrics page of each service base URL (those that answer)."""
    import aiohttp

    pages = {}
    async with aiohttp.ClientSession() as http:
        for url in urls:
            try:
                async with http.get(f"{url}/metrics") as reply:
                    pages[url] = await reply.text()
            except aiohttp.ClientError:
                pass
    return pages


def personal_data(texts: dict[str, str], patterns: Iterable[str]) -> list[str]:
    """Every line of the texts (logs, metrics) that matches a pattern of personal data."""
    compiled = [re.compile(p) for p in patterns]
    return [
        f"{name}: {line[:200]}"
        for name, text in texts.items()
        for line in text.splitlines()
        if any(c.search(line) for c in compiled)
    ]
