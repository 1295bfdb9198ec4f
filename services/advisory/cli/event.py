"""`anshin event declare FILE`: disasters posted to the running service, as a feed would."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

from services.advisory.cli.call import call
from shared.config import Settings
from shared.errors import AnshinError

TYPES = {
    "cap": "application/cap+xml",
    "geojson": "application/geo+json",
    "json": "application/json",
}


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin event declare`."""
    event = commands.add_parser(
        "event", help="disaster events", description="Declare disasters from feeds."
    )
    sub = event.add_subparsers(dest="action", required=True, metavar="ACTION")
    declare = sub.add_parser(
        "declare",
        help="declare a disaster from a CAP or JMA XML, USGS or NWS GeoJSON or JSON file",
        description=(
            "Post a disaster event to the advisory service (POST /v1/events, operator key):"
            " a CAP 1.0-1.2 <alert>, a JMA XML report (VXSE53, VPWW54), a USGS earthquake or"
            " NWS alert GeoJSON Feature (or a FeatureCollection, one event per feature), or"
            " plain JSON {hazard, title, time, area}. A new disaster activates every published"
            " playbook of its hazard and countries; a later report revises or cancels it; the"
            " same or an older report is reported as a duplicate; drills, tests, weak quakes"
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
    areas = "; ".join(
        [_area(a) for a in answer["areas"]]
        + [f"{len(p['levels'])} {_PLACES[p['scheme']]}" for p in answer.get("places", [])]
    )
    countries = ", ".join(answer["countries"]) or "any (the area decides)"
    playbooks = ", ".join(answer["advisory_ids"]) or "none"
    head = "already declared, nothing new is sent" if answer["duplicate"] else "declared"
    if answer.get("cancelled"):
        head = "cancelled" if not answer["duplicate"] else "already cancelled"
    elif answer.get("revision", 1) > 1 and not answer["duplicate"]:
        head = f"revised (revision {answer['revision']})"
    return (
        f"{head}: {answer['id']}: {what}\n  area:      {areas}\n"
        f"  countries: {countries}\n  playbooks: {playbooks}"
    )


_PLACES = {"jis": "municipalities (JIS)", "fips": "counties (FIPS)"}


def _area(area: dict[str, Any]) -> str:
    match area.get("type"):
        case "circle":
            return f"circle {area['lat']:.4f}, {area['lon']:.4f}, radius {area['radius_km']} km"
        case "polygon":
            return f"polygon of {len(area['points'])} points"
        case _:
            return "regions " + ", ".join(area.get("codes", []))
