"""Rendering a delivery into a multipart e-mail in the customer's language."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import Any

import jinja2
import msgspec

from services.mailer.i18n import STRINGS, language_for, pick

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("services.mailer", "templates"),
    autoescape=jinja2.select_autoescape(["html", "html.j2"]),
    trim_blocks=False,
    undefined=jinja2.StrictUndefined,
)
_text = _env.get_template("advisory.txt.j2")
_html = _env.get_template("advisory.html.j2")


class Delivery(msgspec.Struct, kw_only=True):
    """Everything needed to render one mail."""

    advisory_id: str
    customer_id: str
    email: str
    name: str
    locale: str
    agency_name: str
    title: dict[str, str]
    body: dict[str, str]
    source_url: str
    purchases: list[dict[str, Any]]


def message_id(advisory_id: str, customer_id: str, domain: str) -> str:
    """A deterministic Message-ID, so a re-sent mail can be recognized as the same one."""
    digest = hashlib.sha256(f"{advisory_id}\0{customer_id}".encode()).hexdigest()[:32]
    return f"<{advisory_id}.{digest}@{domain}>"


def render(delivery: Delivery, *, sender: str, unsubscribe_url: str, list_id: str) -> EmailMessage:
    """Build the multipart (text and HTML) message for one delivery."""
    lang = language_for(delivery.locale)
    context = {
        "lang": lang,
        "t": STRINGS[lang],
        "name": delivery.name,
        "agency": delivery.agency_name,
        "title": pick(delivery.title, lang),
        "body": pick(delivery.body, lang),
        "purchases": delivery.purchases,
        "source_url": delivery.source_url,
        "unsubscribe_url": unsubscribe_url,
    }
    domain = parseaddr(sender)[1].rpartition("@")[2] or "anshin.invalid"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((delivery.name, delivery.email)) if delivery.name else delivery.email
    msg["Subject"] = context["title"]
    msg["Message-ID"] = message_id(delivery.advisory_id, delivery.customer_id, domain)
    msg["Content-Language"] = lang
    msg["List-Id"] = list_id
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Anshin-Advisory"] = delivery.advisory_id
    msg.set_content(_text.render(context))
    msg.add_alternative(_html.render(context), subtype="html")
    return msg
