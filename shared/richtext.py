"""Advisory bodies: a safe Markdown subset rendered to sanitized HTML."""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

# What an agency may use: paragraphs, emphasis, lists, quotes, headings, code and links.
# Raw HTML and images are not part of the subset: HTML shows as text, images as their alt.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.disable(["image", "html_block", "html_inline"])

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "ul", "ol", "li", "blockquote",
    "h2", "h3", "h4", "code", "pre", "a", "hr",
}  # fmt: skip
# Headings shift down so that the page's own <h1> stays the only one.
_HEADINGS = {"<h1>": "<h2>", "</h1>": "</h2>", "<h5>": "<h4>", "</h5>": "</h4>"}
_HEADINGS |= {"<h6>": "<h4>", "</h6>": "</h4>"}


def to_html(markdown: str) -> str:
    """Render an advisory body to HTML that is safe to embed in any page or mail."""
    rendered = _md.render(markdown)
    for old, new in _HEADINGS.items():
        rendered = rendered.replace(old, new)
    # Defence in depth: whatever the renderer emits is cleaned against an allow-list.
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def summary(markdown: str, limit: int = 200) -> str:
    """The first paragraph as plain text, cut at `limit` characters, for lists of notices."""
    first = nh3.clean(to_html(markdown.strip().split("\n\n")[0]), tags=set())
    text = " ".join(html.unescape(first).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
