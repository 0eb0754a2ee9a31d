"""Promotions: what a promotion is, the cart it is evaluated on, and what evaluation says.
Dataclasses only. Money inside the engine is in the currency's minor units (int)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Status(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ARCHIVED = "ARCHIVED"  # final: kept for its history, never applies again


class Activation(StrEnum):
    AUTOMATIC = "AUTOMATIC"  # every eligible cart
    CODE = "CODE"  # carts that give one of its codes


class Stacking(StrEnum):
    EXCLUSIVE = "EXCLUSIVE"  # applies alone (with UNIVERSAL ones) when it is the best option
    STACKABLE = "STACKABLE"  # combines with other stackable ones, in priority order
    UNIVERSAL = "UNIVERSAL"  # combines with anything


class EffectKind(StrEnum):
    PERCENT_OFF = "PERCENT_OFF"
    AMOUNT_OFF = "AMOUNT_OFF"
    FREE_SHIPPING = "FREE_SHIPPING"
    BUY_X_GET_Y = "BUY_X_GET_Y"  # for every buy + get matching units, the get cheapest off
    BONUS_POINTS = "BONUS_POINTS"
    POINTS_MULTIPLIER = "POINTS_MULTIPLIER"  # on the points of matching lines


class Target(StrEnum):
    SUBTOTAL = "SUBTOTAL"  # the matching lines together
    LINES = "LINES"  # each matching line (with `spread`)
    SHIPPING = "SHIPPING"


class Spread(StrEnum):
    EACH = "EACH"  # the amount off every matching unit
    ACROSS = "ACROSS"  # the amount shared across the matching lines


class Reason(StrEnum):
    """Why a candidate promotion did not apply."""

    NOT_STARTED = "NOT_STARTED"
    ENDED = "ENDED"
    EARLY_ACCESS_ONLY = "EARLY_ACCESS_ONLY"  # open now to higher tiers only
    CURRENCY = "CURRENCY"
    MIN_SUBTOTAL = "MIN_SUBTOTAL"
    MIN_QUANTITY = "MIN_QUANTITY"
    NO_MATCHING_ITEMS = "NO_MATCHING_ITEMS"
    TIER_TOO_LOW = "TIER_TOO_LOW"
    MEMBER_REQUIRED = "MEMBER_REQUIRED"  # tier, first-order, per-member or bound conditions
    NOT_FIRST_ORDER = "NOT_FIRST_ORDER"
    USES_EXHAUSTED = "USES_EXHAUSTED"
    BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"
    MEMBER_LIMIT_REACHED = "MEMBER_LIMIT_REACHED"
    CODE_UNKNOWN = "CODE_UNKNOWN"
    CODE_USED_UP = "CODE_USED_UP"
    CODE_BOUND_TO_ANOTHER_MEMBER = "CODE_BOUND_TO_ANOTHER_MEMBER"
    CODE_EXPIRED = "CODE_EXPIRED"  # an issued code past its validity
    CODE_CANCELLED = "CODE_CANCELLED"  # an issued code voided (its reward was cancelled)
    CODE_REQUIRED = "CODE_REQUIRED"  # a code promotion whose code the cart did not give
    INACTIVE = "INACTIVE"  # paused or archived (reported for codes given)
    LOST_TO_EXCLUSIVE = "LOST_TO_EXCLUSIVE"
    LOST_TO_BETTER_OPTION = "LOST_TO_BETTER_OPTION"  # an exclusive one a better option beat
    NOTHING_LEFT_TO_DISCOUNT = "NOTHING_LEFT_TO_DISCOUNT"  # higher priorities took it all


@dataclass(frozen=True)
class Effect:
    kind: EffectKind
    target: Target = Target.SUBTOTAL
    percent: Decimal | None = None  # PERCENT_OFF; BUY_X_GET_Y: off the free units (100: free)
    amount: Decimal | None = None  # AMOUNT_OFF, in the promotion's currency
    spread: Spread = Spread.ACROSS  # AMOUNT_OFF on LINES
    buy: int = 0  # BUY_X_GET_Y
    get: int = 0
    points: int = 0  # BONUS_POINTS
    multiplier: Decimal | None = None  # POINTS_MULTIPLIER
    cap: Decimal | None = None  # the most this promotion takes off one order


@dataclass(frozen=True)
class Conditions:
    """All must hold. Empty include sets mean every item."""

    min_subtotal: Decimal | None = None  # after the line discounts applied before it
    min_quantity: int = 0  # of matching units
    skus: frozenset[str] = frozenset()
    exclude_skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    exclude_categories: frozenset[str] = frozenset()
    min_tier: str | None = None  # a tier code: that tier or higher
    first_order_only: bool = False
    currencies: frozenset[str] = frozenset()  # empty: any the program accepts


@dataclass(frozen=True)
class EarlyAccess:
    """Members of `tier` (or higher) may use the promotion `hours` before it starts."""

    tier: str
    hours: int


@dataclass(frozen=True)
class Schedule:
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    early_access: tuple[EarlyAccess, ...] = ()


@dataclass(frozen=True)
class Limits:
    total_uses: int | None = None
    budget: Decimal | None = None  # money, in the promotion's currency
    per_member: int | None = None
    per_code: int | None = None  # uses of each code (unique codes: 1)


@dataclass(frozen=True)
class Promotion:
    id: str
    name: str
    effect: Effect
    description: str | None = None
    status: Status = Status.ACTIVE
    activation: Activation = Activation.AUTOMATIC
    code: str | None = None  # the generic code, normalised (unique codes are items)
    conditions: Conditions = field(default_factory=Conditions)
    schedule: Schedule = field(default_factory=Schedule)
    limits: Limits = field(default_factory=Limits)
    stacking: Stacking = Stacking.STACKABLE
    priority: int = 0  # higher first
    currency: str | None = None  # of its money amounts; None when it has none
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


@dataclass(frozen=True)
class Usage:
    """What a promotion has handed out so far (held by reservations or committed)."""

    uses: int = 0
    discounted: int = 0  # minor units of its currency


@dataclass(frozen=True)
class Code:
    """A code as the cart gave it, with what the table knows of it."""

    code: str  # normalised
    promotion_id: str | None  # None: unknown
    uses: int = 0
    max_uses: int | None = None
    member_id: str | None = None  # bound to this member
    expires_at: datetime | None = None  # issued codes: valid until then
    voided: bool = False  # issued codes: cancelled before use


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price: int  # minor units
    category: str | None = None

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Cart:
    currency: str
    lines: tuple[Line, ...]
    shipping: int = 0  # minor units
    codes: tuple[str, ...] = ()  # normalised


@dataclass(frozen=True)
class Shopper:
    """Who checks out, as far as promotions care."""

    member_id: str | None = None
    tier_rank: int = 0  # in the tier ladder (0: base, or no member)
    tier_ranks: Mapping[str, int] = field(default_factory=dict)  # code -> rank
    first_order: bool = True
    member_uses: Mapping[str, int] = field(default_factory=dict)  # promotion id -> uses


@dataclass(frozen=True)
class Candidate:
    """A promotion the cart may get: every active automatic one, and those of its codes."""

    promotion: Promotion
    usage: Usage = Usage()
    code: Code | None = None


@dataclass(frozen=True)
class Applied:
    promotion_id: str
    name: str
    kind: EffectKind
    lines: tuple[int, ...]  # the discount on each cart line, in cart order, minor units
    shipping: int = 0
    points: int = 0  # bonus points, and extra points of a multiplier
    code: str | None = None

    @property
    def discount(self) -> int:
        return sum(self.lines) + self.shipping


@dataclass(frozen=True)
class NotApplied:
    promotion_id: str
    name: str
    reason: Reason
    detail: str
    code: str | None = None


@dataclass(frozen=True)
class Hint:
    """A near miss: what the cart lacks for a promotion."""

    promotion_id: str
    name: str
    missing_amount: int = 0  # minor units
    missing_quantity: int = 0


@dataclass(frozen=True)
class Evaluation:
    currency: str
    subtotal: int
    discount: int  # on the lines
    shipping: int
    shipping_discount: int
    applied: tuple[Applied, ...]
    not_applied: tuple[NotApplied, ...]
    hints: tuple[Hint, ...]
    line_totals: tuple[int, ...]  # each line after discounts, in cart order
    bonus_points: int = 0  # from the promotions (bonus and multipliers)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount + self.shipping - self.shipping_discount


@dataclass(frozen=True)
class Evaluated:
    """An evaluation and the points the order would earn."""

    evaluation: Evaluation
    base_points: int
    tier_multiplier: Decimal
    points: int


@dataclass(frozen=True)
class CartInput:
    currency: str
    lines: Sequence[tuple[str, int, Decimal, str | None]]  # sku, quantity, unit price, category
    shipping: Decimal = Decimal(0)
    codes: Sequence[str] = ()
    member_id: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True)
class PromotionInput:
    """An admin's promotion, unchecked (api/promotions/checks.py checks it)."""

    id: str
    name: str
    effect: Effect
    description: str | None = None
    activation: Activation = Activation.AUTOMATIC
    code: str | None = None
    conditions: Conditions = field(default_factory=Conditions)
    schedule: Schedule = field(default_factory=Schedule)
    limits: Limits = field(default_factory=Limits)
    stacking: Stacking = Stacking.STACKABLE
    priority: int = 0
    currency: str | None = None


@dataclass(frozen=True)
class BatchInput:
    promotion_id: str
    count: int
    prefix: str = ""
    length: int = 10
    charset: str | None = None
    member_ids: Sequence[str] = ()  # one code bound to each (count must match)
    uses_per_code: int = 1
    idempotency_key: str = ""


@dataclass(frozen=True)
class CodeBatch:
    id: str
    promotion_id: str
    count: int
    generated: int
    status: BatchStatus
    created_at: datetime
    updated_at: datetime


class BatchStatus(StrEnum):
    PENDING = "PENDING"  # ordered; the stream has not reached it yet
    RUNNING = "RUNNING"  # `generated` of `count` written
    DONE = "DONE"


class ReservationStatus(StrEnum):
    HELD = "HELD"
    COMMITTED = "COMMITTED"  # linked to its order
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"  # released by the job, past its TTL
    RETURNED = "RETURNED"  # its order was fully refunded: uses and budget came back


@dataclass(frozen=True)
class Hold:
    """What a reservation holds of one promotion."""

    promotion_id: str
    discounted: int  # minor units of the cart's currency
    code: str | None = None
    per_member: bool = False  # counted in the member's uses of it


@dataclass(frozen=True)
class Reservation:
    id: str
    status: ReservationStatus
    member_id: str | None
    cart: Cart
    evaluation: Evaluation
    holds: tuple[Hold, ...]
    points: int  # paid with the member's points (a redemption)
    bonus_points: int  # the promotions' points, earned with the order
    base_points: int  # what the evaluation expected the order to earn, before promotions
    tier_multiplier: Decimal
    expires_at: datetime
    created_at: datetime
    order_id: str | None = None
    version: int | None = None
    # Member counters it holds besides its promotions': one of the member's few checkout
    # slots (until committed or released), and the member's one first order (until
    # released, or the order is fully refunded).
    slot: bool = False
    first_order: bool = False
