"""Who a rule reaches in the purchase history: a WHERE clause that composes, read by shard.

Each kind builds its clause (services/matcher/rules/); `store` runs them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_PLACEHOLDER = re.compile(r"\$(\d+)")

# Every owned line by product, categorized or not: what a recall reads. The quals of a WHERE
# reach both branches (PostgreSQL pushes them into a UNION ALL), so each uses its SKU and GTIN
# indexes.
ANY_LINE = """(
    SELECT customer_id, bucket, channel, order_id, line_no, sku, gtin, title, placed_at, active
    FROM purchases
    UNION ALL
    SELECT customer_id, bucket, channel, order_id, line_no, sku, gtin, title, placed_at, active
    FROM uncategorized_lines
) AS purchases"""


class Where:
    """A WHERE clause over owned purchases, with its $n parameters and the rows it reads."""

    def __init__(self, source: str = "purchases") -> None:
        self.parts = ["active"]
        self.params: list[Any] = []
        # The category history; a recall reads ANY_LINE, uncategorized lines included.
        self.source = source

    def p(self, value: Any) -> str:
        """Bind a parameter and return its placeholder."""
        self.params.append(value)
        return f"${len(self.params)}"

    def add(self, sql: str) -> Where:
        """AND one more condition."""
        self.parts.append(sql)
        return self

    def shard(self, lo: int, hi: int) -> Where:
        """Keep the customers whose bucket lies in [lo, hi)."""
        return self.add(f"bucket >= {self.p(lo)} AND bucket < {self.p(hi)}")

    @property
    def sql(self) -> str:
        """The clause."""
        return " AND ".join(self.parts)


def of_categories(categories: list[str]) -> Where:
    """Purchases of any of the categories."""
    w = Where()
    return w.add(f"category = ANY({w.p(categories)}::text[])")


def any_of(clauses: Sequence[Where]) -> Where:
    """Purchases under any of the clauses (of one source): each clause's parameters follow
    the ones before, its placeholders renumbered to match."""
    w = Where(clauses[0].source if clauses else "purchases")
    either = []
    for clause in clauses:
        either.append(_renumbered(clause.sql, len(w.params)))
        w.params.extend(clause.params)
    return w.add("(" + " OR ".join(f"({sql})" for sql in either) + ")" if either else "false")


def _renumbered(sql: str, shift: int) -> str:
    return _PLACEHOLDER.sub(lambda p: f"${int(p[1]) + shift}", sql)
