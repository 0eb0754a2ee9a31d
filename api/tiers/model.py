"""VIP tiers: the configuration, a member's tier state and its history. Dataclasses only.

Qualifying credit is kept per day on the member item, for all three metrics at once, so a
change of metric or window takes effect exactly, and a refund takes back its order's share
from the day that order counted in. Credit older than two years is dropped: no window
looks further back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Metric(StrEnum):
    QUALIFYING_POINTS = "QUALIFYING_POINTS"  # base points earned on orders (no multiplier)
    SPEND = "SPEND"  # order totals in the spend currency, net of refunds
    ORDERS = "ORDERS"  # orders not fully refunded


class Window(StrEnum):
    ROLLING_12_MONTHS = "ROLLING_12_MONTHS"  # the last 12 months, to the day
    CALENDAR_YEAR = "CALENDAR_YEAR"  # this calendar year (UTC)
    LIFETIME = "LIFETIME"


class DowngradePolicy(StrEnum):
    ONE_TIER = "ONE_TIER"  # at most one tier down per review
    TO_QUALIFIED = "TO_QUALIFIED"  # straight to the tier the credit qualifies for


class ChangeReason(StrEnum):
    QUALIFIED = "QUALIFIED"  # credit reached the threshold (an order, or a review)
    REVIEW = "REVIEW"  # downgraded at review
    MANUAL = "MANUAL"  # set by an admin


@dataclass(frozen=True)
class Tier:
    code: str  # stable: members hold it; names may change
    name: str
    threshold: Decimal  # in the metric's unit (points, orders, or money in the spend currency)
    multiplier: Decimal = Decimal(1)  # applied to the base points of this tier's orders
    perks: tuple[str, ...] = ()
    entry_bonus: int = 0  # points, once per member and tier, ever


@dataclass(frozen=True)
class TierConfig:
    """Tiers lowest first; the first is the base tier (no threshold)."""

    tiers: tuple[Tier, ...] = ()
    metric: Metric = Metric.QUALIFYING_POINTS
    window: Window = Window.ROLLING_12_MONTHS
    spend_currency: str = "EUR"
    downgrade: DowngradePolicy = DowngradePolicy.ONE_TIER
    grace_days: int = 0
    updated_at: datetime | None = None
    version: int | None = None  # None: never saved (no tiers)

    @property
    def enabled(self) -> bool:
        return bool(self.tiers)

    @property
    def base(self) -> Tier | None:
        return self.tiers[0] if self.tiers else None

    def rank(self, code: str | None) -> int:
        """Position in the ladder; an unknown or absent code counts as the base tier."""
        return next((i for i, tier in enumerate(self.tiers) if tier.code == code), 0)

    def tier(self, code: str | None) -> Tier | None:
        return self.tiers[self.rank(code)] if self.tiers else None


@dataclass(frozen=True)
class Credit:
    """What counted towards tiers on one day (or in a lifetime)."""

    points: int = 0
    orders: int = 0
    spend: Mapping[str, int] = field(default_factory=dict)  # minor units, per currency

    def __add__(self, other: Credit) -> Credit:
        spend = dict(self.spend)
        for currency, amount in other.spend.items():
            spend[currency] = spend.get(currency, 0) + amount
        return Credit(
            self.points + other.points,
            self.orders + other.orders,
            {c: a for c, a in spend.items() if a},
        )

    def __neg__(self) -> Credit:
        return Credit(-self.points, -self.orders, {c: -a for c, a in self.spend.items()})

    @property
    def empty(self) -> bool:
        return not (self.points or self.orders or any(self.spend.values()))


@dataclass(frozen=True)
class Manual:
    """A tier an admin set by hand: held until `until`, then reviewed as usual."""

    reason: str
    until: datetime
    actor: str


@dataclass(frozen=True)
class TierState:
    """A member's tier, on the member item. `code` None: no tier yet (the base tier)."""

    code: str | None = None
    since: datetime | None = None
    valid_until: datetime | None = None  # None: no review (lifetime, or no tier yet)
    review_at: datetime | None = None  # valid_until + grace, or earlier after a refund
    credits: Mapping[date, Credit] = field(default_factory=dict)
    lifetime: Credit = field(default_factory=Credit)
    bonuses: frozenset[str] = frozenset()  # tiers whose entry bonus was granted
    manual: Manual | None = None
    changes: int = 0  # tier-history records written so far


@dataclass(frozen=True)
class TierChange:
    """One tier-history record."""

    member_id: str
    seq: int
    from_code: str | None
    to_code: str
    reason: ChangeReason
    at: datetime
    actor: str
    order_id: str | None = None
    note: str | None = None
    value: Decimal | None = None  # the qualifying value at the time


@dataclass(frozen=True)
class Occasion:
    """Who changes a member's tier, when, and on which order."""

    member_id: str
    now: datetime
    actor: str
    order_id: str | None = None


@dataclass(frozen=True)
class Step:
    """A change a rule decided: the history record to write, and a bonus to grant."""

    change: TierChange
    bonus: int = 0


@dataclass(frozen=True)
class Progress:
    """Where a member stands, as of `now`."""

    metric: Metric
    window: Window
    value: Decimal
    next_tier: Tier | None
    to_next: Decimal | None  # what remains to reach the next tier
    review_at: datetime | None
    value_at_review: Decimal | None  # of today's credit, what still counts at the review
    to_keep: Decimal | None  # what remains to keep the current tier at the review


@dataclass(frozen=True)
class TierInput:
    code: str
    name: str
    threshold: Decimal
    multiplier: Decimal = Decimal(1)
    perks: Sequence[str] = ()
    entry_bonus: int = 0


@dataclass(frozen=True)
class ConfigInput:
    tiers: Sequence[TierInput]
    metric: Metric
    window: Window
    downgrade: DowngradePolicy
    grace_days: int = 0
    spend_currency: str | None = None


@dataclass(frozen=True)
class SetTierInput:
    tier: str
    reason: str
    until: datetime
    idempotency_key: str
    member_id: str | None = None
    customer_id: str | None = None
