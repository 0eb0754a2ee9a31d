"""The hot reads (the home Query, the BatchGetItem before each keyed change), decoded fast.

PynamoDB's Model.query/batch_get build each item attribute by attribute through descriptors,
defaults and (for the polymorphic base) a discriminator filter: about half of a request's
CPU. Here the raw response is decoded with the models' own attribute definitions straight
into model instances, so the formats stay defined once, in each domain's store.
tests/test_store.py proves the result equals PynamoDB's for every item type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

from pynamodb.attributes import Attribute
from pynamodb.constants import NULL
from pynamodb.expressions.condition import Condition

from api.store.base import Key, TableItem, item_types

M = TypeVar("M", bound=TableItem)


@cache
def _plan(model: type[TableItem]) -> list[tuple[str, Attribute[Any], Any]]:
    return [(name, attr, attr.default) for name, attr in model.get_attributes().items()]


def load(raw: Mapping[str, Any]) -> TableItem:
    """A model instance from a raw DynamoDB item, as Model.from_raw_data would build it."""
    model = item_types()[raw["type"]["S"]]
    item = model.__new__(model)
    values: dict[str, Any] = {}
    for name, attr, default in _plan(model):
        value = raw.get(attr.attr_name)
        if value is not None and NULL not in value:
            values[name] = attr.deserialize(attr.get_value(value))
        elif default is not None:
            values[name] = default() if callable(default) else default
    item.attribute_values = values
    return item


def query(pk: str, condition: Condition, *, limit: int, descending: bool) -> list[TableItem]:
    """Up to `limit` items of a partition, strongly consistent: one Query request, and another
    from its LastEvaluatedKey while DynamoDB stopped a page short (at 1 MB) of the limit."""
    connection = TableItem._get_connection()
    items: list[TableItem] = []
    start: dict[str, Any] | None = None
    while True:
        response = connection.query(
            pk,
            range_key_condition=condition,
            limit=limit - len(items),
            consistent_read=True,
            exclusive_start_key=start,
            scan_index_forward=not descending,
        )
        items.extend(load(raw) for raw in response.get("Items", ()))
        start = response.get("LastEvaluatedKey")
        if not start or len(items) >= limit:
            return items


BATCH_KEYS = 100  # BatchGetItem's limit


def get_many(keys: Iterable[Key]) -> dict[Key, TableItem]:
    """One strongly consistent GetItem for one key, BatchGetItem for several (one per 100
    keys, and again for any keys DynamoDB left unprocessed)."""
    connection = TableItem._get_connection()
    unique = list(dict.fromkeys(keys))
    if len(unique) == 1:
        raw = connection.get_item(*unique[0], consistent_read=True).get("Item")
        return {} if raw is None else {unique[0]: load(raw)}
    found: dict[Key, TableItem] = {}
    for start in range(0, len(unique), BATCH_KEYS):
        found.update(_batch(unique[start : start + BATCH_KEYS]))
    return found


def _batch(keys: Sequence[Key]) -> dict[Key, TableItem]:
    connection = TableItem._get_connection()
    pending: Sequence[Any] = [{"pk": pk, "sk": sk} for pk, sk in keys]
    found: dict[Key, TableItem] = {}
    while pending:
        response = connection.batch_get_item(pending, consistent_read=True)
        for raw in response.get("Responses", {}).get(connection.table_name, ()):
            item = load(raw)
            found[item.key] = item
        pending = (
            (response.get("UnprocessedKeys") or {}).get(connection.table_name, {}).get("Keys", [])
        )
        pending = [{"pk": k["pk"]["S"], "sk": k["sk"]["S"]} for k in pending]
    return found


def get(key: Key, model: type[M]) -> M | None:
    """One strongly consistent GetItem, decoded like the rest."""
    item = get_many([key]).get(key)
    return item if isinstance(item, model) else None


class Snapshot:
    """What one BatchGetItem returned: the state a decision is made on."""

    def __init__(self, keys: Iterable[Key]) -> None:
        self._keys = frozenset(keys := list(keys))
        self._items = get_many(keys)

    def has(self, key: Key) -> bool:
        """Whether the snapshot read this key (present or not)."""
        return key in self._keys

    def get(self, key: Key, model: type[M]) -> M | None:
        item = self._items.get(key)
        return item if isinstance(item, model) else None

    def first(self, model: type[M]) -> M | None:
        return next((i for i in self._items.values() if isinstance(i, model)), None)
