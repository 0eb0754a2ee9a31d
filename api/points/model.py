"""The points ledger's dataclasses: entries, orders and the inputs of each operation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from api.money import Money
from api.points.lots import Funding, Lot


class EntryKind(StrEnum):
    EARN = "EARN"  # an order's points (a new lot)
    REFUND = "REFUND"  # a refund's clawback
    REDEEM = "REDEEM"  # points spent
    ADJUST = "ADJUST"  # an admin's correction, + or -
    EXPIRE = "EXPIRE"  # lots that reached their expiry
    TIER_BONUS = "TIER_BONUS"  # a tier's entry bonus (a new lot)
    PROMOTION = "PROMOTION"  # points a promotion gave an order (a new lot of the order)
    RETURN = "RETURN"  # points a released reservation gave back (a new lot)
    REFERRAL = "REFERRAL"  # a referrer's reward: their referee's first order kept (a new lot)
    REVIEW = "REVIEW"  # a review reward: a member's first approved review of a product (a lot)
    REVIEW_CLAWBACK = "REVIEW_CLAWBACK"  # a review reward taken back: removed for its content
    BIRTHDAY = "BIRTHDAY"  # a birthday bonus, once a year (api/nudges/scheduler.py; a lot)
    GOODWILL = "GOODWILL"  # an admin's goodwill on resolving a follow-up (a lot); reference: it


@dataclass(frozen=True)
class Entry:
    """One immutable ledger entry; `seq` orders a member's entries exactly."""

    member_id: str
    seq: int
    kind: EntryKind
    points: int
    balance_after: int
    created_at: datetime
    actor: str
    order_id: str | None = None
    refund_id: str | None = None
    reference: str | None = None
    reason: str | None = None
    amount: Money | None = None
    lot: Lot | None = None
    funding: tuple[Funding, ...] = ()
    shortfall: int = 0
    base_points: int | None = None  # EARN: before the tier multiplier
    multiplier: Decimal | None = None  # EARN: the member's tier's at the time of the order

    @property
    def id(self) -> str:
        return f"{self.member_id}-{self.seq}"


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Decimal
    category: str | None = None


@dataclass(frozen=True)
class Order:
    order_id: str
    member_id: str
    total: Money
    placed_at: datetime
    points_earned: int
    points_reversed: int
    refunded: Money
    lot_id: str | None
    lines: tuple[OrderLine, ...] = ()
    reservation_id: str | None = None  # the checkout reservation it committed
    promotion_points: int = 0  # of points_earned, what its promotions gave
    base_points: int = 0  # before the tier multiplier: what counts towards tiers
    base_reversed: int = 0  # of those, taken back by refunds
    multiplier: Decimal = Decimal(1)
    entry_seq: int = 0  # the EARN entry
    fingerprint: str = ""  # of the recordOrder request, for its replays
    created_at: datetime | None = None
    version: int | None = None  # None: not written yet


@dataclass(frozen=True)
class OrderResult:
    order: Order
    entry: Entry


@dataclass(frozen=True)
class OrderInput:
    order_id: str
    total_amount: Decimal
    currency: str
    placed_at: datetime
    member_id: str | None = None
    customer_id: str | None = None
    lines: Sequence[OrderLine] = ()
    reservation_id: str | None = None  # a reservation of reserveCart, committed by the order


@dataclass(frozen=True)
class RefundInput:
    refund_id: str
    order_id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RedeemInput:
    points: int
    reference: str
    idempotency_key: str
    member_id: str | None = None
    customer_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AdjustInput:
    points: int
    reason: str
    idempotency_key: str
    member_id: str | None = None
    customer_id: str | None = None
