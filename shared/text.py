"""Text from outside made inert: no control character may end a header, a line or a field.

A customer's name, a product title or an agency's headline ends up in mail headers and in
bus headers. A CR or LF there would start a header of the sender's choosing
(`Reply-To: x@evil`), and a NUL is refused by PostgreSQL. So names and titles lose their
control characters where they enter, identifiers that hold one are refused, and the mailer
refuses a header that still holds one.
"""

from __future__ import annotations

import re

# C0, DEL, C1 (NEL among them) and the Unicode line and paragraph separators: every
# character that `str.splitlines` or a mail or NATS parser may take for the end of a line.
_CONTROL = "[\x00-\x1f\x7f-\x9f\u2028\u2029]"
_CONTROLS = re.compile(f"{_CONTROL}+")
_ANY_CONTROL = re.compile(_CONTROL)


def inert(text: str) -> str:
    """`text` with each run of control characters turned into one space, trimmed."""
    # The common case, decided in C: every control character is also unprintable.
    if text.isprintable():
        return text.strip()
    return _CONTROLS.sub(" ", text).strip()


def control_in(text: str) -> str | None:
    """The first control character of `text` as U+XXXX, or None when it has none."""
    found = _ANY_CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"
