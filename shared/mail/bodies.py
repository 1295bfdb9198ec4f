"""The text and HTML of a mail, from the templates in the customer's language.

A mail of one advisory is the same for everyone who gets it in a language but for the
greeting, the purchases and the links (unsubscribe, and each delivery's own signed links to
the safety page and the two answers): it is rendered once as a frame with a hole for each,
and each mail fills them in.
"""

from __future__ import annotations

import functools
from collections.abc import MutableMapping, Sequence
from typing import Any, NamedTuple

import jinja2
import markupsafe

from shared import richtext
from shared.dates import local_date_of
from shared.mail import mime
from shared.mail.delivery import Delivery
from shared.mail.i18n import STRINGS, pick, why


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
    loader=jinja2.PackageLoader("shared.mail", "templates"),
    autoescape=jinja2.select_autoescape(["html", "html.j2"]),
    undefined=jinja2.StrictUndefined,
)
_text = _env.get_template("mail.txt.j2")
_html = _env.get_template("mail.html.j2")
_purchases_text = _env.get_template("purchases.txt.j2").module.purchases  # type: ignore[attr-defined]
_purchases_html = _env.get_template("purchases.html.j2").module.purchases  # type: ignore[attr-defined]


def _purchase(p: dict[str, Any], d: Delivery, lang: str) -> dict[str, str]:
    t = STRINGS[lang]
    details = []
    if p.get("order_id"):
        details.append(t["order"].format(order_id=p["order_id"]))
    if p.get("placed_at"):  # the day of the customer's own calendar, as their language writes it
        day = local_date_of(str(p["placed_at"]), d.timezone, lang, d.locale)
        details.append(t["ordered_on"].format(date=day))
    return {"title": p.get("title") or p.get("sku") or "", "details": ", ".join(details)}


@functools.lru_cache(maxsize=256)
def _body_html(body: str) -> markupsafe.Markup:
    """The agency's Markdown as sanitized HTML; cached: one advisory, many mails."""
    return markupsafe.Markup(richtext.to_html(body))


def _purchases(d: Delivery, lang: str) -> tuple[str, markupsafe.Markup]:
    """The lines naming the customer's purchases, as text and as HTML rows."""
    lines = [_purchase(p, d, lang) for p in d.purchases]
    return _purchases_text(lines), _purchases_html(lines)


def subject(d: Delivery, lang: str) -> str:
    """The subject of one delivery's mail: the advice's title, or a notice's about it."""
    title = pick(d.title, lang)
    return STRINGS[lang][f"{d.notice}_subject"].format(title=title) if d.notice else title


def _intro(d: Delivery, lang: str) -> str:
    return STRINGS[lang][f"{d.notice}_intro" if d.notice else "intro"].format(agency=d.agency_name)


def _item(d: Delivery, lang: str, purchases: tuple[str, markupsafe.Markup]) -> dict[str, Any]:
    t = STRINGS[lang]
    body = pick(d.body, lang)
    if d.notice == "withdrawal":  # a short notice instead of the advice withdrawn
        body = t["withdrawal_text"].format(agency=d.agency_name, title=pick(d.title, lang))
    return {
        "title": subject(d, lang),
        "note": t["correction_note"] if d.notice == "correction" else "",
        "advice_from": t["advice_from"].format(agency=d.agency_name),
        "paragraphs": [p.strip() for p in body.split("\n\n") if p.strip()],
        "body_html": _body_html(body),
        "purchases_text": purchases[0],
        "purchases_html": purchases[1],
        "why": why(lang, d.kind),
        "page_url": d.page_url,
        "checked_url": d.checked_url,
        "gone_url": d.gone_url,
        "source_url": d.source_url,
    }


def _context(
    deliveries: Sequence[Delivery],
    lang: str,
    purchases: Sequence[tuple[str, markupsafe.Markup]],
    greeting: str,
    unsubscribe_url: str,
) -> dict[str, Any]:
    """What the templates read; `purchases` holds the lines of each delivery."""
    t = STRINGS[lang]
    items = [_item(d, lang, lines) for d, lines in zip(deliveries, purchases, strict=True)]
    digest = len(items) > 1
    subject: str = t["digest_subject"].format(count=len(items)) if digest else items[0]["title"]
    intro = t["digest_intro"] if digest else _intro(deliveries[0], lang)
    return {
        "lang": lang,
        "t": t,
        "digest": digest,
        "subject": subject,
        "greeting": greeting,
        "intro": intro,
        "items": items,
        "unsubscribe_url": unsubscribe_url,
    }


_HOLE = "\0"  # marks a hole: the frame is rendered with "\0name\0" in each
_HOLES = ("greeting", "purchases", "unsubscribe_url")
# A delivery's own links: holes where the delivery has them.
_LINKS = ("page_url", "checked_url", "gone_url")


class _Frame(NamedTuple):
    """A mail's text and HTML cut at the holes: literal, hole name, literal, …"""

    text: list[str]
    html: list[str]


def _cut(rendered: str, holes: tuple[str, ...]) -> list[str] | None:
    """The rendered frame split at its holes, with the CRLF line ends of the wire."""
    parts = rendered.replace("\n", mime.CRLF).split(_HOLE)
    # Every hole exactly once: anything else means the content itself held a marker.
    return parts if sorted(parts[1::2]) == sorted(holes) else None


@functools.lru_cache(maxsize=256)
def _frame(
    lang: str, kind: str, agency: str, title: str, body: str, links: tuple[str, ...],
    source_url: str, notice: str,
) -> _Frame | None:  # fmt: skip
    """The frame of one advisory's mail in a language, with holes for the delivery's `links`;
    None where it cannot be cut."""
    holes = (*_HOLES, *links)
    marks = {name: f"{_HOLE}{name}{_HOLE}" for name in holes}
    one = Delivery(
        advisory_id="", customer_id="", email="", name="", locale=lang, agency_name=agency,
        title={lang: title}, body={lang: body}, source_url=source_url, purchases=[], kind=kind,
        notice=notice, **{name: marks[name] for name in links},
    )  # fmt: skip
    lines = (marks["purchases"], markupsafe.Markup(marks["purchases"]))
    context = _context([one], lang, [lines], marks["greeting"], marks["unsubscribe_url"])
    text, html = _cut(_text.render(context), holes), _cut(_html.render(context), holes)
    return _Frame(text, html) if text is not None and html is not None else None


def _fill(parts: list[str], values: dict[str, str]) -> str:
    filled = parts.copy()
    filled[1::2] = [values[name] for name in parts[1::2]]
    return "".join(filled)


def bodies(
    deliveries: Sequence[Delivery], lang: str, greeting: str, unsubscribe_url: str
) -> tuple[str, str, str]:
    """(subject, text, HTML) of a mail: one advisory from its frame, a digest in full."""
    first = deliveries[0]
    title, body = pick(first.title, lang), pick(first.body, lang)
    frame = None
    links = tuple(name for name in _LINKS if getattr(first, name))
    if len(deliveries) == 1:
        frame = _frame(
            lang, first.kind, first.agency_name, title, body, links, first.source_url,
            first.notice,
        )  # fmt: skip
    if frame is None:
        lines = [_purchases(d, lang) for d in deliveries]
        context = _context(deliveries, lang, lines, greeting, unsubscribe_url)
        return context["subject"], _text.render(context), _html.render(context)
    text_lines, html_lines = _purchases(first, lang)
    urls = {"unsubscribe_url": unsubscribe_url} | {name: getattr(first, name) for name in links}
    text = {
        "greeting": greeting,
        "purchases": text_lines.replace("\n", mime.CRLF),
        **urls,
    }
    html = {
        "greeting": str(markupsafe.escape(greeting)),
        "purchases": html_lines.replace("\n", mime.CRLF),
        **{name: str(markupsafe.escape(url)) for name, url in urls.items()},
    }
    return subject(first, lang), _fill(frame.text, text), _fill(frame.html, html)
