"""The member item: the profile and the points state, one item per member, and the mapping
both ways. Other domains read and write members through `load`/`member_key`/`to_item`, never
through the item's attributes.

| item   | pk                 | sk      |
| ------ | ------------------ | ------- |
| member | MEMBER#<member id> | PROFILE |

The profile sorts after the member's ledger entries (E#...), so one descending Query from
sk <= PROFILE returns the profile and the newest entries: the home screen in one request.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from api.members.model import Channel, Consent, Member
from api.points.attributes import LotsAttribute
from api.points.lots import PointsState
from api.store.base import DUE_SHARDS, CompactJSON, IntegerAttribute, Key, RecordItem, TableItem
from api.store.reads import Snapshot
from api.tiers.attributes import TierStateAttribute
from api.tiers.model import TierState

PROFILE_SK = "PROFILE"


def member_pk(member_id: str) -> str:
    return f"MEMBER#{member_id}"


def member_key(member_id: str) -> Key:
    return (member_pk(member_id), PROFILE_SK)


class ConsentsAttribute(CompactJSON[tuple[Consent, ...]]):
    def encode(self, value: tuple[Consent, ...]) -> Any:
        return [[c.channel.value, c.granted, c.updated_at.isoformat(), c.source] for c in value]

    def decode(self, data: Any) -> tuple[Consent, ...]:
        return tuple(
            Consent(Channel(channel), granted, datetime.fromisoformat(at), source)
            for channel, granted, at, source in data
        )


class MemberItem(RecordItem, discriminator="member"):
    """Its own idempotency record: request_hash is the fingerprint of the enrolment."""

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
    tier = TierStateAttribute(null=True)
    last_seq = IntegerAttribute(null=True)  # absent on members written before it existed
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


def from_item(item: MemberItem) -> Member:
    return Member(
        id=item.member_id,
        customer_id=item.customer_id,
        email=item.email,
        name=item.name,
        phone=item.phone,
        birthday=None if item.birthday is None else date.fromisoformat(item.birthday),
        time_zone=item.time_zone,
        locale=item.locale,
        consents=item.consents,
        points=PointsState(lots=item.lots, debt=item.debt),
        created_at=item.created_at,
        updated_at=item.updated_at,
        enrollment=item.request_hash,
        tier=item.tier or TierState(),
        last_seq=item.version if item.last_seq is None else item.last_seq,
        version=item.version,
    )


def to_item(member: Member) -> MemberItem:
    """The whole item, written under the version the member was read at. It is in the due
    index while the scheduled job has work for it."""
    due = member.due_at()
    item = MemberItem(
        *member_key(member.id),
        member_id=member.id,
        customer_id=member.customer_id,
        email=member.email,
        name=member.name,
        phone=member.phone,
        birthday=None if member.birthday is None else member.birthday.isoformat(),
        time_zone=member.time_zone,
        locale=member.locale,
        consents=member.consents,
        balance=member.points.balance,
        debt=member.points.debt,
        lots=member.points.lots,
        tier=member.tier,
        last_seq=member.last_seq,
        request_hash=member.enrollment,
        created_at=member.created_at,
        updated_at=member.updated_at,
        due_at=due,
        # Member ids are hashes: their last characters spread members evenly over the shards.
        due_shard=None if due is None else f"DUE#{int(member.id[-4:], 16) % DUE_SHARDS}",
    )
    if member.version is not None:
        item.version = member.version
    return item


def as_written(member: Member) -> Member:
    """The member as a write of `to_item(member)` leaves it: one version on."""
    return replace(member, version=(member.version or 0) + 1)


def load(snapshot: Snapshot, member_id: str) -> Member | None:
    item = snapshot.get(member_key(member_id), MemberItem)
    return None if item is None else from_item(item)


def member_in(item: TableItem) -> Member | None:
    """The member, if a Query's item is the profile."""
    return from_item(item) if isinstance(item, MemberItem) else None


def load_item(snapshot: Snapshot) -> Member | None:
    """The one member a snapshot read, whatever its id (the due index yields keys)."""
    item = snapshot.first(MemberItem)
    return None if item is None else from_item(item)
