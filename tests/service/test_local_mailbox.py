"""The local mailbox of `make up` over real SMTP and HTTP: a mail is kept byte for byte as it
came (the envelope prepended), the reading page lists many mails a page at a time, newest
first, and shows one parsed; hostile page numbers and keys are refused."""

from __future__ import annotations

import mailbox
import re
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib

from deploy import maildir
from deploy.mailbox import PER_PAGE, serving
from deploy.servers import free_port

MANY = 3 * PER_PAGE * 4 + 7  # 607: twelve full pages and one of seven


def _mail(n: int) -> bytes:
    return (
        f"From: shop@anshin.example\r\nTo: c{n}@example.jp\r\nSubject: Advice {n}\r\n"
        f"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{n}@anshin.example>\r\n\r\n"
        f"Body {n}\r\n"
    ).encode()


def subjects(page: str) -> list[str]:
    return re.findall(r"<a href='/m/[^']+'>([^<]*)</a>", page)


async def test_mail_is_kept_raw_and_read_a_page_at_a_time_newest_first(tmp_path: Path) -> None:
    root, smtp_port, web_port = tmp_path / "mail", free_port(), free_port()
    async with serving(root, smtp_port, web_port), aiohttp.ClientSession() as http:
        # One written the way mailbox.Maildir (and the earlier mailbox) did: still read.
        old = mailbox.Maildir(str(root), create=False)
        old_key = old.add(_mail(0))
        for n in range(1, MANY):
            maildir.deliver(root, _mail(n))
        message = EmailMessage()
        message["From"], message["To"] = "shop@anshin.example", "hanako@example.jp"
        message["Subject"] = "地震のあとの発電機"
        message.set_content("一酸化炭素に注意してください。")
        message.add_alternative("<p>一酸化炭素に<b>注意</b>してください。</p>", subtype="html")
        sent = message.as_bytes()
        await aiosmtplib.send(
            message, hostname="127.0.0.1", port=smtp_port, sender="bounce+x@anshin.example"
        )
        # Kept as the bytes came (line ends as SMTP carries them), nothing parsed and written
        # again: only the envelope before them.
        newest = sorted((root / "new").iterdir())[-1]
        kept = newest.read_bytes()
        head, _, rest = kept.partition(b"X-RcptTo: hanako@example.jp\r\n")
        assert head.startswith(b"X-Peer: ") and b"X-MailFrom: bounce+x@anshin.example" in head
        assert rest == sent.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

        base = f"http://127.0.0.1:{web_port}"
        async with http.get(f"{base}/") as reply:
            first = await reply.text()
        assert f"Local mailbox ({MANY + 1})" in first and "Page 1 of 13" in first
        assert subjects(first) == ["地震のあとの発電機"] + [
            f"Advice {n}" for n in range(MANY - 1, MANY - PER_PAGE, -1)
        ]
        async with http.get(f"{base}/?page=13") as reply:
            last = await reply.text()
        assert subjects(last) == [f"Advice {n}" for n in range(7, -1, -1)]
        assert "rel='next'" not in last and "href='/?page=12'" in last

        link = re.search(r"<a href='(/m/[^']+)'>地震", first).group(1)  # type: ignore[union-attr]
        async with http.get(base + link) as reply:
            shown = await reply.text()
        assert "一酸化炭素に注意してください。" in shown and "&lt;b&gt;注意&lt;/b&gt;" in shown
        async with http.get(f"{base}/m/{old_key}") as reply:
            assert reply.status == 200 and "Body 0" in await reply.text()

        for bad in ("0", "-1", "abc", "1.5", "9" * 30):
            async with http.get(f"{base}/", params={"page": bad}) as reply:
                body = await reply.json()
            assert reply.status == 400 and body["details"][0]["field"] == "page"
        for key in ("..%2F..%2Fetc%2Fpasswd", ".hidden", "nothing-here"):
            async with http.get(f"{base}/m/{key}") as reply:
                assert reply.status == 404
