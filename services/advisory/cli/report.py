"""`anshin advisory report ID`: an advisory's reach, from the running service's API."""

from __future__ import annotations

import argparse
from typing import Any

import msgspec

from services.advisory.cli.call import ServiceError, call
from shared.config import Settings
from shared.errors import AnshinError
from shared.tables import table

REPORT_STATES = ("matched", "sent", "waiting", "suppressed", "failed")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin advisory report`."""
    advisory = commands.add_parser(
        "advisory", help="advisories", description="Advisories as operators see them."
    )
    sub = advisory.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = sub.add_parser(
        "report",
        help="an advisory's reach (matched, sent, waiting, …) and funnel (bought … acted)",
        description=(
            "Print an advisory's reach as the mailer counts it (GET /v1/advisories/{id}/report):"
            " customers matched, mails sent, waiting (quiet hours or the weekly cap: why and until"
            " when is printed under the table),"
            " suppressed (unsubscribed or bounced) and failed, in total and by day; then its"
            " funnel: bought, contactable (against the 95 %% mark), delivered, read, acted,"
            " each step explained."
        ),
    )
    report.add_argument("id", help="the advisory's id (adv_...), as the console shows it")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.set_defaults(run=report_advisory)


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
    for wait in report.get("waiting", []):
        print(wait["says"])
    if report.get("deadline"):
        print(f"deadline: {report['deadline']['says']}")
    if "funnel" in report:
        print()
        print(funnel_table(report["funnel"]))
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


def funnel_table(funnel: dict[str, Any]) -> str:
    """The funnel's steps with their share of the buyers, what each counts, and the verdict."""
    rows: list[tuple[str, ...]] = [
        (
            str(s["step"]),
            str(s["customers"]),
            "-" if s["share"] is None else f"{s['share'] * 100:.1f} %",
        )
        for s in funnel["steps"]
    ]
    text = table(("step", "customers", "of bought"), rows, [1, 2])
    meanings = "\n".join(f"  {s['step']}: {s['means']}" for s in funnel["steps"])
    answers = (
        f"  acted: {funnel['checked']} checked their product, {funnel['gone']} no longer have it"
    )
    return f"{text}\n{meanings}\n{answers}\n{funnel['says']}"
