"""The single table: its keys, indexes and the attribute types every domain's items use.

Each domain's `store` module defines its own item types (subclasses of TableItem with a
discriminator) and alone maps them to and from its dataclasses. The key layout of every
item type is in the README's data model table.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pynamodb.attributes import (
    Attribute,
    DiscriminatorAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import NUMBER, STRING
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

T = TypeVar("T")

DUE_INDEX = "due-index"
DUE_SHARDS = 8  # spreads the due index's writes; never lower it once deployed
Key = tuple[str, str]


class DueIndex(GlobalSecondaryIndex["TableItem"]):
    """Sparse: only items with scheduled work carry due_shard/due_at. Projects the item type,
    which PynamoDB filters on for polymorphic models."""

    class Meta:
        index_name = DUE_INDEX
        projection = IncludeProjection(["type"])

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class TableItem(Model):
    """The table itself: keys, the discriminator, the due index and the TTL attribute."""

    class Meta:
        table_name = "loyalty-local"  # api.store.binding.bind() sets the real one
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    type = DiscriminatorAttribute()
    due_shard = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    expires = TTLAttribute(null=True)  # clean-up only: DynamoDB deletes it days later, maybe

    due_index = DueIndex()

    @property
    def key(self) -> Key:
        return (self.pk, self.sk)


class RecordItem(TableItem):
    """An item that keeps the first answer to a keyed request: the fingerprint of that
    request, compared on every replay (api/idempotency.py). No discriminator: abstract."""

    request_hash = UnicodeAttribute()


class IntegerAttribute(Attribute[int]):
    """A whole number (points, sequence numbers): int() rather than NumberAttribute's
    json.loads, and typed as int."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return str(value)

    def deserialize(self, value: str) -> int:
        return int(value)


class CompactJSON(Attribute[T]):
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


class JSONAttribute(CompactJSON[dict[str, Any]]):
    """A small JSON object as it is."""

    def encode(self, value: dict[str, Any]) -> Any:
        return value

    def decode(self, data: Any) -> dict[str, Any]:
        result: dict[str, Any] = data
        return result


def item_types() -> dict[str, type[TableItem]]:
    """Every item type defined so far, by discriminator (each domain's store module defines
    its own; importing the services imports them all)."""
    discriminator: Any = TableItem.type
    return dict(discriminator._discriminator_map)
