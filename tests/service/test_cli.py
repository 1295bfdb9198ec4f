"""`python -m services.cli` as an operator runs it, against services running in-process."""

from __future__ import annotations

import contextlib
import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from deploy.servers import free_port
from services import migrate_cli
from shared import db
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_advisory_events import cap_alert
from tests.support.advisory import disaster_playbook, eventually, new_agency, operator
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.launcher import Ran, python
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink


def cli_env(settings: Settings, tmp_path: Path, **changes: str) -> dict[str, str]:
    """The environment of an operator's shell pointed at the test's servers and services."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ANSHIN_") and k not in ("NATS_URL", "DATABASE_URL")
    }
    env.update(
        DATABASE_URL=settings.database_url,
        NATS_URL=settings.nats_url,
        ANSHIN_OPERATOR_KEY=settings.operator_key,
        ANSHIN_SECRET_KEY=settings.secret_key,
        ANSHIN_ADVISORY_PORT=str(settings.advisory_port),
        ANSHIN_DATA_DIR=str(tmp_path / "no-stack-here"),
    )
    env.update(changes)
    return env


async def anshin(env: dict[str, str], *argv: str, stdin: bytes = b"") -> Ran:
    """Run the CLI; a failure must be one line on stderr, never a traceback."""
    ran = await python(env, "services.cli", *argv, stdin=stdin, timeout=60)
    assert "Traceback" not in ran.err, ran.err
    if ran.code:
        assert ran.err.startswith("anshin: ") and ran.err.count("\n") == 1, ran.err
    return ran


def usgs(occurred: datetime, quake_id: str = "us6000m0xl") -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": quake_id,
        "properties": {"mag": 7.5, "time": int(occurred.timestamp() * 1000), "title": "M 7.5"},
        "geometry": {"type": "Point", "coordinates": [137.271, 37.4874, 10.0]},
    }


async def test_agencies_are_created_and_listed_without_their_keys(
    settings: Settings, tmp_path: Path
) -> None:
    env = cli_env(settings, tmp_path)
    empty = await anshin(env, "agency", "list")
    assert empty.code == 0 and "No agencies yet" in empty.out
    created = await anshin(env, "agency", "create", "Tokyo Fire Department")
    key = re.findall(r"^key:\s+(\S+)", created.out, re.M)[0]
    # A script reads the key from JSON, never by scraping the text.
    made = await anshin(
        env, "agency", "create", "消費生活センター", "--timezone", "Asia/Tokyo", "--json"
    )
    scripted = json.loads(made.out)
    assert scripted["name"] == "消費生活センター" and scripted["id"].startswith("ag")
    assert len(scripted["key"]) > 30 and scripted["timezone"] == "Asia/Tokyo"
    # A time zone must be one of IANA's: a wrong one is a wrong command line, nothing made.
    for zone in ("Tokyo", "Asia/Tokio", "../../etc/passwd"):
        wrong = await python(env, "services.cli", "agency", "create", "Nowhere", "--timezone", zone)
        assert wrong.code == 2 and "IANA time zone" in wrong.err, wrong
    again = await anshin(env, "agency", "create", "Tokyo Fire Department")
    assert again.code == 1 and "exists already" in again.err

    listed = await anshin(env, "agency", "list")
    assert listed.code == 0 and key not in listed.out
    header, _, *rows = listed.out.splitlines()
    assert header.split() == [
        "id", "name", "timezone", "created", "embargoed", "published", "withdrawn"
    ]  # fmt: skip
    assert [r.split()[1] for r in rows] == ["Tokyo", "消費生活センター"]
    assert [r.split()[-6] for r in rows] == ["UTC", "Asia/Tokyo"]
    assert all(r.split()[-3:] == ["0", "0", "0"] for r in rows)
    as_json = json.loads((await anshin(env, "agency", "list", "--json")).out)
    assert [a["name"] for a in as_json] == ["Tokyo Fire Department", "消費生活センター"]
    assert [a["timezone"] for a in as_json] == ["UTC", "Asia/Tokyo"]
    assert as_json[1]["id"] == scripted["id"] and scripted["key"] not in json.dumps(as_json)


async def test_the_version_is_printed_and_exit_codes_keep_their_meaning(
    settings: Settings, tmp_path: Path
) -> None:
    env = cli_env(settings, tmp_path)
    version = await anshin(env, "--version")
    assert version.code == 0 and re.fullmatch(r"anshin \d+\.\d+\S*\n", version.out), version.out
    wrong = await python(env, "services.cli", "agency", "frobnicate")
    assert wrong.code == 2 and "invalid choice" in wrong.err  # argparse: a wrong command line
    rejected = tmp_path / "catalog.ndjson"
    rejected.write_text('{"sku": "", "title": "nameless", "categories": []}\n')
    loaded = await python(env, "services.cli", "catalog", "load", str(rejected))
    assert loaded.code == 3, loaded  # it ran, and refused a record


async def test_events_are_declared_from_files_of_each_format(
    settings: Settings, clock: Clock, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    env = cli_env(settings, tmp_path)
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "advisory")
        headers = await new_agency(settings, "FDMA")
        reply = await http.post(
            f"{urls['advisory']}/v1/advisories",
            json=disaster_playbook(clock.now() + timedelta(minutes=1)),
            headers=headers,
        )
        playbook = (await expect(reply, 201))["id"]
        clock.advance(timedelta(minutes=2))
        await eventually(lambda: _published(http, urls["advisory"], playbook, headers))
        now = clock.now()

        quake = tmp_path / "quake.geojson"
        quake.write_text(json.dumps(usgs(now)))
        first = await anshin(env, "event", "declare", str(quake))
        assert first.code == 0, first.err
        assert first.out.startswith("declared: dis_")
        assert "circle 37.4874, 137.2710, radius 169.7 km" in first.out
        assert f"playbooks: {playbook}" in first.out
        again = await anshin(env, "event", "declare", str(quake))
        assert again.out.startswith("already declared, nothing new is sent: dis_")

        cap = tmp_path / "alert.xml"
        cap.write_bytes(cap_alert(now, "A-1"))
        alert = await anshin(env, "event", "declare", str(cap))
        assert alert.out.startswith("declared: dis_") and "countries: JP" in alert.out

        area = {"type": "circle", "lat": 35.7, "lon": 139.8, "radius_km": 10}
        plain = {"hazard": "flood", "title": "Arakawa flood", "time": now.isoformat(), "area": area}
        flood = await anshin(
            env, "event", "declare", "-", "--countries", "JP", stdin=json.dumps(plain).encode()
        )
        assert flood.out.startswith("declared: dis_") and "countries: JP" in flood.out
        assert "playbooks: none" in flood.out  # no flood playbook

        feed = {"type": "FeatureCollection", "features": [
            usgs(now - timedelta(days=30), "us-old"), usgs(now, "us-new")]}  # fmt: skip
        (tmp_path / "feed.geojson").write_text(json.dumps(feed))
        both = await anshin(env, "event", "declare", str(tmp_path / "feed.geojson"))
        old, new = both.out.split("\n", 1)
        assert old.startswith("not declared:") and old.endswith("the event is older than 7 days")
        assert new.startswith("declared: dis_")


async def _published(http: aiohttp.ClientSession, base: str, i: str, headers: Any) -> bool:
    async with http.get(f"{base}/v1/advisories/{i}", headers=headers) as reply:
        return bool((await reply.json())["state"] == "published")


@pytest.mark.parametrize(
    ("argv", "changes", "problem"),
    [
        (["event", "declare", "{tmp}/missing.json"], {}, "cannot read {tmp}/missing.json"),
        (["event", "declare", "{tmp}/empty.json"], {}, "{tmp}/empty.json is empty"),
        (["event", "declare", "{tmp}/bad.json"], {}, "is neither XML nor valid JSON"),
        (["event", "declare", "{tmp}/no-time.json"], {}, "invalid event (time: "),
        (["event", "declare", "{tmp}/good.json"], {"ANSHIN_OPERATOR_KEY": ""}, "no operator key"),
        (["event", "declare", "{tmp}/good.json"], {"ANSHIN_OPERATOR_KEY": "x"}, "refused"),
        (["event", "declare", "{tmp}/good.json"], {"ANSHIN_ADVISORY_PORT": "{free}"},
         "cannot reach the advisory service"),
        (["advisory", "report", "adv_nope"], {}, "no advisory 'adv_nope'"),
        (["agency", "list"], {"DATABASE_URL": "postgresql://postgres@127.0.0.1:{free}/x"},
         "cannot reach the database"),
        (["catalog", "load", "{tmp}/missing.json"], {}, "cannot read {tmp}/missing.json"),
    ],
)  # fmt: skip
async def test_bad_input_is_one_line_naming_the_problem(
    settings: Settings,
    clock: Clock,
    tmp_path: Path,
    argv: list[str],
    changes: dict[str, str],
    problem: str,
) -> None:
    (tmp_path / "empty.json").write_text("\n")
    (tmp_path / "bad.json").write_text('{"hazard": ')
    (tmp_path / "no-time.json").write_text('{"hazard": "flood", "title": "x"}')
    (tmp_path / "good.json").write_text(json.dumps(usgs(clock.now())))
    fill = {"tmp": str(tmp_path), "free": str(free_port())}
    env = cli_env(settings, tmp_path, **{k: v.format(**fill) for k, v in changes.items()})
    async with contextlib.AsyncExitStack() as stack:
        await run_services(stack, settings, clock, "advisory")
        ran = await anshin(env, *(a.format(**fill) for a in argv))
    assert ran.code == 1
    assert problem.format(**fill) in ran.err


async def test_the_report_is_a_table_of_the_reach(
    settings: Settings,
    clock: Clock,
    smtp_sink: SmtpSink,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    env = cli_env(settings, tmp_path)
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        headers = await new_agency(settings, "Consumer Safety Institute")
        catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
        web = await channel_header(settings)
        reply = await http.put(
            f"{urls['ingest']}/v1/catalog", json=catalog, headers=operator(settings)
        )
        await expect(reply, 200)
        advisory = power_bank_advisory(clock.now() + timedelta(hours=1))
        advisory["deliver_by"] = (clock.now() + timedelta(hours=2)).isoformat()
        reply = await http.post(f"{urls['advisory']}/v1/advisories", json=advisory, headers=headers)
        advisory_id = (await expect(reply, 201))["id"]
        the_order = order("A-1", clock.now() - timedelta(days=1))
        reply = await http.post(f"{urls['ingest']}/v1/orders", json=the_order, headers=web)
        await expect(reply, 202)

        embargoed = await anshin(env, "advisory", "report", advisory_id)
        assert embargoed.code == 0
        assert (
            "embargoed until" in embargoed.out and "Using your power bank safely" in embargoed.out
        )
        assert _counts(embargoed.out)["sent"] == 0
        # The deadline's verdict under the table, as the API words it.
        ahead = json.loads((await anshin(env, "advisory", "report", advisory_id, "--json")).out)
        assert f"deadline: {ahead['deadline']['says']}" in embargoed.out.splitlines()
        assert ahead["deadline"]["met"] is True

        clock.advance(timedelta(hours=1, seconds=1))
        await smtp_sink.wait_for(1)
        report = await anshin(env, "advisory", "report", advisory_id)
        assert report.code == 0, report.err
        assert report.out.startswith(f"{advisory_id}  short_term  published  Consumer Safety")
        assert _counts(report.out)["sent"] == 1
        day = clock.now().strftime("%Y-%m-%d")
        assert re.search(rf"^{day}\s+\d+\s+1\s", report.out, re.M), report.out
        raw = await anshin(env, "advisory", "report", advisory_id, "--json")
        assert json.loads(raw.out)["counts"]["sent"] == 1


def _counts(out: str) -> dict[str, int]:
    """The `state  customers` rows of a report."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^([a-z]+)\s+(\d+)$", out, re.M)}


async def test_migrate_brings_every_schema_up_to_date_once(
    settings: Settings, tmp_path: Path
) -> None:
    root = Path(__file__).parents[2] / "services"
    with_migrations = {p.parent.name for p in root.glob("*/migrations")}
    assert {schema for schema, _, _ in migrate_cli.SERVICES} == with_migrations

    env = cli_env(settings, tmp_path)
    first = await anshin(env, "migrate")
    assert first.code == 0, first.err
    lines = dict(line.split(": ", 1) for line in first.out.splitlines())
    assert set(lines) == with_migrations
    for schema, package, _ in migrate_cli.SERVICES:
        names = [name for _, name, _ in db.migrations_of(package)]
        assert lines[schema] == ", ".join(names)
    again = await anshin(env, "migrate")
    assert again.out.splitlines() == [f"{s}: up to date" for s, _, _ in migrate_cli.SERVICES]
