"""An agency's preview is the mail its customers get, byte for byte, in every language.

Only what is each customer's own may differ: the greeting, the lines naming their purchase
and their unsubscribe link (the holes of the mail's frame, shared/mail/bodies.py).
"""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta
from email.message import EmailMessage

import aiohttp

from shared.clock import Clock
from shared.config import Settings
from shared.languages import SUPPORTED
from tests.support.advisory import new_agency
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink

CUSTOMERS = {"ja": "ja-JP", "en": "en-GB", "fr": "fr-FR"}
_UNSUBSCRIBE = re.compile(r"https?://[^\s\"<>]+/u/[^\s\"<>]+")
# A customer's own signed links (the safety page's, the two answers); the preview's stand-ins.
_OWN = re.compile(r"https?://127\.0\.0\.1:\d+/(?:r|a|safety)/[^\s\"<>]+")
_GREETING_HTML = re.compile(r'<p style="margin:0 0 12px;">[^<]*</p>')
_PURCHASE_HTML = re.compile(r'<tr><td style="padding:2px 0;font-size:15px;">&#8226;.*?</td></tr>')


def _text_frame(text: str) -> str:
    """The text without its greeting (the first line) and purchase lines, links as one."""
    lines = text.splitlines()[1:]
    kept = [line for line in lines if not line.startswith("  * ")]
    return _OWN.sub("<own>", _UNSUBSCRIBE.sub("<unsubscribe>", "\n".join(kept)))


def _html_frame(html: str) -> str:
    """The HTML without its greeting and purchase rows, the unsubscribe link as one."""
    html = _GREETING_HTML.sub("<greeting>", html, count=1)
    return _OWN.sub(
        "<own>", _UNSUBSCRIBE.sub("<unsubscribe>", _PURCHASE_HTML.sub("<purchase>", html))
    )


def _parts(mail: EmailMessage) -> tuple[str, str]:
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


async def test_the_preview_is_the_mail_a_customer_gets_but_for_what_is_theirs(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, advisory = urls["ingest"], urls["advisory"]
        mine = await new_agency(settings, "製品安全研究所")
        shop = await channel_header(settings, "shop-catalog", catalog=True)
        web = await channel_header(settings, "web")
        catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
        await expect(await http.put(f"{ingest}/v1/catalog", json=catalog, headers=shop), 200)
        created = await expect(
            await http.post(
                f"{advisory}/v1/advisories",
                json=power_bank_advisory(clock.now() + timedelta(hours=1)),
                headers=mine,
            ),
            201,
        )
        url = f"{advisory}/v1/advisories/{created['id']}/preview"
        previews = {
            lang: await expect(await http.get(url, params={"lang": lang}, headers=mine), 200)
            for lang in SUPPORTED
        }
        for i, (lang, locale) in enumerate(CUSTOMERS.items()):
            bought = order(
                f"A-{i}",
                clock.now() - timedelta(days=2),
                customer=f"c-{lang}",
                locale=locale,
                email=f"{lang}@example.jp",
            )
            await expect(await http.post(f"{ingest}/v1/orders", json=bought, headers=web), 202)

        clock.advance(timedelta(hours=1, seconds=1))
        mails = await smtp_sink.wait_for(len(CUSTOMERS))

    assert sorted(str(mail["Content-Language"]) for mail in mails) == sorted(SUPPORTED)
    for mail in mails:
        preview = previews[str(mail["Content-Language"])]
        text, html = _parts(mail)
        assert str(mail["Subject"]) == preview["subject"]
        assert _text_frame(text) == _text_frame(preview["text"])
        assert _html_frame(html) == _html_frame(preview["html"])
        # What the frames leave out is the customer's own, and it is there.
        assert "<unsubscribe>" in _text_frame(text) and "<purchase>" in _html_frame(html)
        assert _text_frame(text).count("<own>") == 3  # the safety page and the two answers
