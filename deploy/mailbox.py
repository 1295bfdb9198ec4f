"""The local mailbox of `make up`: an SMTP server into a Maildir, and a page to read it."""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import html
import mailbox
import signal
from email.message import EmailMessage
from pathlib import Path

from aiohttp import web
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP

MAILDIR = web.AppKey("maildir", mailbox.Maildir)

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60em;padding:1em}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;"
    "text-align:left}iframe{width:100%;height:70vh;border:1px solid #ccc}"
)


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def index(request: web.Request) -> web.Response:
    """A list of every mail received, newest first."""
    box = request.app[MAILDIR]
    rows = []
    for key in sorted(box.keys(), reverse=True)[:500]:  # keys begin with the arrival time
        msg = _parse(box.get_bytes(key))
        rows.append(
            f"<tr><td>{html.escape(str(msg['Date'] or ''))}</td><td>{html.escape(str(msg['To']))}"
            f"</td><td><a href='/m/{html.escape(key)}'>{html.escape(str(msg['Subject']))}</a></td>"
            "</tr>"
        )
    body = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Local mailbox</title>"
        f"<style>{_STYLE}</style></head><body><h1>Local mailbox ({len(rows)})</h1><table>"
        f"<tr><th>Date</th><th>To</th><th>Subject</th></tr>{''.join(rows)}</table></body></html>"
    )
    return web.Response(text=body, content_type="text/html")


async def show(request: web.Request) -> web.Response:
    """One mail: its headers, its text part and its HTML part in a sandboxed frame."""
    box = request.app[MAILDIR]
    try:
        msg = _parse(box.get_bytes(request.match_info["key"]))
    except KeyError as exc:
        raise web.HTTPNotFound() from exc
    text = msg.get_body(("plain",))
    rich = msg.get_body(("html",))
    headers = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in msg.items()
    )
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


async def run(maildir: Path, smtp_port: int, web_port: int) -> None:
    """Serve SMTP and the reading page until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    handler = Mailbox(str(maildir))
    smtp = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost"), "127.0.0.1", smtp_port
    )
    app = web.Application()
    app[MAILDIR] = mailbox.Maildir(str(maildir), create=True)
    app.router.add_get("/", index)
    app.router.add_get("/m/{key}", show)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", web_port).start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    smtp.close()
    await runner.cleanup()


def main() -> None:
    """`python -m deploy.mailbox --maildir DIR --smtp-port N --web-port N`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--web-port", type=int, default=8025)
    args = parser.parse_args()
    for sub in ("tmp", "new", "cur"):  # mailbox.Maildir creates these only for a new folder
        (args.maildir / sub).mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args.maildir, args.smtp_port, args.web_port))


if __name__ == "__main__":
    main()
