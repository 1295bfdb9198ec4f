"""Evidence an agency can verify, through all four services: every event of an advisory's
deliveries as hash-chained JSON lines with a signed head, customers only as pseudonyms;
`anshin evidence verify` accepts the export and refuses it once one row is changed."""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import aiohttp
import msgspec

from deploy.servers import free_port
from services.advisory.evidence import chain, keys
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_advisory_funnel import _links, _mails
from tests.service.test_cli import anshin, cli_env
from tests.service.test_console_portal import sign_in
from tests.service.test_mailer_bounces_smtp import fixture, paths, returned
from tests.support.advisory import new_agency, operator
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.shop import expect, order, power_bank_shop
from tests.support.smtp import SmtpSink

READER = ("c-1", "hanako@example.jp", "ja-JP")
BOUNCED = ("c-2", "userx@example.jp", "en-GB")  # flufl-dsn_12: failed 5.1.1
LEAVER = ("c-3", "pierre@example.fr", "fr-FR")


async def test_the_evidence_export_is_complete_pseudonymous_signed_and_verifiable(
    settings: Settings,
    clock: Clock,
    smtp_sink: SmtpSink,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    mailer = f"http://127.0.0.1:{settings.mailer_port}"
    settings = msgspec.structs.replace(
        settings,
        mailer_public_url=mailer,
        bounce_smtp_port=free_port(),
        evidence_key="evidence-" + "k" * 32,
    )
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, advisory = urls["ingest"], urls["advisory"]
        mine = await new_agency(settings, "製品安全研究所")
        theirs = await new_agency(settings, "Fire Department")
        shop = await channel_header(settings, "shop-catalog", catalog=True)
        web = await channel_header(settings, "web")
        first, second = await power_bank_shop(http, urls, mine, shop, clock.now())
        for i, (customer, email, locale) in enumerate([READER, BOUNCED, LEAVER]):
            bought = order(f"A-{i}", clock.now(), customer=customer, locale=locale, email=email)
            await expect(await http.post(f"{ingest}/v1/orders", json=bought, headers=web), 202)
        clock.advance(timedelta(hours=1, seconds=1))
        await smtp_sink.wait_for(3)
        (unsubscribe,) = _links(_mails(smtp_sink, first["id"])[LEAVER[1]], mailer, "u")
        assert (await http.post(unsubscribe)).status == 200
        clock.advance(timedelta(hours=1))
        await smtp_sink.wait_for(5)
        mail = [m for m in smtp_sink.messages if m["X-Anshin-Advisory"] == second["id"]]
        message_ids = {str(m["To"].addresses[0].addr_spec): str(m["Message-ID"]) for m in mail}
        mails = _mails(smtp_sink, second["id"])
        (read,) = _links(mails[READER[1]], mailer, "r")
        assert (await http.get(read, allow_redirects=False)).status == 303
        checked, _ = _links(mails[READER[1]], mailer, "a")
        assert (await http.post(checked)).status == 200
        bounce_path = paths(smtp_sink)[BOUNCED[1]][-1]
        code, _ = await returned(
            settings.bounce_smtp_port, bounce_path, fixture("flufl-dsn_12.eml")
        )
        assert code == 250

        url = f"{advisory}/v1/advisories/{second['id']}/evidence"
        assert (await http.get(url, headers=theirs)).status == 403
        reply = await http.get(url, headers=mine)
        assert reply.status == 200 and reply.headers["Cache-Control"] == "private, no-store"
        assert reply.headers["Content-Type"].startswith("application/x-ndjson")
        export = await reply.read()
        by_operator = await http.get(url, headers=operator(settings))
        assert by_operator.status == 200
        other = await (
            await http.get(f"{advisory}/v1/advisories/{first['id']}/evidence", headers=mine)
        ).read()
        pem = await (await http.get(f"{advisory}{keys.WELL_KNOWN}")).read()
        # The agency downloads the same export from its portal.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            assert (
                await sign_in(browser, advisory, mine["Authorization"].split()[1])
            ).status == 303
            page = await (await browser.get(f"{advisory}/portal/advisories/{second['id']}")).text()
            assert f'href="/portal/advisories/{second["id"]}/evidence"' in page
            portal = await browser.get(f"{advisory}/portal/advisories/{second['id']}/evidence")
            assert portal.status == 200
            downloaded = await portal.read()
        assert downloaded.splitlines()[:-1] == export.splitlines()[:-1]
        assert chain.verify(downloaded, keys.load_public(pem)).problem == ""

        # The CLI verifies against the key the running service publishes; with one row
        # changed, it refuses (here against the key saved as a file).
        env = cli_env(settings, tmp_path)
        good = tmp_path / "evidence.jsonl"
        good.write_bytes(export)
        verified = await anshin(env, "evidence", "verify", str(good))
        assert verified.code == 0, verified.err
        (tmp_path / "key.pem").write_bytes(pem)
        altered = tmp_path / "altered.jsonl"
        altered.write_bytes(export.replace(b'"detail":"checked"', b'"detail":"gone"'))
        assert altered.read_bytes() != export
        refused = await anshin(
            env, "evidence", "verify", str(altered), "--key", str(tmp_path / "key.pem")
        )
        assert refused.code == 1 and "does not verify" in refused.err, refused.err

    *rows, head = [json.loads(line) for line in export.splitlines()]
    # Every event of every delivery, each customer under one pseudonym of this advisory.
    events: dict[str, list[str]] = {}
    for row in rows:
        events.setdefault(row["customer"], []).append(row["event"])
    assert sorted(events.values()) == sorted(
        [
            ["matched", "queued", "sent", "read", "acted"],
            ["matched", "queued", "sent", "bounced"],
            ["matched", "queued", "suppressed"],
        ]
    )
    sent = {r["message_id"]: r for r in rows if r["event"] == "sent"}
    assert sent.keys() == {message_ids[READER[1]], message_ids[BOUNCED[1]]}
    assert all(r["at"] for r in sent.values())
    assert [r["detail"] for r in rows if r["event"] in ("bounced", "acted")] in (
        ["hard", "checked"],
        ["checked", "hard"],
    )
    # Nobody is named: no address, name or customer id; another advisory, other pseudonyms.
    for secret in (*READER, *BOUNCED, *LEAVER, "Hanako"):
        assert secret.encode() not in export and secret.encode() not in other
    assert not set(events) & {json.loads(line)["customer"] for line in other.splitlines()[:-1]}

    assert head["rows"] == len(rows) and head["advisory_id"] == second["id"]
    assert head["head"] == hashlib.sha256(export.splitlines()[-2]).hexdigest()
    assert chain.verify(export, keys.load_public(pem)).problem == ""
    assert f"verified: {len(rows)} events of advisory {second['id']}" in verified.out
