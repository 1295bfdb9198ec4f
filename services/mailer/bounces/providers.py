"""What a relay's webhook event says, pure: Amazon SES notifications (the `Message` of an SNS
notification), SendGrid Event Webhook events and Postmark bounce and spam-complaint webhooks.

Each event becomes (an id naming it for good, a Report) or nothing: a delivery, an open, a
click, a deferral says nothing about the address. Decoding errors name the field.
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.mailer.bounces.reports import Kind, Report, by_status
from shared.errors import Invalid
from shared.http import validation_details

Event = tuple[str, Report]


def _decode(data: bytes | str, kind: Any, field: str = "") -> Any:
    try:
        return msgspec.json.decode(data, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        details = validation_details(exc)
        if field:
            for d in details:
                d["field"] = field if d["field"] == "$" else f"{field}.{d['field']}"
        raise Invalid("invalid event", details) from exc


def _address(text: str) -> str:
    return text.strip().strip("<>").lower()[:254]


# --- Amazon SES (docs.aws.amazon.com/ses/latest/dg/notification-contents.html) -----------


class _Recipient(msgspec.Struct):
    emailAddress: str
    status: str = ""
    action: str = ""
    diagnosticCode: str = ""


class _Bounce(msgspec.Struct):
    bounceType: str
    bouncedRecipients: list[_Recipient]
    bounceSubType: str = ""
    feedbackId: str = ""


class _Complaint(msgspec.Struct):
    complainedRecipients: list[_Recipient]
    complaintFeedbackType: str = ""
    feedbackId: str = ""


class _CommonHeaders(msgspec.Struct):
    messageId: str = ""


class _Mail(msgspec.Struct):
    messageId: str = ""
    commonHeaders: _CommonHeaders | None = None


class _SesNotification(msgspec.Struct):
    mail: _Mail
    notificationType: str = ""
    eventType: str = ""  # the same, from a configuration set's event publishing
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None


def ses(message: str, notification_id: str) -> list[Event]:
    """The reports of one SES notification (the `Message` of an SNS notification)."""
    note = _decode(message, _SesNotification, "Message")
    ours = note.mail.commonHeaders.messageId if note.mail.commonHeaders else ""
    kind = note.notificationType or note.eventType
    events: list[Event] = []
    if kind == "Bounce" and note.bounce is not None:
        for r in note.bounce.bouncedRecipients:
            if note.bounce.bounceType == "Permanent":
                found = Kind.HARD
            elif note.bounce.bounceSubType == "MailboxFull":
                found = Kind.SOFT
            else:  # Transient (general, too large, content, attachment) or Undetermined
                found = by_status(r.status) if r.status.startswith("4") else Kind.IGNORED
            words = f"SES {note.bounce.bounceType}/{note.bounce.bounceSubType}"
            detail = "; ".join(w for w in (words, r.status, r.diagnosticCode) if w)
            report = Report(found, detail[:500], _address(r.emailAddress), ours)
            events.append((f"ses:{notification_id}:{report.address}", report))
    elif kind == "Complaint" and note.complaint is not None:
        feedback = note.complaint.complaintFeedbackType
        found = Kind.IGNORED if feedback == "not-spam" else Kind.COMPLAINT
        detail = f"SES complaint: {feedback or 'no type'}"
        for r in note.complaint.complainedRecipients:
            report = Report(found, detail, _address(r.emailAddress), ours)
            events.append((f"ses:{notification_id}:{report.address}", report))
    return events


# --- SendGrid (www.twilio.com/docs/sendgrid/for-developers/tracking-events/event) ---------


class _SendGridEvent(msgspec.Struct):
    email: str
    event: str
    sg_event_id: str = ""
    smtp_id: str = msgspec.field(default="", name="smtp-id")
    type: str = ""  # a bounce's: "bounce" or "blocked"
    status: str = ""
    reason: str = ""


def sendgrid(body: bytes) -> list[Event]:
    """The reports of a SendGrid Event Webhook POST (a JSON array of events)."""
    events: list[Event] = []
    for i, e in enumerate(_decode(body, list[_SendGridEvent])):
        detail = "; ".join(w for w in (f"SendGrid {e.event}", e.type, e.status, e.reason) if w)
        if e.event == "bounce":
            # "blocked" is the provider refusing us (reputation, content), not the mailbox.
            found = Kind.IGNORED if e.type == "blocked" else by_status(e.status or "5")
        elif e.event == "spamreport":
            found = Kind.COMPLAINT
        else:
            continue
        report = Report(found, detail[:500], _address(e.email), e.smtp_id.strip())
        name = e.sg_event_id or str(i)
        events.append((f"sendgrid:{name}:{e.event}:{report.address}", report))
    return events


# --- Postmark (postmarkapp.com/developer/webhooks/bounce-webhook) ------------------------

POSTMARK_HARD = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})
POSTMARK_SOFT = frozenset({"SoftBounce", "Transient", "DnsError"})


class _PostmarkRecord(msgspec.Struct):
    RecordType: str
    Email: str
    ID: int | str
    Type: str = ""
    Description: str = ""
    Details: str = ""


def postmark(body: bytes) -> list[Event]:
    """The report of one Postmark bounce or spam-complaint webhook."""
    r = _decode(body, _PostmarkRecord)
    if r.RecordType == "SpamComplaint" or r.Type == "SpamComplaint":
        found = Kind.COMPLAINT
    elif r.RecordType != "Bounce":
        return []
    elif r.Type in POSTMARK_HARD:
        found = Kind.HARD
    elif r.Type in POSTMARK_SOFT:
        found = Kind.SOFT
    else:  # SpamNotification (a filter), AutoResponder, Blocked, DMARCPolicy, …
        found = Kind.IGNORED
    detail = "; ".join(w for w in (f"Postmark {r.Type or r.RecordType}", r.Details) if w)
    return [(f"postmark:{r.ID}", Report(found, detail[:500], _address(r.Email)))]
