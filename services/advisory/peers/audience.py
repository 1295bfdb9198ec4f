"""The matcher's estimate of an advisory's audience (`matcher.audience`)."""

from __future__ import annotations

from nats.aio.client import Client

from services.advisory.lifecycle import Advisory
from services.advisory.peers.ask import ask
from shared import messages as m
from shared.bus import Subjects


async def audience_of(nc: Client, advisory: Advisory) -> int:
    """How many customers the advisory would reach now; Unavailable if the matcher is not.

    Only the rule travels: who is concerned, never the embargoed words.
    """
    question = m.AudienceRequest(rule=advisory.rule)
    estimate = await ask(nc, Subjects.MATCHER_AUDIENCE, question, m.AudienceEstimate, "matcher")
    return estimate.customers
