"""The `anshin` command line: one entry point, sub-commands contributed by each service.

Errors print one line (`anshin: ...`) and exit 1; nothing prints a traceback. The exit codes
are in `shared/exits.py`: 0 done, 1 failed, 2 a wrong command line, 3 some records refused.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata
from pathlib import Path

import asyncpg
import msgspec
import nats.errors

from services import migrate_cli
from services.advisory import cli as advisory_cli
from services.ingest import channel_cli
from services.ingest import cli as ingest_cli
from services.mailer import cli as mailer_cli
from shared import config, exits, service
from shared.bus.permissions import PASSWORDS_DIR
from shared.bus.roles import OPERATOR
from shared.config import Settings, env_name
from shared.errors import AnshinError

EPILOG = """\
Under `make up` the CLI finds the running stack by itself: its database, NATS server (as
the NATS user `operator`), operator key and secret are read from the data directory
(ANSHIN_DATA_DIR, default .data) wherever DATABASE_URL, NATS_URL, ANSHIN_OPERATOR_KEY or
ANSHIN_SECRET_KEY are unset. Elsewhere give it ANSHIN_NATS_USER=operator and that user's
ANSHIN_NATS_PASSWORD. Services are reached on http://127.0.0.1:<ANSHIN_*_PORT>.
"""


def parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    root = argparse.ArgumentParser(
        prog="anshin",
        description=(
            "Operate Anshin: agencies, channels, catalog and orders, disasters, advisory reach,"
            " suppressed addresses."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("--version", action="version", version=f"anshin {_version()}")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    advisory_cli.register(commands)
    ingest_cli.register(commands)
    mailer_cli.register(commands)
    channel_cli.register(commands)
    migrate_cli.register(commands)
    return root


def stack_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings from the environment, completed from a `make up` data directory where unset.

    `make up` starts embedded servers and generates the operator key and the secret into its
    data directory; an operator's shell has none of them in its environment.
    """
    env = dict(os.environ if environ is None else environ)
    data = Path(config.load(env).data_dir)
    if not env.get("DATABASE_URL"):
        dsn = _embedded_postgres(data / "pg")
        if dsn:
            env["DATABASE_URL"] = dsn
    if not env.get("NATS_URL") and (data / "anshin.pid").exists():
        env["NATS_URL"] = f"nats://127.0.0.1:{config.load(env).embedded_nats_port}"
        # The embedded server has a user per role: the CLI is the operators' tool.
        kept = data / PASSWORDS_DIR / OPERATOR
        if not env.get(env_name("nats_user")) and kept.is_file():
            env[env_name("nats_user")] = OPERATOR
            env[env_name("nats_password")] = kept.read_text().strip()
    if env.get(env_name("nats_operator_password")):
        # In the advisory's pod (`kubectl exec deploy/advisory -- anshin dead list`): the
        # console's `operator` password is there, and the CLI is an operator's tool.
        env[env_name("nats_user")] = OPERATOR
        env[env_name("nats_password")] = env[env_name("nats_operator_password")]
    for field in ("operator_key", "secret_key"):
        kept = data / field
        if not env.get(env_name(field)) and kept.is_file():
            env[env_name(field)] = kept.read_text().strip()
    return config.load(env)


def _embedded_postgres(pgdata: Path) -> str:
    """The DSN of a running embedded PostgreSQL, read from its postmaster.pid; "" if none."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return ""
    # postmaster.pid: pid, data dir, start time, port, socket directory, listen address, ...
    if len(lines) < 5 or not lines[3].strip().isdigit() or not lines[4].strip():
        return ""
    return f"postgresql://postgres@/anshin?host={lines[4].strip()}&port={lines[3].strip()}"


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are printed as one line, not a traceback."""
    args = parser().parse_args(argv)
    try:
        settings = stack_settings()
        reads = getattr(args, "secrets", ())  # only commands that use a secret name it
        if reads and (problems := config.refusals(settings, reads)):
            raise AnshinError(f"refusing to run in production: {'; '.join(problems)}")
        code: int = service.run(args.run(args, settings))
    except KeyboardInterrupt:
        print("anshin: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure is one line: the operator reads, never debugs
        print(f"anshin: {describe(exc)}", file=sys.stderr)
        return exits.FAILED
    return code


def _version() -> str:
    """The installed package's version (the wheel's, or the checkout's under `make setup`)."""
    try:
        return metadata.version("anshin")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def describe(exc: BaseException) -> str:
    """One line naming what went wrong."""
    match exc:
        case AnshinError():
            return exc.message
        case OSError(filename=str() as name):
            return f"cannot read {name}: {exc.strerror}"
        case asyncpg.PostgresError() | asyncpg.InterfaceError():
            return f"database: {exc}"
        case OSError() | TimeoutError():
            return f"cannot reach the database or NATS (is the stack running?): {exc}"
        case msgspec.DecodeError() | msgspec.ValidationError() | UnicodeDecodeError():
            return f"cannot read the input: {exc}"
        case nats.errors.Error():
            return f"NATS: {exc}"
        case _:
            return f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    sys.exit(main())
