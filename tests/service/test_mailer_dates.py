"""The mailer dates each purchase in the customer's own zone and language, from its contacts."""

from __future__ import annotations

from datetime import UTC, datetime

from services.mailer.app import build
from shared import bus
from shared import messages as m
from shared.bus.topology import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import advisory, customers, nats
from tests.support.parts import part_text
from tests.support.smtp import SmtpSink

# 08:30 on 2 January in Tokyo, 00:30 on 2 January in Paris, 15:30 on 1 January in Los Angeles.
PLACED = datetime(2024, 1, 1, 23, 30, tzinfo=UTC)
SHOWN = {
    "c-ja": "ご注文日 2024年1月2日",
    "c-fr": "commandé le 2 janvier 2024",
    "c-en": "ordered on January 1, 2024",
}


async def test_each_customer_reads_the_order_date_of_their_own_calendar(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    people = [
        ("c-ja", "ja@example.jp", "ja-JP", "Asia/Tokyo"),
        ("c-fr", "fr@example.fr", "fr-FR", "Europe/Paris"),
        ("c-en", "en@example.com", "en-US", "America/Los_Angeles"),
    ]
    batch = m.DeliveryBatch(
        batch_id="adv-dates:0",
        advisory_id="adv-dates",
        kind="short_term",
        priority=m.Priority.SHORT_TERM,
        requested_at=datetime.now(UTC),
        recipients=[
            m.Recipient(customer_id=c, reason="purchase", purchases=[m.Purchase(
                channel="web", order_id=f"A-{c}", sku="PB-1", title="PB", placed_at=PLACED)])
            for c, *_ in people
        ],
    )  # fmt: skip
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-dates")
        await bus.publish(nc, Subjects.DELIVERIES_REQUESTED, batch, "batch:adv-dates:0")
        mails = await smtp_sink.wait_for(3)
    by_address = {str(mail["To"]): mail for mail in mails}
    for customer, address, *_ in people:
        mail = by_address[address]
        for part in (part_text(mail, "plain"), part_text(mail, "html")):
            assert SHOWN[customer] in part, (customer, part)
            assert "2024-01-01" not in part
