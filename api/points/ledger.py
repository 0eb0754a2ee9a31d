"""What every ledger change shares: the member and settings it decides on, and the records
that let a keyed change (refund, redemption, adjustment) answer its replays."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from api.errors import MemberNotFound
from api.members import store as members
from api.members.model import Member
from api.points import store
from api.points.lots import PointsState
from api.points.model import Entry
from api.program import store as program
from api.program.model import ProgramSettings
from api.program.service import ProgramService
from api.store.base import Key, RecordItem, TableItem
from api.store.reads import Snapshot
from api.store.records import IdempotencyItem


@dataclass(frozen=True)
class State:
    """The member as read, the program's settings and the program's time."""

    member: Member
    settings: ProgramSettings
    now: datetime


def state(snapshot: Snapshot, member_id: str, program_service: ProgramService) -> State:
    """From a snapshot that read the member and the settings; MemberNotFound if absent."""
    member = members.load(snapshot, member_id)
    if member is None:
        raise MemberNotFound()
    settings = program.settings(snapshot)
    return State(member, settings, program_service.now(settings))


def reads(member_id: str) -> list[Key]:
    return [members.member_key(member_id), program.SETTINGS_KEY]


def member_item(state: State, points: PointsState) -> TableItem:
    """The member with its new points, written under the version it was read at."""
    return members.to_item(replace(state.member, points=points, updated_at=state.now))


def record(
    key: Key,
    fingerprint: str,
    entry: Entry,
    now: datetime,
    *,
    order_id: str | None = None,
    keep: timedelta | None = None,
) -> IdempotencyItem:
    """The first answer to a keyed change: where its entry is. Kept forever, or `keep`."""
    answer: dict[str, str | int] = {"member": entry.member_id, "seq": entry.seq}
    if order_id is not None:
        answer["order"] = order_id
    return IdempotencyItem(
        *key,
        request_hash=fingerprint,
        answer=answer,
        created_at=now,
        expires=None if keep is None else now + keep,
    )


def recorded_entry(record: RecordItem) -> Entry:
    assert isinstance(record, IdempotencyItem)
    return store.get_entry(record.answer["member"], record.answer["seq"])
