"""Advisory commands of the `anshin` CLI: agencies, disaster events, advisory reach.

Agencies are read and written in advisory's schema directly (creating one prints its key,
which no HTTP answer ever carries); events and reports go through the running service's
HTTP API with the operator key, as any operator's script would.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from services.advisory.agencies import auth
from services.advisory.app import SCHEMA
from services.advisory.lifecycle import store
from services.advisory.lifecycle.submission import agency_name
from shared import db
from shared.config import Settings, env_name
from shared.errors import AnshinError
from shared.tables import table

TYPES = {
    "cap": "application/cap+xml",
    "geojson": "application/geo+json",
    "json": "application/json",
}
REPORT_STATES = ("matched", "sent", "waiting", "suppressed", "failed")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin agency ...`, `anshin event declare` and `anshin advisory report`."""
    agency = commands.add_parser(
        "agency", help="partner agencies", description="Partner agencies and their keys."
    )
    sub = agency.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create an agency and print its key once")
    create.add_argument("name", help="the agency's name as customers will read it")
    create.set_defaults(run=create_agency)
    listing = sub.add_parser(
        "list",
        help="list the agencies and how many advisories each has, by state",
        description="List every agency: id, name, creation time and its advisories by state.",
    )
    listing.set_defaults(run=list_agencies)

    event = commands.add_parser(
        "event", help="disaster events", description="Declare disasters from feeds."
    )
    sub = event.add_subparsers(dest="action", required=True, metavar="ACTION")
    declare = sub.add_parser(
        "declare",
        help="declare a disaster from a CAP, USGS GeoJSON or JSON file",
        description=(
            "Post a disaster event to the advisory service (POST /v1/events, operator key):"
            " a CAP 1.2 <alert>, a USGS earthquake GeoJSON Feature (or a FeatureCollection,"
            " one event per feature), or plain JSON {hazard, title, time, area}. A new"
            " disaster activates every published playbook of its hazard and countries; the"
            " same event again is reported as a duplicate; tests, cancellations, weak quakes"
            " and events older than 7 days are heard but not declared."
        ),
    )
    declare.add_argument("file", help="the event file; - reads standard input")
    declare.add_argument(
        "--type", choices=list(TYPES), help="the file's format (default: from its content)"
    )
    declare.add_argument(
        "--countries", help="countries the feed covers where its events do not say, e.g. JP,FR"
    )
    declare.set_defaults(run=declare_event)

    advisory = commands.add_parser(
        "advisory", help="advisories", description="Advisories as operators see them."
    )
    sub = advisory.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = sub.add_parser(
        "report",
        help="how far an advisory has reached: matched, sent, waiting, suppressed, failed",
        description=(
            "Print an advisory's reach as the mailer counts it (GET /v1/advisories/{id}/report):"
            " customers matched, mails sent, waiting (quiet hours or the weekly cap),"
            " suppressed (unsubscribed or bounced) and failed, in total and by day."
        ),
    )
    report.add_argument("id", help="the advisory's id (adv_...), as the console shows it")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.set_defaults(run=report_advisory)


async def create_agency(args: argparse.Namespace, settings: Settings) -> int:
    """Create an agency; its key is printed once and stored only as a hash."""
    agency_id, key = await new_agency(settings, args.name)
    print(f"agency: {agency_id}")
    print(f"name:   {args.name}")
    print(f"key:    {key}")
    print("Keep the key safe: it is shown only this once.")
    return 0


async def new_agency(settings: Settings, name: str) -> tuple[str, str]:
    """Create an agency; return its id and its key (Conflict if the name is taken)."""
    name = agency_name(name)
    pool = await db.create_pool(settings.database_url, SCHEMA, min_size=1, max_size=2)
    try:
        await db.migrate(pool, SCHEMA, "services.advisory")
        key = auth.new_key()
        agency_id = await store.create_agency(pool, name, auth.hash_key(key))
    finally:
        await pool.close()
    return agency_id, key


# Only this listing needs it, and advisory's store.py belongs to the service.
_AGENCIES = """
SELECT g.id, g.name, g.created_at,
       count(a.id) FILTER (WHERE a.state = 'embargoed') AS embargoed,
       count(a.id) FILTER (WHERE a.state = 'published') AS published,
       count(a.id) FILTER (WHERE a.state = 'withdrawn') AS withdrawn
FROM agencies g LEFT JOIN advisories a ON a.agency_id = g.id
GROUP BY g.id ORDER BY g.created_at, g.id
"""


async def agencies(settings: Settings) -> list[dict[str, Any]]:
    """Every agency with its advisories by state, oldest first."""
    pool = await db.create_pool(settings.database_url, SCHEMA, min_size=1, max_size=1)
    try:
        await db.migrate(pool, SCHEMA, "services.advisory")
        async with pool.acquire() as conn:
            return [dict(r) for r in await conn.fetch(_AGENCIES)]
    finally:
        await pool.close()


async def list_agencies(args: argparse.Namespace, settings: Settings) -> int:
    """Print every agency with its advisories by state; keys are never shown."""
    rows = await agencies(settings)
    if not rows:
        print("No agencies yet: create one with `anshin agency create NAME`.")
        return 0
    header = ("id", "name", "created", "embargoed", "published", "withdrawn")
    body = [
        (r["id"], r["name"], f"{r['created_at']:%Y-%m-%d %H:%M}", *(str(r[k]) for k in header[3:]))
        for r in rows
    ]
    print(table(header, body, right=range(3, 6)))
    return 0


async def declare_event(args: argparse.Namespace, settings: Settings) -> int:
    """Post each event of the file; print what the service declared."""
    stdin = args.file == "-"
    data = _read(args.file)
    query = {"countries": args.countries} if args.countries else {}
    for content_type, body in events_of(data, args.type, "standard input" if stdin else args.file):
        _, answer = await call(
            settings, "POST", "/v1/events", body=body, content_type=content_type, query=query
        )
        print(describe_event(answer))
    return 0


# The CLI runs one task at a time: a blocking read of a local file holds up nothing else.
def _read(name: str) -> bytes:
    return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()


def events_of(data: bytes, kind: str | None, name: str) -> list[tuple[str, bytes]]:
    """The (Content-Type, body) of each event in the file; a FeatureCollection holds many."""
    text = data.lstrip()
    if not text:
        raise AnshinError(f"{name} is empty")
    if kind == "cap" or (kind is None and text.startswith(b"<")):
        return [(TYPES["cap"], data)]
    try:
        raw = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise AnshinError(f"{name} is neither XML nor valid JSON: {exc}") from exc
    if isinstance(raw, dict) and raw.get("type") == "FeatureCollection":
        features = raw.get("features")
        if not isinstance(features, list) or not features:
            raise AnshinError(f"{name}: the FeatureCollection has no features")
        return [(TYPES["geojson"], msgspec.json.encode(f)) for f in features]
    if kind is None:
        feature = isinstance(raw, dict) and raw.get("type") == "Feature"
        kind = "geojson" if feature else "json"
    return [(TYPES[kind], data)]


def describe_event(answer: dict[str, Any]) -> str:
    """One paragraph about a disaster the service declared, knew, or did not declare."""
    what = f"{answer['hazard']} {answer['title']!r} at {answer['occurred_at']}"
    if not answer["declared"]:
        return f"not declared: {what}: {answer['reason']}"
    areas = "; ".join(_area(a) for a in answer["areas"])
    countries = ", ".join(answer["countries"]) or "any (the area decides)"
    playbooks = ", ".join(answer["advisory_ids"]) or "none"
    head = "already declared, nothing new is sent" if answer["duplicate"] else "declared"
    return (
        f"{head}: {answer['id']}: {what}\n  area:      {areas}\n"
        f"  countries: {countries}\n  playbooks: {playbooks}"
    )


def _area(area: dict[str, Any]) -> str:
    match area.get("type"):
        case "circle":
            return f"circle {area['lat']:.4f}, {area['lon']:.4f}, radius {area['radius_km']} km"
        case "polygon":
            return f"polygon of {len(area['points'])} points"
        case _:
            return "regions " + ", ".join(area.get("codes", []))


async def report_advisory(args: argparse.Namespace, settings: Settings) -> int:
    """Print one advisory's reach as a table (or JSON)."""
    try:
        _, advisory = await call(settings, "GET", f"/v1/advisories/{args.id}")
    except ServiceError as exc:
        if exc.status == 404:
            raise AnshinError(f"no advisory {args.id!r}: see the console for the ids") from exc
        raise
    _, report = await call(settings, "GET", f"/v1/advisories/{args.id}/report")
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(report)).decode())
        return 0
    title = advisory["title"].get("en") or next(iter(advisory["title"].values()))
    print(f"{advisory['id']}  {advisory['kind']}  {advisory['state']}  {advisory['agency_name']}")
    print(f"  {title}")
    if advisory["state"] == "embargoed":
        print(f"  embargoed until {advisory['embargo_until']}: nothing is sent before")
    print()
    print(reach_table(report))
    return 0


def reach_table(report: dict[str, Any]) -> str:
    """The counts of a report, then its days, as tables: the documented states first."""
    counts = report["counts"]
    states = [*REPORT_STATES, *sorted(set(counts) - set(REPORT_STATES))]
    text = table(("state", "customers"), [(s, str(counts.get(s, 0))) for s in states], [1])
    if report["by_day"]:
        rows = [(d["day"], *(str(d["counts"].get(s, 0)) for s in states)) for d in report["by_day"]]
        text += "\n\n" + table(("day", *states), rows, right=range(1, len(states) + 1))
    return text


async def call(
    settings: Settings,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    content_type: str = "",
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Call the advisory service as an operator; an error answer raises naming its problem."""
    if not settings.operator_key:
        raise AnshinError(
            f"no operator key: set {env_name('operator_key')} (`make up` keeps it in"
            f" {settings.data_dir}/operator_key)"
        )
    base = f"http://127.0.0.1:{settings.advisory_port}"
    headers = {"Authorization": f"Bearer {settings.operator_key}"}
    if content_type:
        headers["Content-Type"] = content_type
    timeout = aiohttp.ClientTimeout(total=30)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.request(method, base + path, data=body, headers=headers, params=query) as reply,
        ):
            raw = await reply.read()
            status = reply.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AnshinError(
            f"cannot reach the advisory service at {base} (is the stack running?): {exc}"
        ) from exc
    try:
        answer = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        answer = {"error": raw.decode(errors="replace")[:200]}
    if status >= 400:
        raise ServiceError(_problem(status, answer), status)
    return status, answer


class ServiceError(AnshinError):
    """The advisory service answered with an error."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _problem(status: int, answer: Any) -> str:
    message = answer.get("error", "") if isinstance(answer, dict) else ""
    details = answer.get("details", []) if isinstance(answer, dict) else []
    named = "; ".join(f"{d.get('field')}: {d.get('problem')}" for d in details)
    text = f"{message} ({named})" if named else message
    if status == 401:
        text = f"the advisory service refused the operator key: {text}"
    return f"{text or 'error'} [HTTP {status}]"
