"""What `make demo` prints at the end: the reach of each advisory and where to look."""

from __future__ import annotations

from typing import Any

from deploy.demo_stack import Stack
from services.advisory import cli as advisory_cli
from shared.tables import table


def summary(
    stack: Stack,
    published: dict[str, dict[str, Any]],
    reach: dict[str, Any],
    before: int | None,
    settled: bool,
    disaster_id: str,
) -> None:
    """What the demo did, in numbers, and where to look."""
    counts = {name: r["counts"] for name, r in reach.items()}
    seen = {state for c in counts.values() for state in c}
    states = [*advisory_cli.REPORT_STATES, *sorted(seen - set(advisory_cli.REPORT_STATES))]
    rows = [
        (a["id"], name, a["kind"], *(str(counts[name].get(s, 0)) for s in states))
        for name, a in published.items()
    ]
    print("\nReach, as the mailer counts it (GET /v1/advisories/{id}/report):")
    header = ("advisory", "name", "kind", *states)
    print(table(header, rows, right=range(3, len(header))))
    after = stack.mails()
    if after is None or before is None:
        print("\nNo local mailbox here: the mail went to the SMTP relay of ANSHIN_SMTP_HOST.")
    else:
        print(f"\nMail: {after - before:,} new mails in {stack.maildir} ({after:,} in all)")
        print(f"  read them at http://127.0.0.1:{stack.settings.mailbox_web_port}")
    if not settled:
        print("  (still sending when the demo stopped waiting: see the console for the rest)")
    console = f"{stack.url('advisory')}/console"
    print(f"Console: {console} (any user name, the operator key as password)")
    if disaster_id:
        print(f"  the quake's area and reach: {console}/disasters/{disaster_id}")
    quiet = stack.settings.quiet_hours
    if quiet != "off":
        print(
            f"Routine advice waits out the quiet hours ({quiet} in each customer's own time"
            " zone) and goes at most a few a week to anyone; disaster advice goes at once."
        )
    print(f"One advisory's reach: .venv/bin/anshin advisory report {rows[0][0]}")
