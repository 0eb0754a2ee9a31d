"""The ledger's items: entries in the member's partition, orders under their own key, and
the mapping both ways.

| item   | pk                 | sk                 |
| ------ | ------------------ | ------------------ |
| entry  | MEMBER#<member id> | E#<seq, 12 digits> |
| order  | ORDER#<order id>   | ORDER              |

Refunds, redemptions and adjustments keep their first answer in an idempotency record
(api/store/records.py) that points at the entry they wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from api.members.store import member_pk
from api.money import Money
from api.points.attributes import FundingAttribute, LotAttribute
from api.points.model import Entry, EntryKind, Order, OrderLine
from api.store.base import IntegerAttribute, Key, RecordItem, TableItem
from api.store.reads import Snapshot, get

ENTRY_PREFIX = "E#"


def entry_sk(seq: int) -> str:
    return f"{ENTRY_PREFIX}{seq:012d}"


def entry_key(member_id: str, seq: int) -> Key:
    return (member_pk(member_id), entry_sk(seq))


def order_key(order_id: str) -> Key:
    return (f"ORDER#{order_id}", "ORDER")


class EntryItem(TableItem, discriminator="entry"):
    member_id = UnicodeAttribute()
    seq = IntegerAttribute()
    kind = UnicodeAttribute()
    points = IntegerAttribute()
    balance_after = IntegerAttribute()
    created_at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    amount = UnicodeAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    lot = LotAttribute(null=True)
    funding = FundingAttribute(default=tuple)
    shortfall = IntegerAttribute(default=0)
    base_points = IntegerAttribute(null=True)
    multiplier = UnicodeAttribute(null=True)


class LineAttribute(MapAttribute[str, Any]):
    sku = UnicodeAttribute()
    quantity = IntegerAttribute()
    unit_price = UnicodeAttribute()  # Decimal as text: DynamoDB numbers would come back floats
    category = UnicodeAttribute(null=True)


class OrderItem(RecordItem, discriminator="order"):
    """An order is its own idempotency record: its id is the key of recordOrder."""

    order_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    total = UnicodeAttribute()
    currency = UnicodeAttribute()
    placed_at = UTCDateTimeAttribute()
    lines: ListAttribute[LineAttribute] = ListAttribute(of=LineAttribute, default=list)
    points_earned = IntegerAttribute()
    lot_id = UnicodeAttribute(null=True)
    entry_seq = IntegerAttribute()
    refunded = UnicodeAttribute()
    points_reversed = IntegerAttribute(default=0)
    reservation_id = UnicodeAttribute(null=True)
    promotion_points = IntegerAttribute(default=0)
    base_points = IntegerAttribute(null=True)  # absent on orders recorded before tiers
    base_reversed = IntegerAttribute(default=0)
    multiplier = UnicodeAttribute(default="1")
    created_at = UTCDateTimeAttribute()
    version = VersionAttribute()


def entry_from_item(item: EntryItem) -> Entry:
    return Entry(
        member_id=item.member_id,
        seq=item.seq,
        kind=EntryKind(item.kind),
        points=item.points,
        balance_after=item.balance_after,
        created_at=item.created_at,
        actor=item.actor,
        order_id=item.order_id,
        refund_id=item.refund_id,
        reference=item.reference,
        reason=item.reason,
        amount=None
        if item.amount is None or item.currency is None
        else Money(Decimal(item.amount), item.currency),
        lot=item.lot,
        funding=item.funding,
        shortfall=item.shortfall,
        base_points=item.base_points,
        multiplier=None if item.multiplier is None else Decimal(item.multiplier),
    )


def entry_to_item(entry: Entry) -> EntryItem:
    return EntryItem(
        *entry_key(entry.member_id, entry.seq),
        member_id=entry.member_id,
        seq=entry.seq,
        kind=entry.kind.value,
        points=entry.points,
        balance_after=entry.balance_after,
        created_at=entry.created_at,
        actor=entry.actor,
        order_id=entry.order_id,
        refund_id=entry.refund_id,
        reference=entry.reference,
        reason=entry.reason,
        amount=None if entry.amount is None else str(entry.amount.amount),
        currency=None if entry.amount is None else entry.amount.currency,
        lot=entry.lot,
        funding=entry.funding,
        shortfall=entry.shortfall,
        base_points=entry.base_points,
        multiplier=None if entry.multiplier is None else str(entry.multiplier),
    )


def entries(items: Iterable[TableItem]) -> list[Entry]:
    """The ledger entries among a Query's items (the home Query also returns the profile)."""
    return [entry_from_item(item) for item in items if isinstance(item, EntryItem)]


def order_from_item(item: OrderItem) -> Order:
    return Order(
        order_id=item.order_id,
        member_id=item.member_id,
        total=Money(Decimal(item.total), item.currency),
        placed_at=item.placed_at,
        points_earned=item.points_earned,
        points_reversed=item.points_reversed,
        refunded=Money(Decimal(item.refunded), item.currency),
        lot_id=item.lot_id,
        lines=tuple(
            OrderLine(line.sku, line.quantity, Decimal(line.unit_price), line.category)
            for line in item.lines
        ),
        reservation_id=item.reservation_id,
        promotion_points=item.promotion_points,
        base_points=item.points_earned if item.base_points is None else item.base_points,
        base_reversed=item.base_reversed,
        multiplier=Decimal(item.multiplier),
        entry_seq=item.entry_seq,
        fingerprint=item.request_hash,
        created_at=item.created_at,
        version=item.version,
    )


def order_in(item: TableItem | None) -> Order | None:
    """The order, if the item is one (a stream image, for other domains' reactions)."""
    return order_from_item(item) if isinstance(item, OrderItem) else None


def order_to_item(order: Order) -> OrderItem:
    item = OrderItem(
        *order_key(order.order_id),
        order_id=order.order_id,
        member_id=order.member_id,
        total=str(order.total.amount),
        currency=order.total.currency,
        placed_at=order.placed_at,
        lines=[
            LineAttribute(
                sku=ln.sku,
                quantity=ln.quantity,
                unit_price=str(ln.unit_price),
                category=ln.category,
            )
            for ln in order.lines
        ],
        request_hash=order.fingerprint,
        points_earned=order.points_earned,
        lot_id=order.lot_id,
        entry_seq=order.entry_seq,
        refunded=str(order.refunded.amount),
        points_reversed=order.points_reversed,
        reservation_id=order.reservation_id,
        promotion_points=order.promotion_points,
        base_points=order.base_points,
        base_reversed=order.base_reversed,
        multiplier=str(order.multiplier),
        created_at=order.created_at,
    )
    if order.version is not None:
        item.version = order.version
    return item


def order_as_written(order: Order) -> Order:
    """The order as a write of `order_to_item(order)` leaves it: one version on."""
    return replace(order, version=(order.version or 0) + 1)


def load_order(snapshot: Snapshot, order_id: str) -> Order | None:
    item = snapshot.get(order_key(order_id), OrderItem)
    return None if item is None else order_from_item(item)


def get_order(order_id: str) -> Order | None:
    item = get(order_key(order_id), OrderItem)
    return None if item is None else order_from_item(item)


def get_entry(member_id: str, seq: int) -> Entry:
    item = get(entry_key(member_id, seq), EntryItem)
    if item is None:  # written in the same transaction as what points at it
        raise LookupError(f"entry {seq} of {member_id} is missing")
    return entry_from_item(item)
