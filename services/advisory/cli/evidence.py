"""`anshin evidence verify FILE`: check an evidence export's chain and its head's signature."""

from __future__ import annotations

import argparse
from pathlib import Path

import aiohttp

from services.advisory.evidence import chain, keys
from shared.config import Settings
from shared.errors import AnshinError


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `anshin evidence verify`."""
    evidence = commands.add_parser(
        "evidence", help="advisories' evidence", description="Evidence exports of advisories."
    )
    sub = evidence.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = sub.add_parser(
        "verify",
        help="check an evidence export: every row's chain and the head's Ed25519 signature",
        description=(
            "Check a file of GET /v1/advisories/{id}/evidence: each row must carry the hash of"
            " the row before, the last line must sign the chain's head, and the signature must"
            " verify against Anshin's public key (--key, a PEM file; else the running advisory"
            f" service's {keys.WELL_KNOWN})."
        ),
    )
    verify.add_argument("file", type=Path, help="the export, as downloaded")
    verify.add_argument("--key", type=Path, help="Anshin's public evidence key (PEM)")
    verify.set_defaults(run=verify_file)


async def _published_key(settings: Settings) -> bytes:
    url = f"http://127.0.0.1:{settings.advisory_port}{keys.WELL_KNOWN}"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
            http.get(url) as reply,
        ):
            if reply.status != 200:
                raise AnshinError(f"{url} answered {reply.status}: give the key with --key")
            return await reply.read()
    except aiohttp.ClientError as exc:
        raise AnshinError(f"cannot reach {url} ({exc}): give the key with --key") from None


async def verify_file(args: argparse.Namespace, settings: Settings) -> int:
    """Print what the export holds if it verifies; fail naming the first problem if not."""
    try:
        data = args.file.read_bytes()
        pem = args.key.read_bytes() if args.key else await _published_key(settings)
    except OSError as exc:
        raise AnshinError(f"cannot read {exc.filename}: {exc.strerror}") from None
    try:
        key = keys.load_public(pem)
    except ValueError as exc:
        raise AnshinError(f"the key is not Anshin's evidence key: {exc}") from None
    verdict = chain.verify(data, key)
    if verdict.problem:
        raise AnshinError(f"{args.file} does not verify: {verdict.problem}")
    print(
        f"{args.file}: verified: {verdict.rows} events of advisory {verdict.advisory_id},"
        f" chain intact, head signed by key {keys.key_id(key)}"
    )
    return 0
