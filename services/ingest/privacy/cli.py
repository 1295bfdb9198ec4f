"""`anshin customer erase ID` and `anshin customer export ID`: the running ingest service
called with the operator key, as any operator's script would."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec

from shared import exits
from shared.config import Settings, env_name
from shared.errors import AnshinError


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin customer erase` and `anshin customer export` to the CLI."""
    customer = commands.add_parser("customer", help="a customer's rights: erasure and export")
    actions = customer.add_subparsers(dest="action", required=True)
    erase = actions.add_parser(
        "erase", help="erase a customer in every service (and the ids linked by e-mail)"
    )
    erase.add_argument("customer_id")
    erase.add_argument(
        "--wait", type=float, default=0, metavar="S", help="wait up to S seconds until done"
    )
    erase.set_defaults(run=erase_customer)
    export = actions.add_parser("export", help="print what every service holds of a customer")
    export.add_argument("customer_id")
    export.set_defaults(run=export_customer)


async def _call(settings: Settings, method: str, path: str) -> Any:
    """Call ingest as an operator; an error answer raises naming its problem."""
    if not settings.operator_key:
        raise AnshinError(f"no operator key: set {env_name('operator_key')}")
    base = f"http://127.0.0.1:{settings.ingest_port}"
    headers = {"Authorization": f"Bearer {settings.operator_key}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
            http.request(method, base + path, headers=headers) as reply,
        ):
            raw, status = await reply.read(), reply.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AnshinError(f"cannot reach ingest at {base} (is the stack running?): {exc}") from exc
    try:
        answer = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        answer = {"error": raw.decode(errors="replace")[:200]}
    if status >= 400:
        details = "; ".join(f"{d['field']}: {d['problem']}" for d in answer.get("details", []))
        raise AnshinError(f"{answer.get('error', 'error')} ({details}) [HTTP {status}]")
    return answer


def _path(customer_id: str) -> str:
    return f"/v1/customers/{quote(customer_id, safe='')}"


async def erase_customer(args: argparse.Namespace, settings: Settings) -> int:
    """Ask for the erasure; print the request's id (and, with --wait, its state)."""
    answer = await _call(settings, "POST", f"{_path(args.customer_id)}/erase")
    print(f"erasure requested: {answer['id']}")
    if args.wait <= 0:
        return exits.OK
    status = f"{_path(args.customer_id)}/erase/{answer['id']}"
    deadline = asyncio.get_running_loop().time() + args.wait
    while True:
        report = await _call(settings, "GET", status)
        if report["state"] == "done" or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.5)
    if report["state"] != "done":
        waiting = ", ".join(report["waiting"])
        raise AnshinError(f"erasure {answer['id']} not done after {args.wait:g} s: {waiting}")
    print("state: done")
    return exits.OK


async def export_customer(args: argparse.Namespace, settings: Settings) -> int:
    """Print the customer's export as JSON."""
    answer = await _call(settings, "GET", f"{_path(args.customer_id)}/export")
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(answer)).decode() + "\n")
    return exits.OK
