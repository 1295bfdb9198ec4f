"""The agency API: isolation between agencies, amendment, withdrawal, bad input."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any

import aiohttp
import asyncpg
import msgspec

from services.advisory.api.advisories import MAX_ADVISORY_BYTES
from services.advisory.app import build
from services.advisory.lifecycle import Advisory
from services.advisory.lifecycle.publication import published_event
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import (
    contract,
    eventually,
    new_agency,
    operator,
    stream_messages,
)
from tests.support.fixtures import running
from tests.support.shop import power_bank_advisory

ONE = "/v1/advisories/{advisory_id}"


async def test_an_agency_sees_only_its_own_advisories(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        mine, theirs = await new_agency(settings, "NITE"), await new_agency(settings, "CCJ")
        advisory = power_bank_advisory(clock.now() + timedelta(hours=1))
        created = await api.check(
            await http.post(f"{base}/v1/advisories", json=advisory, headers=mine),
            "/v1/advisories",
            201,
        )
        url = f"{base}/v1/advisories/{created['id']}"
        missing = f"{base}/v1/advisories/adv_0000000000000000"

        reply = await http.get(url, headers=mine)
        assert reply.headers["Cache-Control"] == "private, no-store"
        seen = await api.check(reply, ONE, 200)
        assert seen["title"]["ja"] == advisory["title"]["ja"] and seen["state"] == "embargoed"
        await api.check(await http.get(url, headers=operator(settings)), ONE, 200)
        await api.check(await http.get(missing, headers=operator(settings)), ONE, 404)

        # Another agency: the same 403 for an advisory that exists and for one that does not.
        other = await api.check(await http.get(url, headers=theirs), ONE, 403)
        absent = await api.check(await http.get(missing, headers=theirs), ONE, 403)
        assert other == absent
        for action in ("/withdraw",):
            await api.check(await http.post(url + action, headers=theirs), ONE + action, 403)
        for action in ("/preview", "/audience", "/report"):
            await api.check(await http.get(url + action, headers=theirs), ONE + action, 403)
        patch = await http.patch(url, json={"title": {"en": "Hijacked"}}, headers=theirs)
        await api.check(patch, ONE, 403)
        listed = await api.check(
            await http.get(f"{base}/v1/advisories", headers=theirs), "/v1/advisories", 200
        )
        assert listed["advisories"] == []

        for headers in ({}, {"Authorization": "Bearer ak_wrong"}, {"Authorization": "Basic x"}):
            await api.check(await http.get(url, headers=headers), ONE, 401)
        unchanged = await api.check(await http.get(url, headers=mine), ONE, 200)
        assert unchanged["version"] == 1 and unchanged["state"] == "embargoed"


async def test_amending_before_publication_makes_a_new_version(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        mine = await new_agency(settings, "NITE")
        advisory = power_bank_advisory(clock.now() + timedelta(hours=1))
        created = await (
            await http.post(f"{base}/v1/advisories", json=advisory, headers=mine)
        ).json()
        url = f"{base}/v1/advisories/{created['id']}"

        new_title = {**advisory["title"], "en": "Power banks: charge them where you can see them"}
        amended = await api.check(
            await http.patch(url, json={"title": new_title, "window_days": 14}, headers=mine),
            ONE,
            200,
        )
        assert amended == {"id": created["id"], "state": "embargoed", "version": 2}
        bad = await http.patch(url, json={"embargo_until": "2001-01-01T00:00:00Z"}, headers=mine)
        assert [d["field"] for d in (await api.check(bad, ONE, 400))["details"]] == [
            "embargo_until"
        ]
        current = await api.check(await http.get(url, headers=mine), ONE, 200)
        assert current["version"] == 2 and current["title"]["en"] == new_title["en"]
        assert current["rule"]["window_days"] == 14
        assert current["body"] == advisory["body"]

        conn = await asyncpg.connect(settings.database_url)
        try:
            versions = await conn.fetch(
                "SELECT version, content->'title'->>'en' AS en FROM advisory.advisory_versions"
                " WHERE advisory_id = $1 ORDER BY version",
                created["id"],
            )
        finally:
            await conn.close()
        assert [(v["version"], v["en"]) for v in versions] == [
            (1, advisory["title"]["en"]),
            (2, new_title["en"]),
        ]

        # Nothing on the bus until the embargo; then version 2, once.
        assert await stream_messages(settings.nats_url, "ADVISORIES") == []
        clock.advance(timedelta(hours=1, seconds=1))
        [(subject, event)] = await eventually(
            lambda: stream_messages(settings.nats_url, "ADVISORIES")
        )
        assert subject == "advisories.published" and event["version"] == 2
        assert event["title"]["en"] == new_title["en"]
        # After publication an amendment is a correction: version 3, public at once.
        late = await http.patch(url, json={"kind": "recall", "skus": ["PB-1"]}, headers=mine)
        assert [d["field"] for d in (await api.check(late, ONE, 400))["details"]] == ["kind"]
        fixed = {**new_title, "en": "Power banks: never charge them unattended"}
        corrected = await api.check(
            await http.patch(url, json={"title": fixed}, headers=mine), ONE, 200
        )
        assert corrected == {"id": created["id"], "state": "published", "version": 3}

        # Withdrawing after publication tells the bus; a second withdrawal changes nothing.
        for _ in range(2):
            gone = await api.check(
                await http.post(url + "/withdraw", headers=mine), ONE + "/withdraw", 200
            )
            assert gone["state"] == "withdrawn"
        messages = await eventually(
            lambda: _at_least(settings.nats_url, "ADVISORIES", 3), timeout=10
        )
        assert [s for s, _ in messages] == [
            "advisories.published",
            "advisories.published",
            "advisories.withdrawn",
        ]
        assert messages[1][1]["version"] == 3 and messages[1][1]["title"]["en"] == fixed["en"]
        assert messages[1][1]["corrected_at"] is not None
        assert messages[2][1]["notify_recipients"] is False


async def _at_least(nats_url: str, stream: str, count: int) -> list[tuple[str, Any]]:
    found = await stream_messages(nats_url, stream)
    return found if len(found) >= count else []


async def test_withdrawing_an_embargoed_advisory_publishes_nothing(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        mine = await new_agency(settings, "NITE")
        advisory = power_bank_advisory(clock.now() + timedelta(minutes=5))
        created = await (
            await http.post(f"{base}/v1/advisories", json=advisory, headers=mine)
        ).json()
        url = f"{base}/v1/advisories/{created['id']}"
        reply = await http.post(url + "/withdraw", headers=mine)
        assert (await reply.json())["state"] == "withdrawn"
        clock.advance(timedelta(minutes=6))
        await asyncio.sleep(1.5)  # three rounds of the embargo keeper
        assert await stream_messages(settings.nats_url, "ADVISORIES") == []
        assert (await (await http.get(url, headers=mine)).json())["state"] == "withdrawn"


async def test_bad_advisories_get_clear_errors_and_leave_nothing_behind(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        mine = await new_agency(settings, "NITE")
        good = power_bank_advisory(clock.now() + timedelta(hours=1))
        url = f"{base}/v1/advisories"
        cases: list[tuple[Any, int, str]] = [
            (b"{not json", 400, "$"),
            (b"[]", 400, "$"),
            ({**good, "kind": "weekly"}, 400, "kind"),
            ({**good, "embargo_until": "2001-01-01T00:00:00Z"}, 400, "embargo_until"),
            ({**good, "embargo_until": "tomorrow"}, 400, "embargo_until"),
            ({**good, "title": {**good["title"], "en": " "}}, 400, "title.en"),
            ({**good, "body": {**good["body"], "en": "x" * 20_001}}, 400, "body.en"),
            ({**good, "categories": []}, 400, "categories"),
            ({**good, "categories": ["power_bank", "heater"]}, 400, "categories[1]"),
            ({**good, "source_url": "javascript:alert(1)"}, 400, "source_url"),
            ({**good, "colour": "red"}, 400, "colour"),
            (io.BytesIO(b'{"kind": "' + b"x" * 2 * 1024 * 1024 + b'"}'), 413, ""),
        ]
        for body, status, field in cases:
            kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
            reply = await api.check(
                await http.post(url, headers=mine, **kwargs), "/v1/advisories", status
            )
            assert reply["error"]
            if field:
                assert field in [d["field"] for d in reply["details"]], (field, reply)
        stranger = await http.post(
            f"{url}?agency_id=ag_nope", json=good, headers=operator(settings)
        )
        assert (await api.check(stranger, "/v1/advisories", 400))["details"][0][
            "field"
        ] == "agency_id"
        conn = await asyncpg.connect(settings.database_url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM advisory.advisories") == 0
            assert await conn.fetchval("SELECT count(*) FROM advisory.advisory_versions") == 0
        finally:
            await conn.close()


def _about_a_mebibyte(good: dict[str, Any], limit: int) -> bytes:
    """An advisory whose request body is just under `limit` bytes: bodies in 14 languages
    of 4-byte characters, each within the 20,000 characters a language may have."""
    langs = ["en", "ja", "fr", "de", "es", "it", "pt", "ko", "zh", "nl", "sv", "da", "fi", "pl"]
    advisory = {**good, "title": {lang: "Title" for lang in langs}}
    advisory["body"] = {lang: "" for lang in langs}
    room = limit - 64 - len(msgspec.json.encode(advisory))
    for lang in langs:
        chars = min(20_000, room // 4)
        advisory["body"][lang] = "𠮷" * chars
        room -= 4 * chars
    advisory["body"]["pl"] += "x" * room
    return msgspec.json.encode(advisory)


async def test_an_advisory_too_large_for_the_bus_is_refused_naming_the_field(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        mine = await new_agency(settings, "NITE")
        good = power_bank_advisory(clock.now() + timedelta(hours=1))
        body = _about_a_mebibyte(good, MAX_ADVISORY_BYTES)
        assert MAX_ADVISORY_BYTES - 100 < len(body) <= MAX_ADVISORY_BYTES
        # Accepted, it grew past NATS's max_payload (1 MiB) once published: the event carries
        # every text beside the rule, the agency's name and the times.
        content = msgspec.json.decode(body)
        row = {
            **content,
            "id": "adv_0123456789abcdef",
            "version": 1,
            "agency_id": "ag_0123456789abcdef",
            "agency_name": "NITE",
            "rule": {"kind": content["kind"], "categories": content["categories"]},
            "concerns": {"categories": content["categories"]},
            "expires_at": None,
            "state": "embargoed",
            "created_at": clock.now(),
            "published_at": None,
            "withdrawn_at": None,
        }
        event = published_event(msgspec.convert(row, Advisory), clock.now())
        assert len(m.encode(event)) > 1024 * 1024
        url = f"{base}/v1/advisories"
        reply = await http.post(url, data=io.BytesIO(body), headers=mine)
        refused = await api.check(reply, "/v1/advisories", reply.status)
        assert reply.status in (400, 413), refused
        assert refused["details"][0]["field"].startswith("body."), refused

        # An amendment cannot grow one past the limit either.
        created = await api.check(
            await http.post(url, json=good, headers=mine), "/v1/advisories", 201
        )
        patch = msgspec.json.encode({"title": content["title"], "body": content["body"]})
        reply = await http.patch(f"{url}/{created['id']}", data=io.BytesIO(patch), headers=mine)
        refused = await api.check(reply, ONE, reply.status)
        assert reply.status in (400, 413), refused
        assert refused["details"][0]["field"].startswith("body."), refused
        conn = await asyncpg.connect(settings.database_url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM advisory.advisory_versions") == 1
        finally:
            await conn.close()
