"""Key guessing against the advisory service meets a wall of 429s, and only the guesser does."""

from __future__ import annotations

import secrets
from datetime import timedelta

import aiohttp

from services.advisory import throttle
from services.advisory.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import contract, new_agency, operator
from tests.support.figures import record
from tests.support.fixtures import running
from tests.support.shop import power_bank_advisory


def test_the_window_slides_and_forgets() -> None:
    now = [1000.0]
    guard = throttle.Throttle(limit=3, window=60.0, clock=lambda: now[0])
    for _ in range(3):
        assert guard.wait_seconds("10.0.0.1") == 0
        guard.failed("10.0.0.1")
    assert guard.wait_seconds("10.0.0.1") == 60.0
    assert guard.wait_seconds("10.0.0.2") == 0, "another address is not held up"
    now[0] += 59.5
    assert guard.wait_seconds("10.0.0.1") == 0.5
    now[0] += 0.5
    assert guard.wait_seconds("10.0.0.1") == 0, "the oldest failure left the window"
    guard.failed("10.0.0.1")
    assert guard.wait_seconds("10.0.0.1") == 0, "two failures in the window now, under three"


def test_it_remembers_a_bounded_number_of_addresses() -> None:
    guard = throttle.Throttle(limit=1, window=60.0, clock=lambda: 0.0)
    for n in range(throttle.MAX_ADDRESSES + 50):
        guard.failed(f"addr-{n}")
    assert guard.wait_seconds("addr-0") == 0, "the least recent address was forgotten"
    assert guard.wait_seconds(f"addr-{throttle.MAX_ADDRESSES + 49}") > 0


async def test_guessing_keys_is_refused_after_the_limit(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        mine = await new_agency(settings, "NITE")
        created = await (
            await http.post(
                f"{base}/v1/advisories",
                json=power_bank_advisory(clock.now() + timedelta(hours=1)),
                headers=mine,
            )
        ).json()
        url = f"{base}/v1/advisories/{created['id']}"
        statuses = []
        for _ in range(throttle.LIMIT + 30):
            guess = {"Authorization": f"Bearer ak_{secrets.token_urlsafe(32)}"}
            async with http.get(url, headers=guess) as reply:
                statuses.append(reply.status)
                if reply.status == 429:
                    body = await api.check(reply, "/v1/advisories/{advisory_id}", 429)
                    assert body["error"] and body["details"] == []
                    assert 0 < int(reply.headers["Retry-After"]) <= throttle.WINDOW_SECONDS
        record(
            "security: key guessing throttled",
            inputs=len(statuses),
            leaks=statuses.count(200),
            note=f"{statuses.count(401)} x 401 then {statuses.count(429)} x 429",
        )
        assert statuses == [401] * throttle.LIMIT + [429] * 30

        # While held up, even the right key from that address waits: a guess that happens
        # to be right must not be told so.
        async with http.get(url, headers=mine) as reply:
            assert reply.status == 429
        async with http.get(f"{base}/v1/advisories", headers=operator(settings)) as reply:
            assert reply.status == 429
        # The public side is not held up, even where a client sends its key along.
        for path in ("/safety", "/v1/products/PB-1/notices", "/healthz", "/openapi.json"):
            for headers in ({}, mine):
                async with http.get(f"{base}{path}", headers=headers) as reply:
                    assert reply.status == 200, path


async def test_honest_callers_are_never_held_up(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        mine = await new_agency(settings, "NITE")
        for _ in range(throttle.LIMIT * 3):
            async with http.get(f"{base}/v1/advisories", headers=mine) as reply:
                assert reply.status == 200
        # Requests without a key (401 too) are not guesses and do not count.
        for _ in range(throttle.LIMIT * 2):
            async with http.get(f"{base}/v1/advisories") as reply:
                assert reply.status == 401
        async with http.get(f"{base}/v1/advisories", headers=mine) as reply:
            assert reply.status == 200


async def test_guessing_keys_at_the_portal_sign_in_is_refused_too(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        statuses = []
        for _ in range(throttle.LIMIT + 5):
            form = {"key": f"ak_{secrets.token_urlsafe(32)}"}
            async with http.post(f"{base}/portal/login", data=form) as reply:
                statuses.append(reply.status)
        assert statuses == [401] * throttle.LIMIT + [429] * 5
        async with http.get(f"{base}/portal") as reply:
            assert reply.status == 200, "the sign-in page itself is not held up"
