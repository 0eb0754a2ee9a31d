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

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

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


class LotAttribute(MapAttribute[str, Any]):
    id = UnicodeAttribute()
    points = NumberAttribute()
    remaining = NumberAttribute()
    activates_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute(null=True)
    status = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)


class FundingAttribute(MapAttribute[str, Any]):
    lot_id = UnicodeAttribute()
    points = NumberAttribute()


class ConsentAttribute(MapAttribute[str, Any]):
    channel = UnicodeAttribute()
    granted = BooleanAttribute()
    updated_at = UTCDateTimeAttribute()
    source = UnicodeAttribute()


class LineAttribute(MapAttribute[str, Any]):
    sku = UnicodeAttribute()
    quantity = NumberAttribute()
    unit_price = UnicodeAttribute()  # Decimal as text: DynamoDB numbers would come back floats
    category = UnicodeAttribute(null=True)


class ProgramItem(TableItem, discriminator="program"):
    points_per_unit = UnicodeAttribute()
    rounding = UnicodeAttribute()
    min_points = NumberAttribute()
    max_points = NumberAttribute(null=True)
    currencies = UnicodeSetAttribute()
    return_window_days = NumberAttribute()
    lot_validity_days = NumberAttribute(null=True)
    negative_balance = UnicodeAttribute()
    clock_offset_seconds = NumberAttribute(default=0)
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
    consents: ListAttribute[ConsentAttribute] = ListAttribute(of=ConsentAttribute, default=list)
    balance = NumberAttribute(default=0)
    debt = NumberAttribute(default=0)
    lots: ListAttribute[LotAttribute] = ListAttribute(of=LotAttribute, default=list)
    enroll_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class EntryItem(TableItem, discriminator="entry"):
    member_id = UnicodeAttribute()
    seq = NumberAttribute()
    kind = UnicodeAttribute()
    points = NumberAttribute()
    balance_after = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    amount = UnicodeAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    lot = LotAttribute(null=True)
    funding: ListAttribute[FundingAttribute] = ListAttribute(of=FundingAttribute, default=list)
    shortfall = NumberAttribute(default=0)


class OrderItem(TableItem, discriminator="order"):
    order_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    total = UnicodeAttribute()
    currency = UnicodeAttribute()
    placed_at = UTCDateTimeAttribute()
    lines: ListAttribute[LineAttribute] = ListAttribute(of=LineAttribute, default=list)
    request_hash = UnicodeAttribute()
    points_earned = NumberAttribute()
    lot_id = UnicodeAttribute(null=True)
    entry_seq = NumberAttribute()
    refunded = UnicodeAttribute()
    points_reversed = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class IdempotencyItem(TableItem, discriminator="idempotency"):
    """The first answer to a keyed request (refund id, redemption or adjustment key)."""

    request_hash = UnicodeAttribute()
    member_id = UnicodeAttribute()
    entry_seq = NumberAttribute()
    order_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


ALL_MODELS: tuple[type[TableItem], ...] = (
    TableItem,
    ProgramItem,
    MemberItem,
    EntryItem,
    OrderItem,
    IdempotencyItem,
)
