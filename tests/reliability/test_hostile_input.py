"""Hostile input against the running stack: every answer is a 2xx-4xx, and every JSON 4xx an error.

The advisory service publishes /openapi.json: schemathesis generates requests from it
(valid and invalid) and checks the answers against it. Ingest and the mailer have no
OpenAPI document: hypothesis generates their bodies, tokens and paths instead. Then fuzzed
CAP, GeoJSON and CSV documents, XML bombs, oversize and slow bodies, and malformed bus
messages (dead-lettered and counted, with the consumers still working afterwards).
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deploy.servers import NatsServer
from shared import bus
from tests.support import hostile
from tests.support.faults import CountingSink
from tests.support.figures import record
from tests.support.stack import LaunchedStack, create_agency, fresh_database, launch_env
from tests.support.surge import load_shop, post_recall

SCALES = [
    pytest.param("fast", marks=[pytest.mark.reliability_fast, pytest.mark.timeout(300)]),
    pytest.param("full", marks=[pytest.mark.reliability, pytest.mark.timeout(1800)]),
]
EXAMPLES = {"fast": 8, "full": 100}  # per operation and mode, or per endpoint
MAX_BODY = 2 * 1024 * 1024


@dataclass
class Hostile:
    """The stack under attack and the keys of its callers."""

    stack: LaunchedStack
    sink: CountingSink
    agency: dict[str, str]
    operator: dict[str, str]
    database_url: str
    channel: dict[str, str]  # the key of channel `web`


@pytest.fixture(scope="module")
async def target(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str
) -> AsyncIterator[Hostile]:
    root = tmp_path_factory.mktemp("hostile")
    nats = NatsServer(root / "nats").start()
    database_url = await fresh_database(postgres_admin_url)
    sink = CountingSink()
    await sink.start()
    operator_key = secrets.token_urlsafe(24)
    env = launch_env(root / "data", NATS_URL=nats.url, DATABASE_URL=database_url,
                     ANSHIN_SMTP_PORT=str(sink.port), ANSHIN_OPERATOR_KEY=operator_key,
                     ANSHIN_MAX_BODY_BYTES=str(MAX_BODY))  # fmt: skip
    stack = LaunchedStack(root / "data", env)
    await asyncio.to_thread(stack.start)
    try:
        key = await create_agency(env, "Hostile Input Agency")
        yield Hostile(stack, sink, {"Authorization": f"Bearer {key}"},
                      {"Authorization": f"Bearer {operator_key}"}, database_url,
                      await stack.channel("web"))  # fmt: skip
    finally:
        await asyncio.to_thread(stack.stop)
        await sink.stop()
        nats.stop()


class FromAddress(requests.adapters.HTTPAdapter):
    """Connections from a chosen loopback address (Linux answers all of 127.0.0.0/8)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _hypothesis(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))  # fmt: skip


async def server_errors(
    stack: LaunchedStack, since: dict[str, float] | None = None
) -> dict[str, float]:
    """5xx answers each service counted in its metrics (route and status), beyond `since`."""
    found: dict[str, float] = {}
    async with aiohttp.ClientSession() as http:
        for service in ("ingest", "advisory", "matcher", "mailer"):
            async with http.get(f"{stack.url(service)}/metrics") as reply:
                for line in (await reply.text()).splitlines():
                    if line.startswith("anshin_http_requests_total{") and 'status="5' in line:
                        found[f"{service} {line.split(' ')[0]}"] = float(line.split(" ")[-1])
    since = since or {}
    return {k: v - since.get(k, 0) for k, v in found.items() if v > since.get(k, 0)}


@pytest.mark.parametrize("scale", SCALES)
async def test_schemathesis_against_the_advisory_openapi(scale: str, target: Hostile) -> None:
    base = target.stack.url("advisory")
    schema = await asyncio.to_thread(schemathesis.openapi.from_url, f"{base}/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]  # fmt: skip
    tried, problems, started = [0], [], time.monotonic()
    before = await server_errors(target.stack)

    statuses: dict[int, int] = {}

    def run_operation(operation: Any, mode: schemathesis.GenerationMode, n: int) -> None:
        # Events are for operators; everything else is tried with the agency's key.
        who = target.operator if operation.path == "/v1/events" else target.agency
        # Invalid requests include refused keys: each operation comes from its own loopback
        # address, so that the key-guessing throttle it may trip holds up no other.
        session = requests.Session()
        session.mount("http://", FromAddress(f"127.0.{n // 250}.{n % 250 + 2}"))

        @_hypothesis(EXAMPLES[scale])
        @given(case=operation.as_strategy(generation_mode=mode))
        def each(case: schemathesis.Case[Any]) -> None:
            response = case.call(base_url=base, headers=who, timeout=30, session=session)
            tried[0] += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            shape = hostile.error_shape_problem(
                # Schemathesis keeps header names in lower case, each with a list of values.
                response.status_code, response.headers.get("content-type", [""])[0].split(";")[0],
                response.content,
            )  # fmt: skip
            if shape:
                problems.append(f"{case.method} {case.formatted_path}: {shape}")
            try:
                case.validate_response(response, checks=checks)
            except BaseExceptionGroup as exc:  # every distinct failure, not only the first
                for failure in exc.exceptions:
                    what = " ".join(str(failure).split())[:160]
                    problems.append(f"{case.method} {operation.path}: {what}")

        try:
            each()
        except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
            assert mode is schemathesis.GenerationMode.NEGATIVE

    def run_all() -> None:
        for n, result in enumerate(schema.get_all_operations()):
            assert isinstance(result, Ok), result  # an operation the schema fails to describe
            for mode in schemathesis.GenerationMode:
                run_operation(
                    result.ok(), mode, n * 2 + (mode is schemathesis.GenerationMode.NEGATIVE)
                )

    try:
        await asyncio.to_thread(run_all)
    finally:
        errors = await server_errors(target.stack, before)
        fives = int(sum(errors.values()))
        record(f"schemathesis on advisory /openapi.json ({scale})", inputs=tried[0],
               seconds=time.monotonic() - started,
               note=f"{len(set(problems))} contract breaches, {fives} x 5xx, "
                    f"{statuses.get(401, 0)} x 401, {statuses.get(429, 0)} x 429")  # fmt: skip
    assert problems == [], "\n".join(sorted(set(problems)))
    assert errors == {}, errors


def _order(i: int) -> dict[str, Any]:
    return {
        "order_id": f"H-{i}", "channel": "web", "placed_at": "2024-01-01T07:10:00Z",
        "customer": {"id": f"h-{i}", "email": f"h{i}@example.jp", "locale": "ja-JP",
                     "timezone": "Asia/Tokyo"},
        "ship_to": {"country": "JP", "region": "JP-17", "postal_code": "927-1214"},
        "lines": [{"sku": "PB-1", "title": "モバイルバッテリー", "quantity": 1}],
    }  # fmt: skip


@st.composite
def mutated_orders(draw: st.DrawFn) -> Any:
    """A valid order with some of its fields replaced by anything at all."""
    document: Any = _order(draw(st.integers(0, 10**6)))
    for _ in range(draw(st.integers(1, 4))):
        node, key = document, None
        path = draw(st.lists(st.sampled_from(["customer", "ship_to", "lines", "order_id",
                                              "placed_at", "email", "id", "country", "lat",
                                              "timezone", "locale", "quantity", "sku"]),
                             min_size=1, max_size=3))  # fmt: skip
        for step in path:
            if isinstance(node, list) and node:
                node = node[0]
            if isinstance(node, dict) and step in node:
                node, key = (
                    (node[step], step) if isinstance(node[step], dict | list) else (node, step)
                )
        if isinstance(node, dict) and key in node:
            node[key] = draw(hostile.JSON_VALUE)
    return document


BODIES = st.one_of(
    mutated_orders().map(lambda d: ("application/json", json.dumps(d).encode())),
    st.lists(mutated_orders(), max_size=3).map(
        lambda ds: ("application/x-ndjson", "\n".join(map(json.dumps, ds)).encode())
    ),
    hostile.JSON_VALUE.map(lambda v: ("application/json", json.dumps(v).encode())),
    st.binary(max_size=300).map(lambda b: ("application/json", b)),
    hostile.marketplace_csv().map(lambda b: ("text/csv", b)),
)
INGEST = st.one_of(
    st.tuples(st.just("POST"), st.sampled_from(["/v1/orders", "/v1/orders?format=canonical",
              "/v1/orders?format=grocery", "/v1/orders?format=marketplace",
              "/v1/orders?format=%00"]), BODIES),
    st.tuples(st.just("PUT"), st.just("/v1/catalog"), BODIES),
    st.tuples(st.just("POST"), st.builds("/v1/orders/{}/{}/{}".format, st.text(max_size=8),
              st.text(max_size=8), st.sampled_from(["cancel", "return"])), BODIES),
    st.tuples(st.just("GET"), st.builds("/v1/orders/{}/{}".format, st.text(max_size=8),
              st.text(max_size=8)), st.just(("", b""))),
)  # fmt: skip
TOKEN_LIKE = st.from_regex(r"[\w-]{0,40}\.[\w-]{0,60}", fullmatch=True)
MAILER = st.one_of(
    st.tuples(st.sampled_from(["GET", "POST"]),
              st.builds("/u/{}".format, st.text(max_size=80) | TOKEN_LIKE)),
    st.tuples(st.just("GET"), st.builds("/v1/preview/{}?lang={}".format, st.text(max_size=20),
              st.text(max_size=5))),
)  # fmt: skip


def _quote(path: str) -> str:
    from urllib.parse import quote

    head, _, query = path.partition("?")
    return quote(head, safe="/") + (f"?{quote(query, safe='=&')}" if query else "")


@pytest.mark.parametrize("scale", SCALES)
async def test_generated_bodies_against_ingest_and_the_mailer(scale: str, target: Hostile) -> None:
    """Neither has an OpenAPI document: hypothesis makes their requests."""
    ingest, mailer = target.stack.url("ingest"), target.stack.url("mailer")
    tried, problems, started = [0], [], time.monotonic()
    before = await server_errors(target.stack)
    session = requests.Session()

    def check(method: str, url: str, reply: requests.Response) -> None:
        tried[0] += 1
        kind = reply.headers.get("Content-Type", "").split(";")[0]
        if shape := hostile.error_shape_problem(reply.status_code, kind, reply.content):
            problems.append(f"{method} {url}: {shape}")
        if reply.status_code >= 400 and kind != "application/json":
            problems.append(f"{method} {url}: {reply.status_code} as {kind}, not a JSON error")

    # Each request with the operator's key, a channel's, or a guess.
    keys = [target.operator, target.channel, {"Authorization": "Bearer guess"}]

    @_hypothesis(EXAMPLES[scale] * 5)
    @given(request=INGEST, key=st.sampled_from(keys))
    def ingest_requests(request: tuple[str, str, tuple[str, bytes]], key: dict[str, str]) -> None:
        method, path, (kind, body) = request
        headers = ({"Content-Type": kind} if kind else {}) | key
        url = ingest + _quote(path)
        check(method, url, session.request(method, url, data=body, headers=headers, timeout=30))

    @_hypothesis(EXAMPLES[scale] * 3)
    @given(request=MAILER, operator=st.booleans())
    def mailer_requests(request: tuple[str, str], operator: bool) -> None:
        method, path = request
        url = mailer + _quote(path)
        headers = target.operator if operator else {}
        check(method, url, session.request(method, url, headers=headers, timeout=30))

    try:
        await asyncio.to_thread(ingest_requests)
        await asyncio.to_thread(mailer_requests)
    finally:
        session.close()
        errors = await server_errors(target.stack, before)
        bad, fives = len(set(problems)), sum(errors.values())
        record(
            f"hypothesis bodies on ingest and mailer ({scale})",
            inputs=tried[0],
            seconds=time.monotonic() - started,
            note=f"{bad} bad answers, {fives:.0f} x 5xx",
        )
    assert sorted(set(problems)) == []
    assert errors == {}, errors


@pytest.mark.parametrize("scale", SCALES)
async def test_fuzzed_cap_geojson_and_json_events(scale: str, target: Hostile) -> None:
    url = f"{target.stack.url('advisory')}/v1/events"
    documents = st.one_of(
        hostile.cap_documents().map(lambda x: ("application/cap+xml", x.encode())),
        hostile.cap_documents().map(lambda x: ("application/xml", x.encode("utf-16"))),
        hostile.geojson_features().map(lambda f: ("application/geo+json", json.dumps(f).encode())),
        hostile.JSON_VALUE.map(lambda v: ("application/json", json.dumps(v).encode())),
        st.binary(max_size=200).map(lambda b: ("application/cap+xml", b)),
        hostile.plausible_caps().map(lambda x: ("application/cap+xml", x.encode())),
        hostile.plausible_quakes().map(lambda f: ("application/geo+json", json.dumps(f).encode())),
    )  # fmt: skip
    tried, problems, statuses, started = [0], [], set(), time.monotonic()
    before = await server_errors(target.stack)
    session = requests.Session()

    @_hypothesis(EXAMPLES[scale] * 6)
    @given(
        document=documents, countries=st.sampled_from(["", "?countries=JP,FR", "?countries=%ff"])
    )
    def each(document: tuple[str, bytes], countries: str) -> None:
        kind, body = document
        headers = {"Content-Type": kind} | target.operator
        reply = session.post(url + countries, data=body, headers=headers, timeout=30)
        tried[0] += 1
        statuses.add(reply.status_code)
        shape = hostile.error_shape_problem(reply.status_code, "application/json", reply.content)
        if shape:
            problems.append(f"{kind}: {shape} for {body[:120]!r}")

    try:
        await asyncio.to_thread(each)
    finally:
        session.close()
        errors = await server_errors(target.stack, before)
        record(f"fuzzed CAP/GeoJSON/JSON events ({scale})", inputs=tried[0],
               seconds=time.monotonic() - started,
               note=f"answers {sorted(statuses)}; {int(sum(errors.values()))} x 5xx")  # fmt: skip
    assert sorted(set(problems)) == []
    assert errors == {}, errors


async def test_nul_in_ingest_paths_is_refused_by_name(target: Hostile) -> None:
    ingest = target.stack.url("ingest")
    async with aiohttp.ClientSession() as http:
        for method, path in [("POST", "/v1/orders/web%00/A-1/cancel"),
                             ("POST", "/v1/orders/web/A%00-1/return"),
                             ("GET", "/v1/orders/web%00/A-1")]:  # fmt: skip
            async with http.request(method, ingest + path, headers=target.operator) as reply:
                body = await reply.json()
                assert reply.status == 400, (path, body)
                assert body["details"][0]["problem"] == "NUL characters are not allowed"


async def test_xml_bombs_are_refused_quickly_and_cheaply(target: Hostile) -> None:
    url = f"{target.stack.url('advisory')}/v1/events"
    rss = Path(f"/proc/{target.stack.pid_of('advisory')}/status")
    before = _rss_mb(rss)
    outcomes, started = {}, time.monotonic()
    async with aiohttp.ClientSession() as http:
        for name, bomb in hostile.BOMBS.items():
            begun = time.monotonic()
            headers = {"Content-Type": "application/cap+xml"} | target.operator
            async with http.post(url, data=bomb.encode(), headers=headers) as reply:
                body = await reply.json()
                outcomes[name] = (reply.status, round(time.monotonic() - begun, 2), body)
    grown = _rss_mb(rss) - before
    record("XML bombs at /v1/events", inputs=len(outcomes), seconds=time.monotonic() - started,
           leaks=sum("root:" in json.dumps(o[2]) for o in outcomes.values()),
           note=f"all {sorted({o[0] for o in outcomes.values()})}, slowest "
                f"{max(o[1] for o in outcomes.values())} s, memory +{grown:.0f} MB")  # fmt: skip
    for name, (status, seconds, body) in outcomes.items():
        assert status == 400, (name, body)
        assert seconds < 2, (name, seconds)
        assert "root:" not in json.dumps(body), "a file's content came back"
    assert grown < 50


def _rss_mb(status: Path) -> float:
    line = next(x for x in status.read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


async def test_oversize_and_slow_bodies(target: Hostile) -> None:
    advisory, ingest = target.stack.url("advisory"), target.stack.url("ingest")
    big_json = b'{"x": "' + b"a" * (MAX_BODY + 10) + b'"}'

    async def chunked(size: int) -> AsyncIterator[bytes]:
        for _ in range(size // 65536 + 1):
            yield b"a" * 65536

    cases: list[tuple[str, str, dict[str, str], Any]] = [
        ("POST", f"{advisory}/v1/advisories", target.agency, big_json[: 1024 * 1024 + 100]),
        ("POST", f"{advisory}/v1/events", target.operator, big_json[: 1024 * 1024 + 100]),
        ("POST", f"{ingest}/v1/orders", target.channel, big_json),
        ("PUT", f"{ingest}/v1/catalog", target.operator, big_json),
        ("POST", f"{advisory}/v1/advisories", target.agency, "chunked"),
        ("POST", f"{ingest}/v1/orders", target.channel, "chunked"),
    ]
    statuses = []
    async with aiohttp.ClientSession() as http:
        for method, url, headers, body in cases:
            data: Any = chunked(MAX_BODY * 2) if body == "chunked" else io.BytesIO(body)
            async with http.request(method, url, data=data, headers=headers) as reply:
                raw = await reply.read()
                statuses.append(reply.status)
                assert reply.status == 413, (url, reply.status, raw[:200])
                assert not hostile.error_shape_problem(413, reply.content_type, raw)

        # Thirty clients that trickle their bodies a byte at a time do not hold up the others.
        port = int(ingest.rsplit(":", 1)[1])
        head = (
            b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: {target.channel['Authorization']}\r\n".encode()
            + b"Content-Length: 100000\r\n\r\n"
        )
        slow = [await asyncio.open_connection("127.0.0.1", port) for _ in range(30)]
        for _, writer in slow:
            writer.write(head)
        latencies: list[float] = []
        for _ in range(10):
            for _, writer in slow:
                writer.write(b" ")
            begun = time.monotonic()
            order = _order(len(latencies))
            async with http.post(
                f"{ingest}/v1/orders", json=order, headers=target.channel
            ) as reply:
                assert reply.status == 202, await reply.text()
            latencies.append(time.monotonic() - begun)
            await asyncio.sleep(0.3)
        for _, writer in slow:
            writer.close()
    record("oversize and slow bodies", inputs=len(cases) + len(slow),
           note=f"all {sorted(set(statuses))}; an order took {max(latencies):.2f} s at most "
                f"beside {len(slow)} trickling clients")  # fmt: skip
    assert max(latencies) < 2, latencies


# Payloads no consumer can decode: not JSON, the wrong JSON type, cut short, binary, huge.
POISON = [b"", b"not json", b"[1, 2, 3]", b"null", b"123", b'{"version": "x"', b"\xff\xfe\x00",
          b'{"' + b"a" * 200_000 + b'"}', b"{" * 10_000]  # fmt: skip
LISTENERS = {
    "orders.placed": ["matcher-orders"],
    "orders.cancelled": ["matcher-orders"],
    "customers.upserted": ["mailer-customers"],
    "customers.batch": ["mailer-customers"],
    "advisories.published": ["matcher-advisories", "mailer-advisories"],
    "disasters.declared": ["matcher-disasters", "mailer-disasters"],
    "deliveries.requested": ["mailer-deliveries"],
    "matcher.fanout": ["matcher-fanout"],
}


async def poison_counts(stack: LaunchedStack) -> dict[str, float]:
    """anshin_messages_handled_total{outcome="poison"} by consumer, from the services."""
    found: dict[str, float] = {}
    async with aiohttp.ClientSession() as http:
        for service in ("matcher", "mailer"):
            async with http.get(f"{stack.url(service)}/metrics") as reply:
                for line in (await reply.text()).splitlines():
                    if line.startswith("anshin_messages_handled_total{") and "poison" in line:
                        consumer = line.split('consumer="')[1].split('"')[0]
                        found[consumer] = float(line.split(" ")[-1])
    return found


async def test_malformed_bus_messages_are_dead_lettered_counted_and_passed(
    target: Hostile,
) -> None:
    before = await poison_counts(target.stack)
    nc = await bus.connect(target.stack.env["NATS_URL"], "poisoner")
    expected: dict[str, int] = {}
    try:
        js = nc.jetstream()
        dead_before = (await js.stream_info("DEAD")).state.messages
        for subject, consumers in LISTENERS.items():
            for n, payload in enumerate(POISON):
                # A subject of its own for each: CUSTOMERS keeps one message per subject.
                on = f"{subject}.poison{n}" if subject.startswith("customers.") else subject
                await js.publish(on, payload, headers={"Nats-Msg-Id": f"poison:{subject}:{n}"})
                for consumer in consumers:
                    expected[consumer] = expected.get(consumer, 0) + 1

        async def counted() -> dict[str, float]:
            now = await poison_counts(target.stack)
            return {c: now.get(c, 0) - before.get(c, 0) for c in expected}

        async with asyncio.timeout(60):
            while (seen := await counted()) != expected:
                await asyncio.sleep(0.5)
        dead = (await js.stream_info("DEAD")).state.messages - dead_before
    finally:
        await nc.close()

    # The consumers keep going: a shop and a recall after the poison reach every buyer.
    async with aiohttp.ClientSession() as http:
        key = await create_agency(target.stack.env, "After Poison Agency")
        embargo = datetime.now(UTC) + timedelta(seconds=4)
        advisory_id = await post_recall(http, target.stack, key, "HZ-AFTER", embargo)
        await load_shop(http, target.stack, "after", "HZ-AFTER", 50)
    async with asyncio.timeout(60):
        while len(target.sink.addresses_of(advisory_id)) < 50:
            await asyncio.sleep(0.3)
    total = sum(expected.values())
    record("malformed bus messages", inputs=total, faults=len(expected), survived=len(expected),
           note=f"{int(sum(seen.values()))} counted poison, {dead} dead-lettered, "
                f"{len(expected)} consumers still working")  # fmt: skip
    assert seen == expected
    assert dead == total
