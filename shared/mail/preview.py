"""The preview of an advisory's mail: the mail a customer gets, for a stand-in customer.

The mailer previews published advisories for operators; the advisory service previews its
own, embargoed ones too, for their agency. Both are made here, by the renderer that makes
every mail, so a preview differs from a customer's mail only in what is each customer's
own: the greeting, the purchase lines and the unsubscribe link (the frame's holes, bodies.py).
"""

from __future__ import annotations

import msgspec

from shared.mail.delivery import Delivery
from shared.mail.render import compose, list_id, parse, safety_page

# The stand-in customer of a preview in each language: a name, and a product bought.
SAMPLE = {
    "ja": ("山田 花子", "モバイルバッテリー 10000mAh"),
    "en": ("Jane Doe", "Power bank 10000 mAh"),
    "fr": ("Camille Martin", "Batterie externe 10000 mAh"),
}
SAMPLE_EMAIL = "customer@example.com"


class Advice(msgspec.Struct, frozen=True, kw_only=True):
    """What a mail says of one advisory, whoever receives it."""

    advisory_id: str
    agency_name: str
    kind: str
    title: dict[str, str]
    body: dict[str, str]
    source_url: str


class Preview(msgspec.Struct, frozen=True, kw_only=True):
    """A mail as its reader sees it: subject, headers, plain text and HTML."""

    subject: str
    headers: dict[str, str]
    text: str
    html: str


def preview(
    advice: Advice,
    lang: str,
    *,
    sender: str,
    public_url: str,
    unsubscribe_url: str,
    mailer_url: str = "",
) -> Preview:
    """The mail of `advice` in `lang` (one of SAMPLE's) as the stand-in customer gets it; with
    `mailer_url`, its two answer links as stand-ins (a customer's are signed per delivery)."""
    name, product = SAMPLE[lang]
    answer = f"{mailer_url.rstrip('/')}/a/preview" if mailer_url else ""
    delivery = Delivery(
        advisory_id=advice.advisory_id,
        customer_id="preview",
        email=SAMPLE_EMAIL,
        name=name,
        locale=lang,
        agency_name=advice.agency_name,
        title=advice.title,
        body=advice.body,
        source_url=advice.source_url,
        purchases=[{"order_id": "A-0001", "sku": "SAMPLE", "title": product}],
        kind=advice.kind,
        page_url=safety_page(public_url, advice.advisory_id),
        checked_url=answer,
        gone_url=answer,
    )
    _, raw = compose(
        [delivery], sender=sender, unsubscribe_url=unsubscribe_url, list_id=list_id(sender)
    )
    mail = parse(raw)
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    return Preview(
        subject=str(mail["Subject"]),
        headers={k: str(v) for k, v in mail.items()},
        text=text.get_content(),
        html=html.get_content(),
    )
