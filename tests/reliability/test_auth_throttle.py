"""Key guessing meets a wall of 429s, and only the guesser does: never a valid key of another.

The throttle counts refused keys per client and key prefix (shared/throttle.py); the client
is the peer, or behind a trusted proxy the address it forwarded (shared/forwarded.py).
Each client here is a loopback address of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import msgspec
import pytest

from services.advisory.app import build
from services.ingest.app import build as build_ingest
from services.mailer.app import build as build_mailer
from shared import throttle
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import contract, new_agency, operator
from tests.support.figures import record
from tests.support.fixtures import client_from, running
from tests.support.keys import channel_header
from tests.support.shop import order, power_bank_advisory

PROXY, STRANGER = "127.0.0.2", "127.0.0.3"


@pytest.fixture
async def proxy() -> AsyncIterator[aiohttp.ClientSession]:
    """The reverse proxy's connections."""
    async with client_from(PROXY) as session:
        yield session


@pytest.fixture
async def stranger() -> AsyncIterator[aiohttp.ClientSession]:
    """Connections of a client that is no proxy of ours."""
    async with client_from(STRANGER) as session:
        yield session


def secret_of(key: dict[str, str]) -> str:
    return key["Authorization"].removeprefix("Bearer ")


def guess_of(key: dict[str, str]) -> dict[str, str]:
    """A wrong key with the same public prefix as `key`: a guess at that key's secret."""
    prefix = throttle.public_prefix(secret_of(key))
    return {"Authorization": f"Bearer {prefix}{secrets.token_urlsafe(32)}"}


def test_the_window_slides_and_forgets() -> None:
    now = [1000.0]
    guard = throttle.Throttle(limit=3, window=60.0, clock=lambda: now[0])
    for _ in range(3):
        assert guard.wait_seconds("10.0.0.1 ak_x") == 0
        guard.failed("10.0.0.1 ak_x")
    assert guard.wait_seconds("10.0.0.1 ak_x") == 60.0
    assert guard.wait_seconds("10.0.0.2 ak_x") == 0, "another client is not held up"
    assert guard.wait_seconds("10.0.0.1 ak_y") == 0, "nor another key of the same client"
    now[0] += 59.5
    assert guard.wait_seconds("10.0.0.1 ak_x") == 0.5
    now[0] += 0.5
    assert guard.wait_seconds("10.0.0.1 ak_x") == 0, "the oldest failure left the window"
    guard.failed("10.0.0.1 ak_x")
    assert guard.wait_seconds("10.0.0.1 ak_x") == 0, "two failures in the window now, under three"


def test_it_remembers_a_bounded_number_of_buckets() -> None:
    guard = throttle.Throttle(limit=1, window=60.0, clock=lambda: 0.0)
    for n in range(throttle.MAX_BUCKETS + 50):
        guard.failed(f"addr-{n}")
    assert guard.wait_seconds("addr-0") == 0, "the least recent bucket was forgotten"
    assert guard.wait_seconds(f"addr-{throttle.MAX_BUCKETS + 49}") > 0


def test_the_public_prefix_names_a_key_without_its_secret() -> None:
    agency = "ak_" + secrets.token_urlsafe(32)
    assert throttle.public_prefix(agency) == agency[:12]
    assert throttle.public_prefix("ck_web_" + secrets.token_urlsafe(32)).startswith("ck_web_")
    assert throttle.public_prefix("ck_7f3a9c_s3cr3t" + "x" * 40) == "ck_7f3a9c_s3"
    assert throttle.public_prefix(agency + "more") == throttle.public_prefix(agency)
    assert throttle.public_prefix("") == ""


async def test_a_valid_key_is_never_refused_for_others_failures(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    """Twenty bad keys and more from one address; the valid keys from there still work."""
    async with running(build, settings, clock, settings.advisory_port) as base:
        mine = await new_agency(settings, "NITE")
        statuses = []
        for _ in range(throttle.LIMIT + 10):
            guess = {"Authorization": f"Bearer ak_{secrets.token_urlsafe(32)}"}
            async with http.get(f"{base}/v1/advisories", headers=guess) as reply:
                statuses.append(reply.status)
        valid = []
        for headers in (mine, operator(settings)):
            async with http.get(f"{base}/v1/advisories", headers=headers) as reply:
                valid.append(reply.status)
        form = {"key": secret_of(mine)}
        async with http.post(f"{base}/portal/login", data=form, allow_redirects=False) as reply:
            valid.append(reply.status)
        record(
            "security: others' refused keys lock out a valid key",
            inputs=len(statuses) + len(valid),
            leaks=sum(got != want for got, want in zip(valid, (200, 200, 303), strict=True)),
            note=f"{len(statuses)} bad keys from one address, then 2 keys and a sign-in",
        )
        assert statuses == [401] * len(statuses)
        assert valid == [200, 200, 303]


async def test_guessing_one_keys_secret_is_refused_after_the_limit(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, stranger: aiohttp.ClientSession
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
            async with http.get(url, headers=guess_of(mine)) as reply:
                statuses.append(reply.status)
                if reply.status == 429:
                    body = await api.check(reply, "/v1/advisories/{advisory_id}", 429)
                    assert body["error"] and body["details"] == []
                    assert 0 < int(reply.headers["Retry-After"]) <= throttle.WINDOW_SECONDS
        record(
            "security: guessing one key's secret throttled",
            inputs=len(statuses),
            leaks=statuses.count(200),
            note=f"{statuses.count(401)} x 401 then {statuses.count(429)} x 429",
        )
        assert statuses == [401] * throttle.LIMIT + [429] * 30

        # While held up, even the right key from that client waits: a guess that happens
        # to be right must not be told so. Another client, and another key, are not held up.
        async with http.get(url, headers=mine) as reply:
            assert reply.status == 429
        async with stranger.get(url, headers=mine) as reply:
            assert reply.status == 200
        async with http.get(f"{base}/v1/advisories", headers=operator(settings)) as reply:
            assert reply.status == 200
        # The public side is not held up, even where a client sends its key along.
        for path in ("/safety", "/v1/products/PB-1/notices", "/healthz", "/openapi.json"):
            for headers in ({}, mine):
                async with http.get(f"{base}{path}", headers=headers) as reply:
                    assert reply.status == 200, path


async def test_behind_a_trusted_proxy_each_client_is_held_up_alone(
    settings: Settings,
    clock: Clock,
    proxy: aiohttp.ClientSession,
    stranger: aiohttp.ClientSession,
) -> None:
    """Through one ingress: X guesses, Y is not held up; a forged X-Forwarded-For from a
    client that is no proxy neither escapes the throttle nor shifts it onto Y."""
    settings = msgspec.structs.replace(settings, trusted_proxies=f"{PROXY}, 10.0.0.0/8")
    async with running(build, settings, clock, settings.advisory_port) as base:
        url = f"{base}/v1/advisories"
        mine = await new_agency(settings, "NITE")
        x, y = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.9"}
        tried, wrong = 0, []

        async def status(client: aiohttp.ClientSession, headers: dict[str, str]) -> int:
            nonlocal tried
            tried += 1
            async with client.get(url, headers=headers) as reply:
                return reply.status

        guesses = [await status(proxy, x | guess_of(mine)) for _ in range(throttle.LIMIT + 5)]
        if guesses != [401] * throttle.LIMIT + [429] * 5:
            wrong.append(f"X through the proxy: {guesses}")
        # X cannot escape by putting another address in front: the proxy appends the real one.
        spoofed = {"X-Forwarded-For": "192.0.2.1, 10.1.2.3, 203.0.113.7"}
        if (answer := await status(proxy, spoofed | guess_of(mine))) != 429:
            wrong.append(f"X behind a made-up hop: {answer}")
        for who, headers, expected in (
            ("Y with the key", y | mine, 200),
            ("Y with a wrong one", y | guess_of(mine), 401),
            ("the proxy itself", mine, 200),
        ):
            if (answer := await status(proxy, headers)) != expected:
                wrong.append(f"{who}: {answer}")

        # A client that is no proxy names Y, then someone new each time: it is itself.
        forged = []
        for n in range(throttle.LIMIT + 5):
            named = y if n < throttle.LIMIT else {"X-Forwarded-For": f"192.0.2.{n}"}
            forged.append(await status(stranger, named | guess_of(mine)))
        if forged != [401] * throttle.LIMIT + [429] * 5:
            wrong.append(f"forged X-Forwarded-For: {forged}")
        if (answer := await status(proxy, y | mine)) != 200:
            wrong.append(f"Y after the forger named it: {answer}")
        record(
            "security: key guessing behind a proxy",
            inputs=tried,
            leaks=len(wrong),
            note="a guesser held up alone; a forged X-Forwarded-For ignored",
        )
        assert wrong == []


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


async def test_guessing_a_key_at_the_portal_sign_in_is_refused_too(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        mine = await new_agency(settings, "NITE")
        statuses = []
        for _ in range(throttle.LIMIT + 5):
            form = {"key": secret_of(guess_of(mine))}
            async with http.post(f"{base}/portal/login", data=form) as reply:
                statuses.append(reply.status)
        assert statuses == [401] * throttle.LIMIT + [429] * 5
        async with http.get(f"{base}/portal") as reply:
            assert reply.status == 200, "the sign-in page itself is not held up"
        other = await new_agency(settings, "Fire Department")
        form = {"key": secret_of(other)}
        async with http.post(f"{base}/portal/login", data=form, allow_redirects=False) as reply:
            assert reply.status == 303, "another agency signs in from the same address"


async def test_the_mailers_operator_routes_are_throttled_too(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, stranger: aiohttp.ClientSession
) -> None:
    async with running(build_mailer, settings, clock, settings.mailer_port) as base:
        url = f"{base}/v1/preview/adv_missing"
        statuses = []
        for _ in range(throttle.LIMIT + 3):
            async with http.get(url, headers=guess_of(operator(settings))) as reply:
                statuses.append(reply.status)
        assert statuses == [401] * throttle.LIMIT + [429] * 3
        async with stranger.get(url, headers=operator(settings)) as reply:
            assert reply.status == 404, "the operator from elsewhere: no such advisory"
        async with http.post(f"{base}/u/forged", headers=operator(settings)) as reply:
            assert reply.status == 404, "an unsubscribe link is no keyed route"


async def test_ingest_throttles_guessed_channel_keys_and_lets_the_channel_in(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, stranger: aiohttp.ClientSession
) -> None:
    async with running(build_ingest, settings, clock, settings.ingest_port) as base:
        web = await channel_header(settings, "web")
        url = f"{base}/v1/orders"
        the_order = order("A-1", clock.now())
        others = []
        for _ in range(throttle.LIMIT + 5):  # random keys: others' failures
            guess = {
                "Authorization": f"Bearer ck_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
            }
            async with http.post(url, json=the_order, headers=guess) as reply:
                others.append(reply.status)
        async with http.post(url, json=the_order, headers=web) as reply:
            valid = reply.status
        guesses = []
        for _ in range(throttle.LIMIT + 5):  # guesses at the web channel's own secret
            async with http.post(url, json=the_order, headers=guess_of(web)) as reply:
                guesses.append(reply.status)
        async with stranger.post(url, json=order("A-2", clock.now()), headers=web) as reply:
            elsewhere = reply.status
        async with http.get(f"{base}/v1/categories", headers=web) as reply:
            public = reply.status
        record(
            "security: guessing a channel key at ingest",
            inputs=len(others) + len(guesses),
            leaks=guesses.count(202) + others.count(202),
            note=f"{guesses.count(429)} x 429 to one key's guesser; the channel itself let in",
        )
        assert others == [401] * len(others) and valid == 202
        assert guesses == [401] * throttle.LIMIT + [429] * 5
        assert elsewhere == 202 and public == 200
