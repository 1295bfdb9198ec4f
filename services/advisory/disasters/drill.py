"""Dry runs of `POST /v1/events` (`?dry_run=true`): a disaster's audience, nothing sent.

The matcher counts each playbook's customers in the area, in all and by area
(`matcher.drill`); nothing is stored here and nothing goes on a stream.
"""

from __future__ import annotations

from aiohttp import web
from nats.aio.client import Client

from services.advisory.disasters.feeds import Disaster
from services.advisory.disasters.store import Declared
from services.advisory.peers.ask import ask
from shared import messages as m
from shared.bus import Subjects
from shared.errors import Invalid, field_error

_FLAGS = {"true": True, "1": True, "false": False, "0": False, "": False}
# Counting a large area for several playbooks reads more than an estimate: a longer wait.
TIMEOUT_SECONDS = 10.0


def flag(request: web.Request) -> bool:
    """`?dry_run=true` (or 1); anything but true, 1, false or 0 is a 400 naming it."""
    value = request.query.get("dry_run", "").strip().lower()
    if value not in _FLAGS:
        raise Invalid("invalid query", [field_error("dry_run", "true or false")])
    return _FLAGS[value]


async def audience(
    nc: Client, disaster: Disaster, advisory_ids: list[str]
) -> list[m.PlaybookAudience]:
    """Each playbook's audience in the disaster, as the matcher counts it (503 without it)."""
    return (await counted(nc, disaster, advisory_ids)).playbooks


async def counted(
    nc: Client, disaster: Disaster | Declared, advisory_ids: list[str]
) -> m.DrillAudience:
    """The matcher's count of a disaster (reported or declared): each playbook's audience,
    by area, and each place's customers of any playbook (503 without an answer)."""
    if not advisory_ids:
        return m.DrillAudience(playbooks=[])
    question = m.DrillRequest(
        advisory_ids=advisory_ids,
        occurred_at=disaster.occurred_at,
        areas=disaster.areas,
        places=disaster.places,
        magnitude=disaster.magnitude,
    )
    answer = await ask(
        nc, Subjects.MATCHER_DRILL, question, m.DrillAudience, "matcher",
        TIMEOUT_SECONDS,
    )  # fmt: skip
    return answer
