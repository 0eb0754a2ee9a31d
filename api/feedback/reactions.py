"""Feedback reactions to the table's stream: a new order records, per SKU, that the member
bought it (what makes a review verified). A plain put of the same item: a redelivered
record changes nothing. Refunds change the order, which the check reads at submission."""

from __future__ import annotations

from api.clock import Clock
from api.feedback import reviews_store as store
from api.idempotency import Plan, versioned_write
from api.points.store import order_in
from api.store.base import TableItem
from api.store.reads import Snapshot
from api.stream import Change, Reaction

CHUNK = 100  # items per TransactWriteItems


def purchases(clock: Clock) -> Reaction:
    def react(change: Change) -> None:
        order = order_in(change.new) if change.inserted else None
        if order is None or not order.lines:
            return
        skus = sorted({line.sku for line in order.lines})
        items: list[TableItem] = [
            store.PurchaseItem(
                *store.purchase_key(order.member_id, sku, order.order_id), order_id=order.order_id
            )
            for sku in skus
        ]
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]

            def decide(_: Snapshot, chunk: list[TableItem] = chunk) -> Plan[None]:
                return Plan(None, changed=chunk)

            versioned_write(clock, [], decide)

    return react
