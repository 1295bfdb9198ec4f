"""The README's example of each order format is one the format reads, whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.ingest.formats import get
from services.ingest.model import Order

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### Order formats", 1)[1].split("\n## ", 1)[0]
# Each example: the `?format=` it names, then the next fenced block.
EXAMPLES = re.findall(r"`\?format=(\w+)`.*?```(?:json|csv)\n(.*?)```", SECTION, flags=re.S)


def test_the_readme_shows_one_example_of_each_format() -> None:
    assert [name for name, _ in EXAMPLES] == ["canonical", "grocery", "marketplace"]


@pytest.mark.parametrize(("name", "body"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_a_readme_example_is_read_as_one_order(name: str, body: str) -> None:
    content_type = "text/csv" if name == "marketplace" else "application/json"
    records = get(name).parse(body.encode(), content_type, get(name).channel)
    assert [type(record) for _, record in records] == [Order], records
    [(_, order)] = records
    assert isinstance(order, Order) and order.lines and order.customer.email
