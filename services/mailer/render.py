"""Rendering deliveries into a multipart e-mail in the customer's language."""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

import jinja2
import markupsafe
import msgspec

from services.mailer import mime
from services.mailer.i18n import STRINGS, language_for, pick, why
from shared import richtext


class _Environment(jinja2.Environment):
    """Looks `a.b` up as a key first: the templates read dicts, and a failed attribute
    lookup per expression (jinja's default order) was a tenth of the render."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict, fixed when it is loaded.

        Jinja's ChainMap is copied key by key into every render's context: with it, making
        the context was a fifth of the render. Nothing here changes globals after loading.
        """
        return {**self.globals, **(d or {})}


_env = _Environment(
    loader=jinja2.PackageLoader("services.mailer", "templates"),
    autoescape=jinja2.select_autoescape(["html", "html.j2"]),
    undefined=jinja2.StrictUndefined,
)
_text = _env.get_template("mail.txt.j2")
_html = _env.get_template("mail.html.j2")


class Delivery(msgspec.Struct, kw_only=True):
    """Everything needed to render one advisory for one customer."""

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
    kind: str = ""
    reason: str = ""
    page_url: str = ""
    event_id: str = ""  # the declared disaster of a playbook's delivery; '' for the rest


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


def _purchase(p: dict[str, Any], t: dict[str, str]) -> dict[str, str]:
    details = []
    if p.get("order_id"):
        details.append(t["order"].format(order_id=p["order_id"]))
    if p.get("placed_at"):
        details.append(t["ordered_on"].format(date=str(p["placed_at"])[:10]))
    return {"title": p.get("title") or p.get("sku") or "", "details": ", ".join(details)}


@functools.lru_cache(maxsize=256)
def _body_html(body: str) -> markupsafe.Markup:
    """The agency's Markdown as sanitized HTML; cached: one advisory, many mails."""
    return markupsafe.Markup(richtext.to_html(body))


def _item(d: Delivery, lang: str) -> dict[str, Any]:
    t = STRINGS[lang]
    body = pick(d.body, lang)
    return {
        "title": pick(d.title, lang),
        "advice_from": t["advice_from"].format(agency=d.agency_name),
        "paragraphs": [p.strip() for p in body.split("\n\n") if p.strip()],
        "body_html": _body_html(body),
        "purchases": [_purchase(p, t) for p in d.purchases],
        "why": why(lang, d.kind),
        "page_url": d.page_url,
        "source_url": d.source_url,
    }


@functools.lru_cache(maxsize=16)
def domain_of(sender: str) -> str:
    """The domain of the From address, which also names Message-IDs."""
    return parseaddr(sender)[1].rpartition("@")[2] or "anshin.invalid"


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
    items = [_item(d, lang) for d in deliveries]
    digest = len(items) > 1
    subject: str = t["digest_subject"].format(count=len(items)) if digest else items[0]["title"]
    greeting = t["greeting"].format(name=first.name) if first.name else t["greeting_anonymous"]
    context = {
        "lang": lang,
        "t": t,
        "digest": digest,
        "subject": subject,
        "greeting": greeting,
        "intro": t["digest_intro"] if digest else t["intro"].format(agency=first.agency_name),
        "items": items,
        "unsubscribe_url": unsubscribe_url,
    }
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
    return mid, mime.alternative(headers, _text.render(context), _html.render(context))


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
