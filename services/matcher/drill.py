"""The `matcher.drill` responder: a disaster's audience per playbook and area, sending nothing.

Operators rehearse with historical events (`POST /v1/events?dry_run=true`): the audience is
who bought the categories within each playbook's lookback before the event, inside its area
at or above the playbook's conditions, as a declaration would find them; nothing is matched,
folded or requested.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from services.matcher import rules, store
from services.matcher.audience import Where, any_of
from shared import messages as m
from shared.bus import Subjects, reply
from shared.bus.reply import Answer
from shared.db import Conn, unit_of_work
from shared.http import POOL
from shared.service import CLOCK

_SCHEME_OF_COUNTRY = {country: scheme for scheme, country in rules.COUNTRY_OF_SCHEME.items()}


async def audience(conn: Conn, question: m.DrillRequest, now: datetime) -> m.DrillAudience:
    """Each named playbook's audience in the disaster, in all and by area."""
    declared = rules.Declared(
        areas=question.areas,
        occurred_at=question.occurred_at,
        places=question.places,
        magnitude=question.magnitude,
    )
    found = []
    in_places: dict[str, list[Where]] = {}  # each country's places, every playbook's clause
    for advisory_id in question.advisory_ids:
        rule = await store.live_rule(conn, advisory_id, now)
        if not isinstance(rule, m.Disaster):
            found.append(m.PlaybookAudience(advisory_id=advisory_id, known=False))
            continue
        meaning = rules.DisasterRule(rule)
        w = meaning.audience(declared.occurred_at, rules.NO_DELAY, declared)
        by_area: dict[str, int] = {}
        for name, part in meaning.parts(declared):
            if name.startswith("areas["):
                by_area[name] = await store.count(conn, part)
            else:
                scheme = _SCHEME_OF_COUNTRY[name]
                in_places.setdefault(name, []).append(part)
                counted = await store.count_by_code(conn, part)
                by_area |= {f"{scheme}:{code}": n for code, n in sorted(counted.items())}
        customers = await store.count(conn, w)
        found.append(
            m.PlaybookAudience(advisory_id=advisory_id, customers=customers, by_area=by_area)
        )
    return m.DrillAudience(playbooks=found, places=await _places(conn, in_places))


async def _places(conn: Conn, in_places: dict[str, list[Where]]) -> list[m.PlaceAudience]:
    """Each place's customers of any playbook (once each), and where they are."""
    found = []
    for country, clauses in sorted(in_places.items()):
        scheme = _SCHEME_OF_COUNTRY[country]
        centres = await store.centres_by_code(conn, any_of(clauses))
        for code, (n, lat, lon) in sorted(centres.items()):
            found.append(m.PlaceAudience(place=f"{scheme}:{code}", customers=n, lat=lat, lon=lon))
    return found


def _answerer(app: web.Application) -> Answer:
    pool, clock = app[POOL], app[CLOCK]

    async def answer(question: m.DrillRequest) -> m.DrillAudience:
        async with unit_of_work(pool) as conn:
            return await audience(conn, question, clock.now())

    return answer


responder = reply.responder(Subjects.MATCHER_DRILL, "matcher", m.DrillRequest, _answerer)
