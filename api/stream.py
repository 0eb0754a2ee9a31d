"""Reactions to the table's changes, from its DynamoDB stream (handlers/stream.py).

The stream delivers every change at least once, in order per item, and redelivers a batch's
failed records. A reaction is therefore written to change nothing the second time: `once`
puts a marker keyed by the record's event id and the reaction's name in the same transaction
as the reaction's own writes, and a marker already there means the work is done. Markers
expire after two days (the stream keeps records for one).

What must be atomic with a change is in that change's transaction, never here: reactions
are for what may lag by a moment (counters, events out, messages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from pynamodb.attributes import UnicodeAttribute

from api.clock import Clock
from api.idempotency import Plan
from api.store import reads
from api.store.base import TableItem, item_types
from api.store.tx import Cancelled, Retry, with_retries

MARKER_DAYS = 2


@dataclass(frozen=True)
class Change:
    """One stream record: the item before and after (None where absent or not ours)."""

    event_id: str
    old: TableItem | None
    new: TableItem | None

    @property
    def inserted(self) -> bool:
        return self.old is None and self.new is not None


def _image(raw: Mapping[str, Any] | None) -> TableItem | None:
    kind = (raw or {}).get("type", {}).get("S")
    return reads.load(raw) if raw and kind in item_types() else None


def change_from_record(record: Mapping[str, Any]) -> Change:
    """From a Lambda DynamoDB stream record (NEW_AND_OLD_IMAGES)."""
    images = record.get("dynamodb") or {}
    return Change(
        event_id=str(record["eventID"]),
        old=_image(images.get("OldImage")),
        new=_image(images.get("NewImage")),
    )


Reaction = Callable[[Change], None]


class SeenItem(TableItem, discriminator="stream_seen"):
    """A reaction applied a stream record (pk STREAM#<event id>, sk the reaction)."""

    reaction = UnicodeAttribute()


def once(clock: Clock, change: Change, reaction: str, plan: Plan[None]) -> bool:
    """Commit the reaction's plan unless this record was handled already; True if it ran."""
    now = clock.now()
    marker = SeenItem(
        f"STREAM#{change.event_id}",
        reaction,
        reaction=reaction,
        expires=now + timedelta(days=MARKER_DAYS),
    )

    def attempt() -> bool:
        try:
            replace(plan, new=[marker, *plan.new]).commit()
        except Cancelled as exc:
            if exc.reasons.get(marker.key) == "ConditionalCheckFailed":
                return False  # a redelivery: done the first time
            raise Retry() from exc
        return True

    return with_retries(clock, attempt)


class Reactions:
    """Every domain's reactions, run for each change in the order registered."""

    def __init__(self, reactions: Sequence[Reaction]) -> None:
        self._reactions = tuple(reactions)

    def dispatch(self, change: Change) -> None:
        for react in self._reactions:
            react(change)
