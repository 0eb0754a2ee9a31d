"""Nudge items and their mapping both ways.

| item       | pk                | sk                               |
| ---------- | ----------------- | -------------------------------- |
| watch      | NUDGEW#<member>   | <KIND> or REVIEW_REQUEST#<order> | versioned; armed: indexed
| record     | NUDGE#<member>    | <KIND>#<subject>                 | versioned; created once
| listed     | NUDGES#<KIND>     | <created at>#<member>#<subject>  | immutable: place by kind
| lift stats | NUDGESTATS#<KIND> | <UTC day>                        | ADD counters

Due index (sparse): an armed watch is under `NUDGE#<KIND>#<shard>` at its fact time (the
scheduler's query for the kind applies the trigger's threshold); a HELD record under
`NUDGEQ#HELD#<shard>` at the end of quiet hours; a QUEUED record under
`NUDGEQ#QUEUED#<shard>` at the time it is sent again if the sender has not finished it.
A member's records are one Query (their history: dedupe and caps); a kind's, newest first,
one Query on the listed copies and a BatchGetItem of the records they point to.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from api.members.model import Channel
from api.nudges.model import NudgeRecord, NudgeStatus, Value, Watch
from api.nudges.rules_model import NudgeKind
from api.store import reads
from api.store.base import DUE_SHARDS, IntegerAttribute, JSONAttribute, Key, TableItem

WATCH_PREFIX = "NUDGEW#"
RECORD_PREFIX = "NUDGE#"
LISTED_PREFIX = "NUDGES#"
STATS_PREFIX = "NUDGESTATS#"
HELD_SHARD = "NUDGEQ#HELD#"
QUEUED_SHARD = "NUDGEQ#QUEUED#"
# A QUEUED record the sender has not finished by then is enqueued again (the message or its
# enqueueing was lost); the sender's claim makes the second copy harmless.
REDRIVE_AFTER = timedelta(minutes=30)


def shard(member_id: str) -> int:
    return int(member_id[-4:], 16) % DUE_SHARDS


def kind_shard(kind: NudgeKind, n: int) -> str:
    return f"NUDGE#{kind}#{n}"


def sort_time(value: datetime) -> str:
    """UTC, microseconds always: one width, so strings sort as times compare."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---- watches -----------------------------------------------------------------------------


def watch_pk(member_id: str) -> str:
    return f"{WATCH_PREFIX}{member_id}"


def watch_key(member_id: str, kind: NudgeKind, order_id: str | None = None) -> Key:
    return (watch_pk(member_id), kind.value if order_id is None else f"{kind}#{order_id}")


class WatchItem(TableItem, discriminator="nudge_watch"):
    member_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    fact_at = UTCDateTimeAttribute(null=True)
    armed_at = UTCDateTimeAttribute(null=True)
    handled = UnicodeAttribute(null=True)
    seen = UnicodeSetAttribute(null=True)  # DynamoDB refuses empty sets: None when empty
    version = VersionAttribute()


def watch_to_item(w: Watch) -> WatchItem:
    armed = w.armed and w.fact_at is not None
    item = WatchItem(
        *watch_key(w.member_id, w.kind, w.order_id),
        member_id=w.member_id,
        kind=w.kind.value,
        order_id=w.order_id,
        subject=w.subject,
        fact_at=w.fact_at,
        armed_at=w.armed_at,
        handled=w.handled,
        seen=set(w.seen) or None,
        due_shard=kind_shard(w.kind, shard(w.member_id)) if armed else None,
        due_at=w.fact_at if armed else None,
    )
    if w.version is not None:
        item.version = w.version
    return item


def watch_from_item(item: WatchItem) -> Watch:
    return Watch(
        member_id=item.member_id,
        kind=NudgeKind(item.kind),
        order_id=item.order_id,
        subject=item.subject,
        fact_at=item.fact_at,
        armed=item.due_shard is not None,
        armed_at=item.armed_at,
        handled=item.handled,
        seen=frozenset(item.seen or ()),
        version=item.version,
    )


# ---- records -----------------------------------------------------------------------------


def record_pk(member_id: str) -> str:
    return f"{RECORD_PREFIX}{member_id}"


def record_key(member_id: str, kind: NudgeKind, subject: str) -> Key:
    return (record_pk(member_id), f"{kind}#{subject}")


def parse_record_key(key: Key) -> tuple[str, NudgeKind, str]:
    """(member id, kind, subject) from a record's key; ValueError if it is not one."""
    pk, sk = key
    if not pk.startswith(RECORD_PREFIX):
        raise ValueError(pk)
    kind, _, subject = sk.partition("#")
    return pk.removeprefix(RECORD_PREFIX), NudgeKind(kind), subject


_TAGS: dict[type, str] = {str: "s", int: "i", Decimal: "n", date: "d", datetime: "t"}


def _encode(values: dict[str, Value]) -> dict[str, Any]:
    # datetime is a date: test it first.
    out: dict[str, Any] = {}
    for name, value in values.items():
        tag = "t" if isinstance(value, datetime) else _TAGS[type(value)]
        out[name] = [tag, value.isoformat() if isinstance(value, date) else str(value)]
    return out


def _decode(data: dict[str, Any]) -> dict[str, Value]:
    parse: dict[str, Callable[[str], Value]] = {
        "s": str,
        "i": int,
        "n": Decimal,
        "d": date.fromisoformat,
        "t": datetime.fromisoformat,
    }
    return {name: parse[tag](text) for name, (tag, text) in data.items()}


class NudgeItem(TableItem, discriminator="nudge"):
    member_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    subject = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    nudge_due_at = UTCDateTimeAttribute()  # due_at is the index's
    channel = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    send_at = UTCDateTimeAttribute(null=True)
    queued_at = UTCDateTimeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    claimed_until = UTCDateTimeAttribute(null=True)
    attempts = IntegerAttribute(default=0)
    nudge_values = JSONAttribute(default=dict)
    converted_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()


def _record_due(r: NudgeRecord) -> tuple[str | None, datetime | None]:
    n = shard(r.member_id)
    if r.status is NudgeStatus.HELD and r.send_at is not None:
        return f"{HELD_SHARD}{n}", r.send_at
    if r.status is NudgeStatus.QUEUED:
        return f"{QUEUED_SHARD}{n}", r.updated_at + REDRIVE_AFTER
    return None, None


def record_to_item(r: NudgeRecord) -> NudgeItem:
    due_shard, due_at = _record_due(r)
    item = NudgeItem(
        *record_key(r.member_id, r.kind, r.subject),
        member_id=r.member_id,
        kind=r.kind.value,
        subject=r.subject,
        status=r.status.value,
        created_at=r.created_at,
        updated_at=r.updated_at,
        nudge_due_at=r.due_at,
        channel=None if r.channel is None else r.channel.value,
        reason=r.reason,
        send_at=r.send_at,
        queued_at=r.queued_at,
        message_id=r.message_id,
        claimed_until=r.claimed_until,
        attempts=r.attempts,
        nudge_values=_encode(r.values),
        converted_at=r.converted_at,
        due_shard=due_shard,
        due_at=due_at,
    )
    if r.version is not None:
        item.version = r.version
    return item


def record_from_item(item: NudgeItem) -> NudgeRecord:
    return NudgeRecord(
        member_id=item.member_id,
        kind=NudgeKind(item.kind),
        subject=item.subject,
        status=NudgeStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
        due_at=item.nudge_due_at,
        channel=None if item.channel is None else Channel(item.channel),
        reason=item.reason,
        send_at=item.send_at,
        queued_at=item.queued_at,
        message_id=item.message_id,
        claimed_until=item.claimed_until,
        attempts=item.attempts,
        values=_decode(item.nudge_values),
        converted_at=item.converted_at,
        version=item.version,
    )


# ---- listed copies and lift counters -------------------------------------------------------


def listed_pk(kind: NudgeKind) -> str:
    return f"{LISTED_PREFIX}{kind}"


class ListedItem(TableItem, discriminator="nudge_listed"):
    member_id = UnicodeAttribute()
    subject = UnicodeAttribute()


def listed_item(r: NudgeRecord) -> ListedItem:
    return ListedItem(
        listed_pk(r.kind),
        f"{sort_time(r.created_at)}#{r.member_id}#{r.subject}",
        member_id=r.member_id,
        subject=r.subject,
    )


# Every record of a member, read whole: one per kind and subject ever, so a few hundred in
# years of nudges (a 1 MB page holds about 2 000). Dedupe, caps and quiet-hour holds all
# read it; a cut-off in key order would hide whole kinds from them.
HISTORY = 20_000


def history(member_id: str) -> list[NudgeRecord]:
    """The member's nudge records (one Query, more pages when large): dedupe, caps, holds."""
    items = reads.query(record_pk(member_id), TableItem.sk >= "A", limit=HISTORY, descending=False)
    return [record_from_item(i) for i in items if isinstance(i, NudgeItem)]


def stats_key(kind: NudgeKind, day: date) -> Key:
    return (f"{STATS_PREFIX}{kind}", day.isoformat())


class StatsItem(TableItem, discriminator="nudge_stats"):
    """Per kind and UTC day of the decision: members treated (decided to send) and held out,
    and of each, how many ordered within the attribution window."""

    treated = IntegerAttribute(default=0)
    treated_converted = IntegerAttribute(default=0)
    control = IntegerAttribute(default=0)
    control_converted = IntegerAttribute(default=0)


def stats_item(kind: NudgeKind, day: date) -> StatsItem:
    return StatsItem(*stats_key(kind, day))
