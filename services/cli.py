"""The `anshin` command line: one entry point, sub-commands contributed by each service."""

from __future__ import annotations

import argparse
import asyncio
import sys

from services.advisory import cli as advisory_cli
from services.ingest import cli as ingest_cli
from shared import config
from shared.errors import AnshinError


def parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    root = argparse.ArgumentParser(prog="anshin", description="Operate Anshin.")
    commands = root.add_subparsers(dest="command", required=True)
    advisory_cli.register(commands)
    ingest_cli.register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are printed as one line, not a traceback."""
    args = parser().parse_args(argv)
    settings = config.load()
    try:
        code: int = asyncio.run(args.run(args, settings))
    except AnshinError as exc:
        print(f"anshin: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"anshin: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
