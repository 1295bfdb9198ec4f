"""What an SMTP reply means for the ledger, by the stage of the conversation that gave it.

Only a recipient-specific permanent failure at RCPT condemns an address: the mailbox does
not exist or is disabled. Everything else (the greeting, HELO, MAIL, a relay or policy
refusal, a refused message at DATA, any 4xx, a lost connection) is the path's problem, not
the customer's: the mail waits and is tried again.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime

import msgspec

# Enhanced status codes (RFC 3463) of a mailbox that does not exist (5.1.1, 5.1.10: null
# MX) or is disabled (5.2.1); and the basic codes that say so where no enhanced code is given.
MAILBOX_GONE = frozenset({"5.1.1", "5.1.10", "5.2.1"})
GONE_WITHOUT_ENHANCED = frozenset({550, 551, 553})
NO_REPLY = "no reply"  # the code of a refused or lost connection, or a timeout
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


class Outcome(enum.Enum):
    """What became of one mail at the relay."""

    SENT = "sent"
    RETRY = "retry"  # anything that is not the address's fault: try again later
    BOUNCED = "bounced"  # the mailbox does not exist or is disabled: suppress the address
    FAILED = "failed"  # can never be sent as it is (an address not ASCII): give up on the mail
    HELD = "held"  # not tried: its path paused after it was claimed; it waits `until`


class Result(msgspec.Struct, frozen=True):
    """The relay's answer to one mail, and where in the conversation it came."""

    outcome: Outcome
    error: str = ""
    stage: str = ""  # connect, helo, mail, rcpt, data; '' where SMTP was never spoken
    code: str = ""  # '554 5.7.1', '550', NO_REPLY; '' for a mail accepted or never sent
    until: datetime | None = None  # when a mail HELD may go

    @property
    def spoke(self) -> bool:
        """Whether the relay was tried: only then does the answer tell about the path."""
        return bool(self.stage)


def enhanced_code(text: str) -> str:
    """The enhanced status code that opens a reply's text ('5.1.1'), or ''."""
    found = _ENHANCED.match(text.strip())
    return ".".join(found.groups()) if found else ""


def verdict(stage: str, code: int, text: str) -> Result:
    """What a refusal at `stage` means: a bounce only for a dead mailbox at RCPT."""
    enhanced = enhanced_code(text)
    gone = enhanced in MAILBOX_GONE if enhanced else code in GONE_WITHOUT_ENHANCED
    bounced = stage == "rcpt" and 500 <= code < 600 and gone
    return Result(
        Outcome.BOUNCED if bounced else Outcome.RETRY,
        f"{code} {text}"[:500],
        stage,
        f"{code} {enhanced}" if enhanced else str(code),
    )
