"""The one way state changes are written: read, decide, one transaction, retry a lost race.

- `versioned_write`: one BatchGetItem of what the decision needs, the domain's decision, one
  TransactWriteItems. Changed items are written under their version and new items only if
  absent, so a writer that read stale state loses and starts again from a fresh read
  (full-jitter backoff, then ConcurrentUpdate).
- `keyed_write`: the same for requests that carry a key (order id, refund id, idempotency
  key). The key's record is read with the rest: if it exists the request is a replay, answered
  from the record, or refused with IdempotencyConflict when its fingerprint differs. Else the
  record is written, as a new item, in the change's own transaction, so the change happens
  exactly once however many times or how concurrently the request arrives. A refusal looks
  for the record once more (a read that raced its twin's transaction): found, a replay.
  DynamoDB's own ClientRequestToken lasts ten minutes; records last as long as the domain
  says.

A domain supplies only its decision (a Plan) and how to answer a replay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from api.clock import Clock
from api.errors import DomainError, IdempotencyConflict
from api.store.base import Key, RecordItem, TableItem
from api.store.reads import Snapshot, get
from api.store.tx import Add, Cancelled, Retry, Transaction, with_retries

R = TypeVar("R")


def fingerprint(payload: dict[str, Any]) -> str:
    """What makes two requests with one key the same request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Plan(Generic[R]):
    """A decision: its result and the items that make it so, written in one transaction."""

    result: R
    new: Sequence[TableItem] = ()  # written only if absent: entries, records, new objects
    changed: Sequence[TableItem] = ()  # written under the version they were read at
    added: Sequence[Add] = ()  # counters, each under its own condition
    deleted: Sequence[TableItem] = ()  # under the version they were read at
    on_commit: Callable[[], None] = field(default=_nothing)  # metrics: once, after the write

    def commit(self) -> R:
        if self.new or self.changed or self.added or self.deleted:
            tx = Transaction()
            for item in self.new:
                tx.put_new(item)
            for item in self.changed:
                tx.put(item)
            for add in self.added:
                tx.add(add)
            for item in self.deleted:
                tx.delete(item)
            tx.commit()
        self.on_commit()
        return self.result


def versioned_write(clock: Clock, reads: Sequence[Key], decide: Callable[[Snapshot], Plan[R]]) -> R:
    def attempt() -> R:
        plan = decide(Snapshot(reads))
        try:
            return plan.commit()
        except Cancelled as exc:
            raise Retry() from exc

    return with_retries(clock, attempt)


@dataclass(frozen=True)
class Keyed:
    record: Key  # where the first answer is kept
    fingerprint: str
    name: str  # the key's name in the API, for IdempotencyConflict


def keyed_write(
    clock: Clock,
    keyed: Keyed,
    reads: Sequence[Key],
    decide: Callable[[Snapshot], Plan[R]],
    replay: Callable[[RecordItem], R],
) -> R:
    """`decide` must put the record (a RecordItem at keyed.record with keyed.fingerprint)
    among the plan's new items; `replay` answers from a record already written."""

    def answer(record: RecordItem) -> R:
        if record.request_hash != keyed.fingerprint:
            raise IdempotencyConflict(keyed.name)
        return replay(record)

    def attempt() -> R:
        snapshot = Snapshot([keyed.record, *reads])
        record = snapshot.get(keyed.record, RecordItem)
        if record is not None:
            return answer(record)
        try:
            plan = decide(snapshot)
        except DomainError:
            # BatchGetItem is not isolated from transactions: this key's twin may have
            # committed between the reads of two items, so the snapshot holds its outcome
            # (an answered invitation, a review) but not its record. Then this is a replay.
            late = get(keyed.record, RecordItem)
            if late is None:
                raise
            return answer(late)
        if not any(item.key == keyed.record for item in plan.new):
            raise AssertionError(f"a keyed plan must write its record {keyed.record}")
        try:
            return plan.commit()
        except Cancelled as exc:
            if exc.reasons.get(keyed.record) != "ConditionalCheckFailed":
                raise Retry() from exc
            # The same key won a race a moment ago: answer as a replay.
            winner = get(keyed.record, RecordItem)
            if winner is None:
                raise Retry() from exc
            return answer(winner)

    return with_retries(clock, attempt)
