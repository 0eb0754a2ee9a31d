"""Tier items and their mapping both ways.

| item        | pk                 | sk                  |
| ----------- | ------------------ | ------------------- |
| tier config | TIERS              | CONFIG              |
| tier change | MEMBER#<member id> | T#<seq, 12 digits>  |
| tier count  | TIERS              | COUNT#<tier code>   |

A member's tier state is an attribute of the member item (api/tiers/attributes.py), so the home
Query and every order read it with the member. Tier changes sort after the profile: the
home Query (sk <= PROFILE) never reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from api.members.store import member_pk
from api.store.base import IntegerAttribute, JSONAttribute, Key, TableItem
from api.store.reads import Snapshot, get
from api.tiers.model import (
    ChangeReason,
    DowngradePolicy,
    Metric,
    Tier,
    TierChange,
    TierConfig,
    Window,
)

CONFIG_KEY: Key = ("TIERS", "CONFIG")
COUNT_PREFIX = "COUNT#"
MEMBERS = "*members"  # the count of every enrolment, beside the tier codes
CHANGE_PREFIX = "T#"


def change_key(member_id: str, seq: int) -> Key:
    return (member_pk(member_id), f"{CHANGE_PREFIX}{seq:012d}")


class TierConfigItem(TableItem, discriminator="tier_config"):
    tiers = JSONAttribute()  # {"tiers": [...]}: read with every order, decoded fast
    metric = UnicodeAttribute()
    window = UnicodeAttribute()
    spend_currency = UnicodeAttribute()
    downgrade = UnicodeAttribute()
    grace_days = IntegerAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class TierChangeItem(TableItem, discriminator="tier_change"):
    member_id = UnicodeAttribute()
    seq = IntegerAttribute()
    from_code = UnicodeAttribute(null=True)
    to_code = UnicodeAttribute()
    reason = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    value = UnicodeAttribute(null=True)


class TierCountItem(TableItem, discriminator="tier_count"):
    """Members per tier, kept by the stream reaction (api/tiers/reactions.py); the base
    tier's count is the enrolments' count less the other tiers'."""

    total = IntegerAttribute(default=0)


def config_from_item(item: TierConfigItem | None) -> TierConfig:
    if item is None:
        return TierConfig()
    return TierConfig(
        tiers=tuple(
            Tier(
                code=t["code"],
                name=t["name"],
                threshold=Decimal(t["threshold"]),
                multiplier=Decimal(t["multiplier"]),
                perks=tuple(t["perks"]),
                entry_bonus=t["entry_bonus"],
            )
            for t in item.tiers["tiers"]
        ),
        metric=Metric(item.metric),
        window=Window(item.window),
        spend_currency=item.spend_currency,
        downgrade=DowngradePolicy(item.downgrade),
        grace_days=item.grace_days,
        updated_at=item.updated_at,
        version=item.version,
    )


def config_to_item(config: TierConfig, now: datetime) -> TierConfigItem:
    item = TierConfigItem(
        *CONFIG_KEY,
        tiers={
            "tiers": [
                {
                    "code": t.code,
                    "name": t.name,
                    "threshold": str(t.threshold),
                    "multiplier": str(t.multiplier),
                    "perks": list(t.perks),
                    "entry_bonus": t.entry_bonus,
                }
                for t in config.tiers
            ]
        },
        metric=config.metric.value,
        window=config.window.value,
        spend_currency=config.spend_currency,
        downgrade=config.downgrade.value,
        grace_days=config.grace_days,
        updated_at=now,
    )
    if config.version is not None:
        item.version = config.version
    return item


def config(snapshot: Snapshot) -> TierConfig:
    """The configuration in a snapshot that read CONFIG_KEY (no tiers if never saved)."""
    return config_from_item(snapshot.get(CONFIG_KEY, TierConfigItem))


def read_config() -> TierConfig:
    return config_from_item(get(CONFIG_KEY, TierConfigItem))


def change_to_item(change: TierChange) -> TierChangeItem:
    return TierChangeItem(
        *change_key(change.member_id, change.seq),
        member_id=change.member_id,
        seq=change.seq,
        from_code=change.from_code,
        to_code=change.to_code,
        reason=change.reason.value,
        at=change.at,
        actor=change.actor,
        order_id=change.order_id,
        note=change.note,
        value=None if change.value is None else str(change.value),
    )


def change_from_item(item: TierChangeItem) -> TierChange:
    return TierChange(
        member_id=item.member_id,
        seq=item.seq,
        from_code=item.from_code,
        to_code=item.to_code,
        reason=ChangeReason(item.reason),
        at=item.at,
        actor=item.actor,
        order_id=item.order_id,
        note=item.note,
        value=None if item.value is None else Decimal(item.value),
    )


def changes(items: Iterable[TableItem]) -> list[TierChange]:
    return [change_from_item(i) for i in items if isinstance(i, TierChangeItem)]


def change_in(item: TableItem | None) -> TierChange | None:
    """A tier change, if a stream record's item is one."""
    return change_from_item(item) if isinstance(item, TierChangeItem) else None


def count_key(code: str) -> Key:
    return (CONFIG_KEY[0], f"{COUNT_PREFIX}{code}")


def count_item(code: str) -> TierCountItem:
    return TierCountItem(*count_key(code))


def counts(items: Iterable[TableItem]) -> dict[str, int]:
    return {i.sk.removeprefix(COUNT_PREFIX): i.total for i in items if isinstance(i, TierCountItem)}
