"""Returned mail on the stack as `make up` runs it (its bounce endpoint on a free port here,
2525 by default): the mail in the local mailbox went out with a signed return path, and a
published DSN sent back to that address suppresses the customer, as the CLI then shows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import aiosmtplib

from tests.support.keys import bearer, created_key
from tests.support.launcher import launched, python
from tests.support.shop import expect, order, power_bank_advisory

DSN = Path(__file__).parents[1] / "fixtures" / "bounces" / "smtp" / "flufl-dsn_12.eml"


async def test_make_up_takes_returned_mail_on_its_bounce_port(
    tmp_path: Path, database_url: str, http: aiohttp.ClientSession
) -> None:
    with launched(tmp_path / "data", DATABASE_URL=database_url) as stack:
        port = int(stack.env["ANSHIN_BOUNCE_SMTP_PORT"])
        agency = bearer(created_key(stack.env, "agency", "create", "Consumer Safety Institute"))
        shop = bearer(created_key(stack.env, "channel", "create", "shop-catalog", "--catalog"))
        web = bearer(created_key(stack.env, "channel", "create", "web"))
        ingest, advisory = stack.url("ingest"), stack.url("advisory")
        catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
        await expect(await http.put(f"{ingest}/v1/catalog", json=catalog, headers=shop), 200)
        now = datetime.now(UTC)
        advice = power_bank_advisory(now + timedelta(seconds=2))
        await expect(await http.post(f"{advisory}/v1/advisories", json=advice, headers=agency), 201)
        the_order = order("A-1", now - timedelta(days=1), email="userx@example.jp")
        await expect(await http.post(f"{ingest}/v1/orders", json=the_order, headers=web), 202)
        async with asyncio.timeout(40):
            while not stack.mails():
                await asyncio.sleep(0.2)
        [mail] = stack.mails()
        return_path = str(mail["X-MailFrom"])  # the envelope sender, as the mailbox kept it
        assert return_path.startswith("bounce+") and return_path.endswith("@anshin.example")
        assert "userx" not in return_path

        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
        await smtp.connect()
        await smtp.mail("")
        await smtp.rcpt(return_path)
        answer = await smtp.data(DSN.read_bytes())
        await smtp.quit()
        assert answer.message == "2.0.0 hard report suppressed"
        listed = (await python(stack.env, "services.cli", "suppression", "list")).out
        assert "userx@example.jp  bounce" in listed and "5.1.1" in listed
