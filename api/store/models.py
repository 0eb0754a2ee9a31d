"""The single table and the item types stored in it.

| item        | pk                              | sk           |
| ----------- | ------------------------------- | ------------ |
| program     | PROGRAM                         | SETTINGS     |
| member      | MEMBER#<member id>              | PROFILE      |
| entry       | MEMBER#<member id>              | E#<seq, 12 digits> |
| order       | ORDER#<order id>                | ORDER        |
| refund      | REFUND#<refund id>              | REFUND       |
| idempotency | IDEM#<operation>#<member>#<key> | IDEM         |

A member's profile sorts after its entries, so one descending Query from sk <= PROFILE
returns the profile and the newest entries: the home screen in one request.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.attributes import (
    Attribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.constants import NUMBER, STRING
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from api.consents import Channel, Consent
from api.lots import Funding, Lot, LotStatus

T = TypeVar("T")

PROFILE_SK = "PROFILE"
ENTRY_PREFIX = "E#"
DUE_INDEX = "due-index"
DUE_SHARDS = 8  # spreads the due index's writes; never lower it once deployed


def member_pk(member_id: str) -> str:
    return f"MEMBER#{member_id}"


def entry_sk(seq: int) -> str:
    return f"{ENTRY_PREFIX}{seq:012d}"


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def refund_pk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def idempotency_pk(operation: str, member_id: str, key: str) -> str:
    return f"IDEM#{operation}#{member_id}#{key}"


class DueIndex(GlobalSecondaryIndex["TableItem"]):
    """Sparse: only members with open lots carry due_shard/due_at. Projects the item type,
    which PynamoDB filters on for polymorphic models."""

    class Meta:
        index_name = DUE_INDEX
        projection = IncludeProjection(["type"])

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class TableItem(Model):
    """The table itself: keys, the discriminator, the due index and the TTL attribute."""

    class Meta:
        table_name = "loyalty-local"  # api.store.table.bind() sets the real one
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    type = DiscriminatorAttribute()
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    expires = TTLAttribute(null=True)  # clean-up only: DynamoDB deletes it days later, maybe

    due_index = DueIndex()

    @property
    def key(self) -> tuple[str, str]:
        return (self.pk, self.sk)


class IntegerAttribute(Attribute[int]):
    """A whole number (points, sequence numbers): int() rather than NumberAttribute's
    json.loads, and typed as int."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return str(value)

    def deserialize(self, value: str) -> int:
        return int(value)


class _CompactJSON(Attribute[T]):
    """A nested structure stored as one compact JSON string. Nothing queries inside it, and
    decoding it is a json.loads rather than PynamoDB's attribute-by-attribute maps: the
    member's open lots are read on every request."""

    attr_type = STRING

    def serialize(self, value: T) -> str:
        return json.dumps(self.encode(value), separators=(",", ":"))

    def deserialize(self, value: str) -> T:
        return self.decode(json.loads(value))

    def encode(self, value: T) -> Any:
        raise NotImplementedError

    def decode(self, data: Any) -> T:
        raise NotImplementedError


def _lot_encode(lot: Lot) -> dict[str, Any]:
    return {
        "id": lot.id,
        "points": lot.points,
        "remaining": lot.remaining,
        "activates_at": lot.activates_at.isoformat(),
        "expires_at": None if lot.expires_at is None else lot.expires_at.isoformat(),
        "status": lot.status.value,
        "order_id": lot.order_id,
    }


def _lot_decode(data: dict[str, Any]) -> Lot:
    expires = data["expires_at"]
    return Lot(
        id=data["id"],
        points=data["points"],
        remaining=data["remaining"],
        activates_at=datetime.fromisoformat(data["activates_at"]),
        expires_at=None if expires is None else datetime.fromisoformat(expires),
        status=LotStatus(data["status"]),
        order_id=data["order_id"],
    )


class LotAttribute(_CompactJSON[Lot]):
    def encode(self, value: Lot) -> Any:
        return _lot_encode(value)

    def decode(self, data: Any) -> Lot:
        return _lot_decode(data)


class LotsAttribute(_CompactJSON[tuple[Lot, ...]]):
    def encode(self, value: tuple[Lot, ...]) -> Any:
        return [_lot_encode(lot) for lot in value]

    def decode(self, data: Any) -> tuple[Lot, ...]:
        return tuple(_lot_decode(item) for item in data)


class FundingAttribute(_CompactJSON[tuple[Funding, ...]]):
    def encode(self, value: tuple[Funding, ...]) -> Any:
        return [[f.lot_id, f.points] for f in value]

    def decode(self, data: Any) -> tuple[Funding, ...]:
        return tuple(Funding(lot_id, points) for lot_id, points in data)


class ConsentsAttribute(_CompactJSON[tuple[Consent, ...]]):
    def encode(self, value: tuple[Consent, ...]) -> Any:
        return [[c.channel.value, c.granted, c.updated_at.isoformat(), c.source] for c in value]

    def decode(self, data: Any) -> tuple[Consent, ...]:
        return tuple(
            Consent(Channel(channel), granted, datetime.fromisoformat(at), source)
            for channel, granted, at, source in data
        )


class LineAttribute(MapAttribute[str, Any]):
    sku = UnicodeAttribute()
    quantity = IntegerAttribute()
    unit_price = UnicodeAttribute()  # Decimal as text: DynamoDB numbers would come back floats
    category = UnicodeAttribute(null=True)


class ProgramItem(TableItem, discriminator="program"):
    points_per_unit = UnicodeAttribute()
    rounding = UnicodeAttribute()
    min_points = IntegerAttribute()
    max_points = IntegerAttribute(null=True)
    currencies = UnicodeSetAttribute()
    return_window_days = IntegerAttribute()
    lot_validity_days = IntegerAttribute(null=True)
    negative_balance = UnicodeAttribute()
    clock_offset_seconds = IntegerAttribute(default=0)
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class MemberItem(TableItem, discriminator="member"):
    member_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    birthday = UnicodeAttribute(null=True)  # ISO date
    time_zone = UnicodeAttribute()
    locale = UnicodeAttribute()
    consents = ConsentsAttribute(default=tuple)
    balance = IntegerAttribute(default=0)
    debt = IntegerAttribute(default=0)
    lots = LotsAttribute(default=tuple)
    enroll_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


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


class OrderItem(TableItem, discriminator="order"):
    order_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    total = UnicodeAttribute()
    currency = UnicodeAttribute()
    placed_at = UTCDateTimeAttribute()
    lines: ListAttribute[LineAttribute] = ListAttribute(of=LineAttribute, default=list)
    request_hash = UnicodeAttribute()
    points_earned = IntegerAttribute()
    lot_id = UnicodeAttribute(null=True)
    entry_seq = IntegerAttribute()
    refunded = UnicodeAttribute()
    points_reversed = IntegerAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class IdempotencyItem(TableItem, discriminator="idempotency"):
    """The first answer to a keyed request (refund id, redemption or adjustment key)."""

    request_hash = UnicodeAttribute()
    member_id = UnicodeAttribute()
    entry_seq = IntegerAttribute()
    order_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


# The discriminator values, as PynamoDB writes them in `type`.
ITEM_TYPES: dict[str, type[TableItem]] = {
    "program": ProgramItem,
    "member": MemberItem,
    "entry": EntryItem,
    "order": OrderItem,
    "idempotency": IdempotencyItem,
}
ALL_MODELS: tuple[type[TableItem], ...] = (TableItem, *ITEM_TYPES.values())
