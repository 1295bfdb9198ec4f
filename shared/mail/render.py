"""Rendering deliveries into a multipart e-mail in the customer's language."""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from shared.mail import mime
from shared.mail.bodies import bodies
from shared.mail.delivery import Delivery
from shared.mail.i18n import STRINGS, language_for

__all__ = [
    "Delivery",
    "compose",
    "digest_id",
    "domain_of",
    "list_id",
    "mail_id",
    "message_id",
    "parse",
    "render",
    "render_digest",
    "safety_page",
]


def _named(advisory_id: str, event_id: str) -> str:
    # A playbook's mail for a declared disaster is a new message each time; everything else
    # (event_id '') keeps the name, and so the Message-ID, it always had.
    return f"{advisory_id}\0{event_id}" if event_id else advisory_id


def message_id(advisory_id: str, customer_id: str, domain: str, event_id: str = "") -> str:
    """A deterministic Message-ID, so a re-sent mail can be recognized as the same one."""
    key = f"{_named(advisory_id, event_id)}\0{customer_id}"
    return f"<{advisory_id}.{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def digest_id(advisory_ids: Sequence[str], customer_id: str, domain: str) -> str:
    """The Message-ID of a digest: the same advisories for the same customer, the same id."""
    key = "\0".join([customer_id, *sorted(advisory_ids)])
    return f"<digest.{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def mail_id(deliveries: Sequence[Delivery], domain: str) -> str:
    """The Message-ID of the mail carrying these deliveries (one advisory, or a digest)."""
    first = deliveries[0]
    if len(deliveries) == 1:
        return message_id(first.advisory_id, first.customer_id, domain, first.event_id)
    # Only routine mail is digested (event_id ''); a stray event still gets its own name.
    names = [_named(d.advisory_id, d.event_id) for d in deliveries]
    return digest_id(names, first.customer_id, domain)


@functools.lru_cache(maxsize=16)
def domain_of(sender: str) -> str:
    """The domain of the From address, which also names Message-IDs."""
    return parseaddr(sender)[1].rpartition("@")[2] or "anshin.invalid"


def list_id(sender: str) -> str:
    """The List-Id of every safety mail from `sender`."""
    return f"Safety messages <safety.{domain_of(sender)}>"


def safety_page(public_url: str, advisory_id: str) -> str:
    """The public page of an advisory that its mail links to; none without a public URL."""
    base = public_url.rstrip("/")
    return f"{base}/safety/{advisory_id}" if base else ""


@functools.lru_cache(maxsize=16)
def _from(sender: str) -> str:
    return mime.address(*parseaddr(sender))


def compose(
    deliveries: Sequence[Delivery],
    *,
    sender: str,
    unsubscribe_url: str,
    list_id: str,
    date: datetime | None = None,
) -> tuple[str, bytes]:
    """Return (Message-ID, wire bytes) of one mail: one advisory, or a digest of several."""
    first = deliveries[0]
    lang = language_for(first.locale)
    t = STRINGS[lang]
    greeting = t["greeting"].format(name=first.name) if first.name else t["greeting_anonymous"]
    subject, text, html = bodies(deliveries, lang, greeting, unsubscribe_url)
    mid = mail_id(deliveries, domain_of(sender))
    headers = [
        ("From", _from(sender)),
        ("To", mime.address(first.name, first.email)),
        ("Subject", mime.header_value(subject)),
        ("Date", format_datetime(date or datetime.now(UTC))),
        ("Message-ID", mid),
        ("Content-Language", lang),
        ("List-Id", list_id),
        ("List-Unsubscribe", f"<{unsubscribe_url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("X-Anshin-Advisory", ",".join(d.advisory_id for d in deliveries)),
    ]
    return mid, mime.alternative(headers, text, html)


def parse(raw: bytes) -> EmailMessage:
    """Wire bytes as an EmailMessage (for previews and tests; the sender sends the bytes)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def render(
    delivery: Delivery,
    *,
    sender: str,
    unsubscribe_url: str,
    list_id: str,
    date: datetime | None = None,
) -> EmailMessage:
    """Build the multipart (text and HTML) message for one delivery."""
    _, raw = compose(
        [delivery], sender=sender, unsubscribe_url=unsubscribe_url, list_id=list_id, date=date
    )
    return parse(raw)


def render_digest(
    deliveries: Sequence[Delivery], *, sender: str, unsubscribe_url: str, list_id: str
) -> EmailMessage:
    """Build one digest mail carrying several advisories for the same customer."""
    _, raw = compose(deliveries, sender=sender, unsubscribe_url=unsubscribe_url, list_id=list_id)
    return parse(raw)
