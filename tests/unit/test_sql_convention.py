"""SQL and transactions (docs/architecture.md): statements only in a service's `store/` package,
units of work only through `shared.db.unit_of_work`, and no domain error raised by a store.

Read from the source, so that a new module is held to the rule without a word. The advisory
service is held to it once its packages follow it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "matcher", "mailer")
# What asyncpg runs SQL with, opens a transaction with, or takes a connection with.
DATABASE_CALLS = frozenset(
    {
        "fetch",
        "fetchrow",
        "fetchval",
        "execute",
        "executemany",
        "copy_records_to_table",
        "copy_to_table",
        "copy_from_query",
        "copy_from_table",
        "cursor",
        "transaction",
        "acquire",
    }
)
# Modules whose names a store may not import: what would let it answer for the HTTP layer.
HTTP_ONLY = ("aiohttp", "shared.errors", "shared.http")


def _modules(service: str) -> list[Path]:
    return sorted((ROOT / "services" / service).rglob("*.py"))


def _in_store(path: Path, service: str) -> bool:
    return (ROOT / "services" / service / "store") in path.parents


def _outside_stores() -> list[Path]:
    found = [p for s in SERVICES for p in _modules(s) if not _in_store(p, s)]
    return found  # services/ingest/channel_cli.py among them


def database_calls(source: str) -> list[str]:
    """`line: name` of every call of an asyncpg method in a module's source."""
    calls = [
        (node.lineno, node.col_offset, node.func.attr)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in DATABASE_CALLS
    ]
    return [f"{line}: {name}" for line, _, name in sorted(calls)]


def imported(source: str) -> set[str]:
    """The modules a source imports, and each name imported from them as `module.name`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_checks_see_what_they_must() -> None:
    """Not blind: a statement, a transaction and an acquired connection are seen."""
    source = (
        "async def f(pool, conn):\n"
        "    async with pool.acquire() as c, c.transaction():\n"
        "        await c.execute('SELECT 1')\n"
        "    return await conn.fetchval('SELECT 2')\n"
    )
    assert database_calls(source) == ["2: acquire", "2: transaction", "3: execute", "4: fetchval"]
    assert "shared.errors.NotFound" in imported("from shared.errors import NotFound")


@pytest.mark.parametrize("path", _outside_stores(), ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_runs_only_in_the_store(path: Path) -> None:
    assert database_calls(path.read_text(encoding="utf-8")) == [], (
        "SQL belongs in the service's store/ package, as a function taking the connection;"
        " a use case opens its connection and transaction with shared.db.unit_of_work"
    )


@pytest.mark.parametrize(
    "path",
    [p for s in SERVICES for p in _modules(s) if _in_store(p, s)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_a_store_takes_a_connection_and_raises_no_domain_error(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert [c for c in database_calls(source) if c.endswith((": acquire", ": transaction"))] == []
    assert [n for n in imported(source) if n.startswith(HTTP_ONLY)] == []
