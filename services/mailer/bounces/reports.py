"""What returned mail says, pure: a delivery status notification (RFC 3464, read with
flufl.bounce and the notification's own status fields), a complaint (ARF, RFC 5965), or an
auto-reply (RFC 3834) that says nothing about the address.

Only a permanent failure of the mailbox is a hard bounce. A policy refusal (5.7.x), like a
relay's refusal at RCPT (replies.py), is the path's problem, never the customer's; a delay
warning is no failure at all.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import enum
import logging
import re

import msgspec
from flufl.bounce import all_failures

from services.mailer.replies import enhanced_code

# flufl.bounce logs every detector it runs (INFO) and each one that trips over odd mail
# (ERROR, with a traceback): one bounce would be a screenful of our JSON logs, and hostile
# mail could fill them. What a detector's failure means is decided here (none found).
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

COMPLAINTS = frozenset({"abuse", "fraud", "other", "opt-out"})  # RFC 5965 3.5, and opt-out
MAILBOX_FULL = frozenset({"5.2.2", "4.2.2"})
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response)|out of (the )?office|away from|autoreply|auto:)",
    re.IGNORECASE,
)


class Kind(enum.Enum):
    """What a report means for the address."""

    HARD = "hard"  # the mailbox does not exist or is disabled: suppress at once
    SOFT = "soft"  # a temporary failure that ended the delivery: counted
    COMPLAINT = "complaint"  # the customer called it spam: suppress at once
    IGNORED = "ignored"  # a delay, a policy refusal, a report of no consequence: recorded


class Report(msgspec.Struct, frozen=True):
    """One report about one mail."""

    kind: Kind
    detail: str
    address: str = ""  # the recipient the report names, lower-case; '' if none
    message_id: str = ""  # the Message-ID of our mail, where the report gives it


class Unreadable(ValueError):
    """Neither a delivery status notification, nor a complaint, nor an auto-reply."""


def by_status(status: str, failed: bool = True) -> Kind:
    """The kind of a failure by its status code ('5.1.1', '550 …')."""
    code = enhanced_code(status) or status.strip()[:1]
    if not failed:
        return Kind.IGNORED
    if code.startswith(("5.7", "4.7")):
        return Kind.IGNORED  # policy: the sender's reputation or content, not the mailbox
    if code in MAILBOX_FULL or code.startswith("4"):
        return Kind.SOFT
    return Kind.HARD


def _text(value: object) -> str:
    return " ".join(str(value or "").split())[:500]


def _enclosed_id(msg: email.message.Message) -> str:
    """The Message-ID of the original message that a report encloses, if it does."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
                return _text(inner[0].get("Message-ID"))
        elif kind == "text/rfc822-headers":
            headers = email.message_from_string(str(part.get_payload(decode=False)))
            return _text(headers.get("Message-ID"))
    return ""


def _complaint(msg: email.message.Message) -> Report | None:
    for part in msg.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = part.get_payload()
        first = fields[0] if isinstance(fields, list) and fields else None
        report = first if isinstance(first, email.message.Message) else part
        kind = _text(report.get("Feedback-Type")).lower()
        recipient = _text(report.get("Original-Rcpt-To")).strip("<>").lower()
        return Report(
            Kind.COMPLAINT if kind in COMPLAINTS else Kind.IGNORED,
            f"feedback report: {kind or 'no type'}",
            recipient,
            _enclosed_id(msg),
        )
    return None


def _status_blocks(msg: email.message.Message) -> list[email.message.Message]:
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, list):
                return [
                    b
                    for b in blocks[1:]
                    if isinstance(b, email.message.Message) and (b.get("Action") or b.get("Status"))
                ]
    return []


def _notification(msg: email.message.Message) -> Report | None:
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # its heuristic detectors can trip over hostile mail: then it found none
        temporary, permanent = frozenset(), frozenset()
    reports = []
    for block in _status_blocks(msg):
        action = _text(block.get("Action")).lower()
        status = _text(block.get("Status"))
        diagnostic = _text(block.get("Diagnostic-Code"))
        recipient = _text(block.get("Final-Recipient")).rpartition(";")[2].strip().lower()
        kind = by_status(status, action.startswith("fail")) if status else None
        if kind is None:
            kind = Kind.HARD if action.startswith("fail") else Kind.IGNORED
        words = "; ".join(w for w in (f"{action} {status}".strip(), diagnostic) if w)
        reports.append(Report(kind, words[:500], recipient))
    if not reports and permanent:  # a bounce in a format of its own, read by flufl.bounce
        found = sorted(a.decode(errors="replace").lower() for a in permanent)
        reports.append(Report(Kind.HARD, "permanent failure", found[0]))
    if not reports and temporary:
        found = sorted(a.decode(errors="replace").lower() for a in temporary)
        reports.append(Report(Kind.IGNORED, "delivery delayed", found[0]))
    if not reports:
        return None
    order = [Kind.HARD, Kind.SOFT, Kind.IGNORED]  # a mail has one recipient: the worst word
    worst = min(reports, key=lambda r: order.index(r.kind))
    return msgspec.structs.replace(worst, message_id=_enclosed_id(msg))


def _auto_reply(msg: email.message.Message) -> bool:
    submitted = _text(msg.get("Auto-Submitted")).lower()
    return (
        (bool(submitted) and submitted != "no")
        or any(msg.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"))
        or _text(msg.get("Precedence")).lower() == "auto_reply"
        or bool(_AUTO_SUBJECT.match(_text(msg.get("Subject"))))
    )


def read(raw: bytes) -> Report | None:
    """The report a returned mail makes; None for an auto-reply; Unreadable otherwise."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    found = _complaint(msg) or _notification(msg)
    if found is not None:
        return found
    if _auto_reply(msg):
        return None
    raise Unreadable("neither a delivery status notification, a complaint nor an auto-reply")
