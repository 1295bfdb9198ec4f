"""The mail of an advisory as a customer would get it, by the mailer's own `render()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.advisory.schemas import Preview
from shared.config import Settings
from shared.mail.render import Delivery, render

SAMPLE_NAME = {"ja": "山田 花子", "en": "Alex Smith", "fr": "Camille Martin"}


def mail_preview(advisory: dict[str, Any], lang: str, settings: Settings, now: datetime) -> Preview:
    """Subject, text and HTML of the mail in `lang`, for a sample customer and purchase."""
    rule = advisory["rule"]
    example = (rule["skus"] or rule["gtins"] or rule["categories"] or ["product"])[0]
    delivery = Delivery(
        advisory_id=advisory["id"],
        customer_id="preview",
        email="customer@example.invalid",
        name=SAMPLE_NAME.get(lang, ""),
        locale=lang,
        agency_name=advisory["agency_name"],
        title=advisory["title"],
        body=advisory["body"],
        source_url=advisory["source_url"],
        purchases=[
            {"channel": "web", "order_id": "PREVIEW", "sku": example, "title": example,
             "placed_at": now.isoformat()}
        ],
    )  # fmt: skip
    mail = render(
        delivery,
        sender=settings.mail_from,
        unsubscribe_url=f"{settings.mailer_public_url}/u/preview",
        list_id="Anshin safety messages <safety.anshin>",
    )
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    return Preview(
        advisory_id=advisory["id"],
        lang=lang,
        subject=str(mail["Subject"]),
        text=text.get_content(),
        html=html.get_content(),
    )
