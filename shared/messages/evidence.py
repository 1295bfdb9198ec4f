"""Request-reply for an advisory's evidence: every event of its deliveries, page by page."""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.messages.base import Message


class EvidenceRequest(Message, tag="evidence.request"):
    """The next page of an advisory's delivery events, after `cursor` ('' for the first)."""

    advisory_id: str
    cursor: str = ""
    v: int = 1


class EvidenceEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One event of one delivery; the customer only as the advisory's own pseudonym."""

    event: str  # matched, queued, sent, bounced, complained, suppressed, cancelled, expired,
    # failed, read, acted; correction, withdrawal (a notice to one who received the advice)
    at: datetime
    customer: str  # a keyed hash, different for each advisory: never an id, address or name
    disaster: str = ""  # the declared disaster a playbook's delivery answers
    message_id: str = ""  # of `sent`
    detail: str = ""  # bounced: hard or soft; acted: checked or gone; correction: its key's
    # event (correction:v2), withdrawal: withdrawal


class EvidencePage(Message, tag="evidence.page"):
    """The mailer's answer: events of whole deliveries, and the cursor of the next page
    ('' when this is the last); a page stays within half of the bus's max_payload."""

    advisory_id: str
    events: list[EvidenceEvent] = []
    cursor: str = ""
    v: int = 1
