"""Which lines, and how many of each, a cancellation or return names."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from services.ingest.model import OrderEvent
from services.ingest.store import Known
from services.ingest.voids import Voided, resolve

# Line 1: two kettles, line 2: a mug, line 3: one more kettle.
ORDER = Known("c-1", ["K-1", "MUG", "K-1"], [2, 1, 1])


def _event(**body: Any) -> OrderEvent:
    return msgspec.convert({"event": "returned", "order_id": "A", **body}, OrderEvent)


@pytest.mark.parametrize(
    ("body", "voided"),
    [
        ({}, Voided([], [])),  # the whole order
        ({"line_nos": [2]}, Voided([2], [])),
        ({"skus": ["K-1"]}, Voided([1, 3], [])),
        ({"line_nos": [1, 2, 3]}, Voided([], [])),  # every line: the whole order
        ({"lines": [{"line_no": 1, "quantity": 1}]}, Voided([1], [1])),
        ({"lines": [{"line_no": 1, "quantity": 2}]}, Voided([1], [])),  # all of the line
        ({"lines": [{"line_no": 1}]}, Voided([1], [])),
        # By SKU, in line order: the first line's two, then the third line's one.
        ({"lines": [{"sku": "K-1", "quantity": 1}]}, Voided([1], [1])),
        ({"lines": [{"sku": "K-1", "quantity": 3}]}, Voided([1, 3], [])),
        ({"lines": [{"sku": "K-1", "quantity": 3}], "line_nos": [2]}, Voided([], [])),
        ({"lines": [{"sku": "K-1", "quantity": 1}], "line_nos": [2]}, Voided([1, 2], [1, 0])),
        (
            {"lines": [{"line_no": 1, "quantity": 1}, {"sku": "MUG"}]},
            Voided([1, 2], [1, 0]),
        ),
    ],
)
def test_an_event_names_lines_and_quantities(body: dict[str, Any], voided: Voided) -> None:
    assert resolve(_event(**body), ORDER) == voided


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"line_nos": [4]}, [("line_nos", "line 4 does not exist (the order has 3)")]),
        ({"skus": ["X"]}, [("skus", "'X' is not in the order")]),
        (
            {"lines": [{"line_no": 1, "quantity": 3}]},
            [("lines[0].quantity", "line 1 has a quantity of 2")],
        ),
        (
            {"lines": [{"sku": "K-1", "quantity": 4}]},
            [("lines[0].quantity", "the order has, of 'K-1', a quantity of 3")],
        ),
        ({"lines": [{"sku": "X", "quantity": 1}]}, [("lines[0].sku", "'X' is not in the order")]),
        (
            {"lines": [{"line_no": 9}]},
            [("lines[0].line_no", "line 9 does not exist (the order has 3)")],
        ),
        (
            {"lines": [{"quantity": 1}, {"line_no": 1, "sku": "K-1"}]},
            [
                ("lines[0]", "name the line by line_no or by sku (one of them)"),
                ("lines[1]", "name the line by line_no or by sku (one of them)"),
            ],
        ),
    ],
)
def test_an_event_naming_what_the_order_has_not_is_refused(
    body: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    found = resolve(_event(**body), ORDER)
    assert found == [{"field": f, "problem": p} for f, p in errors]
