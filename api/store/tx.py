"""One TransactWriteItems per change, and the retry loop around it.

PynamoDB sends condition checks, deletes, puts and updates in that order, whatever the order
of the calls, so cancellation reasons are mapped back to item keys here, not by position.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from api.clock import Clock
from api.errors import ConcurrentUpdate
from api.store.base import Key, TableItem

T = TypeVar("T")
# From the OS, not the module PRNG: SnapStart restores every container from one snapshot,
# and identical jitter would make their retries collide again.
_JITTER = secrets.SystemRandom()

# Every failed attempt means another writer succeeded on the same member, so this bounds how
# many changes may land between one caller's read and write before it gives up.
MAX_ATTEMPTS = 25
BASE_DELAY = 0.01
MAX_DELAY = 0.25


class Retry(Exception):
    """The state read is stale (another writer won): read again and recompute."""


class Cancelled(Exception):
    def __init__(self, reasons: dict[Key, str]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons


@dataclass(frozen=True)
class Add:
    """Add to number attributes of the item with this key (created if absent), under an
    optional condition: for counters, which many writers change without reading."""

    item: TableItem
    deltas: Mapping[str, int]
    condition: Condition | None = None


class Transaction:
    def __init__(self) -> None:
        self._puts: list[TableItem] = []
        self._conditions: list[Condition | None] = []
        self._adds: list[Add] = []
        self._deletes: list[TableItem] = []

    def put(self, item: TableItem, condition: Condition | None = None) -> None:
        """Put the whole item; versioned items also get PynamoDB's version condition."""
        self._puts.append(item)
        self._conditions.append(condition)

    def put_new(self, item: TableItem) -> None:
        self.put(item, TableItem.pk.does_not_exist())

    def add(self, add: Add) -> None:
        self._adds.append(add)

    def delete(self, item: TableItem) -> None:
        """Delete the item, under its version if it has one."""
        self._deletes.append(item)

    def commit(self) -> None:
        """Raises Cancelled (a condition failed) or Retry (a concurrent transaction)."""
        try:
            with TransactWrite(connection=TableItem._get_connection().connection) as tx:
                for item in self._deletes:
                    tx.delete(item)
                for item, condition in zip(self._puts, self._conditions, strict=True):
                    tx.save(item, condition=condition)
                for add in self._adds:
                    model = type(add.item)
                    actions = [getattr(model, name).add(d) for name, d in add.deltas.items()]
                    # The discriminator too: an item this creates must load as its type.
                    actions.append(model.type.set(model))
                    tx.update(add.item, actions=actions, condition=add.condition)
        except TransactWriteError as exc:
            response = getattr(exc.cause, "response", None)
            if response is None:
                # No answer (a timeout): the outcome is unknown, and a retry reads again.
                raise Retry() from exc
            if exc.cause_response_code != "TransactionCanceledException":
                if exc.cause_response_code in (
                    "TransactionConflictException",
                    "TransactionInProgressException",
                ):
                    raise Retry() from exc
                raise
            # PynamoDB sends deletes, puts, then updates, each in call order: map reasons
            # back by key.
            items = [*self._deletes, *self._puts, *(add.item for add in self._adds)]
            codes = {
                item.key: reason.code
                for item, reason in zip(items, exc.cancellation_reasons, strict=True)
                if reason is not None and reason.code != "None"
            }
            if any(code != "ConditionalCheckFailed" for code in codes.values()):
                raise Retry() from exc  # TransactionConflict, throttling: try again
            raise Cancelled(codes) from exc


def with_retries(clock: Clock, attempt: Callable[[], T]) -> T:
    """Run read-decide-write attempts until one commits; full-jitter exponential backoff."""
    for n in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except Retry:
            clock.sleep(_JITTER.uniform(0, min(MAX_DELAY, BASE_DELAY * 2**n)))
    raise ConcurrentUpdate()
