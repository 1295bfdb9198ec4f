"""The parts of a received or rendered mail, for assertions."""

from __future__ import annotations

from email.message import EmailMessage


def part_text(message: EmailMessage, subtype: str) -> str:
    """The content of a mail's `plain` or `html` body; a mail without one fails the test."""
    part = message.get_body((subtype,))
    assert part is not None, f"the mail has no {subtype} part"
    content: str = part.get_content()
    return content
