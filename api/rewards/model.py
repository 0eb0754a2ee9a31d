"""Rewards: what members spend points on, and what they got.

A reward is priced in points and is one of three kinds: a `DISCOUNT_CODE` issues a
single-use code of a CODE promotion, bound to the member and valid for a number of days; an
`IMPORTED_CODE` hands out the next code of a pool the shop uploaded (gift cards, its own
platform's codes); a `PERK` is a request the shop fulfils (requested -> fulfilled or
cancelled). Redeeming is all or nothing: points, stock, the member's limit and the code move
in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RewardType(StrEnum):
    DISCOUNT_CODE = "DISCOUNT_CODE"
    IMPORTED_CODE = "IMPORTED_CODE"
    PERK = "PERK"


class Period(StrEnum):
    """The window of a per-member limit: calendar periods in the member's time zone."""

    DAY = "DAY"
    WEEK = "WEEK"  # ISO weeks, Monday first
    MONTH = "MONTH"
    YEAR = "YEAR"
    EVER = "EVER"


@dataclass(frozen=True)
class MemberLimit:
    count: int
    period: Period


@dataclass(frozen=True)
class Reward:
    id: str
    name: str
    points_cost: int
    type: RewardType
    description: str | None = None
    image_url: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    min_tier: str | None = None  # a tier code: that tier or higher
    stock: int | None = None  # total that can ever be redeemed (None: unlimited); pools: size
    member_limit: MemberLimit | None = None
    active: bool = True
    promotion_id: str | None = None  # DISCOUNT_CODE: whose codes it issues
    validity_days: int | None = None  # DISCOUNT_CODE: how long an issued code is valid
    low_stock: int | None = None  # signal when what is left falls to this
    archived: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


@dataclass(frozen=True)
class RewardInput:
    id: str
    name: str
    points_cost: int
    type: RewardType
    description: str | None = None
    image_url: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    min_tier: str | None = None
    stock: int | None = None
    member_limit: MemberLimit | None = None
    active: bool = True
    promotion_id: str | None = None
    validity_days: int | None = None
    low_stock: int | None = None


@dataclass(frozen=True)
class Stock:
    """How many were redeemed (claimed) and, for pools, how many codes were uploaded."""

    claimed: int = 0
    pooled: int = 0

    def remaining(self, reward: Reward) -> int | None:
        if reward.type is RewardType.IMPORTED_CODE:
            total = self.pooled if reward.stock is None else min(reward.stock, self.pooled)
            return max(total - self.claimed, 0)
        return None if reward.stock is None else max(reward.stock - self.claimed, 0)


class Unavailable(StrEnum):
    """Why a member cannot redeem a reward now."""

    NOT_AVAILABLE = "NOT_AVAILABLE"  # inactive, not started or ended
    TIER_TOO_LOW = "TIER_TOO_LOW"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    LIMIT_REACHED = "LIMIT_REACHED"  # the member's limit for the period
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"


@dataclass(frozen=True)
class Offer:
    """A reward as one member sees it."""

    reward: Reward
    remaining: int | None  # stock left (None: unlimited)
    unlocked: bool  # the member's tier is high enough
    affordable: bool
    points_short: int
    unavailable: Unavailable | None  # None: redeemable now


class RedemptionStatus(StrEnum):
    ISSUED = "ISSUED"  # a code, unused
    USED = "USED"  # its code was used at checkout
    EXPIRED = "EXPIRED"  # its code's validity ended unused
    REQUESTED = "REQUESTED"  # a perk waiting for the shop
    FULFILLED = "FULFILLED"  # a perk delivered
    CANCELLED = "CANCELLED"  # points given back


@dataclass(frozen=True)
class Redemption:
    id: str
    member_id: str
    seq: int  # of the REDEEM entry that paid for it
    reward_id: str
    reward_name: str
    type: RewardType
    points: int
    status: RedemptionStatus
    created_at: datetime
    updated_at: datetime
    code: str | None = None
    expires_at: datetime | None = None  # of the code
    period: str | None = None  # the member-limit period it counted in
    returned_seq: int | None = None  # the RETURN entry of a cancellation
    version: int | None = None


@dataclass(frozen=True)
class RedeemInput:
    reward_id: str
    idempotency_key: str
    member_id: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True)
class RedemptionPage:
    redemptions: Sequence[Redemption]
    has_next: bool


@dataclass(frozen=True)
class OfferPage:
    offers: Sequence[Offer]
    has_next: bool
    start: int = 0  # the first offer's position in the catalog (for cursors)


class UploadStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"


@dataclass(frozen=True)
class Upload:
    """Codes uploaded to a reward's pool: added in the background, duplicates left out."""

    id: str
    reward_id: str
    status: UploadStatus
    received: int  # codes in the upload, after removing repeats within it
    repeated: int  # left out: repeated within the upload
    processed: int  # of `received`, looked at so far
    added: int  # of those, new to the pool
    duplicates: int  # of those, in the pool already
    created_at: datetime
    updated_at: datetime
