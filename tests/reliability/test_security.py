"""Security on the running stack: agencies isolated, markup inert, no personal data in logs.

One stack as `make up` runs it. Two agencies; one posts an advisory whose texts, whose
agency name and whose product's title are attempts at HTML and script injection; shoppers
with recognizable names, addresses and streets buy it. The other agency tries every
operation on the first one's advisory (embargoed, published, withdrawn) and learns no more
than about an advisory that does not exist. The mail and the pages carry the markup as
text only. No log line and no metric names a shopper. Strangers, guessed keys and other
channels' keys try to write to ingest: an order in a customer's name, a cancellation, the
catalog; none gets through, and another channel's order in a customer's name keeps the contact.

Beside the stack, on a NATS server with the users of production: the matcher's user tries
to publish an advisory and ingest's to read the delivery requests; and every service is
started in production with each development setting it must refuse.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import html.parser
import importlib
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec
import pytest

from deploy.local_env import SERVICES, secured_nats
from deploy.servers import NatsServer
from services.advisory.app import build as build_advisory
from services.advisory.desk.portal.pages import COOKIE, SESSION_SECONDS
from shared import db
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console_portal import sign_in, token
from tests.support.advisory import new_agency
from tests.support.bus_attacks import ingest_reads_deliveries, matcher_publishes_advisories
from tests.support.faults import CountingSink
from tests.support.figures import record
from tests.support.fixtures import client_from, running
from tests.support.hostile import error_shape_problem
from tests.support.launcher import Ran
from tests.support.production import production_env, refused, start
from tests.support.stack import LaunchedStack, create_agency, fresh_database, launch_env
from tests.support.watch import metrics_texts, personal_data

TITLE = '<script>alert("title")</script><img src=x onerror=alert(1)>Recall'
BODY = (
    "Stop using it. <script>alert(2)</script> <iframe src=//evil.example></iframe>\n\n"
    '[details](javascript:alert(3)) "><svg/onload=alert(4)> ![x](https://evil.example/x.png)'
    '\n\n<a href="javascript:alert(5)" onclick="alert(6)">click</a>'
)
AGENCY = "<b onmouseover=alert(7)>Evil</b> & Co"
PRODUCT = '<script>alert("product")</script>Heater "Z"'
SHOPPERS = 12

# The module starts a whole stack before its first test: on a loaded host that alone took
# most of the suite's two minutes.
pytestmark = pytest.mark.timeout(300)


class Markup(html.parser.HTMLParser):
    """What a browser would run or load from an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.dangers: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        own = tag == "script" and any(name == "nonce" for name, _ in attrs)  # the page's CSP
        if tag in ("script", "iframe", "object", "embed", "svg", "math", "base") and not own:
            self.dangers.append(f"<{tag}>")
        for name, value in attrs:
            v = (value or "").strip().lower()
            if name.startswith("on"):
                self.dangers.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction") and v.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.dangers.append(f"{tag} {name}={v[:30]}")
            if tag == "img" and name == "src" and "evil.example" in v:
                self.dangers.append("an image loaded from outside")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def inspect(document: str) -> Markup:
    """Parse a document and return what it would run."""
    parser = Markup()
    parser.feed(document)
    parser.close()
    return parser


@dataclass
class Secured:
    """The stack, its SMTP server and the two agencies' keys."""

    stack: LaunchedStack
    sink: CountingSink
    mine: dict[str, str]
    theirs: dict[str, str]
    operator: dict[str, str]


@pytest.fixture(scope="module")
async def secured(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str
) -> AsyncIterator[Secured]:
    root = tmp_path_factory.mktemp("security")
    nats = NatsServer(root / "nats").start()
    sink = CountingSink(keep=True)
    await sink.start()
    env = launch_env(
        root / "data",
        NATS_URL=nats.url,
        DATABASE_URL=await fresh_database(postgres_admin_url),
        ANSHIN_SMTP_PORT=str(sink.port),
        ANSHIN_OPERATOR_KEY="op-security-test-key",
    )
    stack = LaunchedStack(root / "data", env)
    await asyncio.to_thread(stack.start)
    try:
        mine = {"Authorization": f"Bearer {await create_agency(env, AGENCY)}"}
        theirs = {"Authorization": f"Bearer {await create_agency(env, 'Other Agency')}"}
        yield Secured(stack, sink, mine, theirs, {"Authorization": "Bearer op-security-test-key"})
    finally:
        await asyncio.to_thread(stack.stop)
        await sink.stop()
        nats.stop()


def _shopper(i: int, sku: str) -> dict[str, Any]:
    return {
        "order_id": f"S-{i}", "channel": "web",
        "placed_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        "customer": {"id": f"sec-{i}", "email": f"yamada.hanako{i}@privacy.example",
                     "locale": ("ja-JP", "en-US", "fr-FR")[i % 3], "timezone": "Asia/Tokyo",
                     "name": f"Yamadaname{i} <script>alert(8)</script>"},
        "ship_to": {"country": "JP", "region": "JP-13", "postal_code": "100-0001",
                    "street": f"{i}-2-3 Kasumigaseki Privatestreet"},
        "lines": [{"sku": sku, "title": PRODUCT, "quantity": 1}],
    }  # fmt: skip


async def _advisory(http: aiohttp.ClientSession, s: Secured, sku: str, embargo: datetime) -> str:
    body = {
        "kind": "recall", "skus": [sku], "title": {"en": TITLE, "ja": TITLE, "fr": TITLE},
        "body": {"en": BODY, "ja": BODY, "fr": BODY}, "embargo_until": embargo.isoformat(),
        "source_url": "https://agency.example/recall",
    }  # fmt: skip
    async with http.post(
        f"{s.stack.url('advisory')}/v1/advisories", json=body, headers=s.mine
    ) as reply:
        assert reply.status == 201, await reply.text()
        advisory_id: str = (await reply.json())["id"]
        return advisory_id


@pytest.fixture(scope="module")
async def shoppers(secured: Secured) -> str:
    """SHOPPERS orders of one product, with its catalog entry: the product's SKU."""
    s, sku = secured, "SEC-1"
    async with aiohttp.ClientSession() as http:
        ingest = s.stack.url("ingest")
        catalog = [{"sku": sku, "title": PRODUCT, "categories": ["electric_heater"]}]
        async with http.put(f"{ingest}/v1/catalog", json=catalog,
                            headers=s.operator) as reply:  # fmt: skip
            assert reply.status == 200
        lines = "\n".join(json.dumps(_shopper(i, sku)) for i in range(SHOPPERS))
        ndjson = {"Content-Type": "application/x-ndjson"} | await s.stack.channel("web")
        async with http.post(f"{ingest}/v1/orders", data=lines.encode(), headers=ndjson) as reply:
            assert (await reply.json())["accepted"] == SHOPPERS
    return sku


async def _mailed(s: Secured, advisory_id: str) -> None:
    """Wait until every shopper has the advisory's mail."""
    async with asyncio.timeout(60):
        while len(s.sink.addresses_of(advisory_id)) < SHOPPERS:
            await asyncio.sleep(0.3)


@pytest.fixture(scope="module")
async def recalled(secured: Secured, shoppers: str) -> str:
    """A recall of the shoppers' product, its texts and agency name injections, published and
    mailed to every shopper: its id. Each test that reads it may run alone, in any order."""
    async with aiohttp.ClientSession() as http:
        embargo = datetime.now(UTC) + timedelta(seconds=5)
        advisory_id = await _advisory(http, secured, shoppers, embargo)
    await _mailed(secured, advisory_id)
    return advisory_id


async def _as_other(http: aiohttp.ClientSession, s: Secured, advisory_id: str) -> list[Any]:
    """Every operation of the other agency on the advisory: (status, body) of each."""
    base, answers = f"{s.stack.url('advisory')}/v1/advisories/{advisory_id}", []
    for method, suffix, body in [
        ("GET", "", None), ("PATCH", "", {"title": {"en": "Hijacked"}}),
        ("POST", "/withdraw", None), ("GET", "/preview?lang=en", None),
        ("GET", "/audience", None), ("GET", "/report", None),
    ]:  # fmt: skip
        async with http.request(method, base + suffix, json=body, headers=s.theirs) as reply:
            answers.append((method, suffix, reply.status, await reply.text()))
    return answers


async def test_agencies_are_isolated_and_learn_nothing(secured: Secured, shoppers: str) -> None:
    s, tried = secured, 0
    async with aiohttp.ClientSession() as http:
        # An advisory of its own: the embargoed phase is seen whatever ran before.
        embargo = datetime.now(UTC) + timedelta(seconds=5)
        advisory_id = await _advisory(http, s, shoppers, embargo)
        missing = "adv_0000000000000000"
        leaks: list[str] = []
        for phase in ("embargoed", "published"):
            if phase == "published":
                await _mailed(s, advisory_id)
            theirs = await _as_other(http, s, advisory_id)
            absent = await _as_other(http, s, missing)
            tried += len(theirs) * 2
            for (method, suffix, status, body), (*_, status2, body2) in zip(
                theirs, absent, strict=True
            ):
                if status != 403 or (status, body) != (status2, body2) or TITLE[:8] in body:
                    leaks.append(f"{phase} {method} {suffix}: {status} {body[:100]}")
            async with http.get(f"{s.stack.url('advisory')}/v1/advisories",
                                headers=s.theirs) as reply:  # fmt: skip
                if advisory_id in await reply.text():
                    leaks.append(f"{phase}: listed to the other agency")
            # An agency cannot post in another's name either.
            async with http.post(f"{s.stack.url('advisory')}/v1/advisories?agency_id=x",
                                 json={}, headers=s.theirs) as reply:  # fmt: skip
                tried += 1
                if reply.status != 400:
                    leaks.append(f"posting with ?agency_id answered {reply.status}")
        async with http.get(f"{s.stack.url('advisory')}/v1/advisories/{advisory_id}",
                            headers=s.mine) as reply:  # fmt: skip
            mine = await reply.json()
    record("security: agency isolation", inputs=tried, leaks=len(leaks),
           note="every operation, embargoed and published, alike for a missing id")  # fmt: skip
    assert leaks == []
    assert mine["version"] == 1 and mine["state"] == "published", "the other agency changed it"


def _html_of(raw: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    return html_part.get_content(), str(message["Subject"])


async def test_injected_markup_is_inert_in_mail_and_pages(secured: Secured, recalled: str) -> None:
    s = secured
    documents: dict[str, str] = {}
    mails = [raw for _, raw in s.sink.kept if recalled.encode() in raw]
    for n, raw in enumerate(mails):
        documents[f"mail {n}"], subject = _html_of(raw)
        # A header is plain text: the title as it was written, neither escaped nor stripped.
        assert subject == TITLE
    advisory, mailer = s.stack.url("advisory"), s.stack.url("mailer")
    async with aiohttp.ClientSession() as http:
        for lang in ("en", "ja", "fr"):
            for path in ("/safety", f"/safety/{recalled}"):
                async with http.get(f"{advisory}{path}?lang={lang}") as reply:
                    assert reply.status == 200
                    documents[f"{path} {lang}"] = await reply.text()
            url = f"{advisory}/v1/advisories/{recalled}/preview?lang={lang}"
            async with http.get(url, headers=s.mine) as reply:
                documents[f"preview {lang}"] = (await reply.json())["html"]
            url = f"{mailer}/v1/preview/{recalled}?lang={lang}&format=html"
            async with http.get(url, headers=s.operator) as reply:
                documents[f"mailer preview {lang}"] = await reply.text()
        async with http.get(f"{advisory}/console", headers=s.operator) as reply:
            documents["console"] = await reply.text()
    dangers = {name: inspect(doc).dangers for name, doc in documents.items()}
    dangers = {name: found for name, found in dangers.items() if found}
    shown = sum("alert(" in "".join(inspect(doc).text) for doc in documents.values())
    record("security: HTML/script injection", inputs=len(documents), leaks=len(dangers),
           note=f"{len(mails)} mails and {len(documents) - len(mails)} pages; markup shown "
                f"as text in {shown}")  # fmt: skip
    assert len(mails) == SHOPPERS
    assert dangers == {}
    assert shown == len(documents), "the texts are there, as text"


async def test_no_personal_data_in_logs_or_metrics(secured: Secured, recalled: str) -> None:
    s = secured
    texts = {p.name: p.read_text(errors="replace") for p in s.stack.log_files()}
    texts |= await metrics_texts(s.stack.url(x) for x in SERVICES)
    patterns = [r"yamada\.hanako", r"@privacy\.example", "Yamadaname", "Kasumigaseki",
                "Privatestreet", "100-0001"]  # fmt: skip
    found = personal_data(texts, patterns)
    lines = sum(t.count("\n") for t in texts.values())
    record(
        "security: personal data in logs and /metrics",
        inputs=lines,
        leaks=len(found),
        note=f"{len(texts)} logs and metric pages, {SHOPPERS} shoppers' data searched",
    )
    assert found == []


def test_the_markup_detector_sees_what_it_must(tmp_path: Path) -> None:
    """The detector is not blind: raw injections are caught, escaped ones are not."""
    assert inspect(TITLE).dangers and inspect(BODY).dangers and inspect(AGENCY).dangers
    import html as html_module

    assert inspect(html_module.escape(TITLE + BODY + AGENCY)).dangers == []


async def test_forged_form_tokens_are_refused_not_crashed_on(secured: Secured) -> None:
    """The console's and the portal's forms with a forged CSRF token: 403, never a 500."""
    s, base = secured, secured.stack.url("advisory")
    key = s.mine["Authorization"].removeprefix("Bearer ")
    answers = []
    jar = aiohttp.CookieJar(unsafe=True)  # loopback addresses keep their cookies
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.post(f"{base}/portal/login", data={"key": key},
                             allow_redirects=False) as reply:  # fmt: skip
            assert reply.status == 303
        for token in ("", "forged", "é" * 8, "\u3042" * 43):
            for path, headers in (("/portal/advisories", {}), ("/portal/logout", {}),
                                  ("/console/dead-letters/1/replay", s.operator),
                                  ("/console/drill", s.operator)):  # fmt: skip
                async with http.post(f"{base}{path}", data={"csrf": token}, headers=headers,
                                     allow_redirects=False) as reply:  # fmt: skip
                    answers.append((path, token, reply.status))
    record("security: forged form tokens", inputs=len(answers),
           note=f"answers {sorted({a[2] for a in answers})}")  # fmt: skip
    assert [a for a in answers if a[2] != 403] == []


async def _signed_in(base: str, session_id: str) -> bool:
    """Whether a browser holding `session_id` in the portal's cookie is let in."""
    async with aiohttp.ClientSession() as http:
        headers = {"Cookie": f"{COOKIE}={session_id}"}
        async with http.get(f"{base}/portal/new", headers=headers, allow_redirects=False) as reply:
            return reply.status == 200


async def _session_rows(settings: Settings) -> int:
    pool = await db.create_pool(settings.database_url, "advisory", min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            rows: int = await conn.fetchval("SELECT count(*) FROM portal_sessions")
            return rows
    finally:
        await pool.close()


async def test_a_portal_cookie_is_no_key_and_ends_with_its_session(
    settings: Settings, clock: Clock
) -> None:
    """A stolen cookie is not the key, and is worth nothing once signed out or expired."""
    attempts: dict[str, bool] = {}  # attempt → let in
    async with running(build_advisory, settings, clock, settings.advisory_port) as base:
        key = (await new_agency(settings, "NITE"))["Authorization"].removeprefix("Bearer ")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            signed = await sign_in(browser, base, key)
            assert signed.status == 303
            sid = signed.cookies[COOKIE].value
            assert key not in signed.headers["Set-Cookie"] and len(sid) >= 43
            assert await _signed_in(base, sid), "the session's own cookie lets it in"
            attempts["the key itself as the cookie"] = await _signed_in(base, key)
            attempts["a made-up session id"] = await _signed_in(base, secrets.token_urlsafe(32))
            csrf = token(await (await browser.get(f"{base}/portal/new")).text())
            out = await browser.post(
                f"{base}/portal/logout", data={"csrf": csrf}, allow_redirects=False
            )
            assert out.status == 303
        attempts["the cookie after signing out"] = await _signed_in(base, sid)

        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            expiring = (await sign_in(browser, base, key)).cookies[COOKIE].value
        clock.advance(timedelta(seconds=SESSION_SECONDS - 60))
        assert await _signed_in(base, expiring), "a minute before it expires, it still works"
        clock.advance(timedelta(seconds=61))
        attempts["the cookie after 8 hours"] = await _signed_in(base, expiring)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            replaced = (await sign_in(browser, base, key)).cookies[COOKIE].value
        assert await _session_rows(settings) == 1, "signing in deleted the expired session"
        pool = await db.create_pool(settings.database_url, "advisory", min_size=1, max_size=1)
        try:  # no command replaces a key yet; one that does ends the key's sessions
            await pool.execute("UPDATE agencies SET key_hash = $1", secrets.token_hex(32))
        finally:
            await pool.close()
        attempts["the cookie after its key was replaced"] = await _signed_in(base, replaced)
    record(
        "security: stolen or stale portal cookie",
        inputs=len(attempts),
        leaks=sum(attempts.values()),
        note="the key as cookie, a made-up id, after sign-out, after 8 h, after a new key",
    )
    assert [name for name, let_in in attempts.items() if let_in] == []


async def test_only_a_trusted_proxy_makes_the_portal_cookie_secure(
    settings: Settings, clock: Clock
) -> None:
    """X-Forwarded-Proto: https from our TLS-terminating proxy: a Secure cookie; from anyone
    else the header is ignored, so a Secure cookie never rests on a forged header."""
    settings = msgspec.structs.replace(settings, trusted_proxies="127.0.0.2")
    https = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    cases = [
        ("the trusted proxy, https", "127.0.0.2", https, True),
        ("the trusted proxy, http", "127.0.0.2", https | {"X-Forwarded-Proto": "http"}, False),
        ("another peer claiming https", "127.0.0.3", https, False),
        ("a local peer claiming https", "127.0.0.1", https, False),
    ]
    wrong = []
    async with running(build_advisory, settings, clock, settings.advisory_port) as base:
        key = (await new_agency(settings, "NITE"))["Authorization"].removeprefix("Bearer ")
        for name, address, headers, secure in cases:
            async with (
                client_from(address) as client,
                client.post(
                    f"{base}/portal/login", data={"key": key}, headers=headers,
                    allow_redirects=False,
                ) as reply,
            ):  # fmt: skip
                assert reply.status == 303, name
                if bool(reply.cookies[COOKIE]["secure"]) != secure:
                    wrong.append(name)
    record(
        "security: forged X-Forwarded-Proto",
        inputs=len(cases),
        leaks=len(wrong),
        note="the portal cookie's Secure flag only on a trusted proxy's word",
    )
    assert wrong == []


async def _ingest_state(s: Secured) -> list[Any]:
    """What an attack on ingest could change: customers, order events, the catalog."""
    conn = await asyncpg.connect(s.stack.env["DATABASE_URL"])
    try:
        return [
            [tuple(r) for r in await conn.fetch(sql)]
            for sql in (
                "SELECT * FROM ingest.customers ORDER BY customer_id",
                "SELECT channel, order_id FROM ingest.orders ORDER BY 1, 2",
                "SELECT channel, order_id, event FROM ingest.order_events ORDER BY 1, 2, 3",
                "SELECT sku, categories FROM ingest.catalog ORDER BY sku",
            )
        ]
    finally:
        await conn.close()


async def test_ingest_takes_writes_only_with_the_right_key(secured: Secured) -> None:
    """A stranger, a guessed key, an agency's key and another channel's key try to write."""
    s, ingest = secured, secured.stack.url("ingest")
    web, grocery = await s.stack.channel("web"), await s.stack.channel("grocery")
    victim = _shopper(900, "SEC-9") | {"order_id": "V-1"}
    stranger = {**victim, "order_id": "EVIL-1",
                "placed_at": datetime.now(UTC).isoformat(),
                "customer": {**victim["customer"], "email": "stranger@evil.example"}}  # fmt: skip
    catalog = [{"sku": "SEC-9", "title": "Heater", "categories": ["electric_heater"]}]
    rewritten = [{"sku": "SEC-9", "title": "Heater", "categories": ["honey"]}]
    cancel = {"event": "cancelled", "channel": "web", "order_id": "V-1"}
    own = {k: v for k, v in _shopper(901, "SEC-9").items() if k != "channel"}  # grocery's
    async with aiohttp.ClientSession() as http:
        async with http.put(f"{ingest}/v1/catalog", json=catalog, headers=s.operator) as reply:
            assert reply.status == 200
        async with http.post(f"{ingest}/v1/orders", json=victim, headers=web) as reply:
            assert reply.status == 202 and (await reply.json())["accepted"] == 1
        before = await _ingest_state(s)
        guessed = {"Authorization": "Bearer ck_" + "0" * 8 + "_" + "A" * 43}
        strangers = [{}, guessed, s.theirs]  # no key, a guessed one, an agency's
        attempts = [
            *[("POST", "/v1/orders", stranger, k) for k in strangers],
            ("POST", "/v1/orders", stranger, grocery),  # it names channel web
            ("POST", "/v1/orders", [own, stranger], grocery),  # refused whole: `own` too
            ("POST", "/v1/orders", [cancel], grocery),
            *[("POST", f"/v1/orders/web/V-1/{e}", None, k)
              for e in ("cancel", "return") for k in [*strangers, grocery]],
            *[("PUT", "/v1/catalog", rewritten, k) for k in [*strangers, grocery, web]],
        ]  # fmt: skip
        got_through, shapes, statuses = [], [], set()
        for method, path, body, headers in attempts:
            async with http.request(method, ingest + path, json=body, headers=headers) as reply:
                statuses.add(reply.status)
                if reply.status < 400:
                    got_through.append(f"{method} {path}: {reply.status}")
                if shape := error_shape_problem(reply.status, reply.content_type,
                                                await reply.read()):  # fmt: skip
                    shapes.append(f"{method} {path}: {shape}")
        changed = await _ingest_state(s) != before
        # Another channel's order in the web customer's name counts as a purchase only.
        theirs = {**stranger, "channel": "grocery", "order_id": "EVIL-2"}
        async with http.post(f"{ingest}/v1/orders", json=theirs, headers=grocery) as reply:
            kept = (await reply.json()).get("contacts_kept", [])
        redirected = (await _ingest_state(s))[0] != before[0]
    record("security: writes to ingest without the right key", inputs=len(attempts) + 1,
           leaks=len(got_through) + changed + redirected,
           note=f"strangers, guessed and agency keys, another channel's key; answers "
                f"{sorted(statuses)}")  # fmt: skip
    assert got_through == []
    assert not changed, "an attempt changed a customer, an order or the catalog"
    assert not redirected and [k["field"] for k in kept] == ["customer.email"]
    assert shapes == [], "every refusal is a JSON error naming the problem"
    assert statuses == {401, 403}


# --- the bus and production's secrets (their own servers and processes, not the stack's) ---


@pytest.fixture
def users_nats(tmp_path: Path) -> Iterator[tuple[NatsServer, dict[str, str]]]:
    """A NATS server with the users of production, as `make up` and deploy/ start it."""
    server, passwords = secured_nats(tmp_path / "data")
    server.start()
    try:
        yield server, passwords
    finally:
        server.stop()


async def test_the_matchers_nats_user_cannot_publish_an_advisory(
    users_nats: tuple[NatsServer, dict[str, str]],
) -> None:
    found = await matcher_publishes_advisories(users_nats[0].url, users_nats[1])
    record("security: matcher's NATS user publishes advisories.published",
           inputs=len(found.tried), leaks=len(found.succeeded),
           note="stored and core publishes, its stream reconfigured, a new stream")  # fmt: skip
    assert found.succeeded == []


async def test_ingests_nats_user_cannot_read_delivery_requests(
    users_nats: tuple[NatsServer, dict[str, str]],
) -> None:
    found = await ingest_reads_deliveries(users_nats[0].url, users_nats[1])
    record("security: ingest's NATS user reads deliveries.requested",
           inputs=len(found.tried), leaks=len(found.succeeded),
           note="subscriptions (the mailer's inbox too), consumers, message gets")  # fmt: skip
    assert found.succeeded == []


def _development_starts() -> list[tuple[str, dict[str, str]]]:
    """Each service in production with each development setting it must refuse, alone."""
    given = {"ANSHIN_SECRET_KEY": "s3cret", "ANSHIN_OPERATOR_KEY": "op",
             "ANSHIN_NATS_PASSWORD": "pw", "ANSHIN_NATS_OPERATOR_PASSWORD": "pw",
             "ANSHIN_EVIDENCE_KEY": "ev"}  # fmt: skip
    starts = []
    for service in SERVICES:
        reads = importlib.import_module(f"services.{service}.app").SECRETS
        own = {**given, "ANSHIN_NATS_USER": service}
        starts.append((service, production_env()))  # nothing set at all
        starts.append((service, production_env(**(own | {"ANSHIN_NATS_USER": ""}))))
        if "secret_key" in reads:
            starts.append((service, production_env(**(own | {"ANSHIN_SECRET_KEY": ""}))))
        if "operator_key" in reads:
            starts.append((service, production_env(**(own | {"ANSHIN_OPERATOR_KEY": ""}))))
        if "evidence_key" in reads:
            starts.append((service, production_env(**(own | {"ANSHIN_EVIDENCE_KEY": ""}))))
        if "nats_operator_password" in reads:
            bare = own | {"ANSHIN_NATS_OPERATOR_PASSWORD": ""}
            starts.append((service, production_env(**bare)))
    return starts


async def test_no_service_starts_in_production_on_a_development_setting() -> None:
    starts = _development_starts()
    # A few at a time: sixteen interpreters importing at once on two busy cores could take
    # longer than the wait that tells a refusal from a start.
    room = asyncio.Semaphore(4)

    async def one(service: str, env: dict[str, str]) -> Ran | None:
        async with room:
            return await start(service, env, timeout=60)

    ran = await asyncio.gather(*(one(service, env) for service, env in starts))
    started = [
        f"{service}: {r.err.strip()[:80] if r else 'still running'}"
        for (service, _), r in zip(starts, ran, strict=True)
        if not refused(r, service)
    ]
    record("security: production start with a development secret",
           inputs=len(starts), leaks=len(started),
           note="each service: the default secret, no operator key, no NATS user, no evidence"
                " key")  # fmt: skip
    assert started == []
