"""Referral items and their mapping both ways.

| item            | pk                      | sk                              |
| --------------- | ----------------------- | ------------------------------- |
| code owner      | REFCODE#<code>          | REFCODE                         |  code -> member
| member's code   | REFERRER#<member id>    | CODE                            |  member -> code
| summary         | REFERRER#<member id>    | SUMMARY                         |  counters (ADD)
| monthly cap     | REFERRER#<member id>    | CAP#<yyyy-mm>                   |  accepted (ADD)
| referral        | REFERRAL#<referee id>   | REFERRAL                        |  one per referee
| listing         | REFERRER#<referrer id>  | R#<created at>#<referee id>     |  its copy

The referral, keyed by its referee and put only if absent, is the one that decides: written
under its version, it carries due_shard/due_at (the sparse due index) while it waits for
the scheduled job. Its listing copy, in the referrer's partition for their Relay
connection, is written in the same transactions, so it never disagrees; it needs no
version of its own (the referral's guards the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from api.referrals.model import CodeOwner, Referral, ReferralStatus, Refusal, Summary
from api.store.base import IntegerAttribute, Key, TableItem
from api.store.reads import Snapshot
from api.store.tx import Add

REFERRER = "REFERRER#"
LISTING_PREFIX = "R#"
DUE_SHARDS = 4  # of the due index, for referrals waiting for the job; never lower it
DUE_PREFIX = "REFERRAL#"


def owner_key(code: str) -> Key:
    return (f"REFCODE#{code}", "REFCODE")


def member_code_key(member_id: str) -> Key:
    return (f"{REFERRER}{member_id}", "CODE")


def summary_key(member_id: str) -> Key:
    return (f"{REFERRER}{member_id}", "SUMMARY")


def cap_key(member_id: str, at: datetime) -> Key:
    return (f"{REFERRER}{member_id}", f"CAP#{at:%Y-%m}")


def referral_key(referee_id: str) -> Key:
    return (f"REFERRAL#{referee_id}", "REFERRAL")


def listing_sk(created_at: datetime, referee_id: str) -> str:
    """Newest last: a descending Query lists the newest first."""
    return f"{LISTING_PREFIX}{created_at:%Y-%m-%dT%H:%M:%S.%fZ}#{referee_id}"


def listing_pk(referrer_id: str) -> str:
    return f"{REFERRER}{referrer_id}"


class CodeOwnerItem(TableItem, discriminator="referral_code"):
    member_id = UnicodeAttribute()


class MemberCodeItem(TableItem, discriminator="referral_member_code"):
    code = UnicodeAttribute()


class SummaryItem(TableItem, discriminator="referral_summary"):
    pending = IntegerAttribute(default=0)
    rewarded = IntegerAttribute(default=0)
    refused = IntegerAttribute(default=0)
    points = IntegerAttribute(default=0)


class CapItem(TableItem, discriminator="referral_cap"):
    accepted = IntegerAttribute(default=0)


class _ReferralAttributes(TableItem):
    """What both copies hold. No discriminator: abstract."""

    referee_id = UnicodeAttribute()
    referrer_id = UnicodeAttribute()
    code = UnicodeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    referee_name = UnicodeAttribute(null=True)
    points = IntegerAttribute()
    welcome_code = UnicodeAttribute(null=True)
    welcome_expires_at = UTCDateTimeAttribute(null=True)
    first_order_id = UnicodeAttribute(null=True)
    first_order_at = UTCDateTimeAttribute(null=True)
    due = UTCDateTimeAttribute(null=True)  # due_at of the referral (the listing has no index)
    decided_at = UTCDateTimeAttribute(null=True)
    entry_seq = IntegerAttribute(null=True)


class ReferralItem(_ReferralAttributes, discriminator="referral"):
    version = VersionAttribute()


class ListingItem(_ReferralAttributes, discriminator="referral_listing"):
    pass


def owner(snapshot: Snapshot, code: str) -> CodeOwner | None:
    item = snapshot.get(owner_key(code), CodeOwnerItem)
    return None if item is None else CodeOwner(code, item.member_id)


def owner_item(owner: CodeOwner) -> CodeOwnerItem:
    return CodeOwnerItem(*owner_key(owner.code), member_id=owner.member_id)


def member_code(snapshot: Snapshot, member_id: str) -> str | None:
    item = snapshot.get(member_code_key(member_id), MemberCodeItem)
    return None if item is None else item.code


def member_code_item(owner: CodeOwner) -> MemberCodeItem:
    return MemberCodeItem(*member_code_key(owner.member_id), code=owner.code)


def summary(snapshot: Snapshot, member_id: str) -> Summary:
    item = snapshot.get(summary_key(member_id), SummaryItem)
    if item is None:
        return Summary()
    return Summary(item.pending, item.rewarded, item.refused, item.points)


def count(member_id: str, **deltas: int) -> Add:
    """Add to a member's summary (pending, rewarded, refused, points): shared by their
    referrals' transactions, so never read-modify-written."""
    return Add(SummaryItem(*summary_key(member_id)), deltas)


def accepted(snapshot: Snapshot, member_id: str, at: datetime) -> int:
    item = snapshot.get(cap_key(member_id, at), CapItem)
    return 0 if item is None else item.accepted


def take_place(member_id: str, at: datetime, cap: int) -> Add:
    """One more accepted referral this month, refused by DynamoDB (the transaction cancels)
    at the cap: however many enrolments race, no more than `cap` get in."""
    below = CapItem.accepted.does_not_exist() | (CapItem.accepted < cap)
    return Add(CapItem(*cap_key(member_id, at)), {"accepted": 1}, below)


def referral_from_item(item: _ReferralAttributes) -> Referral:
    return Referral(
        referee_id=item.referee_id,
        referrer_id=item.referrer_id,
        code=item.code,
        status=ReferralStatus(item.status),
        reason=None if item.reason is None else Refusal(item.reason),
        created_at=item.created_at,
        updated_at=item.updated_at,
        referee_name=item.referee_name,
        points=item.points,
        welcome_code=item.welcome_code,
        welcome_expires_at=item.welcome_expires_at,
        first_order_id=item.first_order_id,
        first_order_at=item.first_order_at,
        due_at=item.due,
        decided_at=item.decided_at,
        entry_seq=item.entry_seq,
        version=item.version if isinstance(item, ReferralItem) else None,
    )


def _fields(r: Referral) -> dict[str, Any]:
    return {
        "referee_id": r.referee_id,
        "referrer_id": r.referrer_id,
        "code": r.code,
        "status": r.status.value,
        "reason": None if r.reason is None else r.reason.value,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "referee_name": r.referee_name,
        "points": r.points,
        "welcome_code": r.welcome_code,
        "welcome_expires_at": r.welcome_expires_at,
        "first_order_id": r.first_order_id,
        "first_order_at": r.first_order_at,
        "due": r.due_at,
        "decided_at": r.decided_at,
        "entry_seq": r.entry_seq,
    }


def referral_items(r: Referral) -> list[TableItem]:
    """The referral (in the due index while it waits for the job, under the version it was
    read at) and its listing copy, to write together."""
    due = r.due_at if r.status is ReferralStatus.PENDING else None
    referral = ReferralItem(
        *referral_key(r.referee_id),
        **_fields(r),
        due_at=due,
        # Member ids are hashes: their last characters spread referrals over the shards.
        due_shard=None if due is None else f"{DUE_PREFIX}{int(r.referee_id[-4:], 16) % DUE_SHARDS}",
    )
    if r.version is not None:
        referral.version = r.version
    listing = ListingItem(
        listing_pk(r.referrer_id), listing_sk(r.created_at, r.referee_id), **_fields(r)
    )
    return [referral, listing]


def as_written(r: Referral) -> Referral:
    """The referral as a write of `referral_items(r)` leaves it: one version on."""
    return replace(r, version=(r.version or 0) + 1)


def referral(snapshot: Snapshot, referee_id: str) -> Referral | None:
    item = snapshot.get(referral_key(referee_id), ReferralItem)
    return None if item is None else referral_from_item(item)


def listed(items: Iterable[TableItem]) -> list[Referral]:
    return [referral_from_item(i) for i in items if isinstance(i, ListingItem)]
