"""Times on the desks' pages: in the reader's zone (an agency's own, the operators'), UTC beside.

Rendering is synchronous, so the zone of the page being rendered is a context variable set
around it: the `when` of templates/countdown.html.j2 reads it, however deep the macro.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from markupsafe import Markup

from shared.dates import zone

_ZONE: ContextVar[str] = ContextVar("desk_zone", default="UTC")


@contextlib.contextmanager
def zone_of_page(name: str) -> Iterator[None]:
    """Times rendered inside are shown in the zone `name`."""
    token = _ZONE.set(name or "UTC")
    try:
        yield
    finally:
        _ZONE.reset(token)


def local_text(at: datetime, name: str) -> str:
    """`2026-12-10 10:00 JST`: the wall-clock time in `name`, with the zone's abbreviation."""
    local = at.astimezone(zone(name))
    abbreviation = local.tzname() or name
    if abbreviation[:1] in "+-":  # zones without a letter abbreviation print an offset
        abbreviation = f"{name} ({abbreviation})"
    return f"{local:%Y-%m-%d %H:%M} {abbreviation}"


def when(at: datetime | None) -> Markup:
    """A time in the page's zone with UTC beside (UTC alone where the page's zone is UTC)."""
    if at is None:
        return Markup("—")
    name, utc = _ZONE.get(), at.astimezone(UTC)
    utc_text = f"{utc:%Y-%m-%d %H:%M} UTC"
    stamp = Markup('<time datetime="{}">{}</time>')
    if name == "UTC":
        return stamp.format(utc.isoformat(), utc_text)
    shown = stamp.format(utc.isoformat(), local_text(at, name))
    return shown + Markup(' <span class="utc">({})</span>').format(utc_text)
