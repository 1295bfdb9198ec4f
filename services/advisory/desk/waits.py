"""Why mail waits, in the desk's language: shared/waiting's sentence, worded through gettext."""

from __future__ import annotations

import gettext
from datetime import datetime

from shared.languages import N_
from shared.messages import Wait
from shared.waiting import until

# The same reasons as shared/waiting.REASONS, marked for the desk's catalogue.
REASON_WORDS = {
    "quiet": N_("quiet hours"),
    "cap": N_("the cap on routine mail"),
    "retry": N_("a retry after the relay said to try later"),
    "paused": N_("a paused path to the recipients' mail servers"),
}


def says(wait: Wait, now: datetime, words: gettext.NullTranslations) -> str:
    """One line, as shared/waiting.explain says it in English, in the language of `words`."""
    reason = (
        words.gettext(REASON_WORDS[wait.reason]) if wait.reason in REASON_WORDS else wait.reason
    )
    count = words.ngettext("%(n)s delivery", "%(n)s deliveries", wait.deliveries) % {
        "n": wait.deliveries
    }
    ends = until(wait, now)
    if ends is None:
        return words.gettext("waiting: %(reason)s, due again now (%(count)s)") % {
            "reason": reason,
            "count": count,
        }
    return words.gettext("waiting: %(reason)s until %(when)s %(zone)s (%(count)s)") % {
        "reason": reason,
        "when": ends[0],
        "zone": ends[1],
        "count": count,
    }
