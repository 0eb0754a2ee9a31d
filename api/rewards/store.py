"""Reward items and their mapping both ways.

| item          | pk                      | sk                          |
| ------------- | ----------------------- | --------------------------- |
| reward        | REWARDS#LIVE            | R#<reward id>               |  the catalog: one Query
| reward        | REWARDS#ARCHIVED        | R#<reward id>               |  kept for redemptions
| stock         | REWARD#<reward id>      | STOCK                       |  claimed, pooled counters
| member limit  | REWARD#<reward id>      | MEMBER#<member id>#<period> |  uses in that period
| pool code     | REWARD#<reward id>      | POOL#<ordinal>              |  the n-th code uploaded
| pool marker   | RCODE#<reward id>#<code>| CODE                        |  a code is pooled once
| upload        | REWARD#<reward id>      | UPLOAD#<upload id>          |  progress; its own record
| upload chunk  | REWARD#<reward id>      | CHUNK#<data id>#<n>         |  1000 codes as uploaded
| redemption    | RDM#<member id>         | R#<entry seq>               |  newest first: one Query

Stock and member limits are counters changed with ADD under conditions that keep them
within their limits, in the redemption's transaction. Pool codes are handed out in upload
order: a redemption claims the n-th code by moving `claimed` from exactly n to n + 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.attributes import (
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from api.rewards.model import (
    MemberLimit,
    Period,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardType,
    Stock,
    Upload,
    UploadStatus,
)
from api.store.base import IntegerAttribute, JSONAttribute, Key, RecordItem, TableItem

LIVE = "REWARDS#LIVE"
ARCHIVED = "REWARDS#ARCHIVED"
REWARD_PREFIX = "R#"
REDEMPTION_PREFIX = "R#"


def reward_key(reward_id: str, *, archived: bool = False) -> Key:
    return (ARCHIVED if archived else LIVE, f"{REWARD_PREFIX}{reward_id}")


def stock_key(reward_id: str) -> Key:
    return (f"REWARD#{reward_id}", "STOCK")


def member_limit_key(reward_id: str, member_id: str, period: str) -> Key:
    return (f"REWARD#{reward_id}", f"MEMBER#{member_id}#{period}")


def pool_key(reward_id: str, ordinal: int) -> Key:
    return (f"REWARD#{reward_id}", f"POOL#{ordinal:08d}")


def marker_key(reward_id: str, code: str) -> Key:
    return (f"RCODE#{reward_id}#{code}", "CODE")


def upload_key(reward_id: str, upload_id: str) -> Key:
    return (f"REWARD#{reward_id}", f"UPLOAD#{upload_id}")


def chunk_key(reward_id: str, data_id: str, chunk: int) -> Key:
    return (f"REWARD#{reward_id}", f"CHUNK#{data_id}#{chunk:04d}")


def redemption_pk(member_id: str) -> str:
    return f"RDM#{member_id}"


def redemption_key(member_id: str, seq: int) -> Key:
    return (redemption_pk(member_id), f"{REDEMPTION_PREFIX}{seq:010d}")


class RewardItem(TableItem, discriminator="reward"):
    reward_id = UnicodeAttribute()
    body = JSONAttribute()  # everything else: read together, decoded fast
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class StockItem(TableItem, discriminator="reward_stock"):
    claimed = IntegerAttribute(default=0)
    pooled = IntegerAttribute(null=True)


class MemberLimitItem(TableItem, discriminator="reward_member_limit"):
    uses = IntegerAttribute(default=0)


class PoolCodeItem(TableItem, discriminator="reward_pool_code"):
    code = UnicodeAttribute()


class MarkerItem(TableItem, discriminator="reward_pool_marker"):
    upload_id = UnicodeAttribute()


class UploadItem(RecordItem, discriminator="reward_upload"):
    """Its own idempotency record: request_hash is the fingerprint of its codes."""

    upload_id = UnicodeAttribute()
    reward_id = UnicodeAttribute()
    data_id = UnicodeAttribute()  # names its chunks: a digest of its codes
    status = UnicodeAttribute()
    received = IntegerAttribute()
    repeated = IntegerAttribute()
    processed = IntegerAttribute(default=0)
    added = IntegerAttribute(default=0)
    duplicates = IntegerAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class ChunkItem(TableItem, discriminator="reward_upload_chunk"):
    codes = JSONAttribute()  # a list of codes, as uploaded


class RedemptionItem(TableItem, discriminator="redemption"):
    redemption_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    seq = IntegerAttribute()
    reward_id = UnicodeAttribute()
    reward_name = UnicodeAttribute()
    reward_type = UnicodeAttribute()
    points = IntegerAttribute()
    status = UnicodeAttribute()
    code = UnicodeAttribute(null=True)
    code_expires_at = UTCDateTimeAttribute(null=True)
    period = UnicodeAttribute(null=True)
    returned_seq = IntegerAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


def reward_to_item(r: Reward) -> RewardItem:
    limit = r.member_limit
    item = RewardItem(
        *reward_key(r.id, archived=r.archived),
        reward_id=r.id,
        body={
            "name": r.name,
            "points_cost": r.points_cost,
            "type": r.type.value,
            "description": r.description,
            "image_url": r.image_url,
            "starts_at": None if r.starts_at is None else r.starts_at.isoformat(),
            "ends_at": None if r.ends_at is None else r.ends_at.isoformat(),
            "min_tier": r.min_tier,
            "stock": r.stock,
            "member_limit": None if limit is None else [limit.count, limit.period.value],
            "active": r.active,
            "promotion_id": r.promotion_id,
            "validity_days": r.validity_days,
            "low_stock": r.low_stock,
        },
        created_at=r.created_at,
        updated_at=r.updated_at,
    )
    if r.version is not None:
        item.version = r.version
    return item


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def reward_from_item(item: RewardItem) -> Reward:
    b = item.body
    limit = b["member_limit"]
    return Reward(
        id=item.reward_id,
        name=b["name"],
        points_cost=b["points_cost"],
        type=RewardType(b["type"]),
        description=b["description"],
        image_url=b["image_url"],
        starts_at=_when(b["starts_at"]),
        ends_at=_when(b["ends_at"]),
        min_tier=b["min_tier"],
        stock=b["stock"],
        member_limit=None if limit is None else MemberLimit(limit[0], Period(limit[1])),
        active=b["active"],
        promotion_id=b["promotion_id"],
        validity_days=b["validity_days"],
        low_stock=b["low_stock"],
        archived=item.pk == ARCHIVED,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=item.version,
    )


def rewards(items: Iterable[TableItem]) -> list[Reward]:
    return [reward_from_item(i) for i in items if isinstance(i, RewardItem)]


def stock_from_item(item: TableItem | None) -> Stock:
    if not isinstance(item, StockItem):
        return Stock()
    return Stock(item.claimed, item.pooled or 0)


def member_uses(item: TableItem | None) -> int:
    return item.uses if isinstance(item, MemberLimitItem) else 0


def redemption_to_item(r: Redemption) -> RedemptionItem:
    item = RedemptionItem(
        *redemption_key(r.member_id, r.seq),
        redemption_id=r.id,
        member_id=r.member_id,
        seq=r.seq,
        reward_id=r.reward_id,
        reward_name=r.reward_name,
        reward_type=r.type.value,
        points=r.points,
        status=r.status.value,
        code=r.code,
        code_expires_at=r.expires_at,
        period=r.period,
        returned_seq=r.returned_seq,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )
    if r.version is not None:
        item.version = r.version
    return item


def redemption_from_item(item: RedemptionItem) -> Redemption:
    return Redemption(
        id=item.redemption_id,
        member_id=item.member_id,
        seq=item.seq,
        reward_id=item.reward_id,
        reward_name=item.reward_name,
        type=RewardType(item.reward_type),
        points=item.points,
        status=RedemptionStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
        code=item.code,
        expires_at=item.code_expires_at,
        period=item.period,
        returned_seq=item.returned_seq,
        version=item.version,
    )


def redemptions(items: Iterable[TableItem]) -> list[Redemption]:
    return [redemption_from_item(i) for i in items if isinstance(i, RedemptionItem)]


def upload_from_item(item: UploadItem) -> Upload:
    return Upload(
        id=item.upload_id,
        reward_id=item.reward_id,
        status=UploadStatus(item.status),
        received=item.received,
        repeated=item.repeated,
        processed=item.processed,
        added=item.added,
        duplicates=item.duplicates,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )
