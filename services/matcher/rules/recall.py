"""What a recall means: buyers of a listed SKU or GTIN, however long ago, at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.matcher import deliveries
from services.matcher.audience import ANY_LINE, Where
from services.matcher.rules.base import (
    Declared,
    Job,
    KindRule,
    Line,
    Outcome,
    Send,
    Triggers,
    purchase_of,
    recipient,
)
from shared import gtin
from shared import messages as m
from shared.db import Conn


def applies(rule: m.Recall, sku: str, code: str | None) -> bool:
    """A recall applies to any purchase of a listed SKU or GTIN (in any of its lengths),
    however old."""
    if sku in rule.skus:
        return True
    return code is not None and gtin.canonical(code) in {gtin.canonical(g) for g in rule.gtins}


class RecallRule(KindRule[m.Recall]):
    """An order of a recalled product is mailed at once; a publication reaches every buyer."""

    priority = m.Priority.RECALL

    def triggers(self) -> Triggers:
        """Its SKUs and GTINs, the GTINs as GTIN-14: a rule or an order of before the change
        may name a product by a shorter form."""
        codes = {*self.rule.skus, *(gtin.canonical(g) or "" for g in self.rule.gtins)}
        return Triggers(products=frozenset(codes))

    def on_line(self, line: Line) -> Outcome:
        """Send, when the line is of a recalled product."""
        if not applies(self.rule, line.line.sku, line.line.gtin):
            return None
        order = line.order
        return Send(recipient(order.customer_id, "recall", purchase_of(order, line.line)))

    def audience(self, at: datetime, late: timedelta, declared: Declared | None = None) -> Where:
        """Purchases of a listed SKU or GTIN, ever, whether the product has safety categories
        or not."""
        w = Where(ANY_LINE)
        gtins = [gtin.canonical(g) for g in self.rule.gtins]  # stored as GTIN-14 (migration 005)
        skus = w.p(self.rule.skus)
        return w.add(f"(sku = ANY({skus}::text[]) OR gtin = ANY({w.p(gtins)}::text[]))")

    async def reach(self, conn: Conn, job: Job, w: Where) -> deliveries.Requested:
        """Every buyer under `w`."""
        return await deliveries.request_matching(
            conn, job.advisory_id, self.kind, w, "recall", job.now, event_id=job.event_id
        )
