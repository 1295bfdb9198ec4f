"""The local mailbox of `make up`: an SMTP server into a Maildir (raw bytes, parsed only when
shown: deploy/maildir.py), and a page to read it, newest first, a page at a time."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import signal
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from deploy import maildir
from deploy.mailbox_smtp import QuickSMTP
from shared.service import run as run_on_uvloop

MAILDIR = web.AppKey("maildir", Path)
LISTING = web.AppKey("listing", maildir.Listing)
PER_PAGE = 50
MOST_PAGES = 10**6

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60em;padding:1em}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;"
    "text-align:left}iframe{width:100%;height:70vh;border:1px solid #ccc}"
)


class RawMaildir:
    """An aiosmtpd handler that writes each mail's bytes as they came: nothing parsed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the mail, its envelope prepended as headers."""
        content = envelope.original_content or b""
        peer = str(session.peer)
        mail_from = envelope.mail_from or ""
        top = maildir.envelope_headers(peer, mail_from, list(envelope.rcpt_tos))
        maildir.deliver(self.root, top + content)
        return "250 OK"

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, lines: list[str]
    ) -> list[str]:
        """aiosmtpd's EHLO answer with PIPELINING: QuickSMTP answers a pipelined group in order
        and in one write (RFC 2920)."""
        session.host_name = hostname  # aiosmtpd leaves this to an EHLO hook
        return [*lines[:-1], "250-PIPELINING", lines[-1]]


def _problem(field: str, problem: str) -> web.Response:
    body = {"error": "bad request", "details": [{"field": field, "problem": problem}]}
    return web.json_response(body, status=400)


def _text(value: object) -> str:
    return html.escape(str(value or ""))


async def index(request: web.Request) -> web.Response:
    """One page of the mail received, newest first."""
    text = request.query.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= MOST_PAGES:
        return _problem("page", f"a whole number from 1 to {MOST_PAGES}")
    page, root = int(text), request.app[MAILDIR]
    keys = request.app[LISTING].keys()
    pages = max(1, -(-len(keys) // PER_PAGE))
    rows = []
    for key in keys[(page - 1) * PER_PAGE : page * PER_PAGE]:
        path = maildir.path_of(root, key)
        if path is None:  # read since the listing was: gone
            continue
        msg = maildir.head(path)
        rows.append(
            f"<tr><td>{_text(msg['Date'])}</td><td>{_text(msg['To'])}</td>"
            f"<td><a href='/m/{html.escape(key)}'>{_text(msg['Subject'])}</a></td></tr>"
        )
    links = []
    if page > 1:
        links.append(f"<a rel='prev' href='/?page={page - 1}'>Newer</a>")
    if page < pages:
        links.append(f"<a rel='next' href='/?page={page + 1}'>Older</a>")
    body = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Local mailbox</title>"
        f"<style>{_STYLE}</style></head><body><h1>Local mailbox ({len(keys)})</h1>"
        f"<p>Page {page} of {pages}. {' · '.join(links)}</p><table>"
        f"<tr><th>Date</th><th>To</th><th>Subject</th></tr>{''.join(rows)}</table></body></html>"
    )
    return web.Response(text=body, content_type="text/html")


async def show(request: web.Request) -> web.Response:
    """One mail: its headers, its text part and its HTML part in a sandboxed frame."""
    path = maildir.path_of(request.app[MAILDIR], request.match_info["key"])
    if path is None:
        raise web.HTTPNotFound()
    msg = maildir.whole(path)
    text = msg.get_body(("plain",))
    rich = msg.get_body(("html",))
    headers = "".join(f"<tr><th>{_text(k)}</th><td>{_text(v)}</td></tr>" for k, v in msg.items())
    frame = ""
    if rich is not None:
        frame = f'<iframe sandbox srcdoc="{html.escape(rich.get_content())}"></iframe>'
    body = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Mail</title>"
        f"<style>{_STYLE}</style></head><body><p><a href='/'>All mail</a></p>"
        f"<table>{headers}</table>{frame}"
        f"<pre>{html.escape(text.get_content() if text is not None else '')}</pre></body></html>"
    )
    return web.Response(text=body, content_type="text/html")


def reading(root: Path) -> web.Application:
    """The reading page's application."""
    app = web.Application()
    app[MAILDIR] = root
    app[LISTING] = maildir.Listing(root)
    app.router.add_get("/", index)
    app.router.add_get("/m/{key}", show)
    return app


@contextlib.asynccontextmanager
async def serving(root: Path, smtp_port: int, web_port: int) -> AsyncIterator[None]:
    """SMTP into the Maildir and the reading page, on 127.0.0.1, while the block runs."""
    maildir.prepare(root)
    handler = RawMaildir(root)
    smtp = await asyncio.get_running_loop().create_server(
        lambda: QuickSMTP(handler, hostname="localhost"), "127.0.0.1", smtp_port
    )
    runner = web.AppRunner(reading(root), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", web_port).start()
        yield
    finally:
        smtp.close()
        await runner.cleanup()


async def run(root: Path, smtp_port: int, web_port: int) -> None:
    """Serve SMTP and the reading page until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with serving(root, smtp_port, web_port):
        await stop.wait()


def main() -> None:
    """`python -m deploy.mailbox --maildir DIR --smtp-port N --web-port N`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--web-port", type=int, default=8025)
    args = parser.parse_args()
    run_on_uvloop(run(args.maildir, args.smtp_port, args.web_port))


if __name__ == "__main__":
    main()
